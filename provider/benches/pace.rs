//! `scripts/bench.sh` (or `cargo bench -p terraform-provider-route53delegation
//! --bench pace` in a loopback-only namespace): the side-by-side benchmark at
//! Route 53's real pace (issue 12).
//!
//! For every scenario (N links at parallelism P, a throttle model, one or
//! three child accounts) it runs, at the same time and each against its own
//! world with `BENCH_INSYNC` seconds to INSYNC:
//! - **ours**: this provider under the real Terraform CLI (apply, no-op plan,
//!   destroy), the provider started once in `-debug` mode so its peak RSS
//!   (`VmHWM`) can be read;
//! - **model**: a model of terraform-provider-aws's calls (replayed), not the
//!   provider itself (see `pace/model.rs`).
//!
//! Every scenario runs concurrently (separate worlds on separate 127.N
//! nets): wall time is dominated by INSYNC waits, not CPU. Counts come from
//! the worlds' counters, never from timing. Prints a table, ratios
//! (ours / model), PASS/MISS per target (nothing is asserted) and one
//! `BENCH_JSON {...}` line, and writes the results to `BENCH_OUT`
//! (default `target/bench/pace.json`) as each scenario finishes.
//!
//! Settings (environment): `BENCH_INSYNC` (seconds, default 60),
//! `BENCH_JITTER` (seconds, default 5: each change is INSYNC after a time
//! uniform in [INSYNC − jitter, INSYNC], "generally within 60 seconds"),
//! `BENCH_QUICK=1` (small N, the model's waiter interval scaled by
//! INSYNC/60), `BENCH_SCENARIOS` (comma-separated ids), `BENCH_DEADLINE`
//! (seconds per command before it is stopped and counted as a failure),
//! `BENCH_COMMIT` (recorded in the results).
#![allow(clippy::print_stdout)]

#[path = "pace/model.rs"]
mod model;
#[path = "pace/report.rs"]
mod report;
#[path = "../tests/terraform_support/mod.rs"]
mod terraform_support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use r53world::{Operation, Service, ThrottleMode, World, CHILD_ACCOUNTS, PARENT_ACCOUNT};
use report::{Phase, Run, Scenario, Settings};
use terraform_support::{
    child_role, provider_block, start_debug_provider, Env, Tf, BIN, PARENT_ROLE,
};

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn settings() -> Settings {
    let insync = env_f64("BENCH_INSYNC", 60.0);
    let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| v == "1");
    let jitter = env_f64("BENCH_JITTER", if quick { 1.0 } else { 5.0 }).min(insync);
    let deadline = env_f64("BENCH_DEADLINE", if quick { 600.0 } else { 1680.0 });
    let out = std::env::var("BENCH_OUT").map_or_else(
        |_| {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            root.parent().unwrap_or(root).join("target/bench/pace.json")
        },
        PathBuf::from,
    );
    Settings {
        insync,
        jitter,
        quick,
        deadline: Duration::from_secs_f64(deadline),
        commit: std::env::var("BENCH_COMMIT").unwrap_or_else(|_| "unknown".into()),
        binary: BIN.to_string(),
        out,
    }
}

/// The issue's scenarios; quick mode keeps their shape with fewer links.
fn scenarios(s: &Settings) -> Vec<Scenario> {
    let sc = |id: &'static str, n, p, legacy: bool, children| Scenario {
        id,
        n,
        p,
        throttle: if legacy { "legacy 5/s" } else { "buckets" },
        children,
    };
    let all = if s.quick {
        vec![
            sc("n1", 1, 10, false, 1),
            sc("n10", 10, 10, false, 1),
            sc("n60", 20, 10, false, 1),
            sc("n200p50", 20, 5, true, 3),
            sc("n200p200", 20, 20, true, 3),
            sc("floor", 20, 20, true, 1),
        ]
    } else {
        vec![
            sc("n1", 1, 10, false, 1),
            sc("n10", 10, 10, false, 1),
            sc("n60", 60, 10, false, 1),
            sc("n200p50", 200, 50, true, 3),
            sc("n200p200", 200, 200, true, 3),
            sc("floor", 200, 200, true, 1),
        ]
    };
    match std::env::var("BENCH_SCENARIOS") {
        Ok(list) if !list.trim().is_empty() => {
            let want: Vec<&str> = list.split(',').map(str::trim).collect();
            all.into_iter().filter(|s| want.contains(&s.id)).collect()
        }
        _ => all,
    }
}

