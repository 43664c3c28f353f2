//! Verification that stays true: the refresh check (Read) against the local
//! world, with child name servers switched silent or REFUSED through the
//! world's DNS fault switches, and deadlines that are deadlines.
//!
//! ```text
//! cargo test -p route53delegation --test refresh_world --no-run && \
//!   scripts/netns.sh cargo test -p route53delegation --offline --test refresh_world
//! ```

mod support;

use std::time::{Duration, Instant};

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use r53world::{DnsFault, PARENT_ACCOUNT};
use route53delegation::check::Listing;
use route53delegation::delegation::VerifyStatus;
use route53delegation::diagnose::Finding;
use route53delegation::dns::{AddressResolver, DnsClient, Rcode};
use route53delegation::verify::{self, check_once, VerifyOptions, VerifyRequest};
use route53delegation::{CancellationToken, DomainName, Error, LinkSpec, LinkState, NsSet};
use support::*;

fn n(s: &str) -> DomainName {
    DomainName::parse(s).unwrap()
}

async fn delegate(f: &Fixture, spec: &LinkSpec) -> LinkState {
    f.engine
        .apply(spec, None, T, &CancellationToken::new())
        .await
        .unwrap_or_else(|e| panic!("apply {}: {}", spec.name, e.error))
        .state
}

/// The first child name server (sorted) and its address.
fn first_child(f: &Fixture, st: &LinkState) -> (String, std::net::IpAddr) {
    let server = st.name_servers.iter().next().unwrap().to_string();
    let addr = f.world.name_server_addr(&server).unwrap().ip();
    (server, addr)
}

fn parent_ns(f: &Fixture) -> NsSet {
    let z = f
        .world
        .zones(PARENT_ACCOUNT)
        .into_iter()
        .find(|z| z.id == f.parent_zone_id)
        .unwrap();
    NsSet::parse(z.name_servers).unwrap()
}

/// The refresh check's budget plus one question's timeout: Read never takes
/// longer than that for its DNS part (the AWS calls come on top).
fn refresh_bound() -> Duration {
    verify::REFRESH_BUDGET + verify::REFRESH_QUERY_TIMEOUT
}

#[tokio::test]
async fn a_new_delegation_says_how_long_resolvers_may_keep_their_nxdomain() {
    // Default settings: apply of a new delegation says how long resolvers
    // that asked before may keep the negative answer: the parent SOA's
    // negative TTL, min(900 s SOA TTL, 86400 s minimum) = 900 s.
    let f = fixture().await;
    let spec = spec("new.example.com");
    let applied = f
        .engine
        .apply(&spec, None, T, &CancellationToken::new())
        .await
        .unwrap_or_else(|e| panic!("{}", e.error));
    assert_eq!(
        applied.findings,
        vec![Finding::NegativeCaching {
            name: n("new.example.com"),
            parent_zone: n("example.com"),
            seconds: 900,
        }]
    );
    assert!(applied.findings[0]
        .message()
        .contains("may keep their NXDOMAIN for up to 900 seconds"));
    // Not on later applies.
    let again = f
        .engine
        .apply(&spec, Some(&applied.state), T, &CancellationToken::new())
        .await
        .unwrap_or_else(|e| panic!("{}", e.error));
    assert!(again.findings.is_empty(), "{:?}", again.findings);
}

