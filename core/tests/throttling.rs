//! Clients that ride out Route 53's per-account throttling: many calls at
//! once against accounts throttled at the legacy 5 requests per second all
//! succeed, patiently, instead of failing once a process-wide retry quota
//! runs out.
//!
//! Run inside a loopback-only network namespace (`scripts/netns.sh`).

mod support;

use std::time::{Duration, Instant};

use futures::future::join_all;
use r53world::{Operation, ThrottleMode, PARENT_ACCOUNT};
use support::*;

/// Failure mode: 60 links planned at Terraform's default parallelism against
/// the legacy 5/s throttle failed with `Throttling` after about 3.5 retries
/// each: the SDK's standard retry shares one retry quota (a token bucket of
/// 500, 5 per retry) across every client in the process, so it ran dry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_against_a_throttled_account_all_succeeds() {
    const CALLS: usize = 60;
    let f = fixture().await;
    let parent = f
        .engine
        .clients()
        .route53(&role(PARENT_ROLE))
        .await
        .expect("client");
    let child = f
        .engine
        .clients()
        .route53(&role(&child_role(CHILD)))
        .await
        .expect("client");
    f.world.set_throttle(ThrottleMode::legacy());

    let started = Instant::now();
    let calls = (0..CALLS).map(|i| {
        // Both accounts at once, as a for_each over links does.
        let c = if i % 4 == 0 {
            child.clone()
        } else {
            parent.clone()
        };
        let zone = f.parent_zone_id.clone();
        async move {
            if i % 4 == 0 {
                c.list_hosted_zones_by_name()
                    .dns_name("api.example.com")
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{}", aws_sdk_route53::error::DisplayErrorContext(e)))
            } else {
                c.get_hosted_zone()
                    .id(zone)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{}", aws_sdk_route53::error::DisplayErrorContext(e)))
            }
        }
    });
    let results = join_all(calls).await;
    let elapsed = started.elapsed();
    let failed: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().err().cloned())
        .collect();
    let throttled: u64 = f.world.throttled_counts().values().sum();
    eprintln!("{CALLS} calls in {elapsed:?} with {throttled} Throttling answers");
    assert!(
        failed.is_empty(),
        "{} of {CALLS} calls failed ({throttled} Throttling answers, {elapsed:?}): {}",
        failed.len(),
        failed.first().cloned().unwrap_or_default()
    );
    // The world really throttled: 45 parent calls need at least 8 s at 5/s.
    assert!(throttled > 0, "no Throttling answer was sent");
    let parent_calls = f.world.calls(PARENT_ACCOUNT, Operation::GetHostedZone);
    assert!(parent_calls >= 45, "{parent_calls}");
    assert!(elapsed >= Duration::from_secs(8), "{elapsed:?}");
}
