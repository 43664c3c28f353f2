#!/usr/bin/env bash
# Writes the state fixtures of a release (provider/tests/fixtures/state/VERSION):
# for each kind of link, the real Terraform CLI against a world of its own,
# then the configuration, terraform.tfstate (with private state) and the
# world's snapshot. provider/tests/state_fixtures.rs checks every later build
# against every release's fixtures. Run once per release, on the release's
# commit, and commit the result.
#
#   scripts/write-state-fixtures.sh [VERSION]   (default: the workspace version)
#
# The provider that writes them is this checkout's debug build, or the binary
# named by ROUTE53DELEGATION_PROVIDER_BIN (the release's own build, when the
# fixtures are written after the release commit).
set -euo pipefail
cd "$(dirname "$0")/.."
die() { printf 'write-state-fixtures: %s\n' "$*" >&2; exit 1; }

version=${1:-$(awk '/^\[workspace.package\]/{p=1; next} /^\[/{p=0} p && /^version *=/{gsub(/[" ]/, "", $0); sub(/version=/, "", $0); print; exit}' Cargo.toml)}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || die "version $version is not semantic (MAJOR.MINOR.PATCH[-PRE])"
out=provider/tests/fixtures/state/$version
[ ! -e "$out" ] || [ "${FORCE:-0}" = 1 ] ||
  die "$out exists: fixtures of a release are written once (FORCE=1 writes them again)"

cargo build --locked -q --workspace --bins --example write-state-fixtures
debug=$(realpath -m "${CARGO_TARGET_DIR:-target}/debug")
rm -rf "$out.new"
mkdir -p "$out.new"
provider=${ROUTE53DELEGATION_PROVIDER_BIN:-$debug/terraform-provider-route53delegation}
[ -x "$provider" ] || die "no provider binary at $provider"
echo "write-state-fixtures: writing $out with $provider" >&2
ROUTE53DELEGATION_PROVIDER_BIN=$(realpath "$provider") \
  scripts/netns.sh "$debug/examples/write-state-fixtures" --out "$out.new" ||
  { rm -rf "$out.new"; die "writing the fixtures failed"; }
rm -rf "$out"
mv "$out.new" "$out"
echo "write-state-fixtures: wrote $out ($(find "$out" -type f | wc -l) files)" >&2
