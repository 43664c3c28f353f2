//! Unit tests of the diagnosis: observations in, findings and per-server
//! lines out, no network.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use super::diagnosis::authoritative_ok;
use super::*;
use crate::check::{CheckKind, Listing, ServerCheck, VerifyRequest};
use crate::dns::Rcode;
use crate::name::DomainName;
use crate::nsset::NsSet;

fn n(s: &str) -> DomainName {
    DomainName::parse(s).unwrap()
}

fn set(v: &[&str]) -> NsSet {
    NsSet::parse(v).unwrap()
}

fn req() -> VerifyRequest {
    VerifyRequest {
        name: n("api.example.com"),
        parent_zone: n("example.com"),
        parent_name_servers: set(&["ns1.parent.net", "ns2.parent.net"]),
        child_name_servers: set(&["ns-1.awsdns-01.com", "ns-2.awsdns-02.net"]),
    }
}

fn addr(last: u8) -> SocketAddr {
    SocketAddr::from(([127, 0, 20, last], 53))
}

fn check(kind: CheckKind, server: Option<&str>, last: u8) -> ServerCheck {
    ServerCheck {
        kind,
        server_name: server.map(n),
        address: Some(addr(last)),
        ok: false,
        rcode: Some(Rcode::NOERROR),
        authoritative: Some(true),
        ns_seen: None,
        negative_ttl: None,
        ns_ttl: None,
        latency: Some(Duration::from_millis(2)),
        error: None,
        timed_out: false,
        detail: String::new(),
        listed: None,
    }
}

fn referral(server: &str, last: u8, ns: Option<NsSet>) -> ServerCheck {
    let mut c = check(CheckKind::ParentReferral, Some(server), last);
    c.authoritative = Some(false);
    c.ok = ns.as_ref() == Some(&req().child_name_servers);
    c.ns_seen = ns;
    c
}

/// Everything right: two referrals, child SOA and NS on two servers.
fn good() -> Vec<ServerCheck> {
    let child = req().child_name_servers;
    let mut v = vec![
        referral("ns1.parent.net", 1, Some(child.clone())),
        referral("ns2.parent.net", 2, Some(child.clone())),
    ];
    for (s, last) in [("ns-1.awsdns-01.com", 11), ("ns-2.awsdns-02.net", 12)] {
        let mut soa = check(CheckKind::ChildSoa, Some(s), last);
        soa.ok = true;
        let mut nsc = check(CheckKind::ChildNs, Some(s), last);
        nsc.ok = true;
        nsc.ns_seen = Some(child.clone());
        v.push(soa);
        v.push(nsc);
    }
    v
}

fn codes(f: &[Finding]) -> Vec<&'static str> {
    f.iter().map(Finding::code).collect()
}

#[test]
fn good_checks_have_no_findings() {
    assert!(diagnose(&req(), &good()).is_empty());
    assert!(authoritative_ok(&good()));
    assert!(!authoritative_ok(&good()[..2]), "child checks are required");
}

#[test]
fn nxdomain_or_nodata_from_every_parent_is_no_parent_record() {
    let mut checks = good();
    checks[0].ns_seen = None;
    checks[0].ok = false;
    checks[0].rcode = Some(Rcode::NXDOMAIN);
    checks[0].authoritative = Some(true);
    checks[1].ns_seen = None;
    checks[1].ok = false;
    let f = diagnose(&req(), &checks);
    assert_eq!(
        f,
        vec![Finding::NoParentRecord {
            name: n("api.example.com"),
            parent_zone: n("example.com")
        }]
    );
    assert_eq!(
        f[0].message(),
        "the parent zone example.com has no NS record for api.example.com: its servers answer as if api.example.com did not exist, so resolvers get NXDOMAIN; apply again to write the NS record"
    );
    assert_eq!(f[0].severity(), Severity::Error);
}

