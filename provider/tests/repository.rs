//! Rules for the repository's own files, checked on what git tracks:
//!
//! - no absolute path of one machine (`no_tracked_file_names_a_machine_path`):
//!   a path such as a developer's home or a CI folder works there and
//!   nowhere else (the advisory database once defaulted to one);
//! - no shell script pipes a command into `grep -q` or `head`
//!   (`no_script_pipes_into_a_reader_that_stops_early`): under
//!   `set -o pipefail` the reader exits at its match, the writer dies of
//!   SIGPIPE and the pipeline fails by timing (`terraform providers | grep -q`
//!   failed a CI run whose every test had passed).
//!
//! A failure names the file and line.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the provider crate sits in the workspace")
        .to_path_buf()
}

/// The files git tracks, relative to the workspace.
fn tracked_files() -> Vec<PathBuf> {
    let out = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(workspace())
        .output()
        .expect("git is needed to list the tracked files (install the Debian package git)");
    assert!(
        out.status.success(),
        "git ls-files failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<PathBuf> = out
        .stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
        .collect();
    assert!(files.len() > 50, "git ls-files listed only {files:?}");
    files
}

/// Lines of the tracked text files accepted by `pick` that hold `bad`.
fn offending(pick: impl Fn(&Path) -> bool, bad: impl Fn(&str) -> bool) -> Vec<String> {
    let root = workspace();
    let mut hits = Vec::new();
    for f in tracked_files().into_iter().filter(|f| pick(f)) {
        // Binary files (and files removed from the work tree) are skipped.
        let Ok(text) = std::fs::read_to_string(root.join(&f)) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            if bad(line) {
                hits.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    hits
}

/// Paths that exist on one kind of machine only. Spelt in pieces so that
/// this list is not itself a machine path in a tracked file (the project's
/// stop hook greps for them too).
const MACHINE_PATHS: &[&str] = &[
    concat!("/wo", "rk/"),
    concat!("/fa", "rm/"),
    concat!("/ro", "ot/"),
    concat!("/tmp/", "r53world-locks"),
];

#[test]
fn no_tracked_file_names_a_machine_path() {
    let hits = offending(
        |f| f.file_name().is_none_or(|n| n != "Cargo.lock"),
        |line| MACHINE_PATHS.iter().any(|p| line.contains(p)),
    );
    assert!(
        hits.is_empty(),
        "absolute paths of a machine in tracked files (use paths relative to the repository, \
         $TMPDIR, $CARGO_TARGET_DIR or an environment variable):\n{}",
        hits.join("\n")
    );
}

/// A pipe whose last command stops reading early: `| grep -q`, `| grep -...q`
/// or `| head`.
fn pipes_into_early_reader(line: &str) -> bool {
    let code = line.split(" #").next().unwrap_or(line);
    if code.trim_start().starts_with('#') {
        return false;
    }
    // `a || b` is not a pipe.
    let code = code.replace("||", "\u{0}");
    code.split('|').skip(1).any(|stage| {
        let words: Vec<&str> = stage.split_whitespace().collect();
        match words.first() {
            Some(&"head") => true,
            Some(&"grep") => words[1..]
                .iter()
                .take_while(|w| w.starts_with('-'))
                .any(|w| (!w.starts_with("--") && w.contains('q')) || *w == "--quiet"),
            _ => false,
        }
    })
}

#[test]
fn no_script_pipes_into_a_reader_that_stops_early() {
    let hits = offending(
        |f| {
            f.extension().is_some_and(|e| e == "sh")
                || f.starts_with(".ci")
                || f.starts_with(".github")
        },
        pipes_into_early_reader,
    );
    assert!(
        hits.is_empty(),
        "a pipeline into grep -q or head fails by timing under pipefail (the reader exits, the \
         writer dies of SIGPIPE); capture the output, then match:\n{}",
        hits.join("\n")
    );
}

#[test]
fn the_early_reader_rule_sees_what_it_should() {
    assert!(pipes_into_early_reader(
        "  terraform providers -no-color | grep -q \"x\" ||"
    ));
    assert!(pipes_into_early_reader("ip netns list | grep -qw r53world"));
    assert!(pipes_into_early_reader("cmd | grep --quiet x"));
    assert!(pipes_into_early_reader("cmd | head -1"));
    assert!(!pipes_into_early_reader("cmd | grep -v x || true"));
    assert!(!pipes_into_early_reader("grep -q x <<<\"$out\""));
    assert!(!pipes_into_early_reader("# cmd | grep -q x"));
    assert!(!pipes_into_early_reader("[ \"$a\" ] || [ \"$b\" ]"));
    assert!(!pipes_into_early_reader("cmd || grep -q x file"));
}
