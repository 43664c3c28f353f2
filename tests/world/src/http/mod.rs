//! One HTTP endpoint: Route 53 REST-XML (2013-04-01, [`route53`]), the STS
//! query API (2011-06-15, [`sts`]) and the JSON admin API under `/admin`
//! ([`admin`]). Every AWS request goes through [`preamble`]: principal, call
//! counting, a held call, injected faults, SigV4, session token, throttling.

mod admin;
mod route53;
mod sts;
mod tags;
mod xml;

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::model::{ApiError, Fault, Operation, Principal};
use crate::{sigv4, Shared};

/// Serves the endpoint on `listener` until the runtime stops.
pub async fn serve(shared: Arc<Shared>, listener: std::net::TcpListener) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        tracing::error!("cannot register HTTP listener");
        return;
    };
    let app = axum::Router::new().fallback(handle).with_state(shared);
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!("http server: {e}");
    }
}

fn request_id() -> String {
    format!(
        "{:08x}-r53w-{:016x}",
        rand::random::<u32>(),
        rand::random::<u64>()
    )
}

fn access_key(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    sigv4::parse_auth(auth).map(|a| a.access_key)
}

/// A query or form parameter, by case-insensitive name.
fn q<'a>(query: &'a [(String, String)], k: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(a, _)| a.eq_ignore_ascii_case(k))
        .map(|(_, b)| b.as_str())
}

async fn handle(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query: Vec<(String, String)> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    if let Some(rest) = path.strip_prefix("/admin") {
        return admin::handle(&shared, &method, rest, &body).await;
    }
    let req = Req {
        method: &method,
        uri: &uri,
        headers: &headers,
        body: &body,
    };
    if let Some(rest) = path.strip_prefix("/2013-04-01") {
        return route53::handle(&shared, &req, rest, &query).await;
    }
    if method == Method::POST || !query.is_empty() {
        let mut form: Vec<(String, String)> =
            url::form_urlencoded::parse(&body).into_owned().collect();
        form.extend(query);
        return sts::handle(&shared, &req, &form).await;
    }
    (StatusCode::NOT_FOUND, "r53world: unknown path").into_response()
}

/// The parts of a request the signature covers.
struct Req<'a> {
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    body: &'a [u8],
}

/// Common pipeline: principal, call counting, faults, signature, rate limit.
async fn preamble(
    shared: &Shared,
    req: &Req<'_>,
    op: Operation,
    rate_limited_api: bool,
) -> Result<Principal, ApiError> {
    let headers = req.headers;
    let key = access_key(headers);
    let principal = key
        .as_ref()
        .and_then(|k| shared.lock().keys.get(k).cloned());
    let account = principal
        .as_ref()
        .map_or_else(|| "unknown".to_string(), |p| p.account.clone());
    let (fault, hold) = {
        let mut st = shared.lock();
        st.count_call(&account, op);
        (st.take_fault(op), st.take_hold(op))
    };
    if let Some(hold) = hold {
        hold.hold().await;
    }
    match fault {
        Some(Fault::Throttling) => return Err(ApiError::bad("Throttling", "Rate exceeded")),
        Some(Fault::InternalFailure) => return Err(ApiError::new(
            500,
            "InternalFailure",
            "The request processing has failed because of an unknown error, exception or failure.",
        )),
        Some(Fault::PriorRequestNotComplete) => {
            return Err(ApiError::bad(
                "PriorRequestNotComplete",
                "The request was rejected because Route 53 was still processing a prior request.",
            ))
        }
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        None => {}
    }
    let Some(p) = principal else {
        return Err(match key {
            None => ApiError::new(
                403,
                "MissingAuthenticationToken",
                "Request is missing Authentication Token",
            ),
            Some(_) => ApiError::new(
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            ),
        });
    };
    let signed = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(sigv4::parse_auth)
        .is_some_and(|a| {
            sigv4::verify(
                &a,
                &p.secret,
                req.method.as_str(),
                req.uri.path(),
                req.uri.query(),
                headers,
                req.body,
            )
        });
    if !signed {
        return Err(ApiError::new(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ));
    }
    if let Some(r) = &p.role {
        let token = headers
            .get("x-amz-security-token")
            .and_then(|v| v.to_str().ok());
        if token != Some(r.token.as_str()) {
            return Err(ApiError::new(
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            ));
        }
    }
    if rate_limited_api && !shared.lock().throttle.admit(&p.account, op) {
        return Err(ApiError::bad("Throttling", "Rate exceeded"));
    }
    Ok(p)
}
