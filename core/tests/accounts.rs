//! Clients per account against the local world: many links across accounts,
//! a role that may not be assumed, and endpoints set both in the
//! configuration and in the environment.
//!
//! The endpoint tests set `AWS_ENDPOINT_URL*`, which is process-wide: each
//! runs its body in a child process (this test binary, run again for that
//! one test), so no other test here sees the variables.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use r53world::{Operation, Permission, RoleSpec, World, OPERATOR_ACCOUNT, PARENT_ACCOUNT};
use route53delegation::account::{AccountSettings, Endpoints, ASSUME_ROLE_ATTEMPTS};
use route53delegation::change::Backoff;
use route53delegation::delegation::VerifyStatus;
use route53delegation::{CancellationToken, Engine, EngineConfig, Error, LinkSpec};
use support::*;

const CHILDREN: [&str; 3] = ["222222222222", "333333333333", "444444444444"];

/// A role in a child account whose trust policy does not allow the operator.
const UNTRUSTING_ROLE: &str = "arn:aws:iam::444444444444:role/untrusting";

fn assume_role_calls(world: &World) -> u64 {
    world.calls(OPERATOR_ACCOUNT, Operation::AssumeRole)
}

fn engine(world: &World, defaults: AccountSettings, assume_role_backoff: Duration) -> Engine {
    Engine::new(EngineConfig {
        defaults,
        resolvers: vec![world.resolver()],
        roots: vec![world.root_server()],
        insync_backoff: Some(Backoff {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(200),
        }),
        assume_role_backoff: Some(assume_role_backoff),
        ..Default::default()
    })
}

fn world_endpoints(world: &World) -> AccountSettings {
    AccountSettings {
        region: Some("us-east-1".into()),
        endpoints: Endpoints {
            route53: Some(world.endpoint()),
            sts: Some(world.endpoint()),
        },
        ..Default::default()
    }
}

fn link(name: &str, child_role: &str) -> LinkSpec {
    let mut s = spec(name);
    s.child.account = role(child_role);
    s
}

/// When each link finished, from a common start, and how.
struct Run {
    finished: Vec<(Duration, Result<VerifyStatus, Error>)>,
}

/// Applies the links all at once, as Terraform does with a `for_each`.
async fn apply_all(engine: &Engine, links: &[LinkSpec]) -> Run {
    let start = Instant::now();
    let c = CancellationToken::new();
    let runs = links.iter().map(|l| {
        let c = c.clone();
        async move {
            let out = engine.apply(l, None, T, &c).await;
            let out = out
                .map(|a| {
                    a.state
                        .verification
                        .map(|v| v.status)
                        .unwrap_or(VerifyStatus::Skipped)
                })
                .map_err(|f| f.error);
            (start.elapsed(), out)
        }
    });
    Run {
        finished: futures::future::join_all(runs).await,
    }
}

