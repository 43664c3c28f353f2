//! The audit's verdicts on a made-up advisory database and lock file: a
//! vulnerable crate fails it, an allow entry with a reason passes it, an
//! allow entry that matches nothing fails it (so the list stays true), and a
//! missing database is an error, not a pass.

use std::path::Path;
use std::process::Command;

const ADVISORY: &str = r#"```toml
[advisory]
id = "RUSTSEC-2099-0001"
package = "leaky"
date = "2099-01-01"
url = "https://example.invalid/leaky"
categories = ["memory-exposure"]
keywords = []

[versions]
patched = [">= 1.2.0"]
```

# leaky leaks

Versions before 1.2.0 leak.
"#;

fn lockfile(version: &str) -> String {
    format!(
        "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"leaky\"]\n\n[[package]]\nname = \"leaky\"\nversion = \"{version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
    )
}

fn audit(dir: &Path, allow: &str) -> (i32, String) {
    std::fs::write(dir.join("allow.toml"), allow).expect("write allow");
    let out = Command::new(env!("CARGO_BIN_EXE_audit"))
        .arg("--db")
        .arg(dir.join("db"))
        .arg("--lockfile")
        .arg(dir.join("Cargo.lock"))
        .arg("--allow")
        .arg(dir.join("allow.toml"))
        .output()
        .expect("run audit");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn world(version: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let adv = dir.path().join("db/crates/leaky");
    std::fs::create_dir_all(&adv).expect("mkdir");
    std::fs::write(adv.join("RUSTSEC-2099-0001.md"), ADVISORY).expect("write advisory");
    std::fs::write(dir.path().join("Cargo.lock"), lockfile(version)).expect("write lock");
    dir
}

#[test]
fn a_vulnerable_crate_fails_the_audit() {
    let dir = world("1.1.0");
    let (code, out) = audit(dir.path(), "");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FOUND    RUSTSEC-2099-0001 vulnerability leaky 1.1.0"),
        "{out}"
    );
}

#[test]
fn a_patched_crate_passes() {
    let dir = world("1.2.0");
    let (code, out) = audit(dir.path(), "");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 finding(s)"), "{out}");
}

#[test]
fn an_allow_entry_with_a_reason_passes_and_is_reported() {
    let dir = world("1.1.0");
    let (code, out) = audit(
        dir.path(),
        "[[allow]]\nid = \"RUSTSEC-2099-0001\"\nreason = \"only the non-leaking API is used\"\n",
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("allowed  RUSTSEC-2099-0001"), "{out}");
    assert!(out.contains("only the non-leaking API is used"), "{out}");
}

#[test]
fn an_allow_entry_that_matches_nothing_fails_the_audit() {
    let dir = world("1.2.0");
    let (code, out) = audit(
        dir.path(),
        "[[allow]]\nid = \"RUSTSEC-2099-0001\"\nreason = \"was needed once\"\n",
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("STALE    RUSTSEC-2099-0001"), "{out}");
}

#[test]
fn an_allow_entry_without_a_reason_is_refused() {
    let dir = world("1.1.0");
    let (code, out) = audit(
        dir.path(),
        "[[allow]]\nid = \"RUSTSEC-2099-0001\"\nreason = \"\"\n",
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("needs a reason"), "{out}");
}

#[test]
fn a_missing_database_is_an_error_not_a_pass() {
    let dir = world("1.1.0");
    std::fs::remove_dir_all(dir.path().join("db")).expect("rm db");
    let (code, out) = audit(dir.path(), "");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("reading the advisory database"), "{out}");
}
