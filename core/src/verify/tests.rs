//! Unit tests of verification: the report's renderings, request validation,
//! and checks that fail before any question reaches a server.

use std::net::SocketAddr;

use super::checks::blank;
use super::*;
use crate::dns::Rcode;
use crate::nsset::NsSet;

fn n(s: &str) -> DomainName {
    DomainName::parse(s).unwrap()
}

fn report(passed: bool) -> VerificationReport {
    let mut c = blank(
        CheckKind::ParentReferral,
        Some(&n("ns1.parent.net")),
        Some(SocketAddr::from(([127, 0, 20, 1], 53))),
    );
    c.ok = passed;
    c.rcode = Some(Rcode::NOERROR);
    c.authoritative = Some(false);
    c.latency = Some(Duration::from_millis(3));
    c.detail = "refers to [ns-1.awsdns-01.com]".into();
    let mut e = blank(
        CheckKind::Recursive,
        None,
        Some(SocketAddr::from(([127, 0, 10, 53], 53))),
    );
    e.error = Some("timed out after 2s".into());
    VerificationReport {
        name: n("api.example.com"),
        parent_zone: n("example.com"),
        passed,
        authoritative_ok: passed,
        attempts: 3,
        elapsed: Duration::from_millis(1500),
        checks: vec![c, e],
        findings: if passed {
            vec![]
        } else {
            vec![Finding::NoParentRecord {
                name: n("api.example.com"),
                parent_zone: n("example.com"),
            }]
        },
    }
}

#[test]
fn summary_is_one_line_with_counts_and_codes() {
    let r = report(false);
    assert_eq!(
        r.summary(),
        "delegation of api.example.com not verified: ns1.parent.net (127.0.20.1) no referral (NODATA); 127.0.10.53 no answer: timed out after 2s; 0 of 2 servers correct; authoritative servers not correct (3 attempts, 1.5s); findings: no_parent_record",
        "the failing servers come first, each with what it did"
    );
    assert_eq!(r.servers_checked(), 2);
    assert!(report(true)
        .summary()
        .starts_with("delegation of api.example.com verified on 2 servers"));
}

#[test]
fn render_is_an_aligned_table_with_findings() {
    let text = report(false).render();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[1].starts_with("  CHECK"), "{text}");
    assert!(
        lines[2].contains("parent-referral")
            && lines[2].contains("ns1.parent.net")
            && lines[2].contains("FAIL")
    );
    assert!(lines[3].contains("recursive") && lines[3].contains("timed out after 2s"));
    // Columns line up: ADDRESS starts at the same offset in every row.
    let col = lines[1].find("ADDRESS").unwrap();
    assert_eq!(&lines[2][col..col + 13], "127.0.20.1:53");
    assert_eq!(lines[4], "findings:");
    assert!(lines[5].starts_with("  error no_parent_record: the parent zone example.com"));
}

#[test]
fn report_serializes_durations_as_milliseconds() {
    let json = serde_json::to_value(report(false)).unwrap();
    assert_eq!(json["elapsed_ms"], 1500);
    assert_eq!(json["checks"][0]["latency_ms"], 3);
    assert_eq!(json["checks"][1]["latency_ms"], serde_json::Value::Null);
    assert_eq!(json["findings"][0]["code"], "no_parent_record");
}

#[test]
fn bad_requests_are_refused_before_any_query() {
    let req = VerifyRequest {
        name: n("api.example.org"),
        parent_zone: n("example.com"),
        parent_name_servers: NsSet::parse(["ns1.parent.net"]).unwrap(),
        child_name_servers: NsSet::parse(["ns-1.awsdns-01.com"]).unwrap(),
    };
    let err = validate(&req).unwrap_err();
    assert_eq!(err.to_string(), "verification could not start: api.example.org is not a subdomain of the parent zone example.com");
    let req = VerifyRequest {
        name: n("api.example.com"),
        child_name_servers: NsSet::new(),
        ..req
    };
    assert!(validate(&req)
        .unwrap_err()
        .to_string()
        .contains("no name servers"));
}

#[tokio::test]
async fn verify_refuses_a_bad_request_and_honours_prior_cancellation() {
    let resolver = AddressResolver::new(Vec::new());
    let req = VerifyRequest {
        name: n("api.example.com"),
        parent_zone: n("example.com"),
        parent_name_servers: NsSet::parse(["ns1.parent.net"]).unwrap(),
        child_name_servers: NsSet::parse(["ns-1.awsdns-01.com"]).unwrap(),
    };
    let cancel = CancellationToken::new();
    cancel.cancel();
    let r = verify(&req, &resolver, &VerifyOptions::default(), &cancel).await;
    assert!(
        matches!(r, Err(VerifyError::Cancelled { last_report: None })),
        "{r:?}"
    );
}

#[tokio::test]
async fn unresolvable_servers_fail_every_check() {
    // No resolvers at all: every host fails to resolve, nothing passes.
    let resolver = AddressResolver::new(Vec::new());
    let req = VerifyRequest {
        name: n("api.example.com"),
        parent_zone: n("example.com"),
        parent_name_servers: NsSet::parse(["ns1.parent.net"]).unwrap(),
        child_name_servers: NsSet::parse(["ns-1.awsdns-01.com"]).unwrap(),
    };
    let r = check_once(&req, &resolver, &VerifyOptions::default()).await;
    assert!(!r.passed && !r.authoritative_ok);
    assert_eq!(r.checks.len(), 3);
    assert!(r.checks.iter().all(|c| c.error.is_some() && !c.ok));
    assert!(r.findings.iter().all(|f| f.code() == "unreachable"));
}
