//! One HTTP endpoint: Route 53 REST-XML (2013-04-01), STS query API
//! (2011-06-15) and the JSON admin API under /admin.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::model::{
    self, format_time, is_read_op, normalize_name, reversed_key, ApiError, ChangeReq, DnsFault,
    Fault, Permission, Principal, RoleSpec,
};
use crate::throttle::ThrottleMode;
use crate::{sigv4, Shared};

const R53_NS: &str = "https://route53.amazonaws.com/doc/2013-04-01/";
const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

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

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn request_id() -> String {
    format!(
        "{:08x}-r53w-{:016x}",
        rand::random::<u32>(),
        rand::random::<u64>()
    )
}

fn xml(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            ("content-type", "text/xml"),
            ("x-amzn-requestid", "r53world"),
        ],
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}"),
    )
        .into_response()
}

fn error_xml(ns: &str, e: &ApiError) -> Response {
    let kind = if e.status >= 500 {
        "Receiver"
    } else {
        "Sender"
    };
    xml(
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
        format!(
            "<ErrorResponse xmlns=\"{ns}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            e.code,
            esc(&e.message),
            request_id()
        ),
    )
}

fn access_key(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    sigv4::parse_auth(auth).map(|a| a.access_key)
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
        return admin(&shared, &method, rest, &body).await;
    }
    if let Some(rest) = path.strip_prefix("/2013-04-01") {
        let req = Req {
            method: &method,
            uri: &uri,
            headers: &headers,
            body: &body,
        };
        return route53(&shared, &req, rest, &query).await;
    }
    if method == Method::POST || !query.is_empty() {
        let mut form: Vec<(String, String)> =
            url::form_urlencoded::parse(&body).into_owned().collect();
        form.extend(query);
        let req = Req {
            method: &method,
            uri: &uri,
            headers: &headers,
            body: &body,
        };
        return sts(&shared, &req, &form).await;
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
    op: &str,
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
    let fault = {
        let mut st = shared.lock();
        st.count_call(&account, op);
        st.take_fault(op)
    };
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

fn r53_op(method: &Method, path: &str) -> (&'static str, Vec<String>) {
    let segs: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    // A full "/hostedzone/ID" sent as one encoded segment.
    let s: Vec<&str> = s
        .iter()
        .flat_map(|x| x.split('/'))
        .filter(|x| !x.is_empty())
        .collect();
    let owned: Vec<String> = s.iter().map(|x| x.to_string()).collect();
    let op = match (method.as_str(), s.as_slice()) {
        ("POST", ["hostedzone"]) => "CreateHostedZone",
        ("GET", ["hostedzone"]) => "ListHostedZones",
        ("GET", ["hostedzonesbyname"]) => "ListHostedZonesByName",
        ("GET", ["hostedzonecount"]) => "GetHostedZoneCount",
        ("GET", ["hostedzone", _]) => "GetHostedZone",
        ("DELETE", ["hostedzone", _]) => "DeleteHostedZone",
        ("POST", ["hostedzone", _]) => "UpdateHostedZoneComment",
        ("POST", ["hostedzone", _, "rrset"]) => "ChangeResourceRecordSets",
        ("GET", ["hostedzone", _, "rrset"]) => "ListResourceRecordSets",
        ("GET", ["change", _]) => "GetChange",
        _ => "Unknown",
    };
    (op, owned)
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn q<'a>(query: &'a [(String, String)], k: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(a, _)| a.eq_ignore_ascii_case(k))
        .map(|(_, b)| b.as_str())
}