#[tokio::test]
async fn a_denied_role_neither_delays_other_accounts_nor_is_retried_per_link() {
    // Guards: one lock over every client build, held while a denied role
    // backs off, so every other account's links wait for it; and each link
    // with the bad role going through the whole retry budget again.
    let f = fixture().await;
    f.world.add_role(RoleSpec {
        account: "444444444444".into(),
        name: "untrusting".into(),
        trusted_accounts: vec![PARENT_ACCOUNT.into()],
        external_id: None,
        permission: Permission::Full,
    });
    // The denied role's whole back-off sequence: b + 2b + 4b + 8b.
    let backoff = Duration::from_millis(1000);
    let denied_sequence = backoff * ((1 << (ASSUME_ROLE_ATTEMPTS - 1)) - 1);

    // All good: ten links over the three child accounts.
    let good_role = |i: usize| child_role(CHILDREN[i % 3]);
    let all_good: Vec<LinkSpec> = (0..10)
        .map(|i| link(&format!("good{i}.example.com"), &good_role(i)))
        .collect();
    let baseline = apply_all(
        &engine(&f.world, world_endpoints(&f.world), backoff),
        &all_good,
    )
    .await;
    for (_, out) in &baseline.finished {
        assert!(matches!(out, Ok(VerifyStatus::Verified)), "{out:?}");
    }
    let baseline_max = baseline.finished.iter().map(|(t, _)| *t).max().unwrap();

    // The same, but links 0, 4 and 8 (the first started among them) go to an
    // account whose role refuses the operator. A fresh engine: nothing cached.
    let denied = |i: usize| i.is_multiple_of(4);
    let mixed: Vec<LinkSpec> = (0..10)
        .map(|i| {
            let arn = if denied(i) {
                UNTRUSTING_ROLE.to_string()
            } else {
                good_role(i)
            };
            link(&format!("mixed{i}.example.com"), &arn)
        })
        .collect();
    let engine = engine(&f.world, world_endpoints(&f.world), backoff);
    let calls_before = assume_role_calls(&f.world);
    let run = apply_all(&engine, &mixed).await;
    let assumed = assume_role_calls(&f.world) - calls_before;

    let mut good_max = Duration::ZERO;
    let mut denied_first = Duration::MAX;
    let mut messages = Vec::new();
    for (i, (at, out)) in run.finished.iter().enumerate() {
        if denied(i) {
            let err = out.as_ref().expect_err("the untrusting role is denied");
            assert!(matches!(err, Error::AssumeRole { .. }), "{err}");
            messages.push(err.to_string());
            denied_first = denied_first.min(*at);
        } else {
            assert!(
                matches!(out, Ok(VerifyStatus::Verified)),
                "link {i}: {out:?}"
            );
            good_max = good_max.max(*at);
        }
    }
    eprintln!(
        "all-good run: {baseline_max:?}; with a denied role: good links {good_max:?}, denied links failed at {denied_first:?}; AssumeRole calls {assumed}"
    );

    // Each denied link fails with the same clear message.
    let msg = &messages[0];
    assert!(
        messages.iter().all(|m| m == msg),
        "one message for every link of the role: {messages:#?}"
    );
    assert!(
        msg.starts_with(&format!("assuming role {UNTRUSTING_ROLE}: AccessDenied: ")),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("(after {ASSUME_ROLE_ATTEMPTS} attempts)"))
            && msg.contains("trust policy"),
        "{msg}"
    );
    // The denied links did wait out the back-off (IAM propagation) ...
    assert!(denied_first >= denied_sequence, "{denied_first:?}");
    // ... but the other accounts' links did not wait for it: they were all
    // done before it ended, and took no more than a few times the all-good
    // run (which holds however slow the machine is: both runs are).
    assert!(
        good_max < denied_sequence,
        "good links finished at {good_max:?}, after the denied role's back-off ({denied_sequence:?}): they waited for it"
    );
    assert!(
        good_max <= baseline_max * 4 + Duration::from_secs(2),
        "good links took {good_max:?} against {baseline_max:?} with no denied role"
    );
    // One build per role: the parent role and three child roles once each,
    // and the denied role its retry budget once in all, not per link.
    assert_eq!(
        assumed,
        4 + u64::from(ASSUME_ROLE_ATTEMPTS),
        "AssumeRole calls: 1 per good role + {ASSUME_ROLE_ATTEMPTS} for the denied role"
    );

    // A later link with the bad role fails at once with the same message,
    // without asking STS again.
    let before = assume_role_calls(&f.world);
    let again = engine
        .apply(
            &link("late.example.com", UNTRUSTING_ROLE),
            None,
            T,
            &CancellationToken::new(),
        )
        .await
        .expect_err("still denied");
    assert_eq!(&again.error.to_string(), msg);
    assert_eq!(
        assume_role_calls(&f.world),
        before,
        "the failure is remembered"
    );
}

#[tokio::test]
async fn concurrent_links_of_one_role_assume_it_once() {
    // Guards: every link (and every client built for it) calling AssumeRole.
    let f = fixture().await;
    let engine = engine(
        &f.world,
        world_endpoints(&f.world),
        Duration::from_millis(50),
    );
    let links: Vec<LinkSpec> = (0..10)
        .map(|i| link(&format!("one{i}.example.com"), &child_role(CHILDREN[0])))
        .collect();
    let before = assume_role_calls(&f.world);
    let run = apply_all(&engine, &links).await;
    for (_, out) in &run.finished {
        assert!(matches!(out, Ok(VerifyStatus::Verified)), "{out:?}");
    }
    assert_eq!(
        assume_role_calls(&f.world) - before,
        2,
        "one AssumeRole for the parent role and one for the child role"
    );
    assert_eq!(engine.clients().built(), 2);
}

