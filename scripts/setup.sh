#!/usr/bin/env bash
# `npm run setup`: everything a fresh Debian 12 + Node 20 machine needs, then the main job:
# an image in → CadQuery out (K samples from the bundled ONNX model, each run in the kernel and
# ranked by IoU against the part's reference), then VS Code with the extension on localhost.
# usage: scripts/setup.sh [IMAGE] [REFERENCE.step]     (GIFT_NO_VSCODE=1 skips opening VS Code)
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${1:-test/fixtures/gencad-test100/images/00675497_0.png}
REFERENCE=${2:-test/fixtures/gencad-test100/gt_steps/00675497.step}
OUT=out/demo

echo "== 1/4 npm dependencies (onnxruntime-node's CUDA download skipped: it fails offline)"
export ONNXRUNTIME_NODE_INSTALL=skip
npm ci --no-audit --no-fund

echo "== 2/4 build"
npm run build --silent

echo "== 3/4 main job: $IMAGE → CadQuery"
mkdir -p "$OUT"
npx gift generate "$IMAGE" --samples 8 --reference "$REFERENCE" --out "$OUT/part.py"
cp "$IMAGE" "$OUT/input.png"
npx gift run "$OUT/part.py"
npx gift iou "$OUT/part.py" "$REFERENCE"
npx gift render "$OUT/part.py" --out "$OUT/part.png"
echo "the program: $OUT/part.py; its render: $OUT/part.png; the input: $OUT/input.png"

echo "== 4/4 VS Code with GIFT CAD"
if [ -n "${GIFT_NO_VSCODE:-}" ]; then
  echo "skipped (GIFT_NO_VSCODE is set); later: bash scripts/open-vscode.sh $OUT"
  exit 0
fi
exec bash scripts/open-vscode.sh "$OUT"
