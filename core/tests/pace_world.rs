//! How many Route 53 calls the engine makes, counted in the world (never
//! timed): one wait per link, parent writes and reads shared between the
//! links of one parent zone, one AssumeRole per role, and a fleet under the
//! legacy 5 requests/s throttle that plans, applies and destroys without a
//! single failure.
//!
//! Each phase runs on an engine of its own, as each Terraform command runs a
//! provider process of its own.
//!
//! Run inside a loopback-only network namespace (`scripts/netns.sh`).

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use r53world::{Fault, Operation, ThrottleMode, World, OPERATOR_ACCOUNT, PARENT_ACCOUNT};
use route53delegation::change::{Changes, Polling};
use route53delegation::delegation::VerifyStatus;
use route53delegation::nsset::NsSet;
use route53delegation::own_zones::OwnZones;
use route53delegation::pace::{Pacing, Rate};
use route53delegation::parent::route53::ParentConfig;
use route53delegation::record::NsRecord;
use route53delegation::zone;
use route53delegation::{CancellationToken, DomainName, Engine, EngineConfig, Error, LinkState};
use support::*;

/// An engine as the provider builds one: default pacing (5 requests/s per
/// account) and parent side; INSYNC polled first when DNS answers (the
/// world publishes a change when it is INSYNC), or after 10 s.
fn provider_engine(world: &World, pacing: Pacing, window: Duration) -> Engine {
    Engine::new(provider_config(world, pacing, window))
}

fn provider_config(world: &World, pacing: Pacing, window: Duration) -> EngineConfig {
    EngineConfig {
        defaults: engine_defaults(world),
        resolvers: vec![world.resolver()],
        roots: vec![world.root_server()],
        insync_polling: Some(Polling {
            first: Duration::from_secs(10),
            interval: Duration::from_secs(1),
        }),
        pacing,
        parent: Some(ParentConfig {
            window,
            ..Default::default()
        }),
        assume_role_backoff: Some(Duration::from_millis(50)),
        ..Default::default()
    }
}

fn engine_defaults(world: &World) -> route53delegation::AccountSettings {
    route53delegation::AccountSettings {
        region: Some("us-east-1".into()),
        endpoints: route53delegation::account::Endpoints {
            route53: Some(world.endpoint()),
            sts: Some(world.endpoint()),
        },
        ..Default::default()
    }
}

/// Route 53 calls answered per (account, operation): the world's counts
/// less its `Throttling` answers, which the fleet test reports apart.
fn answered(world: &World) -> BTreeMap<(String, Operation), u64> {
    let throttled = world.throttled_counts();
    world
        .call_counts()
        .into_iter()
        .map(|(k, n)| {
            let t = throttled.get(&k).copied().unwrap_or(0);
            (k, n - t)
        })
        .collect()
}

