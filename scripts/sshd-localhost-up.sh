#!/usr/bin/env bash
# An OpenSSH server on 127.0.0.1 for the training end-to-end test: its own host key, config and a
# client key made for the test; public-key login only. Idempotent (reuses a running one).
# Usage: scripts/sshd-localhost-up.sh BASE [PORT] [KEY=VALUE …]
#   PORT: 2222 unless taken, then the next free one. KEY=VALUE pairs become `SetEnv` lines, so
#   commands run over ssh see them (e.g. SLURM_CONF for a Slurm whose config is not in /etc).
#   Writes BASE/ssh/{sshd_config,ssh_host_ed25519_key*,client_ed25519*,authorized_keys,port,sshd.pid}.
#   Prints PORT=… and IDENTITY=… last.
set -euo pipefail
BASE=${1:?usage: sshd-localhost-up.sh BASE [PORT] [KEY=VALUE …]}; shift
WANT_PORT=2222
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then WANT_PORT=$1; shift; fi
mkdir -p "$BASE/ssh"; D=$(cd "$BASE/ssh" && pwd)
T0=$(date +%s%N)
if [ ! -x /usr/sbin/sshd ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends openssh-server >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends openssh-server >/dev/null; }
fi
T1=$(date +%s%N)
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ -f "$D/sshd.pid" ] && kill -0 "$(cat "$D/sshd.pid")" 2>/dev/null && [ -f "$D/port" ]; then
  echo "sshd already running on port $(cat "$D/port")"
else
  [ -f "$D/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C gift-test-host -f "$D/ssh_host_ed25519_key"
  [ -f "$D/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C gift-test-client -f "$D/client_ed25519"
  cp "$D/client_ed25519.pub" "$D/authorized_keys"; chmod 600 "$D/authorized_keys"
  PORT=$WANT_PORT
  while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
  {
    echo "Port $PORT"
    echo "ListenAddress 127.0.0.1"
    echo "HostKey $D/ssh_host_ed25519_key"
    echo "PidFile $D/sshd.pid"
    echo "AuthorizedKeysFile $D/authorized_keys"
    echo "PermitRootLogin prohibit-password"
    echo "PasswordAuthentication no"
    echo "KbdInteractiveAuthentication no"
    echo "UsePAM no"
    # the keys live under a test folder (possibly /tmp) that sshd's ownership checks would refuse
    echo "StrictModes no"
    echo "MaxSessions 32"
    echo "Subsystem sftp internal-sftp"
    for kv in "$@"; do echo "SetEnv $kv"; done
  } > "$D/sshd_config"
  mkdir -p /run/sshd; chmod 755 /run/sshd
  /usr/sbin/sshd -t -f "$D/sshd_config"
  /usr/sbin/sshd -f "$D/sshd_config" -E "$D/sshd.log"
  echo "$PORT" > "$D/port"
  for _ in $(seq 100); do port_free "$PORT" || break; sleep 0.05; done
fi
port_free "$(cat "$D/port")" && { echo "sshd is not listening; see $D/sshd.log" >&2; exit 1; }
T2=$(date +%s%N)
echo "sshd up: apt $(( (T1-T0)/1000000 )) ms, start $(( (T2-T1)/1000000 )) ms"
echo "PORT=$(cat "$D/port")"
echo "IDENTITY=$D/client_ed25519"
