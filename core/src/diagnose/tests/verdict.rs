//! The verdict as a table: one row per failure mode, the observations that
//! show it, and what the attempt must add up to (passed or not, whether the
//! authoritative servers are right, the finding codes, whether the parent's
//! other servers are probed for a dangling delegation).

use super::*;

struct Row {
    /// The failure mode the row guards.
    mode: &'static str,
    checks: Vec<ServerCheck>,
    require_recursive: bool,
    passed: bool,
    authoritative_ok: bool,
    codes: Vec<&'static str>,
    probes_elsewhere: bool,
}

fn with(extra: Vec<ServerCheck>) -> Vec<ServerCheck> {
    let mut checks = good();
    checks.extend(extra);
    checks
}

fn old_servers() -> NsSet {
    set(&["ns-9.awsdns-09.org"])
}

fn parent_zone_seen(ns: NsSet, ok: bool) -> ServerCheck {
    let mut c = check(CheckKind::ParentZone, Some("example.com"), 53);
    c.authoritative = Some(false);
    c.ok = ok;
    c.ns_seen = Some(ns);
    c.ns_ttl = Some(3600);
    c
}

fn chain_confirms() -> ServerCheck {
    let mut c = check(CheckKind::ParentZoneChain, Some("a.gtld-servers.net"), 60);
    c.authoritative = Some(false);
    c.ok = true;
    c.ns_seen = Some(req().parent_name_servers);
    c
}

fn rows() -> Vec<Row> {
    let mut lame = good();
    lame[2].rcode = Some(Rcode::REFUSED);
    lame[2].authoritative = Some(false);
    lame[2].ok = false;
    let mut silent = good();
    silent[3].error = Some("timed out after 2s".into());
    silent[3].timed_out = true;
    silent[3].rcode = None;
    silent[3].ok = false;
    let mut elsewhere = good();
    elsewhere[0] = referral("ns1.parent.net", 1, Some(old_servers()));
    elsewhere[1] = referral("ns2.parent.net", 2, Some(old_servers()));
    let mut missing = good();
    missing[0] = referral("ns1.parent.net", 1, None);
    missing[1] = referral("ns2.parent.net", 2, None);
    vec![
        Row {
            mode: "everything right",
            checks: good(),
            require_recursive: true,
            passed: true,
            authoritative_ok: true,
            codes: vec![],
            probes_elsewhere: false,
        },
        Row {
            mode: "no NS record in the parent",
            checks: missing,
            require_recursive: false,
            passed: false,
            authoritative_ok: false,
            codes: vec!["no_parent_record"],
            probes_elsewhere: false,
        },
        Row {
            mode: "parent points at other servers (maybe dangling)",
            checks: elsewhere,
            require_recursive: false,
            passed: false,
            authoritative_ok: false,
            codes: vec!["parent_points_elsewhere"],
            probes_elsewhere: true,
        },
        Row {
            mode: "a child server refuses the zone",
            checks: lame,
            require_recursive: false,
            passed: false,
            authoritative_ok: false,
            codes: vec!["lame_child_server"],
            probes_elsewhere: false,
        },
        Row {
            mode: "a child server is silent",
            checks: silent,
            require_recursive: false,
            passed: false,
            authoritative_ok: false,
            codes: vec!["unreachable"],
            probes_elsewhere: false,
        },
        Row {
            mode: "a resolver still caches NXDOMAIN: a warning, not a failure",
            checks: with(vec![recursive(Rcode::NXDOMAIN, Some(812))]),
            require_recursive: true,
            passed: true,
            authoritative_ok: true,
            codes: vec!["cached_negative"],
            probes_elsewhere: false,
        },
        Row {
            mode: "a resolver fails and resolvers are required",
            checks: with(vec![recursive(Rcode::SERVFAIL, None)]),
            require_recursive: true,
            passed: false,
            authoritative_ok: true,
            codes: vec!["resolver_failure"],
            probes_elsewhere: false,
        },
        Row {
            mode: "a resolver fails but resolvers are not required",
            checks: with(vec![recursive(Rcode::SERVFAIL, None)]),
            require_recursive: false,
            passed: true,
            authoritative_ok: true,
            codes: vec!["resolver_failure"],
            probes_elsewhere: false,
        },
        Row {
            mode: "the parent domain is delegated elsewhere: never verified",
            checks: with(vec![parent_zone_seen(old_servers(), false)]),
            require_recursive: false,
            passed: false,
            authoritative_ok: true,
            codes: vec!["parent_zone_not_delegated"],
            probes_elsewhere: false,
        },
        Row {
            mode: "a resolver caches the parent domain's old delegation the chain has replaced",
            checks: with(vec![
                parent_zone_seen(old_servers(), false),
                chain_confirms(),
            ]),
            require_recursive: true,
            passed: true,
            authoritative_ok: true,
            codes: vec!["stale_parent_delegation"],
            probes_elsewhere: false,
        },
    ]
}

/// Guards the verdict rules: the authoritative servers decide, lagging
/// caches warn, a parent domain delegated elsewhere never passes.
#[test]
fn each_failure_mode_adds_up_to_its_verdict() {
    for row in rows() {
        let v = verdict(&req(), &row.checks, row.require_recursive);
        assert_eq!(v.passed, row.passed, "{}: passed", row.mode);
        assert_eq!(
            v.authoritative_ok, row.authoritative_ok,
            "{}: authoritative_ok",
            row.mode
        );
        assert_eq!(codes(&v.findings), row.codes, "{}: findings", row.mode);
        assert_eq!(
            v.points_elsewhere.is_some(),
            row.probes_elsewhere,
            "{}: dangling probe",
            row.mode
        );
        assert_eq!(
            v.findings,
            diagnose(&req(), &row.checks),
            "{}: the verdict's findings are the diagnosis",
            row.mode
        );
    }
}

/// Guards the probe's target: the NS set the parent holds, not the
/// child's.
#[test]
fn the_dangling_probe_asks_the_servers_the_parent_points_at() {
    let mut checks = good();
    checks[0] = referral("ns1.parent.net", 1, Some(old_servers()));
    checks[1] = referral("ns2.parent.net", 2, Some(old_servers()));
    assert_eq!(
        verdict(&req(), &checks, false).points_elsewhere,
        Some(old_servers())
    );
}
