#!/usr/bin/env bash
# The project's test command: installs what it needs, checks formatting and
# lints, builds, checks generated docs are current, then runs every test
# inside a network namespace that has only loopback (nothing can reach a
# real resolver or AWS). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
say() { printf '==> %s\n' "$*" >&2; }

scripts/setup.sh
export MOTO_SERVER="$PWD/.venv/bin/moto_server"

say "rustfmt"
cargo fmt --all --check
say "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
say "build"
cargo build --workspace --all-targets --locked
cargo build --release --locked -p terraform-provider-route53delegation
cargo test --workspace --no-run --locked
if [ -x scripts/docs.sh ]; then
  say "docs are current"
  scripts/docs.sh --check
fi

say "tests (network namespace with only loopback)"
# The world's recursive resolver is the only name server the tests' code may
# ask; everything else is on 127.0.0.0/8 too.
scripts/netns.sh cargo test --workspace --offline --locked -- --test-threads="${TEST_THREADS:-4}"

if [ -x scripts/examples.sh ]; then
  say "examples"
  scripts/examples.sh
fi
say "all checks passed in $(( $(date +%s) - start ))s"