#[tokio::test]
async fn a_healthy_delegation_stays_verified_on_refresh_with_every_server_named() {
    let f = fixture().await;
    let spec = spec("fine.example.com");
    let st = delegate(&f, &spec).await;
    let applied = st.verification.clone().unwrap();
    assert_eq!(applied.status, VerifyStatus::Verified);
    assert_eq!(
        applied.servers.len(),
        8,
        "4 parent + 4 child servers: {applied:?}"
    );

    let read = f.engine.read(&spec, &st).await.unwrap();
    assert!(
        read.verification_warning.is_none(),
        "{:?}",
        read.verification_warning
    );
    let v = read.state.unwrap().verification.unwrap();
    assert_eq!(v.status, VerifyStatus::Verified);
    let roles: Vec<&str> = v.servers.iter().map(|r| r.role.as_str()).collect();
    assert_eq!(roles.iter().filter(|r| **r == "parent").count(), 4, "{v:?}");
    assert_eq!(roles.iter().filter(|r| **r == "child").count(), 4, "{v:?}");
    for r in &v.servers {
        assert!(
            r.ok && r.result == "ok" && r.address.is_some() && r.rtt.is_some(),
            "{r:?}"
        );
    }
    for ns in st.name_servers.iter() {
        assert!(
            v.servers.iter().any(|r| r.name == ns.to_string()),
            "{ns} listed"
        );
    }
}

#[tokio::test]
async fn a_silent_child_server_fails_the_refresh_naming_it_and_recovers_when_fixed() {
    let f = fixture().await;
    let spec = spec("quiet.example.com");
    let st = delegate(&f, &spec).await;
    let (server, addr) = first_child(&f, &st);
    f.world.set_dns_fault(
        &server,
        Some("quiet.example.com"),
        Some(DnsFault::Drop),
        None,
    );

    let started = Instant::now();
    let read = f.engine.read(&spec, &st).await.unwrap();
    let took = started.elapsed();
    assert!(
        took < refresh_bound() + Duration::from_secs(2),
        "the refresh check is bounded: took {took:?}"
    );
    let broken = read.state.unwrap();
    let v = broken.verification.clone().unwrap();
    assert_eq!(v.status, VerifyStatus::Failed);
    assert_eq!(v.servers[0].name, server, "failing server first: {v:?}");
    assert_eq!(v.servers[0].result, "timed out");
    assert!(
        v.summary.contains(&format!("{server} ({addr}) timed out")),
        "{}",
        v.summary
    );
    let w = read.verification_warning.expect("a warning");
    assert_eq!(
        w,
        format!("quiet.example.com does not verify; apply verifies it again: {server} ({addr}): timed out")
    );

    // Fixed: the next refresh verifies again, without a warning.
    f.world
        .set_dns_fault(&server, Some("quiet.example.com"), None, None);
    let read = f.engine.read(&spec, &broken).await.unwrap();
    assert!(
        read.verification_warning.is_none(),
        "{:?}",
        read.verification_warning
    );
    assert_eq!(
        read.state.unwrap().verification.unwrap().status,
        VerifyStatus::Verified
    );
}

#[tokio::test]
async fn a_refusing_child_server_is_named_lame_once() {
    let f = fixture().await;
    let spec = spec("refuse.example.com");
    let st = delegate(&f, &spec).await;
    let (server, addr) = first_child(&f, &st);
    f.world.set_dns_fault(
        &server,
        Some("refuse.example.com"),
        Some(DnsFault::Refuse),
        None,
    );

    let read = f.engine.read(&spec, &st).await.unwrap();
    let v = read.state.unwrap().verification.unwrap();
    assert_eq!(v.status, VerifyStatus::Failed);
    let w = read.verification_warning.expect("a warning");
    assert_eq!(
        w,
        format!("refuse.example.com does not verify; apply verifies it again: {server} ({addr}): REFUSED (does not serve the zone)")
    );

    // The full check's findings: lame, once, by name; nothing else.
    let req = VerifyRequest {
        name: n("refuse.example.com"),
        parent_zone: n("example.com"),
        parent_name_servers: parent_ns(&f),
        child_name_servers: st.name_servers.clone(),
    };
    let resolver = AddressResolver::new(vec![f.world.resolver()]);
    let report = check_once(&req, &resolver, &VerifyOptions::default()).await;
    assert_eq!(
        report.findings,
        vec![Finding::LameChildServer {
            server: n(&server),
            address: std::net::SocketAddr::new(addr, 53),
            rcode: Rcode::REFUSED,
            authoritative: false,
            listed: Some(Listing::Both),
        }],
        "{}",
        report.render()
    );
}

