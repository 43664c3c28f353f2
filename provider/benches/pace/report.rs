//! The pace benchmark's results: the table, ratios (ours / model), the
//! issue's targets with PASS/MISS (reported, never asserted), the
//! `BENCH_JSON` line and the results file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

/// The benchmark's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Seconds until a change is INSYNC (at most; see `jitter`).
    pub insync: f64,
    /// Each change is INSYNC after a time uniform in [insync − jitter, insync].
    pub jitter: f64,
    pub quick: bool,
    /// Time from the start after which a command is stopped.
    pub deadline: Duration,
    pub commit: String,
    /// The provider binary measured (its path tells the cargo profile).
    pub binary: String,
    pub out: PathBuf,
}

impl Settings {
    fn profile(&self) -> &'static str {
        if self.binary.contains("/release/") {
            "release"
        } else {
            "dev (debug build: RSS is higher than a release build's)"
        }
    }
}

/// One scenario: N links at parallelism P.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub id: &'static str,
    pub n: u64,
    pub p: usize,
    pub throttle: &'static str,
    /// Child accounts the links are spread over.
    pub children: usize,
}

/// One command (apply, no-op plan, destroy) as the world counted it.
#[derive(Debug, Clone)]
pub struct Phase {
    pub wall_s: f64,
    pub route53_calls: u64,
    pub route53_per_link: f64,
    /// Route 53 calls per link the world accepted (not throttled).
    pub accepted_per_link: f64,
    pub sts_calls: u64,
    /// `Throttling` answers the world sent.
    pub throttled: u64,
    /// `ChangeResourceRecordSets` in the parent account.
    pub parent_writes: u64,
    /// Failed resources (ours: Terraform's error diagnostics).
    pub failures: u64,
    pub errors: Vec<String>,
    /// Calls by operation, STS included.
    pub calls: BTreeMap<String, u64>,
}

/// One side of a scenario: ours or the model.
#[derive(Debug, Clone)]
pub struct Run {
    pub label: &'static str,
    pub phases: BTreeMap<String, Phase>,
    pub exit_codes: BTreeMap<String, i32>,
    /// The provider's `VmHWM` after each command (KiB; ours only).
    pub hwm_kib: BTreeMap<String, u64>,
    /// NS records for links in the parent zone after apply.
    pub delegated_after_apply: u64,
    /// (parent NS records, child zones) left after destroy.
    pub leaks_after_destroy: (u64, u64),
}

impl Run {
    pub fn new(label: &'static str) -> Run {
        Run {
            label,
            phases: BTreeMap::new(),
            exit_codes: BTreeMap::new(),
            hwm_kib: BTreeMap::new(),
            delegated_after_apply: 0,
            leaks_after_destroy: (0, 0),
        }
    }

    fn phase(&self, name: &str) -> Option<&Phase> {
        self.phases.get(name)
    }

    fn failures(&self) -> u64 {
        self.phases.values().map(|p| p.failures).sum()
    }

    fn throttled(&self) -> u64 {
        self.phases.values().map(|p| p.throttled).sum()
    }

    /// Peak RSS in MiB (the provider's `VmHWM` at the end), if measured.
    fn peak_mib(&self) -> Option<f64> {
        self.hwm_kib.values().max().map(|k| *k as f64 / 1024.0)
    }

    fn json(&self) -> Value {
        let phases: BTreeMap<&String, Value> = self
            .phases
            .iter()
            .map(|(k, p)| {
                (
                    k,
                    json!({
                        "wall_s": p.wall_s,
                        "route53_calls": p.route53_calls,
                        "route53_calls_per_link": p.route53_per_link,
                        "route53_accepted_per_link": p.accepted_per_link,
                        "sts_calls": p.sts_calls,
                        "throttled": p.throttled,
                        "parent_writes": p.parent_writes,
                        "failures": p.failures,
                        "errors": p.errors,
                        "calls": p.calls,
                    }),
                )
            })
            .collect();
        json!({
            "label": self.label,
            "phases": phases,
            "exit_codes": self.exit_codes,
            "vmhwm_kib": self.hwm_kib,
            "peak_rss_mib": self.peak_mib(),
            "delegated_after_apply": self.delegated_after_apply,
            "parent_ns_left_after_destroy": self.leaks_after_destroy.0,
            "child_zones_left_after_destroy": self.leaks_after_destroy.1,
        })
    }
}

/// A scenario with its two runs (as they finish).
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    pub scenario: Scenario,
    pub ours: Option<Run>,
    pub model: Option<Run>,
}

impl ScenarioResult {
    pub fn new(scenario: Scenario) -> ScenarioResult {
        ScenarioResult {
            scenario,
            ours: None,
            model: None,
        }
    }

    pub fn add(&mut self, run: Run) {
        if run.label == "ours" {
            self.ours = Some(run);
        } else {
            self.model = Some(run);
        }
    }

