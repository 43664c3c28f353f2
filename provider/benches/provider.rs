//! `cargo bench -p terraform-provider-route53delegation`: what the provider
//! costs. Measures, in one run, and prints a table plus one JSON line
//! (`BENCH_JSON {...}`):
//!
//! 1. the size of the release binary the bench uses;
//! 2. time from process start to the go-plugin handshake line (mTLS, 20 runs);
//! 3. peak RSS (`VmHWM`) of the provider process, idle and while Terraform
//!    applies, plans and destroys 50 links;
//! 4. API calls per link (by operation, by account, and both in the JSON) and
//!    wall time of each Terraform command: a plan of the new links
//!    (`plan_new`, informational: apply without a saved plan plans first),
//!    apply, a no-op plan and destroy.
//!
//! Reports numbers only; nothing about timing is asserted. Needs the real
//! Terraform CLI on PATH and a network namespace with only loopback (the
//! world binds port 53 on 127.N addresses): run
//! `scripts/netns.sh cargo bench -p terraform-provider-route53delegation --offline`
//! (build first, outside the namespace, with `--no-run`), or `scripts/bench.sh`.
#![allow(clippy::print_stdout)]

#[path = "../tests/protocol_common/mod.rs"]
mod protocol_common;
#[path = "../tests/terraform_support/mod.rs"]
mod terraform_support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use r53world::{Operation, Service};
use serde_json::json;
use terraform_support::{start_debug_provider, Env, Tf, BIN, PARENT_ROLE};

const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
const HANDSHAKE_RUNS: usize = 20;
const LINKS: u64 = 50;

/// Exits with instructions unless only loopback is up (see
/// `core/tests/common/mod.rs`): /proc/self/net is per network namespace.
fn require_loopback_only_namespace() {
    let dev = std::fs::read_to_string("/proc/self/net/dev").unwrap_or_default();
    let others: Vec<String> = dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(|i| i.trim().to_string())
        .filter(|i| i != "lo")
        .collect();
    if !others.is_empty() {
        eprintln!(
            "this benchmark starts a local world that binds port 53 on 127.N addresses and must run \
             in a network namespace with only loopback (found interfaces {others:?}).\n\
             Build first, then run it in one:\n\n    \
             cargo bench -p terraform-provider-route53delegation --no-run\n    \
             scripts/netns.sh cargo bench -p terraform-provider-route53delegation --offline\n\n\
             (or scripts/bench.sh, which does both and runs the r53world bench too)"
        );
        std::process::exit(2);
    }
}

/// `VmHWM` / `VmRSS` of a process, in KiB.
fn mem_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn kill_wait(child: &mut Child, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

struct Handshake {
    min: Duration,
    median: Duration,
    max: Duration,
    hwm_kib: u64,
}

/// Starts the binary like Terraform does, `HANDSHAKE_RUNS` times, timing
/// spawn → first stdout line.
fn handshake_times() -> Handshake {
    let pem = protocol_common::client_cert().cert_pem;
    let mut times = Vec::new();
    let mut hwm = Vec::new();
    for _ in 0..HANDSHAKE_RUNS {
        let mut cmd = Command::new(BIN);
        cmd.env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            .env("PLUGIN_CLIENT_CERT", &pem)
            .env_remove("TF_LOG")
            .env_remove("TF_LOG_PROVIDER")
            .env_remove("PLUGIN_MIN_PORT")
            .env_remove("PLUGIN_MAX_PORT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let t0 = Instant::now();
        let mut child = cmd.spawn().expect("spawn provider");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read handshake");
        times.push(t0.elapsed());
        assert_eq!(
            line.trim_end().split('|').count(),
            6,
            "handshake line {line:?}"
        );
        hwm.push(mem_kib(child.id(), "VmHWM"));
        kill_wait(&mut child, "-KILL");
    }
    times.sort();
    hwm.sort_unstable();
    Handshake {
        min: times[0],
        median: times[times.len() / 2],
        max: times[times.len() - 1],
        hwm_kib: hwm[hwm.len() / 2],
    }
}

fn links_body() -> String {
    format!(
        r#"
locals {{
  names = toset([for i in range({LINKS}) : format("sub%02d", i)])
}}

resource "route53delegation_link" "bench" {{
  for_each = local.names
  name     = "${{each.key}}.example.com"
  parent {{
    zone_name = "example.com"
    assume_role {{ role_arn = "{PARENT_ROLE}" }}
  }}
  child {{
    assume_role {{ role_arn = "arn:aws:iam::222222222222:role/delegation-child" }}
  }}
}}
"#
    )
}

type Counts = BTreeMap<(String, Operation), u64>;

/// Per operation (summed over accounts): calls made between two snapshots.
fn diff(before: &Counts, after: &Counts) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for ((acct, op), n) in after {
        let was = before.get(&(acct.clone(), *op)).copied().unwrap_or(0);
        if *n > was {
            *out.entry(op.to_string()).or_insert(0) += n - was;
        }
    }
    out
}

/// Per account: calls made between two snapshots (Route 53 throttles per
/// account, so this is what bounds a real apply).
fn diff_by_account(before: &Counts, after: &Counts) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for ((acct, op), n) in after {
        let was = before.get(&(acct.clone(), *op)).copied().unwrap_or(0);
        if *n > was && op.service() == Service::Route53 {
            *out.entry(acct.clone()).or_insert(0) += n - was;
        }
    }
    out
}

