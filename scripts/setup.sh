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
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
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

# The Terraform CLI is not in Debian's archive. Adding HashiCorp's apt
# source changes the machine's package sources, so it is left to the user:
# the exact commands are printed.
tested_terraform=1.11
if ! command -v terraform >/dev/null 2>&1; then
  . /etc/os-release 2>/dev/null || true
  cat >&2 <<MSG
setup: the Terraform CLI ($tested_terraform or newer) is needed on PATH. On Debian or Ubuntu, from
HashiCorp's apt repository (as root):

  apt-get install -y gpg wget lsb-release
  wget -O- https://apt.releases.hashicorp.com/gpg | gpg --dearmor -o /usr/share/keyrings/hashicorp-archive-keyring.gpg
  echo "deb [signed-by=/usr/share/keyrings/hashicorp-archive-keyring.gpg] https://apt.releases.hashicorp.com \$(lsb_release -cs) main" >/etc/apt/sources.list.d/hashicorp.list
  apt-get update && apt-get install -y terraform

or unzip a release from https://releases.hashicorp.com/terraform/ onto PATH. Then run scripts/setup.sh again.
MSG
  exit 1
fi
tf_json=$(terraform version -json 2>/dev/null || true)
tf_version=$(sed -n 's/.*"terraform_version": *"\([0-9.]*\)".*/\1/p' <<<"$tf_json")
case "$tf_version" in
  "") echo "setup: cannot read the version of $(command -v terraform) ('terraform version -json' printed: $tf_json)" >&2; exit 1 ;;
  0.* | 1.[0-9].* | 1.10.*)
    echo "setup: Terraform $tf_version is too old: the tests need $tested_terraform or newer (protocol 6 with the features they use)" >&2
    exit 1 ;;
  "$tested_terraform".*) ;;
  *) say "Terraform $tf_version: newer than the $tested_terraform the tests are written against; it should work, but a failure may be a CLI change" ;;
esac

if [ ! -x .venv/bin/moto_server ]; then
  say "creating .venv with moto[server]"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check 'moto[server]==5.2.1'
fi
export MOTO_SERVER="$PWD/.venv/bin/moto_server"

# The RustSec advisory database is found (or fetched) by scripts/audit.sh.

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo (Rust 1.89 or newer) is needed on PATH" >&2
  exit 1
fi
