#!/usr/bin/env bash
# Installs the Python side of the model recipe (training/): Debian's CPU PyTorch and onnx, used
# with /usr/bin/python3. Idempotent: does nothing when both already import.
set -euo pipefail
if /usr/bin/python3 -c 'import torch, onnx' >/dev/null 2>&1; then
  echo "python3-torch and python3-onnx already installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends python3-torch python3-onnx python3-numpy python3-pil
/usr/bin/python3 -c 'import torch, onnx; print("torch", torch.__version__, "onnx", onnx.__version__)'
