//! The code map's promises about the DNS and verification modules, checked
//! on the source as the compiler reads it (`source_map`: `use` trees
//! parsed whole, paths resolved, comments, literals and `#[cfg(test)]`
//! items left out): the diagnosis stays a pure function below verification
//! (no dependency on it, no I/O), the observations are plain data, the DNS
//! layer knows nothing of verification, and no file of these folders grows
//! past what a newcomer can read at once.

mod source_map;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use source_map::{lex, paths, use_leaves, without_tests, CrateMap};

const MAX_LINES: usize = 600;

fn src(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(rel)
}

fn core() -> CrateMap {
    CrateMap::read(&src(""))
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

/// Where modules under `top` depend on any of `forbidden` (crate modules),
/// name any of `words` (identifiers: crates, types) or use any of `seqs`
/// (token sequences such as `async fn`).
fn offences(
    map: &CrateMap,
    top: &str,
    forbidden: &[&str],
    words: &[&str],
    seqs: &[&[&str]],
) -> Vec<String> {
    let mut found = map.dependencies(top, forbidden);
    let modules: Vec<_> = map.under(top).collect();
    assert!(!modules.is_empty(), "no module {top} in the core");
    for (_, m) in modules {
        for w in words {
            for (line, ident) in m.idents_containing(w) {
                if ident == *w {
                    found.push(format!("{}:{line}: names {w}", m.file.display()));
                }
            }
        }
        for seq in seqs {
            for line in m.lines_with(seq) {
                found.push(format!("{}:{line}: {}", m.file.display(), seq.join(" ")));
            }
        }
    }
    found
}

/// Guards against the verify <-> diagnose cycle coming back and against
/// network I/O creeping into the diagnosis: it must stay unit-testable
/// without a network.
#[test]
fn the_diagnosis_is_pure_and_below_verification() {
    let found = offences(
        &core(),
        "diagnose",
        &["verify"],
        &["tokio", "AddressResolver", "DnsClient"],
        &[&["async", "fn"], &[".", "await"]],
    );
    assert!(
        found.is_empty(),
        "the diagnosis is a pure function of the checks:\n{}",
        found.join("\n")
    );
}

/// Guards the shared observations staying plain data that both sides use.
#[test]
fn the_observations_are_plain_data() {
    let found = offences(
        &core(),
        "check",
        &["verify", "diagnose"],
        &["tokio"],
        &[&["async", "fn"]],
    );
    assert!(
        found.is_empty(),
        "check.rs is the data verify and diagnose share:\n{}",
        found.join("\n")
    );
}

/// Guards the DNS layer staying a transport: other front ends (the walk,
/// the engine, RFC 2136 parents) use it without verification.
#[test]
fn the_dns_layer_knows_nothing_of_verification() {
    let found = offences(&core(), "dns", &["verify", "diagnose", "check"], &[], &[]);
    assert!(
        found.is_empty(),
        "dns is the transport below verification:\n{}",
        found.join("\n")
    );
}

/// The parser the rules stand on: what a grep missed is caught.
#[test]
fn grouped_nested_and_relative_imports_are_read_as_dependencies() {
    let src = r#"
        // use crate::verify; (a comment is not an import)
        use crate::{check::ServerCheck, diagnose::{self, Finding},
            verify::{
                checks::observe as look,
            }};
        pub use super::super::walk::*;
        use self::inner::Thing;
        use tokio::{spawn, time::sleep};
        use child::X;
        const S: &str = "crate::refresh";
        fn f() { let _ = crate::plan::plan_apply; super::sibling::g(); }
        #[cfg(test)]
        mod tests { use crate::zone; }
    "#;
    let module: Vec<String> = vec!["dns".into(), "exchange".into()];
    let children: BTreeSet<String> = ["child".to_string()].into();
    let (tokens, _) = without_tests(&lex(src));
    let found: BTreeSet<(bool, String)> = paths(&tokens, &module, &children)
        .into_iter()
        .map(|p| (p.external, p.path.join("::")))
        .collect();
    let want: BTreeSet<(bool, String)> = [
        (false, "check::ServerCheck"),
        (false, "diagnose"),
        (false, "diagnose::Finding"),
        (false, "verify::checks::observe"),
        (false, "walk"),
        (false, "dns::exchange::inner::Thing"),
        (true, "tokio::spawn"),
        (true, "tokio::time::sleep"),
        (false, "dns::exchange::child::X"),
        (false, "plan::plan_apply"),
        (false, "dns::sibling::g"),
    ]
    .into_iter()
    .map(|(e, p)| (e, p.to_string()))
    .collect();
    assert_eq!(found, want);
    // The leaves of one tree, lines as written.
    let leaves = use_leaves(&lex("::a::{b,\n c::{self, d as e}, *}"));
    let got: Vec<(String, usize)> = leaves.into_iter().map(|(p, l)| (p.join("::"), l)).collect();
    assert_eq!(
        got,
        [("a::b", 1), ("a::c", 2), ("a::c::d", 2), ("a", 2)].map(|(p, l)| (p.to_string(), l))
    );
}

/// The rules see the whole core: every folder they guard is read, its
/// modules found.
#[test]
fn the_structure_checks_read_every_guarded_module() {
    let map = core();
    for m in ["dns", "verify", "diagnose", "check", "delegation", "parent"] {
        assert!(
            map.top_level().contains(m),
            "{m} not among {:?}",
            map.top_level()
        );
    }
    // verify depends on diagnose and check, through grouped imports too.
    let verify = map.dependencies("verify", &["diagnose", "check", "dns"]);
    for dep in ["-> diagnose", "-> check", "-> dns"] {
        assert!(verify.iter().any(|l| l.ends_with(dep)), "{dep}: {verify:?}");
    }
}

/// Guards the size of the rooms: no source file of dns/, verify/,
/// diagnose/, delegation/ (the engine, one module per operation),
/// parent/ (with parent/route53/) or account/ (tests aside) over 600 lines.
#[test]
fn no_file_of_the_split_folders_is_too_long() {
    for rel in [
        "dns",
        "verify",
        "diagnose",
        "delegation",
        "parent",
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

/// Guards against tangled modules: no two top-level modules of the core
/// depend on each other, directly or through others (each strongly
/// connected component of the module graph is one module). The engine
/// (`delegation`) drives the parents (`parent`: Route 53, dns_update,
/// registrar), never the other way round. A failure lists every cycle with
/// one place for each dependency in it.
#[test]
fn core_has_no_module_cycles() {
    let map = core();
    let graph = map.top_level_graph();
    let cycles = source_map::cycles(&graph);
    let mut report = Vec::new();
    for c in &cycles {
        report.push(format!("cycle: {}", c.join(" <-> ")));
        for from in c {
            for (to, place) in &graph[from] {
                if c.contains(to) {
                    report.push(format!("  {from} -> {to} ({place})"));
                }
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "{} module cycle(s) in core/src:\n{}",
        cycles.len(),
        report.join("\n")
    );
}