/// Route 53 calls per (account, operation) since `before` (AssumeRole, an
/// STS call, is kept apart; `Throttling` answers are not counted).
fn route53_calls(
    world: &World,
    before: &BTreeMap<(String, Operation), u64>,
) -> BTreeMap<(String, Operation), u64> {
    answered(world)
        .into_iter()
        .filter(|((_, op), _)| *op != Operation::AssumeRole)
        .map(|(k, n)| {
            let was = before.get(&k).copied().unwrap_or(0);
            (k, n - was)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn total(calls: &BTreeMap<(String, Operation), u64>) -> u64 {
    calls.values().sum()
}

fn op(calls: &BTreeMap<(String, Operation), u64>, account: &str, operation: Operation) -> u64 {
    calls
        .get(&(account.to_string(), operation))
        .copied()
        .unwrap_or(0)
}

fn assume_role_calls(world: &World) -> u64 {
    op(
        &world.call_counts(),
        OPERATOR_ACCOUNT,
        Operation::AssumeRole,
    )
}

/// Applies every spec at once, `parallelism` at a time; returns the states.
async fn apply_all(engine: &Engine, names: &[String], parallelism: usize) -> Vec<LinkState> {
    let gate = Arc::new(tokio::sync::Semaphore::new(parallelism));
    let cancel = CancellationToken::new();
    let runs = names.iter().map(|n| {
        let gate = gate.clone();
        let cancel = cancel.clone();
        async move {
            let _slot = gate.acquire().await.unwrap();
            engine
                .apply(&spec(n), None, Duration::from_secs(600), &cancel)
                .await
                .map(|a| a.state)
                .map_err(|f| f.error.to_string())
        }
    });
    let results = join_all(runs).await;
    let failed: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failed.is_empty(),
        "{} of {} applies failed: {:?}",
        failed.len(),
        names.len(),
        failed.first()
    );
    results.into_iter().map(Result::unwrap).collect()
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}.example.com")).collect()
}

/// Failure mode: each link waited twice in a row (zone, then record) and
/// polled GetChange from 250 ms on: about 46 calls per link at Route 53's
/// pace. A single link now makes the parent zone's lookup (by name, then its
/// name servers) and one listing, one lookup and one create in the child,
/// one write, and one GetChange per change: eight, of which the parent's
/// first three are shared by every link under that parent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_link_apply_makes_eight_calls_and_waits_once() {
    let f = fixture().await;
    let engine = provider_engine(&f.world, Pacing::Default, Duration::from_millis(100));
    let before = answered(&f.world);
    let st = apply_all(&engine, &names("one", 1), 1).await;
    assert_eq!(
        st[0].verification.as_ref().map(|v| v.status),
        Some(VerifyStatus::Verified)
    );
    let calls = route53_calls(&f.world, &before);
    eprintln!("single-link apply: {calls:?}");
    let expected: BTreeMap<(String, Operation), u64> = [
        (PARENT_ACCOUNT, Operation::ListHostedZonesByName),
        (PARENT_ACCOUNT, Operation::GetHostedZone),
        (PARENT_ACCOUNT, Operation::ListResourceRecordSets),
        (PARENT_ACCOUNT, Operation::ChangeResourceRecordSets),
        (PARENT_ACCOUNT, Operation::GetChange),
        (CHILD, Operation::ListHostedZonesByName),
        (CHILD, Operation::CreateHostedZone),
        (CHILD, Operation::GetChange),
    ]
    .into_iter()
    .map(|(a, o)| ((a.to_string(), o), 1))
    .collect();
    assert_eq!(calls, expected);
}

/// Failure mode: at Route 53's pace the first `GetChange` came on a blind
/// schedule (45 s) before the change could be INSYNC (55-60 s), then every
/// 10 s: two or three polls per change, in apply and destroy alike. Here, at
/// a world that takes 3 s to INSYNC and a schedule scaled down the same way
/// (first poll at 2 s), DNS tells when to ask: the authoritative servers
/// answer with the new delegation, then without it, and each change is
/// polled exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_tells_when_to_ask_so_each_change_is_polled_once() {
    let f = fixture().await;
    f.world.set_insync_delay(Duration::from_secs(3));
    let engine = Engine::new(EngineConfig {
        insync_polling: Some(Polling {
            first: Duration::from_secs(2),
            interval: Duration::from_secs(1),
        }),
        ..provider_config(&f.world, Pacing::Default, Duration::from_millis(100))
    });
    let name = "paced.example.com".to_string();
    let before = answered(&f.world);
    let st = apply_all(&engine, std::slice::from_ref(&name), 1).await;
    assert_eq!(
        st[0].verification.as_ref().map(|v| v.status),
        Some(VerifyStatus::Verified)
    );
    let calls = route53_calls(&f.world, &before);
    eprintln!("apply at a 3 s INSYNC: {calls:?}");
    assert_eq!(
        op(&calls, PARENT_ACCOUNT, Operation::GetChange),
        1,
        "{calls:?}"
    );
    assert_eq!(op(&calls, CHILD, Operation::GetChange), 1, "{calls:?}");

    let before = answered(&f.world);
    engine
        .destroy(
            &spec(&name),
            &st[0],
            Duration::from_secs(60),
            &CancellationToken::new(),
        )
        .await
        .expect("destroy");
    let calls = route53_calls(&f.world, &before);
    eprintln!("destroy at a 3 s INSYNC: {calls:?}");
    assert_eq!(
        op(&calls, PARENT_ACCOUNT, Operation::GetChange),
        1,
        "{calls:?}"
    );
    assert_eq!(
        op(&calls, PARENT_ACCOUNT, Operation::ChangeResourceRecordSets),
        1
    );
    assert_eq!(op(&calls, CHILD, Operation::DeleteHostedZone), 1);
    // The zone's records are listed once, before the first write.
    assert_eq!(
        op(&calls, CHILD, Operation::ListResourceRecordSets),
        1,
        "{calls:?}"
    );
    assert!(ns_of(&f, &name).is_none(), "parent record removed");
}

