//! What a refresh makes of its quick DNS check: the verification kept in
//! state and the warning shown. Pure: the check itself is
//! [`crate::verify::refresh_check`], run by the engine's `read`.

use std::time::SystemTime;

use crate::check::{ServerResult, ServerRole};
use crate::delegation::{VerificationSummary, VerifyStatus};
use crate::diagnose::Severity;
use crate::name::DomainName;
use crate::verify::VerificationReport;

/// The verification a refresh keeps, and what to tell the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshOutcome {
    /// The verification for state (the prior one when nothing changed or the
    /// check was inconclusive).
    pub verification: Option<VerificationSummary>,
    /// A warning naming each failing server, when the delegation does not
    /// verify, or why the check said nothing.
    pub warning: Option<String>,
}

/// Servers a refresh compares: the authoritative ones.
fn authoritative(servers: &[ServerResult]) -> Vec<&ServerResult> {
    servers
        .iter()
        .filter(|r| r.role != ServerRole::Resolver)
        .collect()
}

/// True when two verifications say the same thing about the same servers
/// (round-trip times and timestamps aside).
fn same_verdict(
    prior: &VerificationSummary,
    status: VerifyStatus,
    servers: &[ServerResult],
) -> bool {
    let key = |r: &&ServerResult| (r.name.clone(), r.address, r.role, r.ok, r.result.clone());
    let mut a: Vec<_> = authoritative(&prior.servers).iter().map(key).collect();
    let mut b: Vec<_> = authoritative(servers).iter().map(key).collect();
    a.sort();
    b.sort();
    prior.status == status && a == b
}

/// Decides what a refresh check means for state.
///
/// - No parent or child server answered at all: the check ran where DNS is
///   not reachable; the prior verification stays and the warning says so.
/// - The same verdict on the same servers as before: the prior verification
///   stays as it is (state does not churn on every refresh).
/// - Otherwise the new verdict replaces it.
///
/// A delegation that does not verify gets a short warning naming each
/// failing server, its address and what it did.
pub fn refresh_outcome(
    name: &DomainName,
    prior: Option<&VerificationSummary>,
    report: &VerificationReport,
    now: SystemTime,
) -> RefreshOutcome {
    if report.inconclusive() {
        let why = report
            .checks
            .iter()
            .find_map(|c| c.error.clone())
            .unwrap_or_default();
        return RefreshOutcome {
            verification: prior.cloned(),
            warning: Some(format!(
                "the refresh check of {name} reached none of its name servers ({why}); the last verification is kept; set verify.on_refresh = false where DNS is not reachable"
            )),
        };
    }
    let status = if report.passed {
        VerifyStatus::Verified
    } else {
        VerifyStatus::Failed
    };
    let servers: Vec<ServerResult> = report
        .servers()
        .into_iter()
        .filter(|r| r.role != ServerRole::Resolver)
        .collect();
    let warning = (!report.passed).then(|| failure_warning(name, report, &servers));
    let verification = match prior {
        Some(p) if same_verdict(p, status, &servers) => p.clone(),
        _ => VerificationSummary {
            status,
            checked_at: now,
            servers_checked: report.servers_checked() as u32,
            summary: format!("refresh check: {}", report.summary()),
            servers,
        },
    };
    RefreshOutcome {
        verification: Some(verification),
        warning,
    }
}

