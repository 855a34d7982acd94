#!/usr/bin/env bash
# Stops what training-env-up.sh started (by PID files). Usage: scripts/training-env-down.sh [BASE]
HERE=$(cd "$(dirname "$0")" && pwd)
BASE=${1:-${GIFT_TRAINING_ENV:-/tmp/gift-training-env}}
bash "$HERE/sshd-localhost-down.sh" "$BASE"
bash "$HERE/slurm-localhost-down.sh" "$BASE/slurm"
rm -f "$BASE/env.json"
echo "training environment down"