/// Failure mode: each link looked on its own for a zone an interrupted
/// earlier attempt left: 200 links applied at once into one account made 200
/// `ListHostedZonesByName` calls before the first create (40 s at the legacy
/// 5 requests/s). Links that ask together now share one listing of the
/// account's zones, and the zone an interrupted attempt left is still found
/// and adopted as the link's own, never duplicated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_applied_together_share_one_listing_of_the_child_account() {
    let f = fixture().await;
    // A window wide enough that a loaded machine cannot split the twelve.
    let engine = provider_engine(&f.world, Pacing::Default, Duration::from_secs(1));
    let links = names("own", 12);
    // An interrupted earlier attempt of own3 created its zone, and nothing
    // recorded it.
    let child = engine
        .clients()
        .route53(&spec(&links[3]).child.account)
        .await
        .unwrap();
    let name = DomainName::parse(&links[3]).unwrap();
    let prefix = zone::caller_reference_prefix(&name, &f.parent_zone_id);
    let left = zone::create_zone(&child, &name, &prefix, None)
        .await
        .unwrap()
        .zone;
    let before = answered(&f.world);
    let st = apply_all(&engine, &links, links.len()).await;
    let calls = route53_calls(&f.world, &before);
    eprintln!("twelve links at once: {calls:?}");
    assert_eq!(
        op(&calls, CHILD, Operation::ListHostedZonesByName),
        0,
        "{calls:?}"
    );
    assert_eq!(
        op(&calls, CHILD, Operation::GetHostedZoneCount),
        1,
        "{calls:?}"
    );
    assert_eq!(
        op(&calls, CHILD, Operation::ListHostedZones),
        1,
        "{calls:?}"
    );
    assert_eq!(
        op(&calls, CHILD, Operation::CreateHostedZone),
        11,
        "{calls:?}"
    );
    assert_eq!(
        st[3].child_zone_id, left.id,
        "the zone left behind is adopted"
    );
    assert!(st[3].zone_owned, "and deleted on destroy, as its own");
    assert_eq!(child_zone_count(&f, "own3."), 1, "no second zone for own3");
    assert_eq!(child_zone_count(&f, "own"), 12);
}

/// Failure mode: a link cancelled (or timed out) while it led a gathering of
/// own-zone questions left the gathering behind: the questions that joined
/// it, and every later one in that account, waited for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_leader_leaves_no_question_waiting() {
    let f = fixture().await;
    let settings = spec("lead.example.com").child.account;
    let client = f.engine.clients().route53(&settings).await.unwrap();
    let account = f.engine.clients().effective(&settings);
    let own = OwnZones::new(Duration::from_millis(500));
    let lead = DomainName::parse("lead.example.com").unwrap();
    let follow = DomainName::parse("follow.example.com").unwrap();
    let mut leader = Box::pin(own.find(&client, &account, &lead, "r53d/none/"));
    assert!(futures::poll!(&mut leader).is_pending());
    let mut follower = Box::pin(own.find(&client, &account, &follow, "r53d/none/"));
    assert!(futures::poll!(&mut follower).is_pending());
    // The leader's link is cancelled inside the window.
    drop(leader);
    let answered = tokio::time::timeout(Duration::from_secs(20), follower).await;
    assert!(
        matches!(answered, Ok(Ok(None))),
        "the follower asks on its own: {answered:?}"
    );
    let later = tokio::time::timeout(
        Duration::from_secs(20),
        own.find(&client, &account, &lead, "r53d/none/"),
    )
    .await;
    assert!(
        matches!(later, Ok(Ok(None))),
        "a later question starts a gathering of its own: {later:?}"
    );
}