#[test]
fn other_servers_in_the_referral_are_parent_points_elsewhere() {
    let old = set(&["ns-9.awsdns-09.org", "ns-8.awsdns-08.co.uk"]);
    let mut checks = good();
    checks[0] = referral("ns1.parent.net", 1, Some(old.clone()));
    checks[1] = referral("ns2.parent.net", 2, Some(old.clone()));
    let f = diagnose(&req(), &checks);
    assert_eq!(codes(&f), vec!["parent_points_elsewhere"]);
    assert!(
        matches!(&f[0], Finding::ParentPointsElsewhere { disjoint: true, parent_ns, .. } if *parent_ns == old)
    );
    assert!(
        f[0].message().contains("deleted and re-created"),
        "{}",
        f[0]
    );

    // Overlapping sets are not disjoint, and the message does not guess.
    let partly = set(&["ns-1.awsdns-01.com", "ns-9.awsdns-09.org"]);
    checks[0] = referral("ns1.parent.net", 1, Some(partly.clone()));
    checks[1] = referral("ns2.parent.net", 2, Some(partly));
    let f = diagnose(&req(), &checks);
    assert!(matches!(
        &f[0],
        Finding::ParentPointsElsewhere {
            disjoint: false,
            ..
        }
    ));
    assert!(!f[0].message().contains("re-created"));
}

#[test]
fn some_parents_behind_is_propagating() {
    let mut checks = good();
    checks[1] = referral("ns2.parent.net", 2, None);
    let f = diagnose(&req(), &checks);
    assert_eq!(
        f,
        vec![Finding::Propagating {
            servers_behind: vec!["ns2.parent.net (127.0.20.2)".into()]
        }]
    );
    assert_eq!(f[0].severity(), Severity::Warning);
    assert!(f[0]
        .to_string()
        .starts_with("the change is still propagating: 1 server is"));
}

#[test]
fn refusing_parent_server_is_lame_parent() {
    let mut checks = good();
    checks[1].rcode = Some(Rcode::REFUSED);
    checks[1].ok = false;
    checks[1].ns_seen = None;
    let f = diagnose(&req(), &checks);
    assert_eq!(
        f,
        vec![Finding::LameParentServer {
            server: n("ns2.parent.net"),
            address: addr(2),
            rcode: Rcode::REFUSED
        }]
    );
}

#[test]
fn refusing_or_non_authoritative_child_is_lame_once_per_address() {
    let mut checks = good();
    for c in checks.iter_mut().filter(|c| c.address == Some(addr(12))) {
        c.ok = false;
        c.rcode = Some(Rcode::REFUSED);
        c.authoritative = Some(false);
        c.ns_seen = None;
    }
    let f = diagnose(&req(), &checks);
    assert_eq!(
        f,
        vec![Finding::LameChildServer {
            server: n("ns-2.awsdns-02.net"),
            address: addr(12),
            rcode: Rcode::REFUSED,
            authoritative: false,
            listed: Some(Listing::Both)
        }]
    );
    assert!(f[0].message().contains("without the authoritative flag"));
}

#[test]
fn apex_ns_differing_from_delegation_is_one_child_ns_mismatch_with_the_difference() {
    let apex = set(&["ns-1.awsdns-01.com", "ns-3.awsdns-03.org"]);
    let mut checks = good();
    for c in checks.iter_mut().filter(|c| c.kind == CheckKind::ChildNs) {
        c.ok = false;
        c.ns_seen = Some(apex.clone());
    }
    let f = diagnose(&req(), &checks);
    assert_eq!(
        f,
        vec![Finding::ChildNsMismatch {
            servers: vec![n("ns-1.awsdns-01.com"), n("ns-2.awsdns-02.net")],
            apex_ns: apex,
            delegation: req().child_name_servers
        }],
        "one finding for the one apex set, not one per server"
    );
    assert_eq!(
        f[0].message(),
        "child name servers ns-1.awsdns-01.com, ns-2.awsdns-02.net list [ns-1.awsdns-01.com, ns-3.awsdns-03.org] at the zone apex, but the delegation is [ns-1.awsdns-01.com, ns-2.awsdns-02.net] (only at the apex: [ns-3.awsdns-03.org]; only in the delegation: [ns-2.awsdns-02.net]); make the child zone's apex NS record match its delegation set"
    );
}

