#!/usr/bin/env bash
# Stops what slurm-localhost-up.sh started, by PID file (never by process name). Usage: slurm-localhost-down.sh BASE
BASE=${1:?usage: slurm-localhost-down.sh BASE}
stop() { [ -f "$1" ] && kill "$(cat "$1")" 2>/dev/null; rm -f "$1"; }
for f in slurmd slurmctld slurmdbd; do stop "$BASE/$f.pid"; done
sleep 0.5
stop "$BASE/mysqlrun/mysql.pid"
# munged is shared by anything on this machine using munge; only stop the one this script's up started.
[ -f "$BASE/munged.started" ] && stop /run/munge/munged.pid && rm -f "$BASE/munged.started"
true
