//! One line per server asked: what each parent server, child server and
//! resolver did, failing servers first.

use std::net::SocketAddr;

use super::listing::agreed_apex;
use crate::check::{CheckKind, Listing, ServerCheck, ServerResult, ServerRole};
use crate::dns::{Rcode, DNS_PORT};

/// One entry per server asked (parent and child name servers, resolvers),
/// failing servers first, each with what it did in a few words. An apex NS
/// set that every child server agrees on is the zone's: its difference from
/// the delegation is said once (a finding), not held against each server;
/// what is held against a server is its own: a server of the delegation the
/// apex leaves out, a lame or silent one (with where it is listed when that
/// is not both sets).
pub fn server_results(checks: &[ServerCheck]) -> Vec<ServerResult> {
    let agreed = agreed_apex(checks);
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
        let zone_wide = agreed.is_some() && c.ns_seen.as_ref() == agreed && answered_with_aa(c);
        let what = if c.ok || (c.kind == CheckKind::ChildNs && zone_wide) {
            None
        } else {
            Some(with_listing(check_result(c), c.listed))
        };
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
    left_out_of_the_apex(checks, &mut out);
    out.sort_by(|a, b| (a.ok, a.role, &a.name, a.address).cmp(&(b.ok, b.role, &b.name, b.address)));
    out
}

fn answered_with_aa(c: &ServerCheck) -> bool {
    c.error.is_none() && c.rcode == Some(Rcode::NOERROR) && c.authoritative == Some(true)
}

/// A server of the delegation that serves the zone but that the child's
/// apex NS set leaves out (Zonemaster's `EXTRA_NAME_PARENT`).
fn left_out_of_the_apex(checks: &[ServerCheck], out: &mut [ServerResult]) {
    for c in checks
        .iter()
        .filter(|c| c.kind == CheckKind::ChildNs && c.listed == Some(Listing::DelegationOnly))
    {
        let (Some(name), address) = (&c.server_name, c.address.map(|a| a.ip())) else {
            continue;
        };
        let name = name.to_string();
        if let Some(r) = out
            .iter_mut()
            .find(|r| r.ok && r.role == ServerRole::Child && r.name == name && r.address == address)
        {
            r.ok = false;
            r.result = "serves the zone but is missing from the child zone's apex NS set".into();
        }
    }
}

/// A failing server's result, with where it is listed when that is one set
/// only.
fn with_listing(what: String, listed: Option<Listing>) -> String {
    match listed {
        Some(l @ (Listing::ChildOnly | Listing::DelegationOnly)) => format!("{what}; {}", l.text()),
        _ => what,
    }
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