#[tokio::test]
async fn one_lost_query_does_not_flip_the_verdict() {
    // Anti-flap: a server counts as silent only after two missed questions
    // in a row. Drop exactly one query at a child server.
    let f = fixture().await;
    let spec = spec("flaky.example.com");
    let st = delegate(&f, &spec).await;
    let (server, _) = first_child(&f, &st);
    f.world.set_dns_fault(
        &server,
        Some("flaky.example.com"),
        Some(DnsFault::Drop),
        Some(1),
    );
    let read = f.engine.read(&spec, &st).await.unwrap();
    assert!(
        read.verification_warning.is_none(),
        "{:?}",
        read.verification_warning
    );
    let v = read.state.unwrap().verification.unwrap();
    assert_eq!(v.status, VerifyStatus::Verified, "{v:?}");
    // Unchanged verdict on the same servers: state keeps the apply's entry.
    assert_eq!(Some(v), st.verification);
}

#[tokio::test]
async fn on_refresh_false_skips_the_check() {
    let f = fixture().await;
    let mut spec = spec("nocheck.example.com");
    spec.verify.on_refresh = false;
    let st = delegate(&f, &spec).await;
    let (server, _) = first_child(&f, &st);
    f.world
        .set_dns_fault(&server, None, Some(DnsFault::Drop), None);
    let started = Instant::now();
    let read = f.engine.read(&spec, &st).await.unwrap();
    assert!(
        started.elapsed() < verify::REFRESH_QUERY_TIMEOUT,
        "no DNS question was asked"
    );
    assert!(read.verification_warning.is_none());
    assert_eq!(read.state.unwrap().verification, st.verification);
}

#[tokio::test]
async fn apply_after_a_failed_refresh_verifies_again_and_names_the_cause() {
    let f = fixture().await;
    let mut spec = spec("again.example.com");
    let st = delegate(&f, &spec).await;
    let (server, _) = first_child(&f, &st);
    f.world.set_dns_fault(
        &server,
        Some("again.example.com"),
        Some(DnsFault::Refuse),
        None,
    );
    let refreshed = f.engine.read(&spec, &st).await.unwrap().state.unwrap();
    assert_eq!(
        refreshed.verification.as_ref().unwrap().status,
        VerifyStatus::Failed
    );

    spec.verify.timeout = Duration::from_secs(2);
    let failure = f
        .engine
        .apply(&spec, Some(&refreshed), T, &CancellationToken::new())
        .await
        .expect_err("still broken");
    assert!(
        matches!(failure.error, Error::VerificationFailed { .. }),
        "{}",
        failure.error
    );
    let text = failure.error.to_string();
    assert!(
        text.contains(&format!("child name server {server}")) && text.contains("is lame"),
        "{text}"
    );

    // Fixed: apply verifies and state says so.
    f.world
        .set_dns_fault(&server, Some("again.example.com"), None, None);
    let applied = f
        .engine
        .apply(&spec, Some(&refreshed), T, &CancellationToken::new())
        .await
        .unwrap_or_else(|e| panic!("{}", e.error));
    assert!(applied.report.is_some(), "apply verified again");
    assert_eq!(
        applied.state.verification.unwrap().status,
        VerifyStatus::Verified
    );
}

