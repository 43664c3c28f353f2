#!/usr/bin/env bash
# Checks Cargo.lock against the RustSec advisory database, offline, with
# tools/audit (the rustsec crate, the library behind `cargo audit`): fails on
# any vulnerable, unsound or unmaintained crate that audit-allow.toml does not
# allow with a reason, and on an allow entry that no longer matches.
#
# The database, first found of:
#   $RUSTSEC_ADVISORY_DB   a checkout of github.com/rustsec/advisory-db
#   ~/.cargo/advisory-db   where cargo-audit keeps its copy
#   $RUSTSEC_ADVISORY_GIT  a git directory of it (default: this machine's
#                          snapshot, /work/.mirror/rustsec+advisory-db/repo),
#                          exported into target/advisory-db
# Nothing is fetched: CI has no internet.
set -euo pipefail
cd "$(dirname "$0")/.."

db=${RUSTSEC_ADVISORY_DB:-}
if [ -z "$db" ] && [ -d "$HOME/.cargo/advisory-db/crates" ]; then
  db=$HOME/.cargo/advisory-db
  echo "audit: advisory database $(git -C "$db" log -1 --format='%h of %cs' 2>/dev/null || echo '(not a git checkout)') in $db" >&2
fi
if [ -z "$db" ]; then
  git_dir=${RUSTSEC_ADVISORY_GIT:-/work/.mirror/rustsec+advisory-db/repo}
  if ! git --git-dir="$git_dir" rev-parse --verify -q HEAD >/dev/null 2>&1; then
    cat >&2 <<MSG
audit: no RustSec advisory database found (looked for \$RUSTSEC_ADVISORY_DB,
~/.cargo/advisory-db, then a git directory at $git_dir). Point
RUSTSEC_ADVISORY_DB at a checkout of https://github.com/rustsec/advisory-db,
or RUSTSEC_ADVISORY_GIT at a clone.
MSG
    exit 1
  fi
  db=target/advisory-db
  rm -rf "$db"
  mkdir -p "$db"
  git --git-dir="$git_dir" archive HEAD crates | tar -x -C "$db"
  echo "audit: advisory database $(git --git-dir="$git_dir" log -1 --format='%h of %cs') from $git_dir" >&2
fi
# --workspace, not -p: the workspace's feature set reuses the test command's
# build instead of rebuilding the audit's dependencies.
cargo build -q --locked --workspace --bin audit
"${CARGO_TARGET_DIR:-target}/debug/audit" \
  --db "$db" --lockfile Cargo.lock --allow audit-allow.toml