#[test]
fn a_refusing_server_in_the_delegation_is_lame_once_not_an_ns_mismatch() {
    // The parent lists the zone's two servers plus a third that refuses
    // the zone; the two real ones show the zone's own apex NS set.
    let mut r = req();
    r.child_name_servers = set(&[
        "ns-1.awsdns-01.com",
        "ns-2.awsdns-02.net",
        "ns-9.awsdns-09.org",
    ]);
    let mut checks = good();
    for c in checks.iter_mut().filter(|c| c.kind == CheckKind::ChildNs) {
        c.ok = false;
        c.ns_seen = Some(req().child_name_servers);
    }
    for kind in [CheckKind::ChildSoa, CheckKind::ChildNs] {
        let mut c = check(kind, Some("ns-9.awsdns-09.org"), 19);
        c.rcode = Some(Rcode::REFUSED);
        c.authoritative = Some(false);
        checks.push(c);
    }
    let f = diagnose(&r, &checks);
    assert_eq!(
        f,
        vec![Finding::LameChildServer {
            server: n("ns-9.awsdns-09.org"),
            address: addr(19),
            rcode: Rcode::REFUSED,
            authoritative: false,
            listed: Some(Listing::DelegationOnly)
        }]
    );
}

#[test]
fn server_results_name_each_server_once_failing_first_with_what_it_did() {
    let mut checks = good();
    // ns-2: REFUSED to both questions; ns2.parent.net: silent.
    for c in checks.iter_mut().filter(|c| c.address == Some(addr(12))) {
        c.ok = false;
        c.rcode = Some(Rcode::REFUSED);
        c.authoritative = Some(false);
    }
    checks[1].ok = false;
    checks[1].rcode = None;
    checks[1].latency = None;
    checks[1].error =
        Some("querying 127.0.20.2:53 for api.example.com NS: timed out after 1.5s".into());
    checks[1].timed_out = true;
    let r = server_results(&checks);
    let rows: Vec<(String, &str, bool, String)> = r
        .iter()
        .map(|r| (r.label(), r.role.as_str(), r.ok, r.result.clone()))
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                "ns2.parent.net (127.0.20.2)".to_string(),
                "parent",
                false,
                "timed out".to_string()
            ),
            (
                "ns-2.awsdns-02.net (127.0.20.12)".to_string(),
                "child",
                false,
                "REFUSED (does not serve the zone)".to_string()
            ),
            (
                "ns1.parent.net (127.0.20.1)".to_string(),
                "parent",
                true,
                "ok".to_string()
            ),
            (
                "ns-1.awsdns-01.com (127.0.20.11)".to_string(),
                "child",
                true,
                "ok".to_string()
            ),
        ]
    );
    assert_eq!(r[2].rtt, Some(Duration::from_millis(2)));
    // A child server with another apex NS set.
    let mut checks = good();
    let c = checks
        .iter_mut()
        .find(|c| c.kind == CheckKind::ChildNs)
        .unwrap();
    c.ok = false;
    c.ns_seen = Some(set(&["ns-1.awsdns-01.com"]));
    assert_eq!(
        server_results(&checks)[0].result,
        "different NS set [ns-1.awsdns-01.com]"
    );
}

fn recursive(rcode: Rcode, neg: Option<u32>) -> ServerCheck {
    let mut c = check(CheckKind::Recursive, None, 53);
    c.authoritative = Some(false);
    c.rcode = Some(rcode);
    c.negative_ttl = neg;
    c
}

#[test]
fn resolver_nxdomain_with_correct_authorities_is_cached_negative() {
    let mut checks = good();
    checks.push(recursive(Rcode::NXDOMAIN, Some(812)));
    let f = diagnose(&req(), &checks);
    assert_eq!(
        f,
        vec![Finding::CachedNegative {
            resolver: addr(53),
            name: n("api.example.com"),
            nxdomain: true,
            remaining_ttl: 812
        }]
    );
    assert_eq!(
        f[0].message(),
        "resolver 127.0.20.53 holds a cached NXDOMAIN for api.example.com for up to 812 more seconds (negative caching, RFC 2308); the authoritative servers are already correct; flush the resolver cache or wait"
    );
    // A cached NODATA too.
    let mut checks = good();
    checks.push(recursive(Rcode::NOERROR, Some(30)));
    assert!(matches!(
        diagnose(&req(), &checks)[..],
        [Finding::CachedNegative {
            nxdomain: false,
            remaining_ttl: 30,
            ..
        }]
    ));
}

#[test]
fn resolver_nxdomain_is_not_blamed_on_caches_when_the_parent_is_wrong() {
    let mut checks = good();
    checks[0] = referral("ns1.parent.net", 1, None);
    checks[1] = referral("ns2.parent.net", 2, None);
    checks.push(recursive(Rcode::NXDOMAIN, Some(300)));
    assert_eq!(codes(&diagnose(&req(), &checks)), vec!["no_parent_record"]);
}