#[tokio::test]
async fn the_verify_timeout_ends_within_one_query_timeout() {
    // A silent child server; 3.5 s deadline; questions time out after 1 s
    // and are retried twice (3 s per question): the first attempt ends at
    // 3 s, the second starts before the deadline and would run to 6 s.
    // Verification must end by 3.5 s + 1 s, not an attempt later.
    let f = fixture().await;
    let spec = spec("deadline.example.com");
    let st = delegate(&f, &spec).await;
    let (server, _) = first_child(&f, &st);
    f.world.set_dns_fault(
        &server,
        Some("deadline.example.com"),
        Some(DnsFault::Drop),
        None,
    );
    let req = VerifyRequest {
        name: n("deadline.example.com"),
        parent_zone: n("example.com"),
        parent_name_servers: parent_ns(&f),
        child_name_servers: st.name_servers.clone(),
    };
    let opts = VerifyOptions {
        query: DnsClient::new(Duration::from_secs(1), 2),
        deadline: Duration::from_millis(3500),
        poll_interval: Duration::from_millis(200),
        recursive: None,
        require_recursive: false,
    };
    let resolver = AddressResolver::new(vec![f.world.resolver()]);
    let started = Instant::now();
    let report = verify::verify(&req, &resolver, &opts, &CancellationToken::new())
        .await
        .unwrap();
    let took = started.elapsed();
    assert!(!report.passed);
    assert!(
        took <= Duration::from_millis(4900),
        "3.5 s deadline + 1 s query timeout, took {took:?}"
    );
    assert!(
        took >= Duration::from_millis(3500),
        "kept trying until the deadline: {took:?}"
    );
    assert_eq!(report.attempts, 2);
    // The report is a complete attempt: the silent server timed out.
    let servers = report.servers();
    assert_eq!(servers[0].name, server);
    assert_eq!(servers[0].result, "timed out");
}

/// Submits one change without waiting for it.
async fn submit_ns(f: &Fixture, name: &str, values: &[String]) {
    let mut rrs = ResourceRecordSet::builder()
        .name(format!("{name}."))
        .r#type(RrType::Ns)
        .ttl(300);
    for v in values {
        rrs = rrs.resource_records(ResourceRecord::builder().value(v).build().unwrap());
    }
    console(&f.world, PARENT_ACCOUNT)
        .change_resource_record_sets()
        .hosted_zone_id(&f.parent_zone_id)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Upsert)
                        .resource_record_set(rrs.build().unwrap())
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_change_seen_by_some_parent_servers_first_is_propagating() {
    // One parent server publishes changes at once, the others at INSYNC
    // (30 s away): a window in which the delegation is visible on one
    // server only, as while Route 53 reports the change PENDING.
    let f = fixture().await;
    let id = create_zone_as(&f.world, CHILD, "prop.example.com").await;
    let child_ns = NsSet::parse(
        f.world
            .zones(CHILD)
            .into_iter()
            .find(|z| z.id == id)
            .unwrap()
            .name_servers,
    )
    .unwrap();
    let parents = parent_ns(&f);
    let fast = parents.iter().next().unwrap().to_string();
    f.world.set_publish_lag(&fast, Some(Duration::ZERO));
    f.world.set_insync_delay(Duration::from_secs(30));
    submit_ns(&f, "prop.example.com", &child_ns.to_fqdns()).await;

    let req = VerifyRequest {
        name: n("prop.example.com"),
        parent_zone: n("example.com"),
        parent_name_servers: parents.clone(),
        child_name_servers: child_ns,
    };
    let resolver = AddressResolver::new(vec![f.world.resolver()]);
    let report = check_once(&req, &resolver, &VerifyOptions::default()).await;
    assert!(!report.passed);
    let behind: Vec<String> = match &report.findings[..] {
        [Finding::Propagating { servers_behind }] => servers_behind.clone(),
        other => panic!("expected propagating, got {other:?}\n{}", report.render()),
    };
    assert_eq!(behind.len(), 3, "{behind:?}");
    assert!(behind.iter().all(|b| !b.starts_with(&fast)), "{behind:?}");
    for p in parents.iter().filter(|p| p.to_string() != fast) {
        assert!(
            behind.iter().any(|b| b.starts_with(&p.to_string())),
            "{p} behind"
        );
    }
}

