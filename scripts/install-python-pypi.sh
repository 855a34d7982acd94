#!/usr/bin/env bash
# Installs the PyPI side of the model recipes (training/) into a virtual environment at
# REPO/.venv-pypi: current PyTorch, onnx and onnxruntime for train_bundled.py's export, and
# transformers + tokenizers + accelerate for recipe_vlm.py. Debian's torch 1.13 (install-python-deps.sh,
# /usr/bin/python3) stays the default for the other tests; test/training-pypi/ uses this one.
# Idempotent: does nothing when the venv already holds exactly these versions.
#
# Why these pins: see docs/notes-pypi-export.md. torch from PyPI has no CPU-only wheel for
# linux x86_64 (PyPI's is the CUDA build; the CPU wheels live on another index, not reachable
# here): the torch wheel is 539 MB and its CUDA libraries (cuDNN, cuBLAS, NCCL, …, triton) bring
# the download to ≈2.8 GB, ≈5 GB installed. torch does not import without them. It runs on CPU fine.
# Override the location with GIFT_PYPI_VENV=/path.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${GIFT_PYPI_VENV:-$root/.venv-pypi}"

PINS=(
  torch==2.15.0
  onnx==1.23.2
  onnxruntime==1.30.0
  numpy==2.4.6
  pillow==13.0.0
  transformers==5.23.0
  tokenizers==0.23.3
  accelerate==1.15.0
  onnxscript==0.7.2
  peft==0.21.2
  safetensors==0.8.0
  torchvision==0.29.2
)

# Already there? (every pinned distribution at exactly its version)
check='import sys
from importlib.metadata import version, PackageNotFoundError
bad = []
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    try:
        have = version(name)
    except PackageNotFoundError:
        have = None
    if have != want:
        bad.append(f"{name} {have} (want {want})")
if bad:
    print("; ".join(bad))
    sys.exit(1)'
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$check" "${PINS[@]}" >/dev/null 2>&1; then
  echo "$venv already has ${PINS[*]}"
  exit 0
fi

py="${GIFT_PYPI_PYTHON:-}"
if [ -z "$py" ]; then
  for candidate in python3.11 python3.12 python3.13; do
    if command -v "$candidate" >/dev/null 2>&1; then py="$candidate"; break; fi
  done
fi
if [ -z "$py" ]; then
  echo "install-python-pypi: needs python3.11 (or 3.12/3.13) on PATH (or GIFT_PYPI_PYTHON=…)" >&2
  exit 1
fi

started=$(date +%s)
if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv "$venv"
fi
# git ignores the venv's contents without an entry in the repository's .gitignore (as Python ≥ 3.13's venv does).
[ -f "$venv/.gitignore" ] || printf '# created by scripts/install-python-pypi.sh\n*\n' >"$venv/.gitignore"
# --no-cache-dir: the CUDA wheels are ≈2.8 GB and a cached copy would double the disk used.
"$venv/bin/python" -m pip install --quiet --no-cache-dir --disable-pip-version-check "${PINS[@]}"
"$venv/bin/python" -c "$check" "${PINS[@]}"
"$venv/bin/python" -c 'import torch, onnx, onnxruntime, transformers, tokenizers; print("torch", torch.__version__, "onnx", onnx.__version__, "onnxruntime", onnxruntime.__version__, "transformers", transformers.__version__, "tokenizers", tokenizers.__version__)'
echo "install-python-pypi: $venv ready in $(( $(date +%s) - started )) s ($(du -sh "$venv" | cut -f1))"