async fn route53(
    shared: &Shared,
    req: &Req<'_>,
    path: &str,
    query: &[(String, String)],
) -> Response {
    let (method, body) = (req.method, req.body);
    let (op, segs) = r53_op(method, path);
    let p = match preamble(shared, req, op, true).await {
        Ok(p) => p,
        Err(e) => return error_xml(R53_NS, &e),
    };
    if op == "Unknown" {
        return error_xml(
            R53_NS,
            &ApiError::bad(
                "InvalidAction",
                format!("Unknown operation {method} {path}"),
            ),
        );
    }
    if let Permission::NsChangesUnder(_) = p.permission() {
        if !is_read_op(op) && op != "ChangeResourceRecordSets" {
            let res = segs.get(1).map_or_else(
                || "arn:aws:route53:::hostedzone/*".to_string(),
                |id| format!("arn:aws:route53:::hostedzone/{id}"),
            );
            return error_xml(R53_NS, &model::access_denied(&p, op, &res));
        }
    }
    let r = match op {
        "CreateHostedZone" => create_zone(shared, &p, body),
        "ListHostedZones" => list_zones(shared, &p, query),
        "ListHostedZonesByName" => list_by_name(shared, &p, query),
        "GetHostedZoneCount" => {
            let n = shared
                .lock()
                .accounts
                .get(&p.account)
                .map_or(0, |a| a.zones.len());
            Ok(xml(
                StatusCode::OK,
                format!("<GetHostedZoneCountResponse xmlns=\"{R53_NS}\"><HostedZoneCount>{n}</HostedZoneCount></GetHostedZoneCountResponse>"),
            ))
        }
        "GetHostedZone" => get_zone(shared, &p, &segs[1]),
        "UpdateHostedZoneComment" => update_comment(shared, &p, &segs[1], body),
        "DeleteHostedZone" => {
            let mut st = shared.lock();
            st.delete_zone(&p.account, &segs[1]).map(|c| {
                let info = change_info(&st, &c);
                xml(
                    StatusCode::OK,
                    format!("<DeleteHostedZoneResponse xmlns=\"{R53_NS}\">{info}</DeleteHostedZoneResponse>"),
                )
            })
        }
        "ChangeResourceRecordSets" => change_rrsets(shared, &p, &segs[1], body),
        "ListResourceRecordSets" => list_rrsets(shared, &p, &segs[1], query),
        "GetChange" => {
            let mut st = shared.lock();
            st.advance();
            let id = &segs[1];
            match st.changes.get(id.as_str()) {
                Some(c) if c.account == p.account => {
                    let info = change_info(&st, id);
                    Ok(xml(
                        StatusCode::OK,
                        format!("<GetChangeResponse xmlns=\"{R53_NS}\">{info}</GetChangeResponse>"),
                    ))
                }
                _ => Err(ApiError::new(
                    404,
                    "NoSuchChange",
                    format!("A change with the specified change ID does not exist: {id}"),
                )),
            }
        }
        _ => Err(ApiError::bad("InvalidAction", "unknown")),
    };
    r.unwrap_or_else(|e| error_xml(R53_NS, &e))
}

fn change_info(st: &model::State, id: &str) -> String {
    let Some((c, insync)) = st.change_status(id) else {
        return String::new();
    };
    let comment = c
        .comment
        .as_ref()
        .map(|s| format!("<Comment>{}</Comment>", esc(s)))
        .unwrap_or_default();
    format!(
        "<ChangeInfo><Id>/change/{id}</Id><Status>{}</Status><SubmittedAt>{}</SubmittedAt>{comment}</ChangeInfo>",
        if insync { "INSYNC" } else { "PENDING" },
        format_time(c.submitted_at)
    )
}

fn zone_xml(z: &model::Zone) -> String {
    let comment = z
        .comment
        .as_ref()
        .map(|s| format!("<Comment>{}</Comment>", esc(s)))
        .unwrap_or_default();
    format!(
        "<HostedZone><Id>/hostedzone/{}</Id><Name>{}</Name><CallerReference>{}</CallerReference><Config>{comment}<PrivateZone>{}</PrivateZone></Config><ResourceRecordSetCount>{}</ResourceRecordSetCount></HostedZone>",
        z.id,
        esc(&z.name),
        esc(&z.caller_ref),
        z.private,
        z.records.len()
    )
}

fn delegation_xml(z: &model::Zone) -> String {
    if z.private {
        let mut s = String::from("<VPCs>");
        for (r, id) in &z.vpcs {
            let _ = write!(
                s,
                "<VPC><VPCRegion>{}</VPCRegion><VPCId>{}</VPCId></VPC>",
                esc(r),
                esc(id)
            );
        }
        s.push_str("</VPCs>");
        return s;
    }
    let mut s = String::from("<DelegationSet><NameServers>");
    for n in &z.ns {
        let _ = write!(s, "<NameServer>{}</NameServer>", n.trim_end_matches('.'));
    }
    s.push_str("</NameServers></DelegationSet>");
    s
}

