#!/usr/bin/env bash
# Runs a command in a new network namespace with only loopback, with
# /etc/resolv.conf pointing at 127.0.10.53 (a world's resolver when one runs
# on net 0), so nothing can reach a real resolver or AWS.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: scripts/netns.sh CMD [ARG...]" >&2; exit 2; }
exec unshare --net --mount --propagation private -- sh -c '
  set -e
  ip link set lo up
  conf=$(mktemp)
  echo "nameserver 127.0.10.53" > "$conf"
  mount --bind "$conf" /etc/resolv.conf
  exec "$@"' sh "$@"
