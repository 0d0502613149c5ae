#!/bin/bash
# The control command a playbook runs on a fake host over SSH. sshd's SetEnv tells it which
# host it is on (FLEET_ADDRESS), so each sshd acts only on its own host's service. Plain bash
# (/dev/tcp) so it costs what a real `systemctl restart` costs, not a runtime's start-up.
set -u
command=${1:-}
version=${2:-}

usage() {
  echo 'usage: fleetctl install <version> | restart <version> | stop | status' >&2
  exit 2
}

behaviour() {
  grep -o "\"$1\": *\"[a-z-]*\"" "${FLEET_BEHAVIOURS:-/dev/null}" 2>/dev/null | sed 's/.*: *"\(.*\)"/\1/'
}

send() {
  if ! exec 3<>"/dev/tcp/${FLEET_ADDRESS:?run me over SSH on a fleet host}/${FLEET_CONTROL_PORT:-8081}"; then
    echo 'fleetctl: service not reachable' >&2
    exit 1
  fi
  printf '%s\n' "$1" >&3
  answer=$(cat <&3)
  printf '%s\n' "$answer"
  case $answer in error*) exit 1 ;; esac
}

case $command in
  install)
    [ -n "$version" ] || usage
    # A behaviour for this host alone ("v3@127.0.0.12") comes before the one for every host.
    own=$(behaviour "$version@${FLEET_ADDRESS:-}")
    case ${own:-$(behaviour "$version")} in
      install-fails)
        echo "fleetctl: cannot install $version: checksum mismatch" >&2
        exit 3
        ;;
      install-hangs) sleep 3600 ;;
    esac
    echo "installed $version"
    ;;
  restart)
    [ -n "$version" ] || usage
    send "restart $version"
    ;;
  stop | status) send "$command" ;;
  *) usage ;;
esac