// ------------------------------------------------------------- endpoints

/// Set in the child process: which endpoint case to run.
const CASE_VAR: &str = "R53D_ACCOUNTS_ENDPOINT_CASE";

/// A closed port on loopback: anything sent there is refused.
const NOWHERE: &str = "http://127.0.0.1:9";

const ENDPOINT_VARS: [&str; 3] = [
    "AWS_ENDPOINT_URL_ROUTE_53",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL",
];

/// Runs `test` again in a child process with `CASE_VAR` set, and fails with
/// its output unless it passes. Returns true in the child, which then runs
/// the case itself.
fn in_child_process(test: &str) -> bool {
    if std::env::var(CASE_VAR).as_deref() == Ok(test) {
        return true;
    }
    let mut cmd = Command::new(std::env::current_exe().expect("test binary"));
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CASE_VAR, test);
    for v in ENDPOINT_VARS {
        cmd.env_remove(v);
    }
    let out = cmd.output().expect("running the test binary again");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{test} failed in its child process:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("1 passed"),
        "{test} did not run in its child process:\n{stdout}"
    );
    false
}

/// Applies one link and returns the AssumeRole calls the world received.
async fn apply_one(f: &Fixture, engine: &Engine, name: &str) -> u64 {
    let before = assume_role_calls(&f.world);
    let st = engine
        .apply(&spec(name), None, T, &CancellationToken::new())
        .await
        .unwrap_or_else(|e| panic!("apply {name}: {}", e.error))
        .state;
    assert_eq!(st.verification.unwrap().status, VerifyStatus::Verified);
    assume_role_calls(&f.world) - before
}

#[tokio::test]
async fn configured_endpoints_beat_the_environment() {
    // Guards: AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL, set for another tool,
    // silently sending AssumeRole elsewhere ("Cannot assume role ...
    // Connection refused") although the configuration names the endpoint.
    if !in_child_process("configured_endpoints_beat_the_environment") {
        return;
    }
    for v in ENDPOINT_VARS {
        std::env::set_var(v, NOWHERE);
    }
    let f = fixture().await;
    let engine = engine(
        &f.world,
        world_endpoints(&f.world),
        Duration::from_millis(50),
    );
    assert_eq!(
        apply_one(&f, &engine, "cfg.example.com").await,
        2,
        "AssumeRole for the parent and child roles reached the configured endpoint"
    );
}

#[tokio::test]
async fn a_configured_sts_endpoint_beats_the_environment_alone() {
    // Guards: the STS setting lost to the environment even when the Route 53
    // endpoint comes from the environment (per service precedence).
    if !in_child_process("a_configured_sts_endpoint_beats_the_environment_alone") {
        return;
    }
    let f = fixture().await;
    std::env::set_var("AWS_ENDPOINT_URL_ROUTE_53", f.world.endpoint());
    std::env::set_var("AWS_ENDPOINT_URL_STS", NOWHERE);
    std::env::set_var("AWS_ENDPOINT_URL", NOWHERE);
    let mut defaults = world_endpoints(&f.world);
    defaults.endpoints.route53 = None;
    let engine = engine(&f.world, defaults, Duration::from_millis(50));
    assert_eq!(apply_one(&f, &engine, "sts.example.com").await, 2);
}

#[tokio::test]
async fn with_no_endpoints_configured_the_environment_applies() {
    // Guards: the fix ignoring the environment altogether.
    if !in_child_process("with_no_endpoints_configured_the_environment_applies") {
        return;
    }
    let f = fixture().await;
    std::env::set_var("AWS_ENDPOINT_URL", f.world.endpoint());
    let defaults = AccountSettings {
        region: Some("us-east-1".into()),
        ..Default::default()
    };
    let engine = engine(&f.world, defaults, Duration::from_millis(50));
    assert_eq!(apply_one(&f, &engine, "env.example.com").await, 2);
}
