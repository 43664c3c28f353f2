//! The code map's promises about the DNS and verification modules, checked
//! on the source: the diagnosis stays a pure function below verification (no
//! cycle, no I/O), the observations are plain data, the DNS layer knows
//! nothing of verification, and no file of these folders grows past what a
//! newcomer can read at once.

use std::fs;
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 600;

fn src(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(rel)
}

/// Every `.rs` file under `rel` (a file or a folder), with its text.
fn sources(rel: &str) -> Vec<(PathBuf, String)> {
    let root = src(rel);
    let mut out = Vec::new();
    let mut todo = vec![root];
    while let Some(p) = todo.pop() {
        if p.is_dir() {
            for e in fs::read_dir(&p).unwrap() {
                todo.push(e.unwrap().path());
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            let text = fs::read_to_string(&p).unwrap();
            out.push((p, text));
        }
    }
    assert!(!out.is_empty(), "no sources under {rel}");
    out
}

fn is_test_file(p: &Path) -> bool {
    p.components().any(|c| c.as_os_str() == "tests")
        || p.file_name().is_some_and(|n| n == "tests.rs")
}

/// Lines that use `needle`, outside comments.
fn uses(text: &str, needle: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .filter(|l| l.contains(needle))
        .map(str::to_string)
        .collect()
}

fn assert_never_uses(rel: &str, forbidden: &[&str], why: &str) {
    for (path, text) in sources(rel) {
        for needle in forbidden {
            let hits = uses(&text, needle);
            assert!(
                hits.is_empty(),
                "{} uses {needle} ({why}): {hits:?}",
                path.display()
            );
        }
    }
}

/// Guards against the verify <-> diagnose cycle coming back and against
/// network I/O creeping into the diagnosis: it must stay unit-testable
/// without a network.
#[test]
fn the_diagnosis_is_pure_and_below_verification() {
    assert_never_uses(
        "diagnose",
        &[
            "crate::verify",
            "tokio",
            "AddressResolver",
            "DnsClient",
            "async fn",
            ".await",
        ],
        "the diagnosis is a pure function of the checks",
    );
}

/// Guards the shared observations staying plain data that both sides use.
#[test]
fn the_observations_are_plain_data() {
    assert_never_uses(
        "check.rs",
        &["crate::verify", "crate::diagnose", "async fn", "tokio"],
        "check.rs is the data verify and diagnose share",
    );
}

/// Guards the DNS layer staying a transport: other front ends (the walk,
/// the engine, RFC 2136 parents) use it without verification.
#[test]
fn the_dns_layer_knows_nothing_of_verification() {
    assert_never_uses(
        "dns",
        &["crate::verify", "crate::diagnose", "crate::check"],
        "dns is the transport below verification",
    );
}

/// Guards the size of the rooms: no source file of dns/, verify/,
/// diagnose/, delegation/ (the engine, one module per operation),
/// parent/, parent_side/ or account/ (tests aside) over 600 lines.
#[test]
fn no_file_of_the_split_folders_is_too_long() {
    for rel in [
        "dns",
        "verify",
        "diagnose",
        "delegation",
        "parent",
        "parent_side",
        "account",
    ] {
        for (path, text) in sources(rel) {
            if is_test_file(&path) {
                continue;
            }
            let lines = text.lines().count();
            assert!(
                lines <= MAX_LINES,
                "{} has {lines} lines (at most {MAX_LINES}): split it by concern",
                path.display()
            );
        }
    }
}
