#!/usr/bin/env bash
# Benchmarks. Builds outside the network namespace, then runs inside one
# with only loopback (nothing can reach a real resolver or AWS).
#
#   scripts/bench.sh            the pace benchmark (provider/benches/pace.rs):
#                               ours with the real Terraform CLI side by side
#                               with a model of terraform-provider-aws's calls
#                               (replayed, not the provider itself), against
#                               worlds with 60 s INSYNC; table, ratios,
#                               PASS/MISS per target, a BENCH_JSON line and
#                               target/bench/pace.json. About 25-30 minutes.
#   scripts/bench.sh micro      the micro benchmarks: `cargo bench -p r53world`
#                               (world start-up, DNS queries/second) and the
#                               provider bench (binary size, handshake
#                               latency, memory and calls per link over 50
#                               links at the world's fast default pace).
#
# Pace settings (environment): BENCH_INSYNC (seconds, default 60),
# BENCH_JITTER (default 5), BENCH_QUICK=1 (everything small, 2-3 minutes with
# BENCH_INSYNC=5), BENCH_SCENARIOS (e.g. n1,n10,n60), BENCH_DEADLINE
# (seconds before a command is stopped), BENCH_OUT (results file).
# BENCH_PROFILE picks the cargo profile (default `bench`, i.e. release; `dev`
# reuses the test build). BENCH_LOCK=FILE runs each build under `flock FILE`
# (a machine shared by several builders). Extra arguments go to `cargo bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '==> %s\n' "$*" >&2; }

command -v terraform >/dev/null || { echo "bench: the Terraform CLI must be on PATH" >&2; exit 1; }

suite=pace
if [ "${1:-}" = micro ]; then
  suite=micro
  shift
fi
profile=(--profile "${BENCH_PROFILE:-bench}")
build() { if [ -n "${BENCH_LOCK:-}" ]; then flock "$BENCH_LOCK" "$@"; else "$@"; fi; }

if [ "$suite" = micro ]; then
  say "build (${BENCH_PROFILE:-bench} profile)"
  build cargo bench "${profile[@]}" -p r53world --no-run "$@"
  build cargo bench "${profile[@]}" -p terraform-provider-route53delegation --bench provider --no-run "$@"
  say "r53world bench (network namespace with only loopback)"
  scripts/netns.sh cargo bench "${profile[@]}" -p r53world --offline "$@"
  say "provider bench (network namespace with only loopback)"
  scripts/netns.sh cargo bench "${profile[@]}" -p terraform-provider-route53delegation --bench provider --offline "$@"
  exit 0
fi

# cargo runs the bench in provider/: a relative BENCH_OUT means from here.
if [ -n "${BENCH_OUT:-}" ]; then
  BENCH_OUT=$(realpath -m "$BENCH_OUT")
  export BENCH_OUT
fi
say "build (${BENCH_PROFILE:-bench} profile)"
build cargo bench "${profile[@]}" -p terraform-provider-route53delegation --bench pace --no-run "$@"
BENCH_COMMIT="${BENCH_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo -dirty)}"
export BENCH_COMMIT
say "pace bench at commit $BENCH_COMMIT (network namespace with only loopback)"
scripts/netns.sh cargo bench "${profile[@]}" -p terraform-provider-route53delegation --bench pace --offline "$@"