/// Per account and operation: calls made between two snapshots.
fn diff_matrix(before: &Counts, after: &Counts) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut out: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for ((acct, op), n) in after {
        let was = before.get(&(acct.clone(), *op)).copied().unwrap_or(0);
        if *n > was {
            out.entry(acct.clone())
                .or_default()
                .insert(op.to_string(), n - was);
        }
    }
    out
}

struct Phase {
    name: &'static str,
    wall: Duration,
    calls: BTreeMap<String, u64>,
    route53_by_account: BTreeMap<String, u64>,
    by_account_op: BTreeMap<String, BTreeMap<String, u64>>,
    hwm_kib: u64,
    rss_kib: u64,
    exit_code: i32,
}

impl Phase {
    fn total(&self, sts: bool) -> u64 {
        self.calls
            .iter()
            .filter(|(op, _)| {
                let service = op.parse::<Operation>().map(Operation::service);
                service.is_ok_and(|s| (s == Service::Sts) == sts)
            })
            .map(|(_, n)| n)
            .sum()
    }
}

fn run_phase(
    env: &Env,
    tf: &Tf,
    reattach: &str,
    pid: u32,
    name: &'static str,
    args: &[&str],
) -> Phase {
    let before = env.world.call_counts();
    let t0 = Instant::now();
    let out = tf
        .cmd(args)
        .env("TF_REATTACH_PROVIDERS", reattach)
        .output()
        .expect("cannot run terraform (the Terraform CLI must be on PATH)");
    let wall = t0.elapsed();
    let after = env.world.call_counts();
    let code = out.status.code().unwrap_or(-1);
    let ok = code == 0 || (name.starts_with("plan") && code == 2);
    assert!(
        ok,
        "terraform {args:?} failed ({code}):\n{}",
        terraform_support::text(&out)
    );
    Phase {
        name,
        wall,
        calls: diff(&before, &after),
        route53_by_account: diff_by_account(&before, &after),
        by_account_op: diff_matrix(&before, &after),
        hwm_kib: mem_kib(pid, "VmHWM"),
        rss_kib: mem_kib(pid, "VmRSS"),
        exit_code: code,
    }
}

