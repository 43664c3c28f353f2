//! The committed registry docs (docs/) are exactly what `gen-docs` renders
//! from the schemas and the examples: a schema description or an example
//! changed without `scripts/docs.sh` fails here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn pages(dir: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_path_buf();
                out.insert(rel, std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn docs_match_the_generator() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gen-docs"))
        .arg("--root")
        .arg(root)
        .arg("--out")
        .arg(tmp.path())
        .output()
        .expect("run gen-docs");
    assert!(
        out.status.success(),
        "gen-docs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = pages(tmp.path());
    let have = pages(&root.join("docs"));
    assert!(want.contains_key(Path::new("index.md")), "{want:?}");
    assert!(
        want.contains_key(Path::new("resources/link.md")),
        "{want:?}"
    );
    let names = |m: &BTreeMap<PathBuf, String>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&have),
        names(&want),
        "docs/ has different pages than gen-docs renders: run scripts/docs.sh"
    );
    for (path, text) in &want {
        assert!(
            have[path] == *text,
            "docs/{} is out of date: run scripts/docs.sh (or scripts/docs.sh --check for a diff)",
            path.display()
        );
    }
}

#[test]
fn generator_is_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let run = |sub: &str| {
        let dir = tmp.path().join(sub);
        let st = std::process::Command::new(env!("CARGO_BIN_EXE_gen-docs"))
            .arg("--root")
            .arg(root)
            .arg("--out")
            .arg(&dir)
            .output()
            .expect("run gen-docs");
        assert!(st.status.success());
        pages(&dir)
    };
    assert_eq!(run("a"), run("b"));
}
