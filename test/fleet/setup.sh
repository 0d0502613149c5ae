#!/usr/bin/env bash
# Installs what the test fleet needs on a fresh Debian machine: OpenSSH's server.
set -euo pipefail
if [ ! -x /usr/sbin/sshd ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null
fi
mkdir -p /run/sshd
