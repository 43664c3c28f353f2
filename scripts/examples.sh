#!/usr/bin/env bash
# Checks the examples: `terraform fmt -check`, `terraform validate` on every
# example that uses only this provider (the provider built in the debug target directory,
# through dev_overrides), then applies, re-plans (must show no changes) and
# destroys the runnable ones against a local world, inside a network
# namespace with only loopback. Finally checks the release packaging
# (scripts/check-release.sh). Exits non-zero on any failure.
#
#   scripts/examples.sh             everything
#   scripts/examples.sh --no-release  skip scripts/check-release.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/world.sh
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'examples: %s\n' "$*" >&2; exit 1; }

export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
RUNNABLE=(quickstart for-each-environments nested)

# ---------------------------------------------------------------- in the world
# Runs inside scripts/netns.sh: starts a world, applies every runnable example.
if [ "${1:-}" = "--in-world" ]; then
  tmp=$2
  trap stop_world EXIT
  start_world "$tmp/world" 251
  tf_world_vars
  parent=$(bootstrap_parent)
  say "world ready (example.com = $parent in 111111111111)"
  for ex in "${RUNNABLE[@]}"; do
    dir="$tmp/run/$ex"
    mkdir -p "$dir" && cp examples/"$ex"/*.tf "$dir"/
    t0=$(date +%s%N)
    terraform -chdir="$dir" apply -auto-approve -input=false -no-color >"$dir/apply.log" 2>&1 ||
      { cat "$dir/apply.log" >&2; die "$ex: apply failed"; }
    grep -Eq 'status"? += "verified"' "$dir/apply.log" ||
      { cat "$dir/apply.log" >&2; die "$ex: no verified link in the outputs"; }
    if grep -Eq 'status"? += "(failed|skipped|cancelled)"' "$dir/apply.log"; then
      cat "$dir/apply.log" >&2; die "$ex: a link is not verified"
    fi
    set +e
    terraform -chdir="$dir" plan -detailed-exitcode -input=false -no-color >"$dir/plan.log" 2>&1
    code=$?
    set -e
    [ "$code" -eq 0 ] || { cat "$dir/plan.log" >&2; die "$ex: plan after apply exited $code (want 0: no changes)"; }
    terraform -chdir="$dir" destroy -auto-approve -input=false -no-color >"$dir/destroy.log" 2>&1 ||
      { cat "$dir/destroy.log" >&2; die "$ex: destroy failed"; }
    left=$(admin GET /zones | grep -o '"name":"[^"]*"' | grep -vx '"name":"example.com."' || true)
    [ -z "$left" ] || die "$ex: zones left after destroy: $left"
    ns=$(admin GET /zones | grep -o '"type":"NS"' | wc -l)
    [ "$ns" -eq 1 ] || die "$ex: NS records left in example.com after destroy"
    say "$ex: apply, clean plan, destroy in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  done
  exit 0
fi

release=1
[ "${1:-}" = "--no-release" ] && release=0

start=$(date +%s)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

export TF_CLI_CONFIG_FILE=/dev/null
say "terraform fmt -check -recursive examples/"
terraform fmt -check -recursive -diff examples/ || die "examples are not formatted: run terraform fmt -recursive examples/"

say "building the provider and the world"
cargo build --locked -q -p terraform-provider-route53delegation --bin terraform-provider-route53delegation -p r53world --bin world

dev_overrides_rc "$tmp/dev.tfrc"
export TF_CLI_CONFIG_FILE="$tmp/dev.tfrc"
# The world reports INSYNC after 200 ms, not Route 53's minute: poll soon.
export ROUTE53DELEGATION_INSYNC_POLL="${ROUTE53DELEGATION_INSYNC_POLL:-250ms,1s}"

validate() { # NAME DIR
  local out
  out=$(terraform -chdir="$2" validate -no-color 2>&1) || { printf '%s\n' "$out" >&2; die "$1: terraform validate failed"; }
  say "$1: valid"
}
# The registry snippets, together: provider.tf declares required_providers.
mkdir -p "$tmp/validate/snippets"
cp examples/provider/provider.tf examples/resources/route53delegation_link/resource.tf \
  examples/data-sources/route53delegation_check/data-source.tf "$tmp/validate/snippets/"
validate "provider.tf + resource.tf + data-source.tf" "$tmp/validate/snippets"
bash -n examples/resources/route53delegation_link/import.sh || die "import.sh: not valid shell"
for d in examples/*/; do
  ex=$(basename "$d")
  case $ex in provider | resources | data-sources | iam) continue ;; esac
  [ -f "$d/main.tf" ] || die "$ex: no main.tf"
  if grep -rqs 'hashicorp/aws' "$d"; then
    # Needs hashicorp/aws, which `terraform init` would download: offline,
    # only formatting is checked (see its README.md).
    say "$ex: uses hashicorp/aws, checked with fmt only (offline)"
    continue
  fi
  mkdir -p "$tmp/validate/$ex" && cp "$d"/*.tf "$tmp/validate/$ex/"
  validate "$ex" "$tmp/validate/$ex"
done

say "apply, plan, destroy in a world (network namespace with only loopback)"
scripts/netns.sh "$0" --in-world "$tmp"

if [ "$release" = 1 ]; then
  say "release packaging"
  scripts/check-release.sh
fi
say "examples passed in $(( $(date +%s) - start ))s"
