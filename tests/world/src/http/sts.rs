//! The STS query API (2011-06-15): `AssumeRole` with trust policies and
//! external IDs, and `GetCallerIdentity`.

use axum::http::StatusCode;
use axum::response::Response;

use super::xml::{self, Xml};
use super::{access_key, preamble, q, request_id, Req};
use crate::model::{self, format_time, ApiError, Operation, Principal};
use crate::Shared;

const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

fn err(code: &'static str, status: u16, msg: impl Into<String>) -> Response {
    xml::error(NS, &ApiError::new(status, code, msg))
}

fn metadata(x: &mut Xml, rid: &str) {
    x.el("ResponseMetadata", |x| {
        x.text("RequestId", rid);
    });
}

/// Handles one STS request; `form` holds the query and form parameters.
pub async fn handle(shared: &Shared, req: &Req<'_>, form: &[(String, String)]) -> Response {
    let action = q(form, "Action").unwrap_or("").to_string();
    let op = Operation::sts_action(&action);
    let p = match preamble(shared, req, op, false).await {
        Ok(p) => p,
        Err(e) => return xml::error(NS, &e),
    };
    let rid = request_id();
    match op {
        Operation::GetCallerIdentity => {
            let user_id = match &p.role {
                None => access_key(req.headers).unwrap_or_default(),
                Some(r) => format!("AROAR53WORLD{}:{}", p.account, r.session_name),
            };
            let body = Xml::doc("GetCallerIdentityResponse", NS, |x| {
                x.el("GetCallerIdentityResult", |x| {
                    x.text("Arn", p.arn())
                        .text("UserId", &user_id)
                        .text("Account", &p.account);
                });
                metadata(x, &rid);
            });
            xml::response(StatusCode::OK, body)
        }
        Operation::AssumeRole => assume_role(shared, &p, form, &rid),
        _ => err(
            "InvalidAction",
            400,
            format!("Could not find operation {action} for version 2011-06-15"),
        ),
    }
}

fn assume_role(shared: &Shared, p: &Principal, form: &[(String, String)], rid: &str) -> Response {
    let arn = q(form, "RoleArn").unwrap_or("").to_string();
    let session = q(form, "RoleSessionName").unwrap_or("").to_string();
    let ext = q(form, "ExternalId").map(str::to_string);
    let duration: i64 = match q(form, "DurationSeconds").map(str::parse::<i64>) {
        None => 3600,
        Some(Ok(d)) if (900..=43200).contains(&d) => d,
        Some(_) => {
            return err(
                "ValidationError",
                400,
                "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200",
            )
        }
    };
    if session.is_empty()
        || session.len() > 64
        || !session
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "=,.@-_".contains(c))
    {
        return err(
            "ValidationError",
            400,
            format!("1 validation error detected: Value '{session}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"),
        );
    }
    let denied = || {
        err(
            "AccessDenied",
            403,
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {arn}",
                p.arn()
            ),
        )
    };
    let mut st = shared.lock();
    if let Some(n) = st.fail_assume.get_mut(&arn) {
        if *n > 0 {
            *n -= 1;
            return denied();
        }
    }
    let Some(role) = st.roles.get(&arn).cloned() else {
        return denied();
    };
    if !role.trusted_accounts.contains(&p.account) || role.external_id != ext {
        return denied();
    }
    let (key, principal) = model::new_session(&role, &session);
    let secret = principal.secret.clone();
    let token = principal
        .role
        .as_ref()
        .map(|r| r.token.clone())
        .unwrap_or_default();
    st.keys.insert(key.clone(), principal);
    let exp = time::OffsetDateTime::now_utc() + time::Duration::seconds(duration);
    let body = Xml::doc("AssumeRoleResponse", NS, |x| {
        x.el("AssumeRoleResult", |x| {
            x.el("AssumedRoleUser", |x| {
                x.text(
                    "AssumedRoleId",
                    format!("AROAR53WORLD{}:{session}", role.account),
                )
                .text(
                    "Arn",
                    format!(
                        "arn:aws:sts::{}:assumed-role/{}/{session}",
                        role.account, role.name
                    ),
                );
            })
            .el("Credentials", |x| {
                x.text("AccessKeyId", &key)
                    .text("SecretAccessKey", &secret)
                    .text("SessionToken", &token)
                    .text("Expiration", format_time(exp));
            })
            .text("PackedPolicySize", 0);
        });
        metadata(x, rid);
    });
    xml::response(StatusCode::OK, body)
}
