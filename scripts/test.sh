#!/usr/bin/env bash
# The project's test command: installs what it needs, checks formatting and
# lints, builds, checks generated docs are current, lints the release workflow
# and checks packaging and signing, then runs every test
# inside a network namespace that has only loopback (nothing can reach a
# real resolver or AWS). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
say() { printf '==> [%4ss] %s\n' "$(( $(date +%s) - start ))" "$*" >&2; }

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
say "docs are current"
scripts/docs.sh --check
say "release workflow lint (actionlint)"
scripts/lint-workflows.sh
say "release packaging and signing (throwaway GPG key)"
scripts/check-signing.sh
say "dependency audit (RustSec advisory database, offline)"
scripts/audit.sh

say "tests (network namespace with only loopback)"
# The world's recursive resolver is the only name server the tests' code may
# ask; everything else is on 127.0.0.0/8 too.
scripts/netns.sh cargo test --workspace --offline --locked -- --test-threads="${TEST_THREADS:-4}"

say "examples"
scripts/examples.sh

say "demo (the Quick start's first command)"
demo_log=$(mktemp)
if ! scripts/demo.sh >"$demo_log" 2>&1; then
  cat "$demo_log" >&2
  rm -f "$demo_log"
  echo "test: the demo failed (full output above)" >&2
  exit 1
fi
sed -n '/==== Summary ====/,$p' "$demo_log" >&2
rm -f "$demo_log"
# The demo's world must be gone: no namespace, no server processes.
netns=$(ip netns list 2>/dev/null || true)
if grep -qw r53world <<<"$netns"; then
  echo "test: the demo left the r53world network namespace behind" >&2
  exit 1
fi
if pgrep -f '/world serve' >/dev/null; then
  echo "test: the demo left the world running:" >&2
  pgrep -af '/world serve' >&2 || true
  exit 1
fi
say "all checks passed in $(( $(date +%s) - start ))s"