#[test]
fn resolver_servfail_with_correct_authorities_is_resolver_failure() {
    let mut checks = good();
    checks.push(recursive(Rcode::SERVFAIL, None));
    let f = diagnose(&req(), &checks);
    assert_eq!(codes(&f), vec!["resolver_failure"]);
    assert!(f[0].message().contains("it answered SERVFAIL"), "{}", f[0]);
}

#[test]
fn parent_domain_delegated_elsewhere_is_parent_zone_not_delegated() {
    let mut checks = good();
    let mut c = check(CheckKind::ParentZone, Some("example.com"), 53);
    c.ns_seen = Some(set(&["ns1.registrar-dns.net"]));
    checks.push(c);
    let f = diagnose(&req(), &checks);
    assert_eq!(
        f,
        vec![Finding::ParentZoneNotDelegated {
            parent_zone: n("example.com"),
            delegated_to: set(&["ns1.registrar-dns.net"]),
            parent_zone_ns: req().parent_name_servers
        }]
    );
    assert!(f[0].message().contains("a zone nobody asks"));
    // A parent-zone lookup that failed says nothing.
    let mut checks = good();
    let mut c = check(CheckKind::ParentZone, Some("example.com"), 53);
    c.error = Some("timed out".into());
    checks.push(c);
    assert!(diagnose(&req(), &checks).is_empty());
}

#[test]
fn errors_are_unreachable_once_per_server() {
    let mut checks = good();
    for c in checks.iter_mut().filter(|c| c.address == Some(addr(11))) {
        c.ok = false;
        c.rcode = None;
        c.authoritative = None;
        c.error =
            Some("querying 127.0.20.11:53 for api.example.com SOA: timed out after 2s".into());
    }
    let mut unresolved = check(CheckKind::ParentReferral, Some("ns3.parent.net"), 0);
    unresolved.address = None;
    unresolved.error = Some("cannot resolve ns3.parent.net: NXDOMAIN".into());
    checks.push(unresolved);
    let mut resolver = recursive(Rcode::NOERROR, None);
    resolver.error = Some("connection refused".into());
    checks.push(resolver);
    let f = diagnose(&req(), &checks);
    assert_eq!(codes(&f), vec!["unreachable", "unreachable", "unreachable"]);
    assert!(
        matches!(&f[0], Finding::Unreachable { server, address: Some(a), .. } if server == "ns-1.awsdns-01.com" && *a == addr(11))
    );
    assert!(
        matches!(&f[1], Finding::Unreachable { server, address: None, .. } if server == "ns3.parent.net")
    );
    assert!(
        matches!(&f[2], Finding::Unreachable { server, .. } if server == "resolver 127.0.20.53")
    );
    assert!(f[0].message().ends_with("or wait and verify again"));
}