#[tokio::test]
async fn a_cached_nxdomain_does_not_fail_a_correct_create_with_recursive_checks() {
    // A resolver asked before the delegation existed caches the NXDOMAIN
    // (up to the parent SOA's negative TTL). With verify.recursive = true the
    // create must still succeed, reporting the cache as a warning.
    let f = fixture().await;
    let name = "cached.example.com";
    let before = DnsClient::default()
        .query(
            f.world.resolver(),
            &n(name),
            route53delegation::dns::RecordType::SOA,
            true,
        )
        .await
        .unwrap();
    assert_eq!(before.rcode, "NXDOMAIN");
    let mut spec = spec(name);
    spec.verify.recursive = true;
    spec.verify.timeout = Duration::from_secs(5);
    let started = Instant::now();
    let applied = f
        .engine
        .apply(&spec, None, T, &CancellationToken::new())
        .await
        .unwrap_or_else(|e| panic!("a correct delegation is not failed by a cache: {}", e.error));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "not held until the timeout: {:?}",
        started.elapsed()
    );
    assert_eq!(
        applied.state.verification.unwrap().status,
        VerifyStatus::Verified
    );
    let cached: Vec<&Finding> = applied
        .findings
        .iter()
        .filter(|f| f.code() == "cached_negative")
        .collect();
    assert_eq!(cached.len(), 1, "{:?}", applied.findings);
    let m = cached[0].message();
    assert!(
        m.contains("holds a cached NXDOMAIN for cached.example.com for up to")
            && m.contains("flush the resolver cache or wait"),
        "{m}"
    );
}

#[tokio::test]
async fn a_resolver_holding_the_parent_zones_old_delegation_is_a_cache_note_not_a_failure() {
    // The parent zone is deleted and re-created (new servers registered at
    // the TLD) while the resolver still caches the old delegation of
    // example.com, as it would for up to two days. The authoritative chain is
    // right, so a new link verifies, with a note about the cache.
    let f = fixture().await;
    let old_ns = parent_ns(&f);
    let cached = DnsClient::default()
        .query(
            f.world.resolver(),
            &n("example.com"),
            route53delegation::dns::RecordType::NS,
            true,
        )
        .await
        .unwrap();
    assert_eq!(cached.answer_ns(&n("example.com")), old_ns);
    console(&f.world, PARENT_ACCOUNT)
        .delete_hosted_zone()
        .id(&f.parent_zone_id)
        .send()
        .await
        .unwrap();
    let new_id = create_zone_as(&f.world, PARENT_ACCOUNT, "example.com").await;
    f.world
        .register_domain("example.com", &new_id)
        .await
        .unwrap();
    let new_ns = NsSet::parse(
        f.world
            .zones(PARENT_ACCOUNT)
            .into_iter()
            .find(|z| z.id == new_id)
            .unwrap()
            .name_servers,
    )
    .unwrap();
    assert_ne!(new_ns, old_ns);

    let mut spec = spec("after.example.com");
    spec.verify.timeout = Duration::from_secs(5);
    let started = Instant::now();
    let applied = f
        .engine
        .apply(&spec, None, T, &CancellationToken::new())
        .await
        .unwrap_or_else(|e| panic!("the authoritative chain is right: {}", e.error));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        applied.state.verification.unwrap().status,
        VerifyStatus::Verified
    );
    let notes: Vec<&Finding> = applied
        .findings
        .iter()
        .filter(|f| f.code() == "stale_parent_delegation")
        .collect();
    assert_eq!(notes.len(), 1, "{:?}", applied.findings);
    match notes[0] {
        Finding::StaleParentDelegation {
            cached,
            current,
            remaining_ttl,
            ..
        } => {
            assert_eq!(*cached, old_ns);
            assert_eq!(*current, new_ns);
            assert!(remaining_ttl.is_some_and(|t| t > 0), "{remaining_ttl:?}");
        }
        other => panic!("{other:?}"),
    }
    let m = notes[0].message();
    assert!(
        m.contains("still holds the old delegation of example.com")
            && m.contains("a cache, not the delegation"),
        "{m}"
    );
}