    fn rounds(&self) -> f64 {
        (self.scenario.n as f64 / self.scenario.p as f64).ceil()
    }

    /// The wall-time bound for ours.
    fn wall_bound(&self, s: &Settings) -> f64 {
        if self.scenario.id == "floor" {
            s.insync + self.scenario.n as f64 / 5.0 + 15.0
        } else {
            self.rounds() * (s.insync + 15.0)
        }
    }

    /// The pattern's expected wall time, ⌈N/P⌉ × (2 × INSYNC + up to 30 s).
    fn pattern_wall(&self, s: &Settings) -> f64 {
        self.rounds() * (2.0 * s.insync + 30.0)
    }

    /// (target, value, PASS?) for ours.
    fn targets(&self, s: &Settings) -> Vec<(String, String, bool)> {
        let mut out = Vec::new();
        let Some(ours) = &self.ours else {
            return out;
        };
        for (phase, max) in [("apply", 5.0), ("plan", 1.2), ("destroy", 5.0)] {
            if let Some(p) = ours.phase(phase) {
                out.push((
                    format!("{phase} calls/link <= {max}"),
                    format!("{:.2}", p.route53_per_link),
                    p.route53_per_link <= max && p.failures == 0,
                ));
            }
        }
        let bound = self.wall_bound(s);
        for phase in ["apply", "destroy"] {
            if let Some(p) = ours.phase(phase) {
                out.push((
                    format!("{phase} wall <= {bound:.0} s"),
                    format!("{:.0} s", p.wall_s),
                    p.wall_s <= bound && p.failures == 0,
                ));
            }
        }
        if self.scenario.throttle.starts_with("legacy") {
            out.push((
                "zero failures under the legacy throttle".into(),
                ours.failures().to_string(),
                ours.failures() == 0,
            ));
        }
        if self.scenario.p as u64 >= self.scenario.n && self.scenario.n >= 20 {
            if let Some(m) = ours.peak_mib() {
                out.push((
                    format!("RSS <= 40 MiB at N = {} in flight", self.scenario.n),
                    format!("{m:.1} MiB"),
                    m <= 40.0,
                ));
            }
        }
        out
    }

    fn json(&self, s: &Settings) -> Value {
        let sc = &self.scenario;
        let ratio = |phase: &str, f: fn(&Phase) -> f64| -> Option<f64> {
            let o = f(self.ours.as_ref()?.phase(phase)?);
            let m = f(self.model.as_ref()?.phase(phase)?);
            (m > 0.0).then(|| o / m)
        };
        let mut ratios = serde_json::Map::new();
        for phase in ["apply", "plan", "destroy"] {
            ratios.insert(
                format!("{phase}_calls"),
                json!(ratio(phase, |p| p.route53_per_link)),
            );
            ratios.insert(format!("{phase}_wall"), json!(ratio(phase, |p| p.wall_s)));
        }
        let targets: Vec<Value> = self
            .targets(s)
            .into_iter()
            .map(|(t, v, pass)| json!({"target": t, "value": v, "pass": pass}))
            .collect();
        json!({
            "id": sc.id,
            "links": sc.n,
            "parallelism": sc.p,
            "throttle": sc.throttle,
            "child_accounts": sc.children,
            "wall_bound_s": self.wall_bound(s),
            "pattern_expected_wall_s": self.pattern_wall(s),
            "ours": self.ours.as_ref().map(Run::json),
            "model": self.model.as_ref().map(Run::json),
            "ratios_ours_over_model": ratios,
            "targets": targets,
        })
    }
}

const MODEL_LABEL: &str =
    "model of terraform-provider-aws's calls (replayed), not the provider itself";
const PEER_RSS: &str = "terraform-provider-aws, documented (not measured here): about 210 MB \
    resident per provider process (#29631); run peaks of 2.6-3.6 GB with many provider \
    configurations (#31722)";

fn report_json(s: &Settings, results: &[ScenarioResult], elapsed: Duration) -> Value {
    json!({
        "bench": "pace",
        "commit": s.commit,
        "provider_binary": s.binary,
        "provider_profile": s.profile(),
        "insync_s": s.insync,
        "insync_jitter_s": s.jitter,
        "insync_rule": "each change INSYNC after a time uniform in [insync - jitter, insync]",
        "quick": s.quick,
        "model": MODEL_LABEL,
        "model_waiter_interval_s": if s.quick { 15.0 * s.insync / 60.0 } else { 15.0 },
        "peer_rss_facts": PEER_RSS,
        "elapsed_s": elapsed.as_secs_f64(),
        "scenarios": results.iter().map(|r| r.json(s)).collect::<Vec<_>>(),
    })
}

