# Helpers for scripts that drive a local world (sourced, not executed).
# They run where the world's addresses are reachable: inside its network
# namespace, or with $IN_WORLD set to a command prefix that enters it
# (e.g. "ip netns exec r53world").

# Signed Route 53 call with an account's base credentials (the world's are
# deterministic: see tests/world/src/model/accounts.rs): r53 ACCOUNT METHOD PATH [XML].
r53() {
  local account=$1 method=$2 path=$3 body=${4:-}
  local args=(-sS --fail-with-body --aws-sigv4 "aws:amz:us-east-1:route53"
    --user "AKIA${account}WRLD:r53world-secret-key-for-account-${account}"
    -X "$method" -H 'content-type: text/xml')
  [ -n "$body" ] && args+=(-d "$body")
  ${IN_WORLD:-} curl "${args[@]}" "${AWS_ENDPOINT_URL:?AWS_ENDPOINT_URL not set: is the world up?}/2013-04-01/${path}"
}

# create_zone ACCOUNT NAME: creates a public hosted zone "in the console";
# prints its ID.
create_zone() {
  local out
  out=$(r53 "$1" POST hostedzone "<?xml version=\"1.0\" encoding=\"UTF-8\"?><CreateHostedZoneRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Name>$2</Name><CallerReference>console-$2-$(date +%s%N)</CallerReference></CreateHostedZoneRequest>") || {
    echo "create_zone $1 $2 failed: $out" >&2
    return 1
  }
  sed -n 's|.*<Id>/hostedzone/\([A-Z0-9]*\)</Id>.*|\1|p' <<<"$out"
}

# delete_zone ACCOUNT ID
delete_zone() {
  r53 "$1" DELETE "hostedzone/$2" >/dev/null
}

# admin METHOD PATH [JSON]: the world's admin API.
admin() {
  local args=(-sS --fail-with-body -X "$1" -H 'content-type: application/json')
  [ -n "${3:-}" ] && args+=(-d "$3")
  ${IN_WORLD:-} curl "${args[@]}" "${AWS_ENDPOINT_URL:?}/admin/${2#/}"
}

# bootstrap_parent: example.com in the parent account 111111111111,
# registered at com (what buying the domain does). Prints the zone ID.
bootstrap_parent() {
  local id
  id=$(create_zone 111111111111 example.com)
  [ -n "$id" ] || { echo "bootstrap: no zone ID for example.com" >&2; return 1; }
  admin POST /register "{\"domain\":\"example.com\",\"hosted_zone_id\":\"$id\"}" >/dev/null
  echo "$id"
}

# The debug build (in $CARGO_TARGET_DIR when set), as an absolute path.
debug_dir() { realpath -m "${CARGO_TARGET_DIR:-target}/debug"; }

# start_world DIR NET: runs `world serve` (the debug build's) in the background
# in the current network namespace, waits until it is ready and exports its
# environment (endpoints, operator credentials, R53WORLD_RESOLVER). Call
# stop_world when done (e.g. from an EXIT trap). Worlds lock their net number
# machine-wide ($TMPDIR/r53world-locks): 0 is `world up`'s (scripts/demo.sh),
# tests take 1 to 250, scripts/examples.sh 251, scripts/check-release.sh 252.
WORLD_PID=
start_world() {
  local dir=$1 net=$2 i
  mkdir -p "$dir"
  rm -f "$dir/ready"
  "$(debug_dir)/world" serve --dir "$dir" --net "$net" >"$dir/world.log" 2>&1 &
  WORLD_PID=$!
  for i in $(seq 300); do
    [ -s "$dir/ready" ] && break
    if ! kill -0 "$WORLD_PID" 2>/dev/null; then
      echo "world serve exited; its log:" >&2
      cat "$dir/world.log" >&2
      WORLD_PID=
      return 1
    fi
    sleep 0.05
  done
  [ -s "$dir/ready" ] || { echo "world not ready after 15 s; see $dir/world.log" >&2; return 1; }
  # Split at the first '=' by hand: `IFS='=' read k v` drops a value's
  # trailing '=' (a base64 TSIG secret's padding).
  local line
  while IFS= read -r line; do
    [ -n "$line" ] && [ "${line#*=}" != "$line" ] && export "${line%%=*}=${line#*=}"
  done <"$dir/ready"
  # Nothing from the host may leak in: no profiles, no shared files.
  export AWS_CONFIG_FILE=/nonexistent/config AWS_SHARED_CREDENTIALS_FILE=/nonexistent/credentials
  unset AWS_PROFILE AWS_SESSION_TOKEN
}

stop_world() {
  if [ -n "${WORLD_PID:-}" ]; then
    kill -TERM "$WORLD_PID" 2>/dev/null || true
    wait "$WORLD_PID" 2>/dev/null || true
    WORLD_PID=
  fi
}

# tf_world_vars: points the examples' variables at the running world.
tf_world_vars() {
  export TF_VAR_route53_endpoint="$AWS_ENDPOINT_URL" TF_VAR_sts_endpoint="$AWS_ENDPOINT_URL"
  export TF_VAR_dns_resolvers="[\"${R53WORLD_RESOLVER:?}\"]" TF_VAR_verify_timeout=60s
}

# dev_overrides_rc FILE: a CLI config using the provider of the debug build.
dev_overrides_rc() {
  cat >"$1" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/route53delegation/route53delegation" = "$(debug_dir)"
  }
  direct {}
}
RC
}