/// Exits with instructions unless only loopback is up.
fn require_loopback_only_namespace() {
    let dev = std::fs::read_to_string("/proc/self/net/dev").unwrap_or_default();
    let others: Vec<&str> = dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .filter(|i| *i != "lo")
        .collect();
    if !others.is_empty() {
        eprintln!(
            "this benchmark starts local worlds that bind port 53 on 127.N addresses and must run \
             in a network namespace with only loopback (found {others:?}); use scripts/bench.sh"
        );
        std::process::exit(2);
    }
}

/// A world like the Terraform tests' (example.com in the parent account),
/// then set to the benchmark's pace and throttle.
async fn world(s: &Settings, sc: &Scenario) -> Env {
    let env = terraform_support::env().await;
    let w = &env.world;
    w.set_insync_delay(Duration::from_secs_f64(s.insync - s.jitter));
    w.set_insync_jitter(Duration::from_secs_f64(s.jitter));
    w.set_throttle(if sc.throttle.starts_with("legacy") {
        ThrottleMode::legacy()
    } else {
        ThrottleMode::buckets()
    });
    env
}

type Counts = BTreeMap<(String, Operation), u64>;

/// What the world counted between two snapshots.
fn phase_counts(n: u64, before: (&Counts, &Counts), after: (&Counts, &Counts)) -> Phase {
    let mut calls: BTreeMap<String, u64> = BTreeMap::new();
    let (mut parent_writes, mut r53, mut sts) = (0, 0, 0);
    for ((acct, op), v) in after.0 {
        let d = v - before.0.get(&(acct.clone(), *op)).unwrap_or(&0);
        if d > 0 {
            *calls.entry(op.to_string()).or_default() += d;
            match op.service() {
                Service::Route53 => r53 += d,
                Service::Sts => sts += d,
            }
            if acct == PARENT_ACCOUNT && *op == Operation::ChangeResourceRecordSets {
                parent_writes += d;
            }
        }
    }
    let throttled: u64 = after
        .1
        .iter()
        .map(|(k, v)| v - before.1.get(k).unwrap_or(&0))
        .sum();
    Phase {
        wall_s: 0.0,
        route53_calls: r53,
        route53_per_link: r53 as f64 / n.max(1) as f64,
        accepted_per_link: r53.saturating_sub(throttled) as f64 / n.max(1) as f64,
        sts_calls: sts,
        throttled,
        parent_writes,
        failures: 0,
        errors: Vec::new(),
        calls,
    }
}

fn snapshot(w: &World) -> (Counts, Counts) {
    (w.call_counts(), w.throttled_counts())
}

/// Links delegated in the parent zone, and child zones left (leaks after
/// destroy).
fn census(env: &Env) -> (u64, u64) {
    let delegated = env
        .world
        .zones(PARENT_ACCOUNT)
        .iter()
        .flat_map(|z| z.records.iter())
        .filter(|r| r.rtype == r53world::RrType::Ns && r.name != "example.com.")
        .count() as u64;
    let zones = CHILD_ACCOUNTS
        .iter()
        .map(|a| env.world.zones(a).len() as u64)
        .sum();
    (delegated, zones)
}

fn vm_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill").args([sig, &pid.to_string()]).status();
}

fn links_body(sc: &Scenario) -> String {
    let roles: Vec<String> = CHILD_ACCOUNTS[..sc.children]
        .iter()
        .map(|a| format!("\"{}\"", child_role(a)))
        .collect();
    format!(
        r#"
locals {{
  roles = [{roles}]
}}

resource "route53delegation_link" "bench" {{
  count = {n}
  name  = format("sub%03d.example.com", count.index)
  parent {{
    zone_name = "example.com"
    assume_role {{ role_arn = "{PARENT_ROLE}" }}
  }}
  child {{
    assume_role {{ role_arn = local.roles[count.index % length(local.roles)] }}
  }}
}}
"#,
        roles = roles.join(", "),
        n = sc.n,
    )
}

/// Our provider's block, with a verification timeout far above the INSYNC
/// time.
fn our_provider_block(env: &Env) -> String {
    provider_block(env, "30m")
}