fn failure_warning(
    name: &DomainName,
    report: &VerificationReport,
    servers: &[ServerResult],
) -> String {
    let failing: Vec<String> = crate::check::failing_by_result(servers)
        .into_iter()
        .map(|(labels, result)| format!("{}: {result}", labels.join(", ")))
        .collect();
    let mut w = format!("{name} does not verify; apply verifies it again");
    if failing.is_empty() {
        // Nothing wrong at a single server (the parent domain itself is
        // delegated elsewhere, say): the first error finding says what.
        if let Some(f) = report
            .findings
            .iter()
            .find(|f| f.severity() == Severity::Error)
        {
            w.push_str(": ");
            w.push_str(&f.message());
        }
    } else {
        w.push_str(": ");
        w.push_str(&failing.join("; "));
    }
    w
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use super::*;
    use crate::check::{CheckKind, Listing, ServerCheck};
    use crate::dns::Rcode;

    fn n(s: &str) -> DomainName {
        DomainName::parse(s).unwrap()
    }

    fn check(kind: CheckKind, server: &str, last: u8, ok: bool) -> ServerCheck {
        ServerCheck {
            kind,
            server_name: Some(n(server)),
            address: Some(SocketAddr::from(([127, 0, 20, last], 53))),
            ok,
            rcode: Some(Rcode::NOERROR),
            authoritative: Some(kind != CheckKind::ParentReferral),
            ns_seen: None,
            negative_ttl: None,
            ns_ttl: None,
            latency: Some(Duration::from_millis(last.into())),
            error: None,
            timed_out: false,
            detail: String::new(),
            listed: None,
        }
    }

    fn silent(mut c: ServerCheck) -> ServerCheck {
        c.ok = false;
        c.rcode = None;
        c.authoritative = None;
        c.latency = None;
        c.error = Some("timed out after 1.5s".into());
        c.timed_out = true;
        c
    }

    fn report(checks: Vec<ServerCheck>) -> VerificationReport {
        let passed = checks.iter().all(|c| c.ok);
        VerificationReport {
            name: n("api.example.com"),
            parent_zone: n("example.com"),
            passed,
            authoritative_ok: passed,
            attempts: 1,
            elapsed: Duration::from_millis(40),
            checks,
            findings: Vec::new(),
        }
    }

    fn healthy() -> Vec<ServerCheck> {
        vec![
            check(CheckKind::ParentReferral, "ns-1.awsdns-01.com", 1, true),
            check(CheckKind::ChildSoa, "ns-2.awsdns-02.net", 2, true),
            check(CheckKind::ChildNs, "ns-2.awsdns-02.net", 2, true),
            check(CheckKind::ChildSoa, "ns-3.awsdns-03.org", 3, true),
            check(CheckKind::ChildNs, "ns-3.awsdns-03.org", 3, true),
        ]
    }

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn a_healthy_delegation_verifies_without_warning_and_state_does_not_churn() {
        let name = n("api.example.com");
        let first = refresh_outcome(&name, None, &report(healthy()), at(100));
        let v = first.verification.clone().unwrap();
        assert_eq!(v.status, VerifyStatus::Verified);
        assert_eq!(v.servers.len(), 3);
        assert!(first.warning.is_none());
        // Later, the same verdict with other round-trip times: nothing changes.
        let mut again = healthy();
        for c in &mut again {
            c.latency = Some(Duration::from_millis(99));
        }
        let second = refresh_outcome(&name, Some(&v), &report(again), at(200));
        assert_eq!(second.verification, Some(v));
    }

    #[test]
    fn a_silent_child_server_fails_with_a_warning_naming_it() {
        let name = n("api.example.com");
        let prior = refresh_outcome(&name, None, &report(healthy()), at(100))
            .verification
            .unwrap();
        let mut checks = healthy();
        checks[3] = silent(checks[3].clone());
        checks[4] = silent(checks[4].clone());
        let out = refresh_outcome(&name, Some(&prior), &report(checks), at(200));
        let v = out.verification.unwrap();
        assert_eq!(v.status, VerifyStatus::Failed);
        assert_eq!(v.checked_at, at(200));
        assert_eq!(
            v.servers[0].name, "ns-3.awsdns-03.org",
            "failing server first"
        );
        assert_eq!(v.servers[0].result, "timed out");
        assert!(v.summary.starts_with("refresh check: delegation of api.example.com not verified: ns-3.awsdns-03.org (127.0.20.3) timed out"), "{}", v.summary);
        assert_eq!(
            out.warning.unwrap(),
            "api.example.com does not verify; apply verifies it again: ns-3.awsdns-03.org (127.0.20.3): timed out"
        );
    }

    #[test]
    fn a_check_that_reaches_no_server_keeps_the_last_verification() {
        let name = n("api.example.com");
        let prior = refresh_outcome(&name, None, &report(healthy()), at(100))
            .verification
            .unwrap();
        let all_silent = healthy().into_iter().map(silent).collect();
        let out = refresh_outcome(&name, Some(&prior), &report(all_silent), at(200));
        assert_eq!(out.verification, Some(prior));
        let w = out.warning.unwrap();
        assert!(
            w.contains("reached none of its name servers")
                && w.contains("verify.on_refresh = false"),
            "{w}"
        );
    }

    #[test]
    fn servers_that_did_the_same_thing_are_named_together() {
        let name = n("api.example.com");
        let mut checks = healthy();
        for c in checks
            .iter_mut()
            .filter(|c| c.kind != CheckKind::ParentReferral)
        {
            c.ok = false;
            c.rcode = Some(Rcode::REFUSED);
            c.authoritative = Some(false);
        }
        let out = refresh_outcome(&name, None, &report(checks), at(100));
        assert_eq!(
            out.warning.unwrap(),
            "api.example.com does not verify; apply verifies it again: ns-2.awsdns-02.net (127.0.20.2), ns-3.awsdns-03.org (127.0.20.3): REFUSED (does not serve the zone)"
        );
    }

    #[test]
    fn an_apex_ns_set_every_server_agrees_on_is_not_held_against_each_server() {
        // Both child servers serve the apex NS set [ns-2]: the delegation's
        // ns-3 is left out of it. That is ns-3's line, said once; ns-2 did
        // nothing wrong.
        let name = n("api.example.com");
        let mut checks = healthy();
        for c in checks
            .iter_mut()
            .filter(|c| c.kind != CheckKind::ParentReferral)
        {
            c.listed = Some(if c.server_name == Some(n("ns-3.awsdns-03.org")) {
                Listing::DelegationOnly
            } else {
                Listing::Both
            });
            if c.kind == CheckKind::ChildNs {
                c.ok = false;
                c.ns_seen = Some(crate::nsset::NsSet::parse(["ns-2.awsdns-02.net"]).unwrap());
            }
        }
        let out = refresh_outcome(&name, None, &report(checks), at(100));
        assert_eq!(
            out.warning.unwrap(),
            "api.example.com does not verify; apply verifies it again: ns-3.awsdns-03.org (127.0.20.3): serves the zone but is missing from the child zone's apex NS set"
        );
        let v = out.verification.unwrap();
        let ok: Vec<(&str, bool)> = v.servers.iter().map(|r| (r.name.as_str(), r.ok)).collect();
        assert_eq!(
            ok,
            vec![
                ("ns-3.awsdns-03.org", false),
                ("ns-1.awsdns-01.com", true),
                ("ns-2.awsdns-02.net", true)
            ]
        );
    }
}