#[test]
fn every_finding_has_a_code_severity_and_message_without_trailing_period() {
    let all = vec![
        Finding::NoParentRecord {
            name: n("a.example.com"),
            parent_zone: n("example.com"),
        },
        Finding::ParentPointsElsewhere {
            name: n("a.example.com"),
            parent_ns: set(&["x.net"]),
            child_ns: set(&["y.net"]),
            disjoint: true,
        },
        Finding::ParentZoneNotDelegated {
            parent_zone: n("example.com"),
            delegated_to: set(&["x.net"]),
            parent_zone_ns: set(&["y.net"]),
        },
        Finding::LameParentServer {
            server: n("x.net"),
            address: addr(1),
            rcode: Rcode::REFUSED,
        },
        Finding::LameChildServer {
            server: n("x.net"),
            address: addr(1),
            rcode: Rcode::NOERROR,
            authoritative: false,
            listed: Some(Listing::ChildOnly),
        },
        Finding::ChildNsMismatch {
            servers: vec![n("x.net")],
            apex_ns: set(&["x.net"]),
            delegation: set(&["y.net"]),
        },
        Finding::Propagating {
            servers_behind: vec!["x.net".into(), "y.net".into()],
        },
        Finding::ChildNsExtraServers {
            servers: set(&["z.net"]),
            apex_ns: set(&["y.net", "z.net"]),
            delegation: set(&["y.net"]),
        },
        Finding::CachedNegative {
            resolver: addr(53),
            name: n("a.example.com"),
            nxdomain: true,
            remaining_ttl: 5,
        },
        Finding::ResolverFailure {
            resolver: addr(53),
            name: n("a.example.com"),
            detail: "x".into(),
        },
        Finding::Unreachable {
            server: "x.net".into(),
            address: None,
            error: "e".into(),
        },
        Finding::OccludedRecords {
            name: n("a.example.com"),
            records: vec![
                ("www.a.example.com".into(), "A".into()),
                ("a.example.com".into(), "TXT".into()),
            ],
        },
        Finding::DanglingDelegation {
            name: n("a.example.com"),
            parent_ns: set(&["x.net"]),
        },
        Finding::StaleParentDelegation {
            resolver: addr(53),
            parent_zone: n("example.com"),
            cached: set(&["x.net"]),
            remaining_ttl: Some(100),
            current: set(&["y.net"]),
        },
        Finding::NegativeCaching {
            name: n("a.example.com"),
            parent_zone: n("example.com"),
            seconds: 900,
        },
    ];
    let mut seen = BTreeSet::new();
    for f in &all {
        assert!(seen.insert(f.code()), "duplicate code {}", f.code());
        let m = f.message();
        assert!(!m.ends_with('.'), "{m}");
        assert_eq!(f.to_string(), m);
        let json = serde_json::to_value(f).unwrap();
        assert_eq!(json["code"], f.code());
    }
    assert_eq!(all[7].severity(), Severity::Warning);
    assert!(all[4]
        .message()
        .contains("listed only in the child zone's apex NS set"));
    assert!(all[11].message().starts_with("2 records in the parent zone at or under a.example.com (www.a.example.com A, a.example.com TXT)"));
    assert!(all[12].message().contains("subdomain takeover"));
    assert_eq!(all[11].severity(), Severity::Warning);
    assert_eq!(all[12].severity(), Severity::Error);
}

mod listing;
mod verdict;

/// Guards: a delegation whose every server refuses the zone (the child zone
/// deleted, the parent's record left) reported only as lame servers to
/// "list only the zone's own name servers", never by its name.
#[test]
fn a_delegation_no_server_serves_is_called_dangling_first() {
    let mut checks = good();
    for c in checks
        .iter_mut()
        .filter(|c| matches!(c.kind, CheckKind::ChildSoa | CheckKind::ChildNs))
    {
        c.ok = false;
        c.rcode = Some(Rcode::REFUSED);
        c.authoritative = Some(false);
        c.ns_seen = None;
    }
    let f = diagnose(&req(), &checks);
    assert_eq!(
        f.first(),
        Some(&Finding::DanglingDelegation {
            name: n("api.example.com"),
            parent_ns: req().child_name_servers,
        }),
        "{f:?}"
    );
    assert!(f[0].to_string().contains("subdomain takeover"), "{}", f[0]);
    // Each server still says what it answered.
    let lame = f.iter().filter(|x| x.code() == "lame_child_server").count();
    assert_eq!(lame, 2, "{f:?}");

    // One server still serving the zone: lame, not dangling.
    let mut one = good();
    for c in one.iter_mut().filter(|c| c.address == Some(addr(12))) {
        c.ok = false;
        c.rcode = Some(Rcode::REFUSED);
        c.authoritative = Some(false);
    }
    let f = diagnose(&req(), &one);
    assert!(
        !f.iter().any(|x| x.code() == "dangling_delegation"),
        "{f:?}"
    );
}

/// Guards: servers that never answered called dangling (they may be down,
/// or a firewall in the way): silence tells nothing.
#[test]
fn silent_servers_alone_are_not_called_dangling() {
    let mut checks = good();
    for c in checks
        .iter_mut()
        .filter(|c| matches!(c.kind, CheckKind::ChildSoa | CheckKind::ChildNs))
    {
        c.ok = false;
        c.rcode = None;
        c.authoritative = None;
        c.timed_out = true;
        c.error = Some("timed out after 1s".into());
    }
    let f = diagnose(&req(), &checks);
    assert!(
        !f.iter().any(|x| x.code() == "dangling_delegation"),
        "{f:?}"
    );
    assert!(f.iter().any(|x| x.code() == "unreachable"), "{f:?}");
}
