//! Servers named by the delegation or the child's apex NS set: where each
//! is listed, what is asked in the second round, and each thing said once.

use super::*;
use crate::check::Listing;
use crate::diagnose::{mark_listings, servers_to_ask, verdict, NsSets};

const NS1: &str = "ns-1.awsdns-01.com";
const NS2: &str = "ns-2.awsdns-02.net";
const STRAY: &str = "ns-9.awsdns-09.org";

/// The child's two servers serve `apex` at the apex; `stray` (when given)
/// answers as asked in the second round.
fn with_apex(apex: &NsSet, stray: Option<Rcode>) -> Vec<ServerCheck> {
    let mut checks = good();
    for c in checks.iter_mut().filter(|c| c.kind == CheckKind::ChildNs) {
        c.ok = req().child_name_servers.iter().all(|s| apex.contains(s));
        c.ns_seen = Some(apex.clone());
    }
    if let Some(rcode) = stray {
        for kind in [CheckKind::ChildSoa, CheckKind::ChildNs] {
            let mut c = check(kind, Some(STRAY), 19);
            c.rcode = Some(rcode);
            c.authoritative = Some(rcode == Rcode::NOERROR);
            c.ok = rcode == Rcode::NOERROR;
            if kind == CheckKind::ChildNs && c.ok {
                c.ns_seen = Some(apex.clone());
            }
            checks.push(c);
        }
    }
    mark_listings(&req(), &mut checks);
    checks
}

#[test]
fn each_server_is_listed_where_the_delegation_or_the_apex_names_it() {
    let apex = set(&[NS1, STRAY]);
    let sets = NsSets::of(&req(), &with_apex(&apex, None));
    assert_eq!(sets.apex, Some(apex));
    assert_eq!(sets.listing(&n(NS1)), Some(Listing::Both));
    assert_eq!(sets.listing(&n(NS2)), Some(Listing::DelegationOnly));
    assert_eq!(sets.listing(&n(STRAY)), Some(Listing::ChildOnly));
    // No apex NS set seen: nothing can be told.
    let mut checks = good();
    checks.retain(|c| c.kind != CheckKind::ChildNs);
    assert_eq!(NsSets::of(&req(), &checks).listing(&n(NS1)), None);
}

#[test]
fn servers_named_by_the_apex_or_a_referral_are_asked_once() {
    let apex = set(&[NS1, NS2, STRAY]);
    let checks = with_apex(&apex, None);
    assert_eq!(servers_to_ask(&req(), &checks), set(&[STRAY]));
    // A referral to other servers names them too.
    let mut checks = good();
    checks[0].ns_seen = Some(set(&["old-1.awsdns-03.com"]));
    assert_eq!(
        servers_to_ask(&req(), &checks),
        set(&["old-1.awsdns-03.com"])
    );
    // Once asked, they are not asked again.
    let checks = with_apex(&apex, Some(Rcode::NOERROR));
    assert!(servers_to_ask(&req(), &checks).is_empty());
}

#[test]
fn a_lame_server_in_place_of_one_of_the_zones_own_is_named_once_and_the_difference_once() {
    // The case: the apex lists ns-1 and a server that refuses the
    // zone, in place of ns-2.
    let apex = set(&[NS1, STRAY]);
    let checks = with_apex(&apex, Some(Rcode::REFUSED));
    let v = verdict(&req(), &checks, false);
    assert!(!v.passed);
    assert_eq!(
        v.findings,
        vec![
            Finding::LameChildServer {
                server: n(STRAY),
                address: addr(19),
                rcode: Rcode::REFUSED,
                authoritative: false,
                listed: Some(Listing::ChildOnly),
            },
            Finding::ChildNsMismatch {
                servers: vec![n(NS1), n(NS2)],
                apex_ns: apex,
                delegation: req().child_name_servers,
            },
        ]
    );
    assert!(v.findings[0]
        .message()
        .ends_with("it is listed only in the child zone's apex NS set: remove it from the apex NS record, which must list only servers that serve the zone"));
    // Each server's line says what is its own, and only that.
    let rows: Vec<(String, bool, String)> = server_results(&checks)
        .into_iter()
        .filter(|r| r.role.as_str() == "child")
        .map(|r| (r.name, r.ok, r.result))
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                NS2.to_string(),
                false,
                "serves the zone but is missing from the child zone's apex NS set".to_string()
            ),
            (
                STRAY.to_string(),
                false,
                "REFUSED (does not serve the zone); listed only in the child zone's apex NS set"
                    .to_string()
            ),
            (NS1.to_string(), true, "ok".to_string()),
        ]
    );
}

#[test]
fn an_extra_working_server_at_the_apex_verifies_with_a_warning() {
    let apex = set(&[NS1, NS2, STRAY]);
    let checks = with_apex(&apex, Some(Rcode::NOERROR));
    let v = verdict(&req(), &checks, false);
    assert!(v.passed, "{:?}", v.findings);
    assert_eq!(
        v.findings,
        vec![Finding::ChildNsExtraServers {
            servers: set(&[STRAY]),
            apex_ns: apex.clone(),
            delegation: req().child_name_servers,
        }]
    );
    assert_eq!(v.findings[0].severity(), Severity::Warning);
    assert!(server_results(&checks).iter().all(|r| r.ok));
    // The same extra server refusing the zone: lame, named once; no warning
    // that it serves the zone.
    let checks = with_apex(&apex, Some(Rcode::REFUSED));
    let v = verdict(&req(), &checks, false);
    assert!(!v.passed);
    assert_eq!(codes(&v.findings), vec!["lame_child_server"]);
}

#[test]
fn a_lame_server_only_a_wrong_referral_names_is_that_referrals_finding() {
    let mut checks = good();
    for c in checks
        .iter_mut()
        .filter(|c| c.kind == CheckKind::ParentReferral)
    {
        c.ok = false;
        c.ns_seen = Some(set(&["old-1.awsdns-03.com"]));
    }
    for kind in [CheckKind::ChildSoa, CheckKind::ChildNs] {
        let mut c = check(kind, Some("old-1.awsdns-03.com"), 30);
        c.rcode = Some(Rcode::REFUSED);
        c.authoritative = Some(false);
        checks.push(c);
    }
    mark_listings(&req(), &mut checks);
    assert_eq!(
        codes(&diagnose(&req(), &checks)),
        vec!["parent_points_elsewhere"]
    );
    let old = server_results(&checks)
        .into_iter()
        .find(|r| r.name == "old-1.awsdns-03.com")
        .unwrap();
    assert_eq!(
        old.result,
        "REFUSED (does not serve the zone); listed only in the delegation"
    );
}
