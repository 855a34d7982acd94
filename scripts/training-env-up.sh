#!/usr/bin/env bash
# Brings up the training test environment on this machine: a single-node Slurm (slurmctld, slurmd,
# munge) reached through an OpenSSH server on 127.0.0.1, as a remote GPU cluster would be.
# Idempotent. Usage: scripts/training-env-up.sh [BASE]   (default /tmp/gift-training-env)
# Writes BASE/env.json, which test/train/e2e.test.ts reads:
#   {host, port, user, identityFile, slurmConf, python, torch, workDir}
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BASE=${1:-${GIFT_TRAINING_ENV:-/tmp/gift-training-env}}
mkdir -p "$BASE"; BASE=$(cd "$BASE" && pwd)
T0=$(date +%s%N)
bash "$HERE/slurm-localhost-up.sh" "$BASE/slurm" | tee "$BASE/slurm-up.log" | grep -v '^SLURM_CONF=' || true
SLURM_CONF=$(grep '^SLURM_CONF=' "$BASE/slurm-up.log" | cut -d= -f2-)
[ -n "$SLURM_CONF" ] || { echo "slurm did not come up" >&2; exit 1; }
bash "$HERE/sshd-localhost-up.sh" "$BASE" 2222 "SLURM_CONF=$SLURM_CONF" | tee "$BASE/sshd-up.log" | grep -vE '^(PORT|IDENTITY)=' || true
PORT=$(grep '^PORT=' "$BASE/sshd-up.log" | cut -d= -f2-)
IDENTITY=$(grep '^IDENTITY=' "$BASE/sshd-up.log" | cut -d= -f2-)
[ -n "$PORT" ] || { echo "sshd did not come up" >&2; exit 1; }
# The jobs' Python: Debian's, which has torch when scripts/install-python-deps.sh ran.
PYTHON=/usr/bin/python3
TORCH=false
"$PYTHON" -c 'import torch, onnx, numpy, PIL' >/dev/null 2>&1 && TORCH=true
mkdir -p "$BASE/remote"
cat > "$BASE/env.json" <<JSON
{
  "host": "127.0.0.1",
  "port": $PORT,
  "user": "$(id -un)",
  "identityFile": "$IDENTITY",
  "slurmConf": "$SLURM_CONF",
  "python": "$PYTHON",
  "torch": $TORCH,
  "workDir": "$BASE/remote"
}
JSON
T1=$(date +%s%N)
echo "training environment up in $(( (T1-T0)/1000000 )) ms: ssh -p $PORT -i $IDENTITY $(id -un)@127.0.0.1 (torch: $TORCH)"
echo "ENV=$BASE/env.json"
