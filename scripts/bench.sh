#!/usr/bin/env bash
# Runs the benchmarks: builds them (release profile) outside the namespace,
# then runs `cargo bench -p r53world` (world start-up, DNS queries/second)
# and `cargo bench -p terraform-provider-route53delegation` (binary size,
# handshake latency, provider memory and API calls per link over 50 links
# with the real Terraform CLI) inside a network namespace with only loopback.
# Prints the results; the provider bench also prints one `BENCH_JSON {...}`
# line. Extra arguments go to both `cargo bench` runs (e.g. --locked).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '==> %s\n' "$*" >&2; }

command -v terraform >/dev/null || { echo "bench: the Terraform CLI must be on PATH" >&2; exit 1; }

say "build (release profile)"
cargo bench -p r53world --no-run "$@"
cargo bench -p terraform-provider-route53delegation --no-run "$@"

say "r53world bench (network namespace with only loopback)"
scripts/netns.sh cargo bench -p r53world --offline "$@"

say "provider bench (network namespace with only loopback)"
scripts/netns.sh cargo bench -p terraform-provider-route53delegation --offline "$@"
