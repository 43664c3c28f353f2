//! The provider lives and dies with Terraform: after `kill -9` of
//! `terraform` during an apply that waits on a long INSYNC, the provider
//! process notices its parent is gone, cancels in-flight work as
//! StopProvider does, and exits, so no further AWS call is made on behalf of
//! a Terraform that no longer exists.
//!
//! Run inside a loopback-only network namespace (`scripts/netns.sh`).

mod terraform_support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use r53world::Operation;
use terraform_support::*;

/// The provider processes whose parent is `ppid`.
fn provider_children(ppid: u32) -> Vec<u32> {
    let exe = std::fs::canonicalize(BIN).expect("provider binary");
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Some((parent, _)) = stat(pid) else {
            continue;
        };
        if parent == ppid
            && std::fs::read_link(format!("/proc/{pid}/exe")).ok() == Some(exe.clone())
        {
            pids.push(pid);
        }
    }
    pids
}

/// (parent pid, state letter) of a process, from `/proc/PID/stat`.
fn stat(pid: u32) -> Option<(u32, char)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces.
    let rest = &s[s.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((ppid, state))
}

/// Whether a process has exited (gone, or a zombie nobody reaped yet).
fn exited(pid: u32) -> bool {
    stat(pid).is_none_or(|(_, state)| state == 'Z' || state == 'X')
}

fn total_calls(env: &Env) -> u64 {
    env.world.call_counts().values().sum()
}

fn get_change_calls(env: &Env) -> u64 {
    env.world
        .call_counts()
        .iter()
        .filter(|((_, op), _)| *op == Operation::GetChange)
        .map(|(_, n)| n)
        .sum()
}

/// Failure mode: after `kill -9` of terraform the provider kept running for
/// 30 s and more, polling Route 53 (GetChange) for a Terraform that was gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_exits_within_two_seconds_of_terraform_being_killed() {
    let env = env().await;
    // A change that stays PENDING far longer than this test runs.
    env.world.set_insync_delay(Duration::from_secs(600));
    let tf = Tf::new(&env, "killed", &link("api", "api.example.com", CHILD, ""));
    let mut terraform = tf
        .cmd(&["apply", "-auto-approve", "-input=false", "-no-color"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start terraform (the Terraform CLI 1.11 or newer must be on PATH)");
    let terraform_pid = terraform.id();

    // Wait until the apply is waiting for INSYNC.
    let deadline = Instant::now() + Duration::from_secs(120);
    while get_change_calls(&env) == 0 {
        assert!(
            terraform.try_wait().unwrap().is_none(),
            "terraform ended before the apply waited on Route 53"
        );
        assert!(
            Instant::now() < deadline,
            "the apply never started waiting for INSYNC (no GetChange in 120 s)"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let providers = provider_children(terraform_pid);
    assert!(
        !providers.is_empty(),
        "no provider process found under terraform (pid {terraform_pid})"
    );

    terraform.kill().expect("kill -9 terraform");
    let killed = Instant::now();
    terraform.wait().expect("reap terraform");

    while !providers.iter().all(|&p| exited(p)) {
        assert!(
            killed.elapsed() < Duration::from_secs(2),
            "provider process(es) {providers:?} still running 2 s after terraform was killed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let gone_after = killed.elapsed();

    // Nothing more reaches the world: wait longer than the longest GetChange
    // poll interval.
    let calls = total_calls(&env);
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        total_calls(&env),
        calls,
        "the world received calls after the provider exited ({gone_after:?} after the kill)"
    );
}
