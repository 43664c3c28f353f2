//! Writes the state fixtures of the release being built (see
//! `provider/tests/fixture_support`): for each kind of link, a world of its
//! own, the story played with the real Terraform CLI, then the
//! configuration, `terraform.tfstate` and the world's snapshot.
//!
//! ```text
//! scripts/write-state-fixtures.sh [VERSION]
//! ```
//!
//! runs it inside a loopback-only network namespace, with
//! `ROUTE53DELEGATION_PROVIDER_BIN` naming the provider binary and
//! `--out provider/tests/fixtures/state/VERSION`.

#[path = "../tests/terraform_support/mod.rs"]
mod terraform_support;

#[path = "../tests/fixture_support/mod.rs"]
mod fixture_support;

use std::path::PathBuf;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut out: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = args.next().map(PathBuf::from),
            _ => {
                eprintln!("usage: write-state-fixtures --out DIR");
                std::process::exit(64);
            }
        }
    }
    let Some(out) = out else {
        eprintln!("usage: write-state-fixtures --out DIR");
        std::process::exit(64);
    };
    // The provider binary must exist before any world starts.
    let bin = terraform_support::provider_bin();
    assert!(bin.is_file(), "no provider binary at {}", bin.display());
    fixture_support::write_all(&out).await;
}