/// Runs one Terraform command, stopping it (SIGINT, then SIGKILL) at the
/// deadline. Returns (exit code, -1 when stopped; wall time; output).
fn run_tf(tf: &Tf, reattach: &str, args: &[&str], deadline: Instant) -> (i32, f64, String) {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let (out_path, err_path) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = tf
        .cmd(args)
        .env("TF_REATTACH_PROVIDERS", reattach)
        .stdout(std::fs::File::create(&out_path).expect("out"))
        .stderr(std::fs::File::create(&err_path).expect("err"))
        .spawn()
        .expect("cannot run terraform (the Terraform CLI must be on PATH)");
    let mut stopped = false;
    let code = loop {
        if let Ok(Some(st)) = child.try_wait() {
            break if stopped { -1 } else { st.code().unwrap_or(-1) };
        }
        if !stopped && Instant::now() > deadline {
            stopped = true;
            signal(child.id(), "-INT");
        }
        if stopped && Instant::now() > deadline + Duration::from_secs(60) {
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let wall = t0.elapsed().as_secs_f64();
    let text = format!(
        "{}{}",
        std::fs::read_to_string(out_path).unwrap_or_default(),
        std::fs::read_to_string(err_path).unwrap_or_default()
    );
    (code, wall, text)
}

/// Error diagnostics in Terraform's output (one per failed resource).
fn tf_errors(text: &str) -> (u64, Vec<String>) {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start_matches(['│', ' ']).starts_with("Error: "))
        .collect();
    let mut sample: Vec<String> = Vec::new();
    for l in &lines {
        let l = l.trim_start_matches(['│', ' ']).to_string();
        if !sample.contains(&l) && sample.len() < 3 {
            sample.push(l);
        }
    }
    (lines.len() as u64, sample)
}

/// Our provider under the real Terraform CLI.
fn run_ours(s: &Settings, sc: &Scenario, start: Instant) -> Run {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let env = rt.block_on(world(s, sc));
    let logs = s.out.with_file_name("logs");
    let _ = std::fs::create_dir_all(&logs);
    let log = logs.join(format!("{}-ours-provider.log", sc.id));
    let (mut provider, reattach) = start_debug_provider(&env, &log);
    let pid = provider.id();
    let tf = Tf::new(&env, "bench", "");
    std::fs::write(
        tf.dir.join("main.tf"),
        format!("{}\n{}", our_provider_block(&env), links_body(sc)),
    )
    .expect("write main.tf");
    let par = format!("-parallelism={}", sc.p);
    let common = ["-input=false", "-no-color", par.as_str()];
    let steps: [(&str, &str, &[&str]); 3] = [
        ("apply", "apply", &["-auto-approve"]),
        ("plan", "plan", &["-detailed-exitcode"]),
        ("destroy", "destroy", &["-auto-approve"]),
    ];
    let mut run = Run::new("ours");
    for (name, cmd, extra) in steps {
        let mut args = vec![cmd];
        args.extend_from_slice(extra);
        args.extend_from_slice(&common);
        let before = snapshot(&env.world);
        let (code, wall, text) = run_tf(&tf, &reattach, &args, start + s.deadline);
        let after = snapshot(&env.world);
        let _ = std::fs::write(logs.join(format!("{}-ours-{name}.log", sc.id)), &text);
        let mut p = phase_counts(sc.n, (&before.0, &before.1), (&after.0, &after.1));
        p.wall_s = wall;
        let (errors, sample) = tf_errors(&text);
        p.failures = errors;
        p.errors = sample;
        let ok = code == 0 || (name == "plan" && code == 2);
        if !ok && p.failures == 0 {
            p.failures = 1;
            p.errors.push(if code == -1 {
                format!(
                    "stopped at the deadline ({:.0} s)",
                    s.deadline.as_secs_f64()
                )
            } else {
                format!("terraform {name} exited {code}")
            });
        }
        if name == "plan" && code == 2 {
            p.errors.push("the plan after apply was not empty".into());
        }
        run.exit_codes.insert(name.to_string(), code);
        run.hwm_kib.insert(name.to_string(), vm_kib(pid, "VmHWM"));
        if name == "apply" {
            run.delegated_after_apply = census(&env).0;
        }
        run.phases.insert(name.to_string(), p);
    }
    run.leaks_after_destroy = census(&env);
    signal(pid, "-INT");
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) {
        if let Ok(Some(_)) = provider.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = provider.kill();
    let _ = provider.wait();
    drop(rt);
    run
}

/// The model of terraform-provider-aws's calls (replayed).
fn run_model(s: &Settings, sc: &Scenario, start: Instant) -> Run {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let env = world(s, sc).await;
        let w = &env.world;
        let endpoint = w.endpoint();
        let m = model::Model {
            children: CHILD_ACCOUNTS[..sc.children]
                .iter()
                .map(|a| model::client(&endpoint, a, w.credentials(a)))
                .collect(),
            parent: model::client(&endpoint, PARENT_ACCOUNT, w.credentials(PARENT_ACCOUNT)),
            parent_zone_id: env.parent_zone_id.clone(),
            interval: Duration::from_secs_f64(if s.quick {
                15.0 * s.insync / 60.0
            } else {
                15.0
            }),
            parallelism: sc.p,
        };
        let mut links: Vec<model::LinkState> = (0..sc.n)
            .map(|i| model::LinkState {
                name: format!("sub{i:03}.example.com"),
                child: i as usize % sc.children,
                ..Default::default()
            })
            .collect();
        let mut run = Run::new("model");
        for name in ["apply", "plan", "destroy"] {
            let before = snapshot(w);
            let remaining = (start + s.deadline).saturating_duration_since(Instant::now());
            let fut = async {
                match name {
                    "apply" => m.apply(&mut links).await,
                    "plan" => m.plan(&mut links).await,
                    _ => m.destroy(&mut links).await,
                }
            };
            let t0 = Instant::now();
            let out = tokio::time::timeout(remaining, fut).await;
            let after = snapshot(w);
            let mut p = phase_counts(sc.n, (&before.0, &before.1), (&after.0, &after.1));
            match out {
                Ok(o) => {
                    p.wall_s = o.wall.as_secs_f64();
                    p.failures = o.failures;
                    p.errors = o.errors;
                }
                Err(_) => {
                    p.wall_s = t0.elapsed().as_secs_f64();
                    p.failures = 1;
                    p.errors.push(format!(
                        "stopped at the deadline ({:.0} s)",
                        s.deadline.as_secs_f64()
                    ));
                }
            }
            if name == "apply" {
                run.delegated_after_apply = census(&env).0;
            }
            run.phases.insert(name.to_string(), p);
        }
        run.leaks_after_destroy = census(&env);
        run
    })
}

