#!/usr/bin/env bash
# Installs what the tests and the demo need on a fresh Debian 12 machine:
# the DNS servers of the local world, the independent judges, and a Python
# venv with moto (the second Route 53 implementation the conformance suite
# checks our emulator against). Idempotent; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*" >&2; }

# gpg signs and verifies in scripts/check-signing.sh; shellcheck lets
# actionlint (scripts/lint-workflows.sh) check the workflows' run: steps.
packages=(knot knot-dnsutils unbound bind9-dnsutils zonemaster-cli iproute2 util-linux zip unzip python3-venv gpg shellcheck)
missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) || status=
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then echo "setup: root is needed to install ${missing[*]} (run as root or install them)" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Installing unbound or knot may start their system services; the world runs
# its own instances on loopback addresses, so stop any that took port 53.
for svc in unbound knot; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
done

if ! command -v terraform >/dev/null 2>&1; then
  echo "setup: the Terraform CLI (1.11 or newer) is needed on PATH; install it from your package source (no download is attempted here)" >&2
  exit 1
fi

if [ ! -x .venv/bin/moto_server ]; then
  say "creating .venv with moto[server]"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check 'moto[server]==5.2.1'
fi
export MOTO_SERVER="$PWD/.venv/bin/moto_server"

# The RustSec advisory database for scripts/audit.sh, where cargo-audit keeps
# it. No internet here: it is cloned from a local copy when one is on the
# machine (RUSTSEC_ADVISORY_GIT, default this machine's snapshot); without
# one, scripts/audit.sh says what to provide.
adv_src=${RUSTSEC_ADVISORY_GIT:-/work/.mirror/rustsec+advisory-db/repo}
if [ ! -d "$HOME/.cargo/advisory-db/crates" ] && git --git-dir="$adv_src" rev-parse -q --verify HEAD >/dev/null 2>&1; then
  say "installing the RustSec advisory database into ~/.cargo/advisory-db"
  rm -rf "$HOME/.cargo/advisory-db"
  git clone -q "$adv_src" "$HOME/.cargo/advisory-db"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo (Rust 1.89 or newer) is needed on PATH" >&2
  exit 1
fi
