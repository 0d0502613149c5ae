#!/usr/bin/env bash
# The baseline baton is compared with: a rolling restart the way a person would script it. For
# each group, one `ssh` per host in parallel runs the restart command, then each host's /health is
# polled until it answers with the new version; the next group starts once every host of this one
# is healthy. With BENCH_CONTROL_DIR set, ssh goes through the ControlMaster sockets there (warm
# connections); without it, every ssh makes its own connection (cold).
#
#   bash-rollout.sh <version> <group> [<group>...]     a group: address,address,...
# Environment: BENCH_KEY, BENCH_KNOWN_HOSTS, BENCH_USER, BENCH_FLEETCTL, BENCH_HEALTH_PORT,
# BENCH_CONTROL_DIR (optional).
set -euo pipefail
version=$1
shift
ssh_options=(
  -i "$BENCH_KEY" -p 2222 -o BatchMode=yes -o LogLevel=ERROR
  -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$BENCH_KNOWN_HOSTS"
)
if [ -n "${BENCH_CONTROL_DIR:-}" ]; then
  ssh_options+=(-o ControlMaster=no -o "ControlPath=$BENCH_CONTROL_DIR/%h")
fi

healthy() {
  until curl -fs --max-time 1 "http://$1:$BENCH_HEALTH_PORT/health" 2>/dev/null | grep -q "ok $version"; do
    sleep 0.025
  done
}

restart() {
  ssh "${ssh_options[@]}" "$BENCH_USER@$1" "$BENCH_FLEETCTL restart $version" >/dev/null
  healthy "$1"
}

for group in "$@"; do
  IFS=, read -ra hosts <<<"$group"
  pids=()
  for host in "${hosts[@]}"; do
    restart "$host" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
done
