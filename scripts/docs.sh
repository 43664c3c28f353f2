#!/usr/bin/env bash
# Regenerates the registry documentation (docs/) from the provider's schemas
# and the examples, with the gen-docs bin of the provider crate.
#
#   scripts/docs.sh          rewrite docs/
#   scripts/docs.sh --check  fail, showing a diff, if docs/ is not what the
#                            generator produces (CI)
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  *) echo "usage: scripts/docs.sh [--check]" >&2; exit 2 ;;
esac

# --workspace, not -p: with the workspace's feature set the build the test
# command already made is reused (-p resolves features for one package and
# rebuilt about 40 crates, 2 minutes of CI).
cargo build --locked -q --workspace --bin gen-docs
gen=${CARGO_TARGET_DIR:-target}/debug/gen-docs

if [ "$check" = 0 ]; then
  rm -rf docs
  "$gen" --out docs >/dev/null
  echo "docs: regenerated docs/ ($(find docs -name '*.md' | wc -l) pages)" >&2
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$gen" --out "$tmp/docs" >/dev/null
if ! diff -ruN docs "$tmp/docs" >"$tmp/diff"; then
  echo "docs: docs/ is out of date with the schemas or the examples; the generator's output differs:" >&2
  sed "s|$tmp/docs|generated|g" "$tmp/diff" >&2
  echo "docs: run scripts/docs.sh and commit docs/" >&2
  exit 1
fi
echo "docs: docs/ is current" >&2