/// Failure mode: two links applied together under one parent zone made two
/// parent writes and two waits on them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_links_in_one_parent_zone_make_one_parent_write() {
    let f = fixture().await;
    let engine = provider_engine(
        &f.world,
        Pacing::At(Rate::new(100.0, 20).unwrap()),
        Duration::from_millis(300),
    );
    let before = answered(&f.world);
    apply_all(&engine, &names("pair", 2), 2).await;
    let calls = route53_calls(&f.world, &before);
    eprintln!("two links: {calls:?}");
    assert_eq!(
        op(&calls, PARENT_ACCOUNT, Operation::ChangeResourceRecordSets),
        1
    );
    assert_eq!(op(&calls, PARENT_ACCOUNT, Operation::GetChange), 1);
    assert_eq!(
        op(&calls, PARENT_ACCOUNT, Operation::ListResourceRecordSets),
        1
    );
    assert_eq!(
        op(&calls, PARENT_ACCOUNT, Operation::ListHostedZonesByName),
        1
    );
    assert!(ns_of(&f, "pair0.example.com").is_some());
    assert!(ns_of(&f, "pair1.example.com").is_some());
}

fn ns_of(f: &Fixture, name: &str) -> Option<NsSet> {
    let zone = f
        .world
        .zones(PARENT_ACCOUNT)
        .into_iter()
        .find(|z| z.id == f.parent_zone_id)?;
    let fq = format!("{name}.");
    zone.records
        .iter()
        .find(|r| r.name == fq && r.rtype == r53world::RrType::Ns)
        .and_then(|r| NsSet::parse(&r.values).ok())
}

/// Failure mode: one record changed underneath a shared batch makes Route
/// 53 refuse the whole batch, and every link in it failed (or, worse, the
/// batch was retried without the compare-and-swap and overwrote it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_changed_underneath_fails_only_its_own_link() {
    let f = fixture().await;
    let engine = provider_engine(
        &f.world,
        Pacing::At(Rate::new(100.0, 20).unwrap()),
        Duration::from_millis(300),
    );
    let links = names("cas", 3);
    // The engine lists the parent zone (plan time): nothing there yet.
    for n in &links {
        engine.preflight(&spec(n), None).await.expect("preflight");
    }
    // Then someone else delegates cas1 before apply writes.
    let theirs = NsRecord {
        ttl: 300,
        values: NsSet::parse(["ns1.elsewhere.net", "ns2.elsewhere.net"]).unwrap(),
    };
    let console = console(&f.world, PARENT_ACCOUNT);
    let cas1 = DomainName::parse("cas1.example.com").unwrap();
    put_ns(&console, &f.parent_zone_id, &cas1, &theirs, None)
        .await
        .expect("their write");
    let before = answered(&f.world);

    let cancel = CancellationToken::new();
    let runs = links.iter().map(|n| {
        let engine = engine.clone();
        let cancel = cancel.clone();
        async move {
            engine
                .apply(&spec(n), None, Duration::from_secs(120), &cancel)
                .await
        }
    });
    let results = join_all(runs).await;
    let calls = route53_calls(&f.world, &before);
    eprintln!("batch with one changed record: {calls:?}");

    assert!(results[0].is_ok(), "{:?}", results[0].as_ref().err());
    assert!(results[2].is_ok(), "{:?}", results[2].as_ref().err());
    let failure = results[1].as_ref().expect_err("cas1 must fail");
    assert!(
        matches!(failure.error.root(), Error::RecordChanged { found, .. } if *found == theirs.values),
        "{}",
        failure.error
    );
    // Their record is untouched; the others are delegated.
    assert_eq!(ns_of(&f, "cas1.example.com"), Some(theirs.values.clone()));
    for (i, r) in results.iter().enumerate().filter(|(i, _)| *i != 1) {
        let st = &r.as_ref().unwrap().state;
        assert_eq!(
            ns_of(&f, &links[i]).as_ref(),
            Some(&st.name_servers),
            "{}",
            links[i]
        );
    }
    // The refused batch, then one batch of the two others.
    assert_eq!(
        op(&calls, PARENT_ACCOUNT, Operation::ChangeResourceRecordSets),
        2
    );
}

