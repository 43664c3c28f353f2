#!/usr/bin/env bash
# Checks Cargo.lock against the RustSec advisory database, offline, with
# tools/audit (the rustsec crate, the library behind `cargo audit`): fails on
# any vulnerable, unsound or unmaintained crate that audit-allow.toml does not
# allow with a reason, and on an allow entry that no longer matches.
#
# The database, as cargo-audit finds and keeps it:
#   $RUSTSEC_ADVISORY_DB    a checkout of github.com/rustsec/advisory-db (or
#                           a folder holding its crates/), used as it is
#   ~/.cargo/advisory-db    cargo-audit's own copy: used while fetched less
#                           than a day ago; otherwise fetched or refreshed
#                           (git, 60 s at most) unless
#                           RUSTSEC_ADVISORY_FETCH=never (CI, which has no
#                           internet, sets that)
#   ~/.cargo/advisory-db    an older copy, when the fetch failed
#   ../shared/advisory-db   a snapshot of the database's crates/ folder that
#                           this project's machines and CI carry beside the
#                           checkout
# Without any of them it fails, saying what to provide.
set -euo pipefail
cd "$(dirname "$0")/.."

upstream=https://github.com/rustsec/advisory-db.git
home_db=$HOME/.cargo/advisory-db
shared_db=../shared/advisory-db

# age_secs DB: seconds since the copy in DB was last fetched (or cloned).
age_secs() {
  local stamp=$1/.git/FETCH_HEAD
  [ -e "$stamp" ] || stamp=$1/.git/HEAD
  [ -e "$stamp" ] || { echo 999999999; return; }
  echo $(( $(date +%s) - $(stat -c %Y "$stamp") ))
}

# fetch_home_db: clones or refreshes ~/.cargo/advisory-db; fails quietly
# (the caller falls back) when the network does not answer.
fetch_home_db() {
  [ "${RUSTSEC_ADVISORY_FETCH:-auto}" != never ] || return 1
  command -v git >/dev/null 2>&1 || return 1
  export GIT_TERMINAL_PROMPT=0
  if [ -d "$home_db/.git" ]; then
    echo "audit: refreshing $home_db (older than a day)" >&2
    timeout 60 git -C "$home_db" fetch -q --depth 1 origin HEAD 2>/dev/null &&
      git -C "$home_db" reset -q --hard FETCH_HEAD
  else
    echo "audit: fetching the advisory database into $home_db" >&2
    local tmp
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/advisory-db.XXXXXX")
    if timeout 60 git clone -q --depth 1 "$upstream" "$tmp/db" 2>/dev/null; then
      mkdir -p "$(dirname "$home_db")"
      rm -rf "$home_db"
      mv "$tmp/db" "$home_db"
      rm -rf "$tmp"
    else
      rm -rf "$tmp"
      return 1
    fi
  fi
}

describe() {
  git -C "$1" log -1 --format='%h of %cs' 2>/dev/null || echo "(a snapshot, not a git checkout)"
}

db=
if [ -n "${RUSTSEC_ADVISORY_DB:-}" ]; then
  [ -d "$RUSTSEC_ADVISORY_DB/crates" ] ||
    { echo "audit: RUSTSEC_ADVISORY_DB=$RUSTSEC_ADVISORY_DB holds no crates/ folder (expected a checkout of $upstream)" >&2; exit 1; }
  db=$RUSTSEC_ADVISORY_DB
elif [ -d "$home_db/crates" ] && [ "$(age_secs "$home_db")" -lt 86400 ]; then
  db=$home_db
elif fetch_home_db && [ -d "$home_db/crates" ]; then
  db=$home_db
elif [ -d "$home_db/crates" ]; then
  echo "audit: could not refresh $home_db; using it as it is" >&2
  db=$home_db
elif [ -d "$shared_db/crates" ]; then
  db=$shared_db
else
  cat >&2 <<MSG
audit: no RustSec advisory database. Looked for \$RUSTSEC_ADVISORY_DB, a copy
in ~/.cargo/advisory-db (fetching one from $upstream
$( [ "${RUSTSEC_ADVISORY_FETCH:-auto}" = never ] && echo "was not tried: RUSTSEC_ADVISORY_FETCH=never" || echo "failed" )),
then $shared_db/crates beside the checkout. Provide one of them: with
internet, run this script again (or 'cargo audit fetch'); without, set
RUSTSEC_ADVISORY_DB to a checkout of the database or put its crates/ folder
at $shared_db/crates.
MSG
  exit 1
fi
echo "audit: advisory database $(describe "$db") in $db" >&2
# --workspace, not -p: the workspace's feature set reuses the test command's
# build instead of rebuilding the audit's dependencies.
cargo build -q --locked --workspace --bin audit
"${CARGO_TARGET_DIR:-target}/debug/audit" \
  --db "$db" --lockfile Cargo.lock --allow audit-allow.toml
