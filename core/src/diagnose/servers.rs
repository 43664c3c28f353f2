//! One line per server asked: what each parent server, child server and
//! resolver did, failing servers first.

use std::net::SocketAddr;

use crate::check::{CheckKind, ServerCheck, ServerResult, ServerRole};
use crate::dns::{Rcode, DNS_PORT};

/// One entry per server asked (parent and child name servers, resolvers),
/// failing servers first, each with what it did in a few words.
pub fn server_results(checks: &[ServerCheck]) -> Vec<ServerResult> {
    let mut out: Vec<ServerResult> = Vec::new();
    for c in checks {
        let role = match c.kind {
            CheckKind::ParentReferral => ServerRole::Parent,
            CheckKind::ChildSoa | CheckKind::ChildNs => ServerRole::Child,
            CheckKind::Recursive => ServerRole::Resolver,
            _ => continue,
        };
        let name = match (&c.server_name, c.address) {
            (Some(n), _) => n.to_string(),
            (None, Some(a)) => resolver_text(&a),
            (None, None) => continue,
        };
        let address = c.address.map(|a| a.ip());
        let what = if c.ok { None } else { Some(check_result(c)) };
        match out
            .iter_mut()
            .find(|r| r.role == role && r.name == name && r.address == address)
        {
            Some(r) => {
                r.rtt = r.rtt.max(c.latency);
                if let (true, Some(w)) = (r.ok, what) {
                    r.ok = false;
                    r.result = w;
                }
            }
            None => out.push(ServerResult {
                name,
                address,
                role,
                ok: what.is_none(),
                result: what.unwrap_or_else(|| "ok".into()),
                rtt: c.latency,
            }),
        }
    }
    out.sort_by(|a, b| (a.ok, a.role, &a.name, a.address).cmp(&(b.ok, b.role, &b.name, b.address)));
    out
}

/// What a failed check saw, in a few words.
fn check_result(c: &ServerCheck) -> String {
    if c.timed_out {
        return "timed out".into();
    }
    if let Some(e) = &c.error {
        return if c.address.is_none() {
            format!("address not found: {e}")
        } else {
            format!("no answer: {e}")
        };
    }
    let rcode = c.rcode.map(|r| r.to_string()).unwrap_or_default();
    let aa = c.authoritative.unwrap_or(false);
    match c.kind {
        CheckKind::ParentReferral => match (&c.ns_seen, c.rcode) {
            (_, Some(Rcode::NXDOMAIN)) => "no NS record (NXDOMAIN)".into(),
            (None, Some(Rcode::NOERROR)) => "no referral (NODATA)".into(),
            (Some(ns), Some(Rcode::NOERROR)) if aa => {
                format!("answers {ns} authoritatively instead of referring")
            }
            (Some(ns), Some(Rcode::NOERROR)) => format!("refers to other servers {ns}"),
            _ => rcode,
        },
        CheckKind::ChildSoa | CheckKind::ChildNs if c.rcode != Some(Rcode::NOERROR) => {
            format!("{rcode} (does not serve the zone)")
        }
        CheckKind::ChildSoa | CheckKind::ChildNs if !aa => "not authoritative".into(),
        CheckKind::ChildSoa => "no SOA at the zone apex".into(),
        CheckKind::ChildNs => match &c.ns_seen {
            Some(ns) => format!("different NS set {ns}"),
            None => "no NS set".into(),
        },
        _ if !c.detail.is_empty() => c.detail.clone(),
        _ => rcode,
    }
}

/// A resolver as shown: its address, with the port only when not 53.
pub(super) fn resolver_text(a: &SocketAddr) -> String {
    if a.port() == DNS_PORT {
        a.ip().to_string()
    } else {
        a.to_string()
    }
}
