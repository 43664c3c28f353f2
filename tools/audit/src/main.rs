//! `audit`: checks `Cargo.lock` against a local copy of the RustSec advisory
//! database, with the `rustsec` crate (the library behind `cargo audit`), and
//! fails on any vulnerable, unsound or unmaintained crate that
//! `audit-allow.toml` does not allow with a reason.
//!
//! ```text
//! audit --db DIR [--lockfile Cargo.lock] [--allow audit-allow.toml]
//! ```
//!
//! Exit codes: 0 clean, 1 findings (or an allow entry that no longer matches
//! anything, so the list stays true), 2 the database or a file could not be
//! read. It never fetches: `scripts/audit.sh` finds the database.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Parser;
use rustsec::advisory::Informational;
use rustsec::report::{Report, Settings};
use rustsec::{Database, Lockfile};

/// Checks Cargo.lock against the RustSec advisory database, offline.
#[derive(Debug, Parser)]
#[command(name = "audit", version)]
struct Cli {
    /// The advisory database: a directory holding `crates/<name>/RUSTSEC-*.md`.
    #[arg(long)]
    db: PathBuf,
    /// The lock file to check.
    #[arg(long, default_value = "Cargo.lock")]
    lockfile: PathBuf,
    /// Advisories accepted on purpose, each with its reason.
    #[arg(long, default_value = "audit-allow.toml")]
    allow: PathBuf,
}

/// `audit-allow.toml`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowFile {
    #[serde(default)]
    allow: Vec<Allow>,
}

/// One accepted advisory.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Allow {
    /// `RUSTSEC-YYYY-NNNN`.
    id: String,
    /// Why it is accepted: what of the crate we use, and what would end it.
    reason: String,
}

/// One thing the report found.
#[derive(Debug)]
struct Finding {
    id: String,
    kind: &'static str,
    package: String,
    title: String,
}

fn main() -> ExitCode {
    match run(&Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("audit: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<bool> {
    let db = Database::open(&cli.db)
        .with_context(|| format!("reading the advisory database in {}", cli.db.display()))?;
    let advisories = db.iter().count();
    if advisories == 0 {
        bail!(
            "no advisories in {}: is it the advisory database?",
            cli.db.display()
        );
    }
    let lockfile = Lockfile::load(&cli.lockfile)
        .with_context(|| format!("reading {}", cli.lockfile.display()))?;
    let allow = read_allow(&cli.allow)?;

    let settings = Settings {
        informational_warnings: vec![Informational::Unmaintained, Informational::Unsound],
        ..Settings::default()
    };
    let report = Report::generate(&db, &lockfile, &settings);
    let findings = findings(&report);

    let mut ok = true;
    let mut used = BTreeMap::new();
    for f in &findings {
        match allow.get(&f.id) {
            Some(reason) => {
                used.insert(f.id.clone(), ());
                println!(
                    "allowed  {} {} {}: {} (reason: {reason})",
                    f.id, f.kind, f.package, f.title
                );
            }
            None => {
                ok = false;
                println!("FOUND    {} {} {}: {}", f.id, f.kind, f.package, f.title);
            }
        }
    }
    for id in allow.keys().filter(|id| !used.contains_key(*id)) {
        ok = false;
        println!("STALE    {id}: allowed in {} but no crate in the lock file is affected; remove the entry", cli.allow.display());
    }
    println!(
        "audit: {} crates checked against {advisories} advisories: {} finding(s), {} allowed",
        lockfile.packages.len(),
        findings.len(),
        used.len()
    );
    Ok(ok)
}

fn read_allow(path: &PathBuf) -> Result<BTreeMap<String, String>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let file: AllowFile =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let mut out = BTreeMap::new();
    for a in file.allow {
        if a.reason.trim().is_empty() {
            bail!("{}: the entry for {} needs a reason", path.display(), a.id);
        }
        out.insert(a.id, a.reason);
    }
    Ok(out)
}

fn findings(report: &Report) -> Vec<Finding> {
    let mut out: Vec<Finding> = report
        .vulnerabilities
        .list
        .iter()
        .map(|v| Finding {
            id: v.advisory.id.to_string(),
            kind: "vulnerability",
            package: format!("{} {}", v.package.name, v.package.version),
            title: v.advisory.title.clone(),
        })
        .collect();
    for (kind, warnings) in &report.warnings {
        for w in warnings {
            let Some(adv) = &w.advisory else { continue };
            out.push(Finding {
                id: adv.id.to_string(),
                kind: match kind.as_str() {
                    "unmaintained" => "unmaintained",
                    "unsound" => "unsound",
                    "yanked" => "yanked",
                    _ => "notice",
                },
                package: format!("{} {}", w.package.name, w.package.version),
                title: adv.title.clone(),
            });
        }
    }
    out.sort_by(|a, b| (&a.id, &a.package).cmp(&(&b.id, &b.package)));
    out
}