/// Writes the results so far to `s.out` (done after every finished run, so
/// a stopped benchmark still leaves what it measured).
pub fn write(s: &Settings, results: &[ScenarioResult], elapsed: Duration) {
    if let Some(dir) = s.out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let text = serde_json::to_string_pretty(&report_json(s, results, elapsed)).unwrap_or_default();
    if let Err(e) = std::fs::write(&s.out, text) {
        eprintln!("pace bench: cannot write {}: {e}", s.out.display());
    }
}

fn cell(run: Option<&Run>, phase: &str, f: impl Fn(&Phase) -> String) -> String {
    run.and_then(|r| r.phase(phase))
        .map_or_else(|| "-".into(), f)
}

/// Prints the table, the ratios, the targets and the `BENCH_JSON` line.
pub fn print(s: &Settings, results: &[ScenarioResult], elapsed: Duration) {
    println!();
    println!(
        "pace benchmark: INSYNC {} s (each change within [{}, {}] s), {}commit {}, {:.0} s in all",
        s.insync,
        s.insync - s.jitter,
        s.insync,
        if s.quick { "QUICK mode, " } else { "" },
        s.commit,
        elapsed.as_secs_f64()
    );
    println!("provider binary: {} ({})", s.binary, s.profile());
    println!("model = {MODEL_LABEL}");
    println!();
    println!(
        "{:<9} {:>4} {:>4} {:<10} {:<6} | {:>7} {:>7} {:>7} | {:>8} {:>8} {:>8} | {:>6} {:>8} {:>5} {:>8}",
        "scenario", "N", "P", "throttle", "impl",
        "apply/l", "plan/l", "destr/l",
        "apply s", "plan s", "destr s",
        "thrott", "p.writes", "fail", "RSS MiB"
    );
    for r in results {
        let sc = &r.scenario;
        for run in [r.ours.as_ref(), r.model.as_ref()].into_iter().flatten() {
            let calls = |ph: &str| cell(Some(run), ph, |p| format!("{:.2}", p.route53_per_link));
            let wall = |ph: &str| cell(Some(run), ph, |p| format!("{:.0}", p.wall_s));
            let writes: u64 = run.phases.values().map(|p| p.parent_writes).sum();
            println!(
                "{:<9} {:>4} {:>4} {:<10} {:<6} | {:>7} {:>7} {:>7} | {:>8} {:>8} {:>8} | {:>6} {:>8} {:>5} {:>8}",
                sc.id, sc.n, sc.p, sc.throttle, run.label,
                calls("apply"), calls("plan"), calls("destroy"),
                wall("apply"), wall("plan"), wall("destroy"),
                run.throttled(), writes, run.failures(),
                run.peak_mib().map_or_else(|| "n/a".into(), |m| format!("{m:.1}")),
            );
        }
    }
    println!("(calls are Route 53 calls per link, throttled attempts included; p.writes = ChangeResourceRecordSets in the parent account, apply + destroy; RSS = the provider's VmHWM; the model has no provider process)");
    println!("{PEER_RSS}");
    println!();
    println!("ratios ours / model (calls per link, wall time):");
    for r in results {
        let (Some(o), Some(m)) = (&r.ours, &r.model) else {
            continue;
        };
        let mut cells = Vec::new();
        for ph in ["apply", "plan", "destroy"] {
            if let (Some(a), Some(b)) = (o.phase(ph), m.phase(ph)) {
                let rc = if b.route53_per_link > 0.0 {
                    format!("{:.2}", a.route53_per_link / b.route53_per_link)
                } else {
                    "-".into()
                };
                let rw = if b.wall_s > 0.0 {
                    format!("{:.2}", a.wall_s / b.wall_s)
                } else {
                    "-".into()
                };
                cells.push(format!("{ph} calls {rc} wall {rw}"));
            }
        }
        println!("  {:<9} {}", r.scenario.id, cells.join("; "));
    }
    println!();
    println!("targets (ours; reported, not asserted):");
    for r in results {
        println!(
            "  {} (N={} P={} {}; the pattern's expected apply: {:.0} s)",
            r.scenario.id,
            r.scenario.n,
            r.scenario.p,
            r.scenario.throttle,
            r.pattern_wall(s)
        );
        for (t, v, pass) in r.targets(s) {
            println!("    {:<4} {t:<44} {v}", if pass { "PASS" } else { "MISS" });
        }
        for run in [r.ours.as_ref(), r.model.as_ref()].into_iter().flatten() {
            for (ph, p) in &run.phases {
                for e in &p.errors {
                    println!("    note: {} {ph}: {e}", run.label);
                }
            }
            if run.leaks_after_destroy != (0, 0) {
                println!(
                    "    note: {} left {} parent NS records and {} child zones after destroy",
                    run.label, run.leaks_after_destroy.0, run.leaks_after_destroy.1
                );
            }
        }
    }
    println!();
    println!("results written to {}", s.out.display());
    println!("BENCH_JSON {}", report_json(s, results, elapsed));
}