fn main() {
    require_loopback_only_namespace();
    if Command::new("terraform").arg("version").output().is_err() {
        eprintln!("the Terraform CLI (1.11 or newer) must be on PATH");
        std::process::exit(2);
    }
    let s = settings();
    let list = scenarios(&s);
    let start = Instant::now();
    eprintln!(
        "pace bench: {} scenarios, INSYNC {} s (jitter {} s){}; ours and the model side by side, all at once",
        list.len(),
        s.insync,
        s.jitter,
        if s.quick { ", quick mode" } else { "" }
    );
    let (tx, rx) = mpsc::channel::<(usize, Run)>();
    let mut handles = Vec::new();
    for (i, sc) in list.iter().enumerate() {
        for ours in [true, false] {
            let (tx, s, sc) = (tx.clone(), s.clone(), sc.clone());
            handles.push(std::thread::spawn(move || {
                let run = if ours {
                    run_ours(&s, &sc, start)
                } else {
                    run_model(&s, &sc, start)
                };
                let _ = tx.send((i, run));
            }));
        }
    }
    drop(tx);
    let mut results: Vec<report::ScenarioResult> = list
        .iter()
        .cloned()
        .map(report::ScenarioResult::new)
        .collect();
    for (i, run) in rx {
        let r = &mut results[i];
        eprintln!(
            "pace bench: {} {} done after {:.0} s",
            r.scenario.id,
            run.label,
            start.elapsed().as_secs_f64()
        );
        r.add(run);
        report::write(&s, &results, start.elapsed());
    }
    for h in handles {
        if h.join().is_err() {
            eprintln!("pace bench: a scenario thread panicked (its results are missing)");
        }
    }
    report::print(&s, &results, start.elapsed());
}
