//! The layering ARCHITECTURE.md promises, checked on the source text:
//!
//! - the core knows nothing of Terraform or gRPC (`core_never_names_the_plugin_protocol`);
//! - the protocol layer knows nothing of resources, data sources, the
//!   provider's configuration or the core, so it would lift out as a crate as
//!   it is (`protocol_layer_imports_nothing_from_the_provider_or_the_core`);
//! - no source file of the protocol layer or of the world (tests aside) is
//!   over 600 lines (`no_file_of_the_protocol_layer_or_the_world_is_too_long`).
//!
//! A failure names the file and line that broke the rule.

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the provider crate sits in the workspace")
        .to_path_buf()
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in
            std::fs::read_dir(&d).unwrap_or_else(|e| panic!("reading {}: {e}", d.display()))
        {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    assert!(!out.is_empty(), "no Rust files under {}", dir.display());
    out
}

/// Lines of `files` (outside comments) that contain any of `words`.
fn offending_lines(files: &[PathBuf], words: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).expect("a readable source file");
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for w in words {
                if code.contains(w) {
                    found.push(format!("{}:{}: {w}: {}", f.display(), i + 1, line.trim()));
                }
            }
        }
    }
    found
}

#[test]
fn core_never_names_the_plugin_protocol() {
    let core = workspace().join("core");
    let words = [
        "tonic",
        "prost",
        "tfplugin",
        "DynamicValue",
        "terraform_provider",
    ];
    let mut found = offending_lines(&rust_files(&core.join("src")), &words);
    let manifest = std::fs::read_to_string(core.join("Cargo.toml")).expect("core/Cargo.toml");
    for w in ["tonic", "prost"] {
        if manifest.contains(w) {
            found.push(format!("core/Cargo.toml depends on {w}"));
        }
    }
    assert!(
        found.is_empty(),
        "the core must not know the plugin protocol:\n{}",
        found.join("\n")
    );
}

#[test]
fn protocol_layer_imports_nothing_from_the_provider_or_the_core() {
    let protocol = workspace().join("provider/src/protocol");
    let words = [
        "crate::resources",
        "crate::data_sources",
        "crate::provider_impl",
        "crate::duration",
        "route53delegation::",
        "r53world",
    ];
    let found = offending_lines(&rust_files(&protocol), &words);
    assert!(
        found.is_empty(),
        "provider/src/protocol/ must stand alone (it talks to the rest through the ProviderImpl trait):\n{}",
        found.join("\n")
    );
    // And the check itself sees the files it guards, the service's folder
    // included.
    let files = rust_files(&protocol);
    for guarded in ["service/mod.rs", "service/resource_change.rs", "server.rs"] {
        assert!(
            files.iter().any(|f| f.ends_with(guarded)),
            "{guarded} not among the files checked"
        );
    }
}

const MAX_LINES: usize = 600;

/// Guards the size of the rooms, as `core/tests/module_map.rs` does for the
/// core's folders: no source file of `provider/src/protocol/` (the service
/// one module per group of RPCs) or of `tests/world/src/` (the model one
/// module per concept, the `World` handle by start-up, control and zones)
/// is over 600 lines; unit tests in a `tests.rs` or under `tests/` aside.
#[test]
fn no_file_of_the_protocol_layer_or_the_world_is_too_long() {
    let mut too_long = Vec::new();
    for dir in ["provider/src/protocol", "tests/world/src"] {
        let root = workspace().join(dir);
        for f in rust_files(&root) {
            let inside = f.strip_prefix(&root).expect("a file under its folder");
            let is_test = inside.file_name().is_some_and(|n| n == "tests.rs")
                || inside.components().any(|c| c.as_os_str() == "tests");
            if is_test {
                continue;
            }
            let text = std::fs::read_to_string(&f).expect("a readable source file");
            let lines = text.lines().count();
            if lines > MAX_LINES {
                too_long.push(format!("{}: {lines} lines", f.display()));
            }
        }
    }
    assert!(
        too_long.is_empty(),
        "at most {MAX_LINES} lines per source file: split these by concern:\n{}",
        too_long.join("\n")
    );
}
