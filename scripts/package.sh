#!/usr/bin/env bash
# Builds the release binary and packs it the way the Terraform registry and
# filesystem mirrors expect:
#
#   dist/terraform-provider-route53delegation_VERSION_linux_amd64.zip
#        holding terraform-provider-route53delegation_vVERSION
#   dist/terraform-provider-route53delegation_VERSION_SHA256SUMS
#   dist/terraform-provider-route53delegation_VERSION_manifest.json
#
# Usage:
#   scripts/package.sh [VERSION]                       package (default VERSION:
#                                                      the workspace version)
#   scripts/package.sh [VERSION] --install-mirror DIR  package, then install into
#                                                      the filesystem mirror DIR
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'package: %s\n' "$*" >&2; exit 1; }

NAME=terraform-provider-route53delegation
ADDRESS=registry.terraform.io/route53delegation/route53delegation
version= mirror=
while [ $# -gt 0 ]; do
  case $1 in
    --install-mirror)
      [ $# -ge 2 ] || die "--install-mirror needs a directory"
      mirror=$2; shift 2 ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$version" ] || die "more than one version given"; version=$1; shift ;;
  esac
done
if [ -z "$version" ]; then
  version=$(awk '/^\[workspace.package\]/{p=1; next} /^\[/{p=0} p && /^version *=/{gsub(/[" ]/, "", $0); sub(/version=/, "", $0); print; exit}' Cargo.toml)
  [ -n "$version" ] || die "no version in Cargo.toml [workspace.package]"
fi
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] ||
  die "version $version is not semantic (MAJOR.MINOR.PATCH[-PRE])"
[ "$(uname -s)/$(uname -m)" = "Linux/x86_64" ] || die "only linux_amd64 is packaged, this is $(uname -s)/$(uname -m)"
platform=linux_amd64

say "building $NAME $version (release)"
cargo build --release --locked -q -p "$NAME" --bin "$NAME"

mkdir -p dist
zip="${NAME}_${version}_${platform}.zip"
sums="${NAME}_${version}_SHA256SUMS"
manifest="${NAME}_${version}_manifest.json"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "${CARGO_TARGET_DIR:-target}/release/$NAME" "$stage/${NAME}_v${version}"
chmod 0755 "$stage/${NAME}_v${version}"
# Fixed timestamps, so the same binary always gives the same archive.
touch -d '1980-01-02T00:00:00Z' "$stage/${NAME}_v${version}"
rm -f "dist/$zip"
(cd "$stage" && TZ=UTC zip -q -X "$OLDPWD/dist/$zip" "${NAME}_v${version}")
cp terraform-registry-manifest.json "dist/$manifest"
(cd dist && sha256sum "$zip" "$manifest" >"$sums")
say "dist/$zip"
say "dist/$sums"
say "dist/$manifest"

if [ -n "$mirror" ]; then
  dest="$mirror/$ADDRESS"
  mkdir -p "$dest"
  cp "dist/$zip" "$dest/"
  say "installed into the filesystem mirror: $dest/$zip"
fi
