//! Verification against real DNS servers (knot, unbound) started by the tests.
//!
//! These tests bind port 53 on 127.N addresses and must run in a network
//! namespace with only loopback, as CI does:
//!
//! ```text
//! cargo test -p route53delegation --no-run
//! scripts/netns.sh cargo test -p route53delegation --offline --test verify_dns
//! ```

mod common;

use std::time::Duration;

use common::*;
use route53delegation::diagnose::{Finding, Severity};
use route53delegation::dns::{Rcode, RecordType};
use route53delegation::verify::probe_dangling;
use route53delegation::verify::{check_once, verify, CheckKind, VerificationReport, VerifyError};
use route53delegation::CancellationToken;

fn codes(r: &VerificationReport) -> Vec<&'static str> {
    r.findings.iter().map(Finding::code).collect()
}

fn checks_of(r: &VerificationReport, kind: CheckKind) -> usize {
    r.checks.iter().filter(|c| c.kind == kind).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_delegation_passes_through_authoritative_and_recursive_servers() {
    let net = Net::start(&Scenario::good()).await;
    let resolver = net.address_resolver();
    let opts = fast_options(Some(vec![net.resolver_addr()]), true);
    let report = verify(
        &request(&CHILD_NS),
        &resolver,
        &opts,
        &CancellationToken::new(),
    )
    .await
    .expect("verification runs");
    assert!(report.passed, "{}", report.render());
    assert!(report.authoritative_ok);
    assert!(report.findings.is_empty(), "{}", report.render());
    assert_eq!(checks_of(&report, CheckKind::ParentReferral), 2);
    assert_eq!(checks_of(&report, CheckKind::ChildSoa), 2);
    assert_eq!(checks_of(&report, CheckKind::ChildNs), 2);
    assert_eq!(checks_of(&report, CheckKind::Recursive), 1);
    assert_eq!(checks_of(&report, CheckKind::ParentZone), 1);
    // parent1, parent2, child1, child2, the resolver, and the server of the
    // zone above the parent (the authoritative chain).
    assert_eq!(
        checks_of(&report, CheckKind::ParentZoneChain),
        1,
        "{}",
        report.render()
    );
    assert_eq!(report.servers_checked(), 6, "{}", report.render());
    let referral = report
        .checks
        .iter()
        .find(|c| c.kind == CheckKind::ParentReferral)
        .unwrap();
    assert_eq!(referral.authoritative, Some(false));
    assert_eq!(referral.ns_seen.as_ref(), Some(&ns(&CHILD_NS)));
    assert!(
        report.summary().contains("verified on 6 servers"),
        "{}",
        report.summary()
    );
    let table = report.render();
    assert!(
        table.contains("parent-referral") && table.contains("ns1.parent-dns.com"),
        "{table}"
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["passed"], true);
    assert_eq!(json["checks"][0]["kind"], "parent_referral");
    // A live, correct delegation is not dangling.
    let dangling = probe_dangling(&name(NAME), &ns(&CHILD_NS), &resolver, &fast_client()).await;
    assert_eq!(dangling, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_parent_record_is_reported_not_blamed_on_caches() {
    let s = Scenario::good().parent_refers_to(&[]);
    let net = Net::start(&s).await;
    let opts = fast_options(Some(vec![net.resolver_addr()]), false);
    let report = check_once(&request(&CHILD_NS), &net.address_resolver(), &opts).await;
    assert!(!report.passed);
    assert!(!report.authoritative_ok);
    assert_eq!(
        codes(&report),
        vec!["no_parent_record"],
        "{}",
        report.render()
    );
    assert!(report.findings[0]
        .message()
        .contains("has no NS record for api.example.com"));
    // The resolver's NXDOMAIN is genuine here, not a stale cache.
    let rec = report
        .checks
        .iter()
        .find(|c| c.kind == CheckKind::Recursive)
        .unwrap();
    assert_eq!(rec.rcode, Some(Rcode::NXDOMAIN));
    assert!(!rec.ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parent_pointing_at_old_servers_is_elsewhere_and_dangling() {
    let s = Scenario::good().parent_refers_to(&OLD_NS);
    let net = Net::start(&s).await;
    let opts = fast_options(None, false);
    let report = check_once(&request(&CHILD_NS), &net.address_resolver(), &opts).await;
    assert!(!report.authoritative_ok);
    let f = report
        .findings
        .iter()
        .find(|f| f.code() == "parent_points_elsewhere")
        .unwrap_or_else(|| panic!("{}", report.render()));
    match f {
        Finding::ParentPointsElsewhere {
            parent_ns,
            child_ns,
            disjoint,
            ..
        } => {
            assert_eq!(parent_ns, &ns(&OLD_NS));
            assert_eq!(child_ns, &ns(&CHILD_NS));
            assert!(*disjoint);
        }
        other => panic!("unexpected {other:?}"),
    }
    // The old servers refuse the name: a takeover risk, said so.
    assert!(
        codes(&report).contains(&"dangling_delegation"),
        "{}",
        report.render()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dangling_delegation_is_found_by_probing_the_existing_ns_record() {
    let s = Scenario::good().parent_refers_to(&OLD_NS);
    let net = Net::start(&s).await;
    let resolver = net.address_resolver();
    let f = probe_dangling(&name(NAME), &ns(&OLD_NS), &resolver, &fast_client()).await;
    assert_eq!(
        f,
        Some(Finding::DanglingDelegation {
            name: name(NAME),
            parent_ns: ns(&OLD_NS),
        })
    );
    assert_eq!(f.unwrap().severity(), Severity::Error);
    // The child servers do serve it.
    assert_eq!(
        probe_dangling(&name(NAME), &ns(&CHILD_NS), &resolver, &fast_client()).await,
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lame_child_server_is_named() {
    let mut with_lame: Vec<&str> = CHILD_NS.to_vec();
    with_lame.push(LAME_NS);
    let mut s = Scenario::good().parent_refers_to(&with_lame);
    s.child_apex_ns = with_lame.iter().map(|x| x.to_string()).collect();
    let net = Net::start(&s).await;
    let report = check_once(
        &request(&with_lame),
        &net.address_resolver(),
        &fast_options(None, false),
    )
    .await;
    assert!(!report.authoritative_ok);
    assert_eq!(
        codes(&report),
        vec!["lame_child_server"],
        "{}",
        report.render()
    );
    match &report.findings[0] {
        Finding::LameChildServer {
            server,
            address,
            rcode,
            ..
        } => {
            assert_eq!(server, &name(LAME_NS));
            assert_eq!(*address, net.addr(LAME));
            assert_eq!(rcode, "REFUSED");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_only_the_child_apex_ns_names_is_asked_and_named_once() {
    let mut s = Scenario::good();
    s.child_apex_ns = vec![
        CHILD_NS[0].into(),
        CHILD_NS[1].into(),
        "ns-9.awsdns-09.com".into(),
    ];
    let net = Net::start(&s).await;
    let report = check_once(
        &request(&CHILD_NS),
        &net.address_resolver(),
        &fast_options(None, false),
    )
    .await;
    assert!(!report.authoritative_ok);
    // The apex names ns-9, which the delegation does not: it is asked too,
    // as Zonemaster asks it. Its host name has no address: one finding,
    // naming it; the delegation's two servers did nothing wrong (more
    // servers at the apex is no mismatch).
    assert_eq!(codes(&report), vec!["unreachable"], "{}", report.render());
    assert!(
        report.findings[0]
            .message()
            .starts_with("ns-9.awsdns-09.com cannot be reached"),
        "{}",
        report.findings[0]
    );
    let servers = report.servers();
    let child: Vec<(&str, bool, &str)> = servers
        .iter()
        .filter(|r| r.role.as_str() == "child")
        .map(|r| (r.name.as_str(), r.ok, r.result.as_str()))
        .collect();
    assert_eq!(child.len(), 3, "{child:?}");
    let (_, ok, result) = child[0];
    assert_eq!(child[0].0, "ns-9.awsdns-09.com", "failing first: {child:?}");
    assert!(!ok, "{child:?}");
    assert!(
        result.starts_with("address not found")
            && result.ends_with("; listed only in the child zone's apex NS set"),
        "{result}"
    );
    assert!(child[1..].iter().all(|(_, ok, _)| *ok), "{child:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_nxdomain_at_the_resolver_is_reported_with_its_remaining_ttl() {
    let mut net = Net::start(&Scenario::good().parent_refers_to(&[])).await;
    let resolver = net.address_resolver();
    // A client looks the name up before the delegation exists...
    let before = fast_client()
        .query(net.resolver_addr(), &name(NAME), RecordType::SOA, true)
        .await
        .expect("resolver answers");
    assert_eq!(before.rcode, "NXDOMAIN");
    // ...then the NS record is written.
    net.reload_parent(&Scenario::good());

    let strict = check_once(
        &request(&CHILD_NS),
        &resolver,
        &fast_options(Some(vec![net.resolver_addr()]), true),
    )
    .await;
    assert!(strict.authoritative_ok, "{}", strict.render());
    assert!(
        strict.passed,
        "a cached NXDOMAIN is information, not failure, even with recursive checks required: {}",
        strict.render()
    );
    assert_eq!(
        codes(&strict),
        vec!["cached_negative"],
        "{}",
        strict.render()
    );
    match &strict.findings[0] {
        Finding::CachedNegative {
            resolver: r,
            nxdomain,
            remaining_ttl,
            ..
        } => {
            assert_eq!(*r, net.resolver_addr());
            assert!(*nxdomain);
            assert!(
                *remaining_ttl > PARENT_NEG_TTL - 30 && *remaining_ttl <= PARENT_NEG_TTL,
                "remaining TTL {remaining_ttl}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    let msg = strict.findings[0].message();
    assert!(
        msg.contains("cached NXDOMAIN")
            && msg.contains("authoritative servers are already correct"),
        "{msg}"
    );

    // Without require_recursive too the authoritative truth decides, and the
    // finding is still there.
    let lax = check_once(
        &request(&CHILD_NS),
        &resolver,
        &fast_options(Some(vec![net.resolver_addr()]), false),
    )
    .await;
    assert!(lax.passed, "{}", lax.render());
    assert_eq!(codes(&lax), vec!["cached_negative"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_updated_parent_is_propagating() {
    let mut s = Scenario::good();
    s.parent2_api_ns.clear();
    let net = Net::start(&s).await;
    let report = check_once(
        &request(&CHILD_NS),
        &net.address_resolver(),
        &fast_options(None, false),
    )
    .await;
    assert!(!report.authoritative_ok);
    assert_eq!(codes(&report), vec!["propagating"], "{}", report.render());
    match &report.findings[0] {
        Finding::Propagating { servers_behind } => {
            assert_eq!(
                servers_behind,
                &vec![format!("ns2.parent-dns.com ({})", net.ip(PARENT2))]
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parent_hosted_zone_that_is_not_the_delegated_one_is_reported() {
    // The "other" server hosts example.com with the delegation, but com
    // delegates example.com to ns1/ns2.parent-dns.com.
    let net = Net::start(&Scenario::good()).await;
    let mut req = request(&CHILD_NS);
    req.parent_name_servers = ns(&[OTHER_PARENT_NS]);
    let opts = fast_options(Some(vec![net.resolver_addr()]), true);
    let report = check_once(&req, &net.address_resolver(), &opts).await;
    assert!(report.authoritative_ok, "{}", report.render());
    assert!(!report.passed);
    assert_eq!(
        codes(&report),
        vec!["parent_zone_not_delegated"],
        "{}",
        report.render()
    );
    match &report.findings[0] {
        Finding::ParentZoneNotDelegated {
            delegated_to,
            parent_zone_ns,
            ..
        } => {
            assert_eq!(delegated_to, &ns(&PARENT_NS));
            assert_eq!(parent_zone_ns, &ns(&[OTHER_PARENT_NS]));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_child_server_is_unreachable() {
    let mut with_silent: Vec<&str> = CHILD_NS.to_vec();
    with_silent.push(SILENT_NS);
    let mut s = Scenario::good().parent_refers_to(&with_silent);
    s.child_apex_ns = with_silent.iter().map(|x| x.to_string()).collect();
    let net = Net::start(&s).await;
    let report = check_once(
        &request(&with_silent),
        &net.address_resolver(),
        &fast_options(None, false),
    )
    .await;
    assert!(!report.authoritative_ok);
    assert_eq!(codes(&report), vec!["unreachable"], "{}", report.render());
    match &report.findings[0] {
        Finding::Unreachable {
            server, address, ..
        } => {
            assert_eq!(server, SILENT_NS);
            assert_eq!(*address, Some(net.addr(SILENT)));
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// Counts the attempts `verify` reports (its `attempt` event), on the
/// thread that polls it: a test acts once an attempt is over instead of
/// guessing how long one takes.
struct Attempts(tokio::sync::watch::Sender<u32>);

impl Attempts {
    /// Installs the counter for this thread until the guard drops; the
    /// receiver sees the number of attempts so far.
    fn watch() -> (
        tracing::subscriber::DefaultGuard,
        tokio::sync::watch::Receiver<u32>,
    ) {
        let (tx, rx) = tokio::sync::watch::channel(0);
        (tracing::subscriber::set_default(Attempts(tx)), rx)
    }
}

impl tracing::Subscriber for Attempts {
    fn enabled(&self, meta: &tracing::Metadata<'_>) -> bool {
        meta.is_event() && meta.fields().field("attempt").is_some()
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if event
            .metadata()
            .target()
            .starts_with("route53delegation::verify")
        {
            self.0.send_modify(|n| *n += 1);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Waits until `verify` has reported `n` attempts.
async fn attempts_done(rx: &mut tokio::sync::watch::Receiver<u32>, n: u32) {
    tokio::time::timeout(Duration::from_secs(30), rx.wait_for(|done| *done >= n))
        .await
        .expect("verify reports its attempts")
        .expect("the counter lives as long as the test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_polls_until_the_record_appears() {
    let mut net = Net::start(&Scenario::good().parent_refers_to(&[])).await;
    let resolver = net.address_resolver();
    let mut opts = fast_options(None, false);
    opts.deadline = Duration::from_secs(10);
    let req = request(&CHILD_NS);
    let cancel = CancellationToken::new();
    let (_guard, mut attempts) = Attempts::watch();
    let verifying = verify(&req, &resolver, &opts, &cancel);
    // The record appears once a first attempt has found it missing.
    let fixing = async {
        attempts_done(&mut attempts, 1).await;
        net.reload_parent(&Scenario::good());
    };
    let (report, ()) = tokio::join!(verifying, fixing);
    let report = report.expect("verification runs");
    assert!(report.passed, "{}", report.render());
    assert!(report.attempts >= 2, "attempts {}", report.attempts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_gives_up_at_the_deadline_and_stops_when_cancelled() {
    let net = Net::start(&Scenario::good().parent_refers_to(&[])).await;
    let resolver = net.address_resolver();
    let req = request(&CHILD_NS);
    let mut opts = fast_options(None, false);
    opts.deadline = Duration::from_millis(800);
    let started = std::time::Instant::now();
    let report = verify(&req, &resolver, &opts, &CancellationToken::new())
        .await
        .expect("verification runs");
    assert!(!report.passed);
    assert!(report.attempts >= 2, "attempts {}", report.attempts);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(codes(&report), vec!["no_parent_record"]);

    opts.deadline = Duration::from_secs(60);
    let cancel = CancellationToken::new();
    let (_guard, mut attempts) = Attempts::watch();
    // Cancelled once an attempt is over, so there is a report to carry.
    let stopper = {
        let cancel = cancel.clone();
        async move {
            attempts_done(&mut attempts, 1).await;
            cancel.cancel();
        }
    };
    let started = std::time::Instant::now();
    let (result, ()) = tokio::join!(verify(&req, &resolver, &opts, &cancel), stopper);
    assert!(started.elapsed() < Duration::from_secs(3));
    match result {
        Err(VerifyError::Cancelled {
            last_report: Some(r),
        }) => assert!(!r.passed),
        other => panic!("expected a cancellation with a report, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_udp_answers_are_repeated_over_tcp() {
    let net = Net::start(&Scenario::good()).await;
    let resp = fast_client()
        .query(
            net.addr(CHILD1),
            &name("big.api.example.com"),
            RecordType::TXT,
            false,
        )
        .await
        .expect("child server answers");
    assert!(resp.truncated, "the UDP answer should have been truncated");
    assert_eq!(resp.rcode, "NOERROR");
    assert!(resp.authoritative);
    assert_eq!(resp.answers.len(), 12);
    assert!(resp.answers.iter().all(|r| r.rtype == RecordType::TXT));
}