fn parse_xml(body: &[u8]) -> Result<roxmltree::Document<'_>, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad("InvalidInput", "request body is not UTF-8"))?;
    roxmltree::Document::parse(text)
        .map_err(|e| ApiError::bad("InvalidInput", format!("Invalid XML: {e}")))
}

fn child_text<'a>(n: roxmltree::Node<'a, 'a>, tag: &str) -> Option<&'a str> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == tag)
        .map(|c| c.text().unwrap_or(""))
}

fn child<'a>(n: roxmltree::Node<'a, 'a>, tag: &str) -> Option<roxmltree::Node<'a, 'a>> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == tag)
}

fn create_zone(shared: &Shared, p: &Principal, body: &[u8]) -> Result<Response, ApiError> {
    let doc = parse_xml(body)?;
    let root = doc.root_element();
    let name = child_text(root, "Name").unwrap_or("").to_string();
    let caller = child_text(root, "CallerReference")
        .unwrap_or("")
        .to_string();
    let cfg = child(root, "HostedZoneConfig");
    let comment = cfg
        .and_then(|c| child_text(c, "Comment"))
        .map(str::to_string);
    let vpcs: Vec<(String, String)> = child(root, "VPC")
        .map(|v| {
            vec![(
                child_text(v, "VPCRegion")
                    .unwrap_or("us-east-1")
                    .to_string(),
                child_text(v, "VPCId").unwrap_or("").to_string(),
            )]
        })
        .unwrap_or_default();
    let private = cfg
        .and_then(|c| child_text(c, "PrivateZone"))
        .is_some_and(|v| v == "true")
        || !vpcs.is_empty();
    let mut st = shared.lock();
    let (id, change) = st.create_zone(
        &shared.infra.pool,
        &p.account,
        &name,
        &caller,
        comment,
        private,
        vpcs,
    )?;
    let z = st.zone(&p.account, &id)?;
    let (zx, dx) = (zone_xml(z), delegation_xml(z));
    let vpc = if z.private {
        z.vpcs
            .first()
            .map(|(r, v)| {
                format!(
                    "<VPC><VPCRegion>{}</VPCRegion><VPCId>{}</VPCId></VPC>",
                    esc(r),
                    esc(v)
                )
            })
            .unwrap_or_default()
    } else {
        String::new()
    };
    let dx = if z.private { String::new() } else { dx };
    let info = change_info(&st, &change);
    let mut r = xml(
        StatusCode::CREATED,
        format!("<CreateHostedZoneResponse xmlns=\"{R53_NS}\">{zx}{info}{dx}{vpc}</CreateHostedZoneResponse>"),
    );
    if let Ok(v) = format!("https://route53.amazonaws.com/2013-04-01/hostedzone/{id}").parse() {
        r.headers_mut().insert("location", v);
    }
    Ok(r)
}

fn update_comment(
    shared: &Shared,
    p: &Principal,
    id: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let doc = parse_xml(body)?;
    let comment = child_text(doc.root_element(), "Comment").map(str::to_string);
    if comment.as_ref().is_some_and(|c| c.len() > 256) {
        return Err(ApiError::bad(
            "InvalidInput",
            "Comment can be at most 256 characters",
        ));
    }
    let mut st = shared.lock();
    st.zone(&p.account, id)?;
    let z = st
        .accounts
        .get_mut(&p.account)
        .and_then(|a| a.zones.get_mut(id))
        .ok_or_else(|| model::no_such_zone(id))?;
    z.comment = comment.filter(|c| !c.is_empty());
    Ok(xml(
        StatusCode::OK,
        format!(
            "<UpdateHostedZoneCommentResponse xmlns=\"{R53_NS}\">{}</UpdateHostedZoneCommentResponse>",
            zone_xml(z)
        ),
    ))
}

fn get_zone(shared: &Shared, p: &Principal, id: &str) -> Result<Response, ApiError> {
    let st = shared.lock();
    let z = st.zone(&p.account, id)?;
    Ok(xml(
        StatusCode::OK,
        format!(
            "<GetHostedZoneResponse xmlns=\"{R53_NS}\">{}{}</GetHostedZoneResponse>",
            zone_xml(z),
            delegation_xml(z)
        ),
    ))
}

