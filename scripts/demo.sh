#!/usr/bin/env bash
# The quick start: installs what is needed (scripts/setup.sh), builds the
# provider and the local world, starts the world (`world up`: Route 53 + STS
# emulator, authoritative DNS for the root, the TLDs and every hosted zone,
# and a recursive resolver, all in the network namespace r53world), then runs
# examples/quickstart against it:
#
#   1. apply: api.example.com delegated from example.com (parent account
#      111111111111) to a new zone in the child account 222222222222, verified
#      over DNS;
#   2. the failure everyone hits: the child zone deleted and re-created out of
#      band, so example.com still refers to the old zone's name servers and
#      api.example.com stops resolving;
#   3. terraform plan shows the repair;
#   4. apply makes it, dig answers again;
#   5. destroy.
#
# The world is always stopped on exit; nothing is left running. Usage:
#   scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$(date +%s)

if [ -t 1 ]; then
  B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m' color=()
else
  B= G= R= N= color=(-no-color)
fi
section() { printf '\n%s==== %s ====%s\n' "$B" "$*" "$N"; }
note() { printf '%s-- %s%s\n' "$B" "$*" "$N"; }
die() { printf '%sdemo: %s%s\n' "$R" "$*" "$N" >&2; exit 1; }

section "Setup (Debian packages, Python venv)"
scripts/setup.sh

section "Build the provider and the world"
cargo build --locked -p terraform-provider-route53delegation --bin terraform-provider-route53delegation -p r53world --bin world

# Cargo's target directory ($CARGO_TARGET_DIR when set).
debug_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}/debug")
WORLD=("$debug_dir/world")
WDIR=$root/.world
section "Start the world"
cleanup() {
  local rc=$?
  printf '\n%s==== Stop the world ====%s\n' "$B" "$N"
  "${WORLD[@]}" down --dir "$WDIR" || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
"${WORLD[@]}" up --dir "$WDIR" --provider-dir "$debug_dir" >/dev/null ||
  die "world up failed (is another world on net 0 running? try: $debug_dir/world down --dir .world)"
# Endpoints, operator credentials (account 999999999999), resolver, and a
# Terraform CLI config whose dev_overrides point at the debug build.
# shellcheck disable=SC1091
. "$WDIR/env"
export AWS_CONFIG_FILE=/nonexistent/config AWS_SHARED_CREDENTIALS_FILE=/nonexistent/credentials
export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
# The world reports INSYNC after 200 ms, not Route 53's minute: poll soon.
export ROUTE53DELEGATION_INSYNC_POLL="${ROUTE53DELEGATION_INSYNC_POLL:-250ms,1s}"
IN_WORLD="${WORLD[*]} exec --dir $WDIR --"
. scripts/lib/world.sh
tf_world_vars
echo "Route 53 + STS at $AWS_ENDPOINT_URL, resolver at $R53WORLD_RESOLVER (network namespace $R53WORLD_NETNS)"

parent=$(bootstrap_parent)
echo "example.com: hosted zone $parent in the parent account 111111111111, registered at com"

work=$WDIR/demo/quickstart
rm -rf "$work" && mkdir -p "$work" && cp examples/quickstart/*.tf "$work/"
tf() {
  local cmd=$1
  shift
  $IN_WORLD terraform -chdir="$work" "$cmd" ${color[@]+"${color[@]}"} "$@"
}
dig_api() {
  note "dig api.example.com SOA through the resolver ($R53WORLD_RESOLVER)"
  $IN_WORLD dig +time=2 +tries=1 @"${R53WORLD_RESOLVER%:*}" -p "${R53WORLD_RESOLVER##*:}" api.example.com SOA |
    grep -E 'status:|IN[[:space:]]+SOA' | grep -v '^;api' || true
}
flush() {
  note "flushing the resolver's cache for api.example.com ($1)"
  admin POST /flush '{"name":"api.example.com"}' >/dev/null
}
rcode() {
  $IN_WORLD dig +time=2 +tries=1 @"${R53WORLD_RESOLVER%:*}" -p "${R53WORLD_RESOLVER##*:}" api.example.com SOA |
    sed -n 's/.*status: \([A-Z]*\),.*/\1/p'
}

section "1. terraform apply: delegate api.example.com to the child account"
t=$(date +%s)
tf apply -auto-approve -input=false
t_apply=$(( $(date +%s) - t ))
old_zone=$(tf output -raw child_zone_id)
note "verification: $(tf output -raw verification_status), $(tf output -raw servers_checked) name servers checked (the outputs above)"
dig_api
r1=$(rcode)

section "2. Out of band: the child zone is deleted and re-created"
note "in the child account's console: delete zone $old_zone, create api.example.com again"
delete_zone 222222222222 "$old_zone"
new_zone=$(create_zone 222222222222 api.example.com)
echo "new zone: $new_zone, with new name servers; example.com still refers to the old ones"
flush "so it asks the name servers again; a real resolver keeps its cached answer until the TTL runs out"
dig_api
r2=$(rcode)
[ "$r2" != NOERROR ] || die "api.example.com still resolves after the zone was re-created"

section "3. terraform plan: the provider sees the broken delegation"
set +e
tf plan -detailed-exitcode -input=false | tee "$work/plan.log"
code=$?
set -e
[ "$code" -eq 2 ] || die "plan should show the repair (exit code 2), got $code"
grep -q delegated_name_servers "$work/plan.log" || die "the plan does not show delegated_name_servers changing"

section "4. terraform apply: repair the delegation"
tf apply -auto-approve -input=false
note "verification: $(tf output -raw verification_status), $(tf output -raw servers_checked) name servers checked"
flush "it cached the failure (SERVFAIL) for a while"
dig_api
r3=$(rcode)
[ "$r3" = NOERROR ] || die "api.example.com does not resolve after the repair ($r3)"
set +e
tf plan -detailed-exitcode -input=false >/dev/null
code=$?
set -e
[ "$code" -eq 0 ] || die "plan after the repair is not clean (exit code $code)"
note "plan after the repair: no changes"

section "5. terraform destroy"
tf destroy -auto-approve -input=false | grep -E 'Destroy|Destruction|destroyed'

section "Summary"
cat <<SUMMARY
${G}demo passed${N} in $(( $(date +%s) - start ))s (first apply ${t_apply}s)
  apply:            api.example.com delegated to zone $old_zone, verified; resolver: $r1
  out of band:      zone re-created as $new_zone; resolver: $r2
  plan:             showed the repair of delegated_name_servers
  apply:            delegation repaired and verified; resolver: $r3; next plan clean
  destroy:          parent NS record removed; zone $new_zone kept (made by hand, so the link adopted it)
SUMMARY