/// Failure mode: a GetChange that kept hitting Throttling ended the wait
/// with an error after the write had gone through, and Terraform tainted
/// the link (the next apply deleted and re-created its zone).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_insync_wait_keeps_waiting() {
    let f = fixture().await;
    // A client without the SDK's retries: every Throttling reaches the wait.
    let (k, s) = f.world.credentials(PARENT_ACCOUNT);
    let conf = aws_sdk_route53::Config::builder()
        .behavior_version(aws_sdk_route53::config::BehaviorVersion::latest())
        .region(aws_sdk_route53::config::Region::new("us-east-1"))
        .endpoint_url(f.world.endpoint())
        .retry_config(aws_sdk_route53::config::retry::RetryConfig::disabled())
        .credentials_provider(aws_sdk_route53::config::Credentials::new(
            k, s, None, None, "test",
        ))
        .build();
    let r53 = aws_sdk_route53::Client::from_conf(conf);
    let name = DomainName::parse("throttled.example.com").unwrap();
    let rec = NsRecord {
        ttl: 300,
        values: NsSet::parse(["ns1.elsewhere.net"]).unwrap(),
    };
    let change = put_ns(&r53, &f.parent_zone_id, &name, &rec, None)
        .await
        .expect("write");
    f.world
        .inject_fault(Operation::GetChange, Fault::Throttling, 3);
    let before = answered(&f.world);
    let polls = Changes::default()
        .wait(
            &r53,
            &change,
            Duration::from_secs(30),
            Polling {
                first: Duration::ZERO,
                interval: Duration::from_millis(100),
            },
            std::future::pending(),
            &CancellationToken::new(),
        )
        .await
        .expect("a throttled wait goes on until INSYNC");
    let calls = route53_calls(&f.world, &before);
    assert_eq!(polls, 4, "three throttled polls, then INSYNC");
    assert_eq!(op(&calls, PARENT_ACCOUNT, Operation::GetChange), 4);
}

/// Failure mode: 60 links at Terraform's default parallelism against the
/// legacy 5 requests/s throttle: 34 failed at plan with `Throttling`; and
/// each link looked the parent zone up and assumed its roles on its own.
/// Now every phase succeeds, each within the call budget per link
/// (apply ≤ 5, a no-op read ≤ 1.2, destroy ≤ 5), with one AssumeRole per
/// role per phase.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_links_under_the_legacy_throttle_plan_apply_read_and_destroy() {
    fleet(60, "fleet").await;
}

/// The same budgets with ten links, Terraform's default parallelism: the
/// shared parent calls spread over fewer links.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_links_under_the_legacy_throttle_stay_within_the_budgets() {
    fleet(10, "ten").await;
}