fn max_items(query: &[(String, String)], default: usize) -> Result<usize, ApiError> {
    match q(query, "maxitems") {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .map(|n| n.min(default))
            .ok_or_else(|| {
                ApiError::bad("InvalidInput", format!("Invalid value for maxitems: {v}"))
            }),
    }
}

fn list_zones(
    shared: &Shared,
    p: &Principal,
    query: &[(String, String)],
) -> Result<Response, ApiError> {
    let max = max_items(query, 100)?;
    let marker = q(query, "marker").unwrap_or("");
    let st = shared.lock();
    let mut zones: Vec<&model::Zone> = st
        .accounts
        .get(&p.account)
        .map(|a| a.zones.values().collect())
        .unwrap_or_default();
    zones.sort_by_key(|z| z.seq);
    let start = if marker.is_empty() {
        0
    } else {
        let m = marker.trim_start_matches("/hostedzone/");
        zones
            .iter()
            .position(|z| z.id == m)
            .ok_or_else(|| ApiError::bad("InvalidInput", format!("Invalid marker {marker}")))?
    };
    let page: Vec<&&model::Zone> = zones.iter().skip(start).take(max).collect();
    let next = zones.get(start + max);
    let mut s = format!("<ListHostedZonesResponse xmlns=\"{R53_NS}\"><HostedZones>");
    for z in page {
        s.push_str(&zone_xml(z));
    }
    let _ = write!(
        s,
        "</HostedZones><Marker>{}</Marker><IsTruncated>{}</IsTruncated>",
        esc(marker),
        next.is_some()
    );
    if let Some(n) = next {
        let _ = write!(s, "<NextMarker>{}</NextMarker>", n.id);
    }
    let _ = write!(s, "<MaxItems>{max}</MaxItems></ListHostedZonesResponse>");
    Ok(xml(StatusCode::OK, s))
}

fn list_by_name(
    shared: &Shared,
    p: &Principal,
    query: &[(String, String)],
) -> Result<Response, ApiError> {
    let max = max_items(query, 100)?;
    let dns = q(query, "dnsname").map(normalize_name);
    let hzid = q(query, "hostedzoneid").map(|s| s.trim_start_matches("/hostedzone/").to_string());
    if hzid.is_some() && dns.is_none() {
        return Err(ApiError::bad(
            "InvalidInput",
            "hostedzoneid requires dnsname",
        ));
    }
    let st = shared.lock();
    let mut zones: Vec<&model::Zone> = st
        .accounts
        .get(&p.account)
        .map(|a| a.zones.values().collect())
        .unwrap_or_default();
    zones.sort_by(|a, b| (reversed_key(&a.name), &a.id).cmp(&(reversed_key(&b.name), &b.id)));
    let start_key = dns.as_ref().map(|d| reversed_key(d));
    let rest: Vec<&&model::Zone> = zones
        .iter()
        .filter(|z| match (&start_key, &hzid) {
            (None, _) => true,
            (Some(k), None) => reversed_key(&z.name) >= *k,
            (Some(k), Some(id)) => (reversed_key(&z.name), z.id.clone()) >= (k.clone(), id.clone()),
        })
        .collect();
    let mut s = format!("<ListHostedZonesByNameResponse xmlns=\"{R53_NS}\"><HostedZones>");
    for z in rest.iter().take(max) {
        s.push_str(&zone_xml(z));
    }
    s.push_str("</HostedZones>");
    if let Some(d) = &dns {
        let _ = write!(s, "<DNSName>{}</DNSName>", esc(d));
    }
    if let Some(h) = &hzid {
        let _ = write!(s, "<HostedZoneId>{}</HostedZoneId>", esc(h));
    }
    let next = rest.get(max);
    let _ = write!(s, "<IsTruncated>{}</IsTruncated>", next.is_some());
    if let Some(n) = next {
        let _ = write!(
            s,
            "<NextDNSName>{}</NextDNSName><NextHostedZoneId>{}</NextHostedZoneId>",
            esc(&n.name),
            n.id
        );
    }
    let _ = write!(
        s,
        "<MaxItems>{max}</MaxItems></ListHostedZonesByNameResponse>"
    );
    Ok(xml(StatusCode::OK, s))
}

