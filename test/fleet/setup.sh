#!/usr/bin/env bash
# Installs what the test fleet needs on a fresh Debian machine: OpenSSH's server, and iproute2
# (`ip netns`) for the hosts that sit behind bastions in network namespaces of their own.
set -euo pipefail
missing=()
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ip >/dev/null || missing+=(iproute2)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
mkdir -p /run/sshd