fn main() {
    require_loopback_only_namespace();
    if Command::new("terraform").arg("version").output().is_err() {
        eprintln!("the Terraform CLI (1.11 or newer) must be on PATH");
        std::process::exit(2);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    // 1. Binary size.
    let size = std::fs::metadata(BIN).expect("provider binary").len();

    // 2. Handshake latency.
    let hs = handshake_times();

    // 3 + 4. Terraform over 50 links, against a provider we own.
    let env = rt.block_on(terraform_support::env());
    let (mut provider, reattach) = start_debug_provider(&env, &env.tmp.path().join("provider.log"));
    let pid = provider.id();
    // Let the just-started process settle before sampling its idle memory.
    std::thread::sleep(Duration::from_millis(200));
    let idle_hwm = mem_kib(pid, "VmHWM");
    let tf = Tf::new(&env, "bench", &links_body());
    let plan = ["plan", "-detailed-exitcode", "-input=false", "-no-color"];
    let apply = ["apply", "-auto-approve", "-input=false", "-no-color"];
    let destroy = ["destroy", "-auto-approve", "-input=false", "-no-color"];
    // `plan_new` (nothing exists yet) is informational: it splits apply's
    // calls into Terraform's planning part and the apply proper.
    let steps: [(&'static str, &[&str]); 4] = [
        ("plan_new", &plan),
        ("apply", &apply),
        ("plan", &plan),
        ("destroy", &destroy),
    ];
    let phases: Vec<Phase> = steps
        .into_iter()
        .map(|(name, args)| run_phase(&env, &tf, &reattach, pid, name, args))
        .collect();
    let left = env.world.zones(terraform_support::CHILD).len();
    kill_wait(&mut provider, "-INT");

    // Report.
    let per = |n: u64| n as f64 / LINKS as f64;
    println!();
    println!("provider benchmark ({LINKS} links, Terraform's default parallelism of 10)");
    println!("binary                 {BIN}");
    println!(
        "binary size            {size} bytes ({:.2} MiB)",
        size as f64 / (1024.0 * 1024.0)
    );
    println!(
        "start → handshake      min {:.1} ms, median {:.1} ms, max {:.1} ms ({HANDSHAKE_RUNS} runs, mTLS)",
        ms(hs.min),
        ms(hs.median),
        ms(hs.max)
    );
    println!(
        "VmHWM at handshake     {:.1} MiB (median of runs)",
        mib(hs.hwm_kib)
    );
    println!("VmHWM idle (-debug)    {:.1} MiB", mib(idle_hwm));
    for p in &phases {
        println!(
            "VmHWM after {:<10} {:.1} MiB (VmRSS {:.1} MiB)",
            p.name,
            mib(p.hwm_kib),
            mib(p.rss_kib)
        );
    }
    println!();
    let row = |label: &str, cells: Vec<String>| {
        let cells: String = cells.iter().map(|c| format!(" {c:>10}")).collect();
        println!("  {label:<26}{cells}");
    };
    row(
        "calls per link",
        phases.iter().map(|p| p.name.to_string()).collect(),
    );
    let mut ops: Vec<&String> = phases.iter().flat_map(|p| p.calls.keys()).collect();
    ops.sort();
    ops.dedup();
    for op in ops {
        row(
            op,
            phases
                .iter()
                .map(|p| format!("{:.2}", per(p.calls.get(op).copied().unwrap_or(0))))
                .collect(),
        );
    }
    for (label, sts) in [("Route 53 total", false), ("STS total", true)] {
        row(
            label,
            phases
                .iter()
                .map(|p| format!("{:.2}", per(p.total(sts))))
                .collect(),
        );
    }
    let mut accts: Vec<&String> = phases
        .iter()
        .flat_map(|p| p.route53_by_account.keys())
        .collect();
    accts.sort();
    accts.dedup();
    for acct in accts {
        row(
            &format!("Route 53 in {acct}"),
            phases
                .iter()
                .map(|p| {
                    let n = p.route53_by_account.get(acct).copied().unwrap_or(0);
                    format!("{:.2}", per(n))
                })
                .collect(),
        );
    }
    row(
        "wall time",
        phases
            .iter()
            .map(|p| format!("{:.2}s", p.wall.as_secs_f64()))
            .collect(),
    );
    row(
        "exit code",
        phases.iter().map(|p| p.exit_code.to_string()).collect(),
    );
    if phases[2].exit_code != 0 {
        println!("note: the plan after apply was not empty");
    }
    if left != 0 {
        println!("note: {left} zones left in the child account after destroy");
    }

    let phase_json = |p: &Phase| {
        json!({
            "wall_s": p.wall.as_secs_f64(),
            "exit_code": p.exit_code,
            "vmhwm_kib": p.hwm_kib,
            "vmrss_kib": p.rss_kib,
            "route53_calls": p.total(false),
            "sts_calls": p.total(true),
            "route53_calls_per_link": per(p.total(false)),
            "sts_calls_per_link": per(p.total(true)),
            "calls": p.calls,
            "route53_calls_by_account": p.route53_by_account,
            "calls_by_account_and_operation": p.by_account_op,
        })
    };
    let mut report = json!({
        "links": LINKS,
        "binary": BIN,
        "binary_bytes": size,
        "binary_mib": size as f64 / (1024.0 * 1024.0),
        "handshake_ms": {
            "runs": HANDSHAKE_RUNS,
            "min": ms(hs.min),
            "median": ms(hs.median),
            "max": ms(hs.max),
        },
        "vmhwm_handshake_kib": hs.hwm_kib,
        "vmhwm_idle_debug_kib": idle_hwm,
        "child_zones_left": left,
    });
    for p in &phases {
        report[p.name] = phase_json(p);
    }
    println!();
    println!("BENCH_JSON {report}");
}