fn rrset_xml(r: &model::RRSet) -> String {
    let mut s = format!(
        "<ResourceRecordSet><Name>{}</Name><Type>{}</Type><TTL>{}</TTL><ResourceRecords>",
        esc(&r.name),
        r.rtype,
        r.ttl
    );
    for v in &r.values {
        let _ = write!(
            s,
            "<ResourceRecord><Value>{}</Value></ResourceRecord>",
            esc(v)
        );
    }
    s.push_str("</ResourceRecords></ResourceRecordSet>");
    s
}

fn list_rrsets(
    shared: &Shared,
    p: &Principal,
    id: &str,
    query: &[(String, String)],
) -> Result<Response, ApiError> {
    let max = max_items(query, 300)?;
    let name = q(query, "name").map(normalize_name);
    let rtype = q(query, "type").map(str::to_ascii_uppercase);
    if rtype.is_some() && name.is_none() {
        return Err(ApiError::bad("InvalidInput", "type requires name"));
    }
    let st = shared.lock();
    let z = st.zone(&p.account, id)?;
    let mut recs: Vec<&model::RRSet> = z.records.values().collect();
    recs.sort_by(|a, b| (reversed_key(&a.name), &a.rtype).cmp(&(reversed_key(&b.name), &b.rtype)));
    let rest: Vec<&&model::RRSet> = recs
        .iter()
        .filter(|r| match &name {
            None => true,
            Some(n) => {
                (reversed_key(&r.name), r.rtype.clone())
                    >= (reversed_key(n), rtype.clone().unwrap_or_default())
            }
        })
        .collect();
    let mut s = format!("<ListResourceRecordSetsResponse xmlns=\"{R53_NS}\"><ResourceRecordSets>");
    for r in rest.iter().take(max) {
        s.push_str(&rrset_xml(r));
    }
    s.push_str("</ResourceRecordSets>");
    let next = rest.get(max);
    let _ = write!(s, "<IsTruncated>{}</IsTruncated>", next.is_some());
    if let Some(n) = next {
        let _ = write!(
            s,
            "<NextRecordName>{}</NextRecordName><NextRecordType>{}</NextRecordType>",
            esc(&n.name),
            n.rtype
        );
    }
    let _ = write!(
        s,
        "<MaxItems>{max}</MaxItems></ListResourceRecordSetsResponse>"
    );
    Ok(xml(StatusCode::OK, s))
}

fn change_rrsets(
    shared: &Shared,
    p: &Principal,
    id: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let doc = parse_xml(body)?;
    let batch = doc
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "ChangeBatch")
        .ok_or_else(|| ApiError::bad("InvalidInput", "missing ChangeBatch"))?;
    let comment = child_text(batch, "Comment").map(str::to_string);
    let mut changes = Vec::new();
    if let Some(cs) = child(batch, "Changes") {
        for c in cs.children().filter(|c| c.is_element()) {
            let action = child_text(c, "Action").unwrap_or("").to_string();
            let Some(rr) = child(c, "ResourceRecordSet") else {
                return Err(ApiError::bad("InvalidInput", "missing ResourceRecordSet"));
            };
            let ttl = match child_text(rr, "TTL") {
                None => None,
                Some(t) => Some(
                    t.trim()
                        .parse::<i64>()
                        .map_err(|_| ApiError::bad("InvalidInput", format!("Invalid TTL {t}")))?,
                ),
            };
            let values = child(rr, "ResourceRecords")
                .map(|rs| {
                    rs.children()
                        .filter(|x| x.is_element())
                        .map(|x| child_text(x, "Value").unwrap_or("").to_string())
                        .collect()
                })
                .unwrap_or_default();
            let unsupported = if child(rr, "AliasTarget").is_some() {
                Some("AliasTarget")
            } else if child(rr, "SetIdentifier").is_some() {
                Some("SetIdentifier (routing policies)")
            } else {
                None
            };
            changes.push(ChangeReq {
                action,
                name: child_text(rr, "Name").unwrap_or("").to_string(),
                rtype: child_text(rr, "Type").unwrap_or("").to_string(),
                ttl,
                values,
                unsupported,
            });
        }
    }
    let mut st = shared.lock();
    let change = st.change_rrsets(p, id, comment, &changes)?;
    let info = change_info(&st, &change);
    Ok(xml(
        StatusCode::OK,
        format!("<ChangeResourceRecordSetsResponse xmlns=\"{R53_NS}\">{info}</ChangeResourceRecordSetsResponse>"),
    ))
}

