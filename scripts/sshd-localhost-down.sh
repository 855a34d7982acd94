#!/usr/bin/env bash
# Stops the sshd that sshd-localhost-up.sh started, by its PID file. Usage: sshd-localhost-down.sh BASE
BASE=${1:?usage: sshd-localhost-down.sh BASE}
PIDFILE=$BASE/ssh/sshd.pid
[ -f "$PIDFILE" ] && kill "$(cat "$PIDFILE")" 2>/dev/null
rm -f "$PIDFILE" "$BASE/ssh/port"
true
