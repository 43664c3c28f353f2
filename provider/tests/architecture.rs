//! The layering ARCHITECTURE.md promises, checked on the source as the
//! compiler reads it (the core's `source_map`: `use` trees parsed whole,
//! paths resolved, comments, literals and `#[cfg(test)]` items left out):
//!
//! - the core knows nothing of Terraform or gRPC (`core_never_names_the_plugin_protocol`);
//! - the protocol layer knows nothing of resources, data sources, the
//!   provider's configuration or the core, so it would lift out as a crate as
//!   it is (`protocol_layer_imports_nothing_from_the_provider_or_the_core`);
//! - no source file of the protocol layer or of the world (tests aside) is
//!   over 600 lines (`no_file_of_the_protocol_layer_or_the_world_is_too_long`).
//!
//! A failure names the file and line that broke the rule.

#[path = "../../core/tests/source_map/mod.rs"]
mod source_map;

use std::path::{Path, PathBuf};

use source_map::CrateMap;

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
    let map = CrateMap::read(&core.join("src"));
    let mut found = Vec::new();
    for m in map.modules.values() {
        // Any identifier: a crate in a path or a `use`, a type, a module.
        for w in words {
            for (line, ident) in m.idents_containing(w) {
                found.push(format!("{}:{line}: {ident}", m.file.display()));
            }
        }
    }
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
    assert!(
        map.modules.len() > 20,
        "the check reads the core's modules: {:?}",
        map.modules.keys()
    );
}

#[test]
fn protocol_layer_imports_nothing_from_the_provider_or_the_core() {
    let map = CrateMap::read(&workspace().join("provider/src"));
    let mut found = map.dependencies(
        "protocol",
        &["resources", "data_sources", "provider_impl", "duration"],
    );
    for (_, m) in map.under("protocol") {
        for (krate, line) in m.external_crates() {
            if ["route53delegation", "r53world"].contains(&krate.as_str()) {
                found.push(format!("{}:{line}: names {krate}", m.file.display()));
            }
        }
        for w in ["route53delegation", "r53world"] {
            for (line, ident) in m.idents_containing(w) {
                if ident == w {
                    found.push(format!("{}:{line}: names {w}", m.file.display()));
                }
            }
        }
    }
    found.sort();
    found.dedup();
    assert!(
        found.is_empty(),
        "provider/src/protocol/ must stand alone (it talks to the rest through the ProviderImpl trait):\n{}",
        found.join("\n")
    );
    // And the check itself sees the modules it guards, the service's
    // folder included, and the dependencies they do have.
    for guarded in [
        &["protocol", "service"][..],
        &["protocol", "service", "resource_change"],
        &["protocol", "server"],
    ] {
        let key: Vec<String> = guarded.iter().map(|s| s.to_string()).collect();
        assert!(
            map.modules.contains_key(&key),
            "{guarded:?} not among the modules read"
        );
    }
    assert!(
        !map.dependencies("resources", &["protocol"]).is_empty(),
        "the resources use the protocol layer, and the check sees it"
    );
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