// ---------------------------------------------------------------- STS

fn sts_err(code: &'static str, status: u16, msg: impl Into<String>) -> Response {
    error_xml(STS_NS, &ApiError::new(status, code, msg))
}

async fn sts(shared: &Shared, req: &Req<'_>, form: &[(String, String)]) -> Response {
    let headers = req.headers;
    let action = q(form, "Action").unwrap_or("").to_string();
    let op: &'static str = match action.as_str() {
        "AssumeRole" => "AssumeRole",
        "GetCallerIdentity" => "GetCallerIdentity",
        _ => "UnknownSts",
    };
    let p = match preamble(shared, req, op, false).await {
        Ok(p) => p,
        Err(e) => return error_xml(STS_NS, &e),
    };
    let rid = request_id();
    match op {
        "GetCallerIdentity" => {
            let user_id = match &p.role {
                None => access_key(headers).unwrap_or_default(),
                Some(r) => format!("AROAR53WORLD{}:{}", p.account, r.session_name),
            };
            xml(
                StatusCode::OK,
                format!(
                    "<GetCallerIdentityResponse xmlns=\"{STS_NS}\"><GetCallerIdentityResult><Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
                    esc(&p.arn()),
                    esc(&user_id),
                    p.account
                ),
            )
        }
        "AssumeRole" => assume_role(shared, &p, form, &rid),
        _ => sts_err(
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
            return sts_err(
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
        return sts_err(
            "ValidationError",
            400,
            format!("1 validation error detected: Value '{session}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"),
        );
    }
    let denied = || {
        sts_err(
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
    let exp = format_time(exp);
    xml(
        StatusCode::OK,
        format!(
            "<AssumeRoleResponse xmlns=\"{STS_NS}\"><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>AROAR53WORLD{acct}:{s}</AssumedRoleId><Arn>arn:aws:sts::{acct}:assumed-role/{role}/{s}</Arn></AssumedRoleUser><Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey><SessionToken>{token}</SessionToken><Expiration>{exp}</Expiration></Credentials><PackedPolicySize>0</PackedPolicySize></AssumeRoleResult><ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata></AssumeRoleResponse>",
            acct = role.account,
            role = esc(&role.name),
            s = esc(&session),
        ),
    )
}

// ---------------------------------------------------------------- admin

fn json(status: StatusCode, v: serde_json::Value) -> Response {
    (status, axum::Json(v)).into_response()
}

fn bad(msg: impl std::fmt::Display) -> Response {
    json(
        StatusCode::BAD_REQUEST,
        serde_json::json!({ "error": msg.to_string() }),
    )
}

#[derive(serde::Deserialize)]
struct RegisterReq {
    domain: String,
    hosted_zone_id: Option<String>,
    name_servers: Option<Vec<String>>,
}

#[derive(serde::Deserialize)]
struct FaultReq {
    operation: String,
    fault: String,
    #[serde(default)]
    delay_ms: u64,
    #[serde(default = "one")]
    count: u32,
}

fn one() -> u32 {
    1
}

#[derive(serde::Deserialize)]
struct DnsFaultReq {
    server: String,
    #[serde(default)]
    zone: Option<String>,
    /// `drop`, `refuse` or `none` (switch off).
    fault: String,
    #[serde(default)]
    count: Option<u32>,
}

#[derive(serde::Deserialize)]
struct PublishLagReq {
    server: String,
    /// Milliseconds; `null` restores the default (visible at INSYNC).
    ms: Option<u64>,
}

#[derive(serde::Deserialize)]
struct FailAssume {
    role_arn: String,
    #[serde(default = "one")]
    count: u32,
}

async fn admin(shared: &Shared, method: &Method, path: &str, body: &[u8]) -> Response {
    let path = path.trim_end_matches('/');
    let body_json = || -> Result<serde_json::Value, Box<Response>> {
        if body.is_empty() {
            Ok(serde_json::Value::Null)
        } else {
            serde_json::from_slice(body).map_err(|e| Box::new(bad(e)))
        }
    };
    match (method.as_str(), path) {
        ("POST", "/reset") => {
            shared.lock().reset();
            match shared.infra.reset().await {
                Ok(()) => json(StatusCode::OK, serde_json::json!({"ok": true})),
                Err(e) => json(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    serde_json::json!({"error": e.to_string()}),
                ),
            }
        }
        ("POST", "/register") => {
            let r: RegisterReq = match serde_json::from_slice(body) {
                Ok(r) => r,
                Err(e) => return bad(e),
            };
            let ns = match (r.hosted_zone_id, r.name_servers) {
                (Some(id), None) => {
                    let id = id.trim_start_matches("/hostedzone/").to_string();
                    match shared.lock().zone_any(&id) {
                        Some(z) => z.ns.clone(),
                        None => return bad(format!("no hosted zone {id}")),
                    }
                }
                (None, Some(ns)) => ns,
                _ => return bad("give exactly one of hosted_zone_id, name_servers"),
            };
            match shared.infra.register(&r.domain, &ns).await {
                Ok(()) => json(
                    StatusCode::OK,
                    serde_json::json!({"domain": r.domain, "name_servers": ns}),
                ),
                Err(e) => bad(e),
            }
        }
        ("POST", "/roles") => match serde_json::from_slice::<RoleSpec>(body) {
            Ok(role) => {
                let arn = role.arn();
                shared.lock().roles.insert(arn.clone(), role);
                json(StatusCode::OK, serde_json::json!({"arn": arn}))
            }
            Err(e) => bad(e),
        },
        ("GET", "/roles") => {
            let roles: Vec<RoleSpec> = shared.lock().roles.values().cloned().collect();
            json(
                StatusCode::OK,
                serde_json::to_value(roles).unwrap_or_default(),
            )
        }
        ("GET", "/calls") => {
            let calls: Vec<serde_json::Value> = shared
                .lock()
                .calls
                .iter()
                .map(|((a, o), n)| serde_json::json!({"account": a, "operation": o, "count": n}))
                .collect();
            json(StatusCode::OK, serde_json::Value::Array(calls))
        }
        ("POST", "/faults") => {
            let f: FaultReq = match serde_json::from_slice(body) {
                Ok(f) => f,
                Err(e) => return bad(e),
            };
            let fault = match f.fault.as_str() {
                "Throttling" => Fault::Throttling,
                "InternalFailure" => Fault::InternalFailure,
                "PriorRequestNotComplete" => Fault::PriorRequestNotComplete,
                "Delay" => Fault::Delay(Duration::from_millis(f.delay_ms)),
                other => return bad(format!("unknown fault {other}")),
            };
            let mut st = shared.lock();
            let q = st.faults.entry(f.operation).or_default();
            for _ in 0..f.count {
                q.push_back(fault);
            }
            json(StatusCode::OK, serde_json::json!({"ok": true}))
        }
        ("POST", "/rate-limit") => {
            let v = match body_json() {
                Ok(v) => v,
                Err(r) => return *r,
            };
            let per = v
                .get("per_second")
                .and_then(serde_json::Value::as_u64)
                .map(|n| n as u32);
            shared.lock().throttle.set_mode(match per {
                Some(per_second) => ThrottleMode::Legacy { per_second },
                None => ThrottleMode::Off,
            });
            json(StatusCode::OK, serde_json::json!({"per_second": per}))
        }
        ("POST", "/throttle") => match serde_json::from_slice::<ThrottleMode>(body) {
            Ok(mode) => {
                shared.lock().throttle.set_mode(mode);
                json(StatusCode::OK, serde_json::json!(mode))
            }
            Err(e) => bad(format!(
                "{e}; expected {{\"mode\": \"off\"}}, {{\"mode\": \"legacy\", \"per_second\": 5}} or {{\"mode\": \"buckets\"}}"
            )),
        },
        ("GET", "/throttle") => {
            let st = shared.lock();
            let throttled: Vec<serde_json::Value> = st
                .throttle
                .throttled()
                .iter()
                .map(|((account, operation), n)| {
                    serde_json::json!({"account": account, "operation": operation, "count": n})
                })
                .collect();
            json(
                StatusCode::OK,
                serde_json::json!({"mode": st.throttle.mode(), "throttled": throttled}),
            )
        }
        ("POST", "/insync-delay") => {
            let v = match body_json() {
                Ok(v) => v,
                Err(r) => return *r,
            };
            let Some(ms) = v.get("ms").and_then(serde_json::Value::as_u64) else {
                return bad("expected {\"ms\": N}");
            };
            let jitter_ms = v
                .get("jitter_ms")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0);
            let mut st = shared.lock();
            st.insync_delay = Duration::from_millis(ms);
            st.insync_jitter = Duration::from_millis(jitter_ms);
            json(
                StatusCode::OK,
                serde_json::json!({"ms": ms, "jitter_ms": jitter_ms}),
            )
        }
        ("POST", "/dns-fault") => {
            let f: DnsFaultReq = match serde_json::from_slice(body) {
                Ok(f) => f,
                Err(e) => return bad(e),
            };
            let fault = match f.fault.as_str() {
                "drop" => Some(DnsFault::Drop),
                "refuse" => Some(DnsFault::Refuse),
                "none" => None,
                other => {
                    return bad(format!(
                        "unknown DNS fault {other}; expected drop, refuse or none"
                    ))
                }
            };
            let server = crate::fqdn(&f.server);
            if !shared.infra.pool.all().any(|(n, _)| *n == server) {
                return bad(format!("{} is not a pool name server", f.server));
            }
            let key = (server, f.zone.as_deref().map(crate::fqdn));
            let mut st = shared.lock();
            match fault {
                Some(fault) => {
                    st.dns_faults.insert(
                        key,
                        crate::model::DnsFaultEntry {
                            fault,
                            remaining: f.count,
                        },
                    );
                }
                None => {
                    st.dns_faults.remove(&key);
                }
            }
            json(StatusCode::OK, serde_json::json!({"ok": true}))
        }
        ("POST", "/publish-lag") => {
            let f: PublishLagReq = match serde_json::from_slice(body) {
                Ok(f) => f,
                Err(e) => return bad(e),
            };
            let server = crate::fqdn(&f.server);
            if !shared.infra.pool.all().any(|(n, _)| *n == server) {
                return bad(format!("{} is not a pool name server", f.server));
            }
            let mut st = shared.lock();
            match f.ms {
                Some(ms) => {
                    st.publish_lag.insert(server, Duration::from_millis(ms));
                }
                None => {
                    st.publish_lag.remove(&server);
                }
            }
            json(StatusCode::OK, serde_json::json!({"ok": true}))
        }
        ("POST", "/fail-assume-role") => match serde_json::from_slice::<FailAssume>(body) {
            Ok(f) => {
                shared.lock().fail_assume.insert(f.role_arn, f.count);
                json(StatusCode::OK, serde_json::json!({"ok": true}))
            }
            Err(e) => bad(e),
        },
        ("POST", "/flush") => {
            let v = match body_json() {
                Ok(v) => v,
                Err(r) => return *r,
            };
            let name = v
                .get("name")
                .and_then(serde_json::Value::as_str)
                .unwrap_or(".");
            match shared.infra.flush(name).await {
                Ok(()) => json(StatusCode::OK, serde_json::json!({"ok": true})),
                Err(e) => bad(e),
            }
        }
        ("GET", "/zones") => {
            let st = shared.lock();
            let zones: Vec<serde_json::Value> = st
                .accounts
                .iter()
                .flat_map(|(a, acct)| {
                    acct.zones.values().map(move |z| {
                        serde_json::json!({
                            "account": a, "id": z.id, "name": z.name, "private": z.private,
                            "name_servers": z.ns, "records": z.records.values().collect::<Vec<_>>()
                        })
                    })
                })
                .collect();
            json(StatusCode::OK, serde_json::Value::Array(zones))
        }
        ("GET", "/health") => json(
            StatusCode::OK,
            serde_json::json!({"ok": true, "net": shared.net}),
        ),
        _ => json(
            StatusCode::NOT_FOUND,
            serde_json::json!({"error": format!("no admin route {method} {path}")}),
        ),
    }
}
