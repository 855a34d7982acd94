/**
 * The bundled model's recipe on current PyPI torch (scripts/install-python-pypi.sh), beside Debian's
 * torch 1.13 (the other tests): train_bundled.py trains and exports, onnx.checker (full_check)
 * accepts the file, onnxruntime matches torch in eval mode in both modes (training/verify_export.py),
 * and the extension's runtime (onnxruntime-node, CadModel) reproduces torch's reference.json.
 * Since torch 2.9 torch.onnx.export defaults to the dynamo exporter; export_onnx.py asks for the
 * TorchScript one (opset 17), and GIFT_ONNX_EXPORTER=dynamo gives opset 18: both are checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CadModel } from '../../src/core/model/onnx';
import { PYTHON as DEBIAN_PYTHON, type Reference, torchMissing, writeSyntheticDataset } from '../model/onnx-fixture';
import { lastJson, pypiMissing, repoRoot, runPython, VENV_PYTHON } from './pypi-env';

const skip = pypiMissing(['torch', 'onnx', 'onnxruntime', 'numpy', 'PIL']);
const skipDynamo = skip ?? pypiMissing(['onnxscript']);
const skipDebian = skip ?? torchMissing();
const train = path.join(repoRoot, 'training/train_bundled.py');
const verify = path.join(repoRoot, 'training/verify_export.py');

interface Verified {
  ok: boolean;
  torch: string;
  onnxruntime: string;
  opset: Record<string, number>;
  dropout_nodes: number;
  max_abs: Record<'encode' | 'decode_first_step' | 'decode_cached', number>;
  problems: string[];
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

function assertParity(v: Verified, opset: number) {
  assert.ok(v.ok, JSON.stringify(v));
  assert.deepEqual(v.problems, []);
  assert.equal(v.opset['ai.onnx'], opset);
  assert.equal(v.dropout_nodes, 0, 'exported in eval mode: no Dropout nodes');
  for (const [mode, diff] of Object.entries(v.max_abs)) assert.ok(diff < 1e-4, `${mode}: max |onnxruntime - torch| = ${diff}`);
}

/** Trains the tiny model for a few steps with the venv's torch, exports, and checks the export three ways. */
async function trainExportAndCheck(exporter: 'torchscript' | 'dynamo', opset: number) {
  const dir = mkdtempSync(path.join(tmpdir(), `gift-pypi-${exporter}-`));
  const dataset = await writeSyntheticDataset(path.join(dir, 'data'), 6);
  const out = path.join(dir, 'out');
  const env = { GIFT_ONNX_EXPORTER: exporter };
  const args = [train, '--data', dataset.dir, '--out', out, '--config', 'tiny', '--steps', '30', '--batch-size', '6', '--device', 'cpu'];
  const run = runPython(VENV_PYTHON, args, env);
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  assert.doesNotMatch(run.stderr, /training mode/, 'exported in eval mode');

  const card = JSON.parse(readFileSync(path.join(out, 'model.json'), 'utf8'));
  assert.equal(card.onnx.opset, opset);
  assert.doesNotMatch(card.training.torch, /^1\./, 'trained with the PyPI torch');

  // Python: onnx.checker full_check, onnxruntime against torch eval outputs (encode and decode).
  const check = runPython(VENV_PYTHON, [verify, '--onnx', path.join(out, 'model.onnx'), '--checkpoint', path.join(out, 'checkpoint.pt')]);
  assert.equal(check.status, 0, `${check.stdout}\n${check.stderr}`);
  const verified = lastJson<Verified>(check.stdout);
  assertParity(verified, opset);

  // The extension's runtime (onnxruntime-node) reproduces torch's reference.json.
  const model = await CadModel.load(out);
  try {
    const reference = JSON.parse(readFileSync(path.join(out, 'reference.json'), 'utf8')) as Reference;
    const pixels = await model.preprocess(path.join(dataset.dir, reference.file_name));
    assert.ok(maxAbsDiff(pixels, reference.pixels) < 1e-5, 'TS preprocessing differs from numpy');
    const logits = await model.logitsForPrefix(pixels, reference.prefix);
    const nodeDiff = maxAbsDiff(logits, reference.logits.flat());
    assert.ok(nodeDiff < 1e-4, `onnxruntime-node logits differ from torch by ${nodeDiff}`);
    const stepper = model.stepModel(await model.encode(pixels), 1);
    for (let t = 0; t < reference.prefix.length; t++) {
      const stepLogits = await stepper.step([reference.prefix[t]]);
      assert.ok(maxAbsDiff(stepLogits, reference.logits[t]) < 1e-4, `cached step ${t} differs`);
    }
    const { programs } = await model.generate(pixels);
    const greedy = reference.greedy_tokens;
    const expected = greedy[greedy.length - 1] === model.card.vocab.eos ? greedy.slice(0, -1) : greedy;
    assert.deepEqual(programs[0].tokens.slice(0, expected.length), expected);
    console.log(
      `${exporter} (torch ${verified.torch}, onnxruntime ${verified.onnxruntime}, opset ${opset}): max abs diff ` +
        `encode ${verified.max_abs.encode.toExponential(2)}, decode ${Math.max(verified.max_abs.decode_first_step, verified.max_abs.decode_cached).toExponential(2)}, ` +
        `onnxruntime-node logits ${nodeDiff.toExponential(2)}; train+export ${run.seconds.toFixed(1)} s`,
    );
  } finally {
    await model.dispose();
  }
  return { dataset, out, env };
}

test('PyPI torch: train_bundled.py exports one opset-17 file (TorchScript exporter) that onnx.checker, onnxruntime and onnxruntime-node accept and match torch', {
  skip,
}, async () => {
  const { dataset, out, env } = await trainExportAndCheck('torchscript', 17);
  // --resume reads the checkpoint back (torch >= 2.6 loads weights_only by default) and only exports.
  const again = runPython(VENV_PYTHON, [train, '--data', dataset.dir, '--out', out, '--config', 'tiny', '--steps', '30', '--resume'], env);
  assert.equal(again.status, 0, `${again.stdout}\n${again.stderr}`);
  assert.match(again.stdout, /resumed from .* at step 30/);
});

test('PyPI torch: GIFT_ONNX_EXPORTER=dynamo exports one opset-18 file that checks and matches torch', { skip: skipDynamo }, async () => {
  await trainExportAndCheck('dynamo', 18);
});

test("Debian's torch 1.13 export passes onnx.checker (full_check) and matches torch within 1e-4 in PyPI onnxruntime", { skip: skipDebian }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gift-t113-'));
  const onnxPath = path.join(dir, 'model.onnx');
  const npz = path.join(dir, 'reference.npz');
  // torch side with Debian's torch (no onnxruntime there); onnxruntime side in the venv.
  const torchSide = runPython(DEBIAN_PYTHON, [verify, '--onnx', onnxPath, '--random', 'small:300', '--save-reference', npz]);
  assert.equal(torchSide.status, 0, torchSide.stderr);
  const ortSide = runPython(VENV_PYTHON, [verify, '--onnx', onnxPath, '--reference', npz]);
  assert.equal(ortSide.status, 0, `${ortSide.stdout}\n${ortSide.stderr}`);
  const verified = lastJson<Verified>(ortSide.stdout);
  assert.match(verified.torch, /^1\.13/);
  assertParity(verified, 17);
  console.log(
    `torch ${verified.torch} → onnxruntime ${verified.onnxruntime}: max abs diff encode ${verified.max_abs.encode.toExponential(2)}, ` +
      `decode ${Math.max(verified.max_abs.decode_first_step, verified.max_abs.decode_cached).toExponential(2)}`,
  );
});
