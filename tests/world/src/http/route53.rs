//! Route 53's REST-XML API (2013-04-01): the operations the engine and the
//! peers' models call, with Route 53's errors and paging.

use axum::http::{Method, StatusCode};
use axum::response::Response;

use super::xml::{self, child, child_text, Xml};
use super::{preamble, q, Req};
use crate::model::{
    self, format_time, normalize_name, reversed_key, ApiError, ChangeReq, Operation, Principal,
};
use crate::Shared;

const NS: &str = "https://route53.amazonaws.com/doc/2013-04-01/";

/// Handles one Route 53 request; `path` is what follows `/2013-04-01`.
pub async fn handle(
    shared: &Shared,
    req: &Req<'_>,
    path: &str,
    query: &[(String, String)],
) -> Response {
    let (method, body) = (req.method, req.body);
    let (op, segs) = operation(method, path);
    let p = match preamble(shared, req, op, true).await {
        Ok(p) => p,
        Err(e) => return xml::error(NS, &e),
    };
    if op == Operation::UnknownRoute53 {
        return xml::error(
            NS,
            &ApiError::bad(
                "InvalidAction",
                format!("Unknown operation {method} {path}"),
            ),
        );
    }
    // ChangeResourceRecordSets is judged with its changes (model::batch).
    if op != Operation::ChangeResourceRecordSets {
        let res = resource_arn(op, &segs);
        if !p.permission().allows(op, &res, None) {
            return xml::error(NS, &model::access_denied(&p, op, &res));
        }
    }
    let r = match op {
        Operation::CreateHostedZone => create_zone(shared, &p, body),
        Operation::ListHostedZones => list_zones(shared, &p, query),
        Operation::ListHostedZonesByName => list_by_name(shared, &p, query),
        Operation::GetHostedZoneCount => {
            let n = shared
                .lock()
                .accounts
                .get(&p.account)
                .map_or(0, |a| a.zones.len());
            Ok(ok(Xml::doc("GetHostedZoneCountResponse", NS, |x| {
                x.text("HostedZoneCount", n);
            })))
        }
        Operation::GetHostedZone => get_zone(shared, &p, &segs[1]),
        Operation::UpdateHostedZoneComment => update_comment(shared, &p, &segs[1], body),
        Operation::DeleteHostedZone => {
            let mut st = shared.lock();
            st.delete_zone(&p.account, &segs[1]).map(|c| {
                ok(Xml::doc("DeleteHostedZoneResponse", NS, |x| {
                    change_info(x, &st, &c);
                }))
            })
        }
        Operation::ListTagsForResource => super::tags::list(shared, &p, &segs[2]).map(ok),
        Operation::ChangeTagsForResource => super::tags::change(shared, &p, &segs[2], body).map(ok),
        Operation::ChangeResourceRecordSets => change_rrsets(shared, &p, &segs[1], body),
        Operation::ListResourceRecordSets => list_rrsets(shared, &p, &segs[1], query),
        Operation::GetChange => {
            let mut st = shared.lock();
            st.advance();
            let id = &segs[1];
            match st.changes.get(id.as_str()) {
                Some(c) if c.account == p.account => {
                    Ok(ok(Xml::doc("GetChangeResponse", NS, |x| {
                        change_info(x, &st, id);
                    })))
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
    r.unwrap_or_else(|e| xml::error(NS, &e))
}

fn ok(body: String) -> Response {
    xml::response(StatusCode::OK, body)
}

/// The operation a method and path name, and the path's decoded segments.
fn operation(method: &Method, path: &str) -> (Operation, Vec<String>) {
    // A full "/hostedzone/ID" may come as one encoded segment.
    let segs: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(percent_decode)
        .flat_map(|x| x.split('/').map(str::to_string).collect::<Vec<_>>())
        .filter(|x| !x.is_empty())
        .collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let op = match (method.as_str(), s.as_slice()) {
        ("POST", ["hostedzone"]) => Operation::CreateHostedZone,
        ("GET", ["hostedzone"]) => Operation::ListHostedZones,
        ("GET", ["hostedzonesbyname"]) => Operation::ListHostedZonesByName,
        ("GET", ["hostedzonecount"]) => Operation::GetHostedZoneCount,
        ("GET", ["hostedzone", _]) => Operation::GetHostedZone,
        ("DELETE", ["hostedzone", _]) => Operation::DeleteHostedZone,
        ("POST", ["hostedzone", _]) => Operation::UpdateHostedZoneComment,
        ("POST", ["hostedzone", _, "rrset"]) => Operation::ChangeResourceRecordSets,
        ("GET", ["hostedzone", _, "rrset"]) => Operation::ListResourceRecordSets,
        ("GET", ["change", _]) => Operation::GetChange,
        ("GET", ["tags", "hostedzone", _]) => Operation::ListTagsForResource,
        ("POST", ["tags", "hostedzone", _]) => Operation::ChangeTagsForResource,
        _ => Operation::UnknownRoute53,
    };
    (op, segs)
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fn change_info(x: &mut Xml, st: &model::State, id: &str) {
    let Some((c, insync)) = st.change_status(id) else {
        return;
    };
    x.el("ChangeInfo", |x| {
        x.text("Id", format!("/change/{id}"))
            .text("Status", if insync { "INSYNC" } else { "PENDING" })
            .text("SubmittedAt", format_time(c.submitted_at))
            .opt_text("Comment", c.comment.as_ref());
    });
}

fn zone(x: &mut Xml, z: &model::Zone) {
    x.el("HostedZone", |x| {
        x.text("Id", format!("/hostedzone/{}", z.id))
            .text("Name", &z.name)
            .text("CallerReference", &z.caller_ref)
            .el("Config", |x| {
                x.opt_text("Comment", z.comment.as_ref())
                    .text("PrivateZone", z.private);
            })
            .text("ResourceRecordSetCount", z.records.len());
    });
}

fn vpc(x: &mut Xml, region: &str, id: &str) {
    x.el("VPC", |x| {
        x.text("VPCRegion", region).text("VPCId", id);
    });
}

/// `VPCs` for a private zone, `DelegationSet` for a public one.
fn delegation(x: &mut Xml, z: &model::Zone) {
    if z.private {
        x.el("VPCs", |x| {
            for (r, id) in &z.vpcs {
                vpc(x, r, id);
            }
        });
    } else {
        x.el("DelegationSet", |x| {
            x.el("NameServers", |x| {
                for n in &z.ns {
                    x.text("NameServer", n.trim_end_matches('.'));
                }
            });
        });
    }
}

fn create_zone(shared: &Shared, p: &Principal, body: &[u8]) -> Result<Response, ApiError> {
    let doc = xml::parse(body)?;
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
    let body = Xml::doc("CreateHostedZoneResponse", NS, |x| {
        zone(x, z);
        change_info(x, &st, &change);
        if z.private {
            if let Some((r, v)) = z.vpcs.first() {
                vpc(x, r, v);
            }
        } else {
            delegation(x, z);
        }
    });
    let mut r = xml::response(StatusCode::CREATED, body);
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
    let doc = xml::parse(body)?;
    let comment = child_text(doc.root_element(), "Comment").map(str::to_string);
    if comment.as_ref().is_some_and(|c| c.len() > 256) {
        return Err(ApiError::bad(
            "InvalidInput",
            "Comment can be at most 256 characters",
        ));
    }
    let mut st = shared.lock();
    let z = st.zone_mut(&p.account, id)?;
    z.comment = comment.filter(|c| !c.is_empty());
    Ok(ok(Xml::doc("UpdateHostedZoneCommentResponse", NS, |x| {
        zone(x, z);
    })))
}

fn get_zone(shared: &Shared, p: &Principal, id: &str) -> Result<Response, ApiError> {
    let st = shared.lock();
    let z = st.zone(&p.account, id)?;
    Ok(ok(Xml::doc("GetHostedZoneResponse", NS, |x| {
        zone(x, z);
        delegation(x, z);
    })))
}

/// The resource an IAM policy sees for `op`: `*` for the account-wide
/// operations, else the hosted zone's or the change's ARN.
fn resource_arn(op: Operation, segs: &[String]) -> String {
    let seg = |i: usize| segs.get(i).map(String::as_str).unwrap_or("*");
    match op {
        Operation::CreateHostedZone
        | Operation::ListHostedZones
        | Operation::ListHostedZonesByName
        | Operation::GetHostedZoneCount => "*".to_string(),
        Operation::GetChange => format!("arn:aws:route53:::change/{}", seg(1)),
        Operation::ListTagsForResource | Operation::ChangeTagsForResource => {
            format!("arn:aws:route53:::hostedzone/{}", seg(2))
        }
        _ => format!("arn:aws:route53:::hostedzone/{}", seg(1)),
    }
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
    let next = zones.get(start + max);
    Ok(ok(Xml::doc("ListHostedZonesResponse", NS, |x| {
        x.el("HostedZones", |x| {
            for z in zones.iter().skip(start).take(max) {
                zone(x, z);
            }
        })
        .text("Marker", marker)
        .text("IsTruncated", next.is_some())
        .opt_text("NextMarker", next.map(|n| &n.id))
        .text("MaxItems", max);
    })))
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
    let next = rest.get(max);
    Ok(ok(Xml::doc("ListHostedZonesByNameResponse", NS, |x| {
        x.el("HostedZones", |x| {
            for z in rest.iter().take(max) {
                zone(x, z);
            }
        })
        .opt_text("DNSName", dns.as_ref())
        .opt_text("HostedZoneId", hzid.as_ref())
        .text("IsTruncated", next.is_some());
        if let Some(n) = next {
            x.text("NextDNSName", &n.name)
                .text("NextHostedZoneId", &n.id);
        }
        x.text("MaxItems", max);
    })))
}

fn rrset(x: &mut Xml, r: &model::RRSet) {
    x.el("ResourceRecordSet", |x| {
        x.text("Name", &r.name)
            .text("Type", r.rtype)
            .text("TTL", r.ttl)
            .el("ResourceRecords", |x| {
                for v in &r.values {
                    x.el("ResourceRecord", |x| {
                        x.text("Value", v);
                    });
                }
            });
    });
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
                (reversed_key(&r.name), r.rtype.as_str())
                    >= (reversed_key(n), rtype.as_deref().unwrap_or_default())
            }
        })
        .collect();
    let next = rest.get(max);
    Ok(ok(Xml::doc("ListResourceRecordSetsResponse", NS, |x| {
        x.el("ResourceRecordSets", |x| {
            for r in rest.iter().take(max) {
                rrset(x, r);
            }
        })
        .text("IsTruncated", next.is_some());
        if let Some(n) = next {
            x.text("NextRecordName", &n.name)
                .text("NextRecordType", n.rtype);
        }
        x.text("MaxItems", max);
    })))
}

fn change_rrsets(
    shared: &Shared,
    p: &Principal,
    id: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let doc = xml::parse(body)?;
    let batch = doc
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "ChangeBatch")
        .ok_or_else(|| ApiError::bad("InvalidInput", "missing ChangeBatch"))?;
    let comment = child_text(batch, "Comment").map(str::to_string);
    let mut changes = Vec::new();
    if let Some(cs) = child(batch, "Changes") {
        for c in cs.children().filter(|c| c.is_element()) {
            changes.push(change_req(c)?);
        }
    }
    let mut st = shared.lock();
    let change = st.change_rrsets(p, id, comment, &changes)?;
    Ok(ok(Xml::doc("ChangeResourceRecordSetsResponse", NS, |x| {
        change_info(x, &st, &change);
    })))
}

fn change_req(c: roxmltree::Node<'_, '_>) -> Result<ChangeReq, ApiError> {
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
    Ok(ChangeReq {
        action,
        name: child_text(rr, "Name").unwrap_or("").to_string(),
        rtype: child_text(rr, "Type").unwrap_or("").to_string(),
        ttl,
        values,
        unsupported,
    })
}