/// Plans, applies, reads and destroys `n` links under one parent zone at
/// parallelism 10 against the legacy throttle, each phase on a fresh engine;
/// asserts no failure and the per-link call budgets.
async fn fleet(n: usize, prefix: &str) {
    const PARALLELISM: usize = 10;
    let f = fixture().await;
    f.world.set_throttle(ThrottleMode::legacy());
    let links = names(prefix, n);
    let window = Duration::from_millis(100);

    // plan
    let plan = provider_engine(&f.world, Pacing::Default, window);
    let before = answered(&f.world);
    let roles_before = assume_role_calls(&f.world);
    let gate = Arc::new(tokio::sync::Semaphore::new(PARALLELISM));
    let planned = join_all(links.iter().map(|n| {
        let gate = gate.clone();
        let plan = &plan;
        async move {
            let _slot = gate.acquire().await.unwrap();
            plan.preflight(&spec(n), None).await
        }
    }))
    .await;
    assert!(
        planned.iter().all(Result::is_ok),
        "{:?}",
        planned.iter().find(|r| r.is_err())
    );
    let plan_calls = route53_calls(&f.world, &before);
    assert_eq!(
        assume_role_calls(&f.world) - roles_before,
        1,
        "one AssumeRole for the parent role"
    );

    // apply
    let apply = provider_engine(&f.world, Pacing::Default, window);
    let before = answered(&f.world);
    let roles_before = assume_role_calls(&f.world);
    let states = apply_all(&apply, &links, PARALLELISM).await;
    let apply_calls = route53_calls(&f.world, &before);
    assert_eq!(
        assume_role_calls(&f.world) - roles_before,
        2,
        "one AssumeRole per role"
    );

    // no-op plan: read every link
    let read = provider_engine(&f.world, Pacing::Default, window);
    let before = answered(&f.world);
    let reads = join_all(links.iter().zip(&states).map(|(n, st)| {
        let gate = gate.clone();
        let read = &read;
        async move {
            let _slot = gate.acquire().await.unwrap();
            read.read(&spec(n), st).await
        }
    }))
    .await;
    for r in &reads {
        let r = r.as_ref().expect("read");
        assert!(
            r.state.is_some() && r.warnings.is_empty(),
            "{:?}",
            r.warnings
        );
    }
    let read_calls = route53_calls(&f.world, &before);

    // destroy
    let destroy = provider_engine(&f.world, Pacing::Default, window);
    let before = answered(&f.world);
    let cancel = CancellationToken::new();
    let destroyed = join_all(links.iter().zip(&states).map(|(n, st)| {
        let gate = gate.clone();
        let destroy = &destroy;
        let cancel = cancel.clone();
        async move {
            let _slot = gate.acquire().await.unwrap();
            destroy
                .destroy(&spec(n), st, Duration::from_secs(600), &cancel)
                .await
        }
    }))
    .await;
    assert!(
        destroyed.iter().all(Result::is_ok),
        "{:?}",
        destroyed.iter().find(|r| r.is_err())
    );
    let destroy_calls = route53_calls(&f.world, &before);
    assert!(
        child_zone_count(&f, prefix) == 0,
        "every child zone deleted"
    );

    let throttled: u64 = f.world.throttled_counts().values().sum();
    let per = |c: &BTreeMap<(String, Operation), u64>| total(c) as f64 / n as f64;
    eprintln!(
        "N={n} parallelism={PARALLELISM}: plan {:.2}/link, apply {:.2}/link, read {:.2}/link, destroy {:.2}/link, {throttled} Throttling answers",
        per(&plan_calls),
        per(&apply_calls),
        per(&read_calls),
        per(&destroy_calls)
    );
    eprintln!("apply: {apply_calls:?}\nread: {read_calls:?}\ndestroy: {destroy_calls:?}");
    assert!(per(&apply_calls) <= 5.0, "apply {apply_calls:?}");
    assert!(per(&read_calls) <= 1.2, "read {read_calls:?}");
    assert!(per(&destroy_calls) <= 5.0, "destroy {destroy_calls:?}");
    // The parent zone's lookup and listing, once for all links.
    assert!(total(&plan_calls) <= 3, "plan {plan_calls:?}");
}

fn child_zone_count(f: &Fixture, prefix: &str) -> usize {
    f.world
        .zones(CHILD)
        .into_iter()
        .filter(|z| z.name.starts_with(prefix))
        .count()
}
