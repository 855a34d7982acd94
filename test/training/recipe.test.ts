import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { PREPROCESS_DEFAULTS, preprocessImage, type PreprocessSpec } from '../../src/core/model/onnx-preprocess';
import { PYTHON, repoRoot, runTraining, torchMissing, writeSyntheticDataset } from '../model/onnx-fixture';

const skip = torchMissing();

const spec = (size: number): PreprocessSpec => ({ ...PREPROCESS_DEFAULTS, size });

test('TypeScript preprocessing equals training/gift_preprocess.py (non-square, alpha, odd sizes)', { skip }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gift-pre-'));
  // 301×187 RGBA: a translucent blue bar and an opaque red square on a partly transparent background.
  const width = 301;
  const height = 187;
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 4;
      const inSquare = x > 40 && x < 120 && y > 30 && y < 110;
      const inBar = y > 130 && y < 150;
      rgba[p] = inSquare ? 200 : (x * 3) % 256;
      rgba[p + 1] = inSquare ? 20 : (y * 5) % 256;
      rgba[p + 2] = inBar ? 220 : 60;
      rgba[p + 3] = inSquare ? 255 : inBar ? 128 : x % 2 ? 0 : 255;
    }
  }
  const file = path.join(dir, 'odd.png');
  await sharp(rgba, { raw: { width, height, channels: 4 } })
    .png()
    .toFile(file);
  for (const size of [64, 112]) {
    const ts = await preprocessImage(file, spec(size));
    const py = spawnSync(
      PYTHON,
      [
        '-c',
        `import sys, json; sys.path.insert(0, ${JSON.stringify(path.join(repoRoot, 'training'))}); from gift_preprocess import preprocess_file; print(json.dumps(preprocess_file(${JSON.stringify(file)}, ${size}).flatten().tolist()))`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(py.status, 0, py.stderr);
    const expected = JSON.parse(py.stdout) as number[];
    assert.equal(ts.length, expected.length);
    let max = 0;
    for (let i = 0; i < ts.length; i++) max = Math.max(max, Math.abs(ts[i] - expected[i]));
    assert.ok(max < 1e-5, `size ${size}: max difference ${max}`);
    // background padding is 0 after inversion; the red square is ink
    assert.equal(ts[0], 0);
  }
});

test('training refuses a dataset without token ids, and says how to get them', { skip }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gift-notok-'));
  const dataset = await writeSyntheticDataset(path.join(dir, 'data'), 3, false);
  writeFileSync(path.join(dataset.dir, 'vocab.json'), JSON.stringify({ ...dataset.vocabulary }));
  const run = runTraining(['--data', dataset.dir, '--out', path.join(dir, 'out'), '--config', 'tiny', '--steps', '1']);
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /metadata\.jsonl:1: no `tokens`.*run the dataset export/s);

  const noVocab = await writeSyntheticDataset(path.join(dir, 'data2'), 2, false);
  const run2 = runTraining(['--data', noVocab.dir, '--out', path.join(dir, 'out2'), '--config', 'tiny', '--steps', '1']);
  assert.notEqual(run2.status, 0);
  assert.match(run2.stderr, /vocab\.json is missing/);
});

test('training rejects token ids outside the vocabulary, naming the line', { skip }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gift-badtok-'));
  const dataset = await writeSyntheticDataset(path.join(dir, 'data'), 2, true);
  const meta = path.join(dataset.dir, 'metadata.jsonl');
  const lines = readFileSync(meta, 'utf8').trim().split('\n');
  const second = JSON.parse(lines[1]);
  second.tokens = [...second.tokens, 999];
  lines[1] = JSON.stringify(second);
  writeFileSync(meta, `${lines.join('\n')}\n`);
  const run = runTraining(['--data', dataset.dir, '--out', path.join(dir, 'out'), '--config', 'tiny', '--steps', '1']);
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /metadata\.jsonl:2: `tokens` must be ids in 0\.\.\d+/);
});

test('make_dataset.ts --array: chunked and resumed runs equal one run, arrays equal inference preprocessing, and train', { skip }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gift-arr-'));
  const make = (out: string, count: number, ...extra: string[]) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'training/make_dataset.ts'), out, String(count), '5', ...extra], {
      encoding: 'utf8',
      cwd: repoRoot,
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
  };
  const whole = path.join(dir, 'whole');
  const pieces = path.join(dir, 'pieces');
  make(whole, 6, '--array', '32');
  make(pieces, 2, '--array', '32', '--chunk', '1');
  // A half-written last row (as when a run is killed) is dropped and made again.
  writeFileSync(path.join(pieces, 'metadata.jsonl'), `${readFileSync(path.join(pieces, 'metadata.jsonl'), 'utf8')}{"code": "trunc`);
  make(pieces, 6, '--array', '32', '--chunk', '3');
  for (const file of ['metadata.jsonl', 'images-32.u8', 'vocab.json', 'gen_000005.png']) {
    assert.ok(readFileSync(path.join(whole, file)).equals(readFileSync(path.join(pieces, file))), `${file} differs`);
  }
  // Each stored array row is the PNG beside it, preprocessed as at inference and rounded to a byte.
  const bytes = readFileSync(path.join(whole, 'images-32.u8'));
  assert.equal(bytes.length, 6 * 32 * 32);
  const x = await preprocessImage(path.join(whole, 'gen_000004.png'), spec(32));
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(bytes[4 * 32 * 32 + i] / 255 - x[i]));
  assert.ok(max <= 0.5 / 255 + 1e-6, `max difference ${max}`);

  const run = runTraining(['--data', whole, pieces, '--out', path.join(dir, 'out'), '--config', 'tiny', '--image-size', '32', '--steps', '2']);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /12 train \/ 0 val examples/);
  const card = JSON.parse(readFileSync(path.join(dir, 'out', 'model.json'), 'utf8'));
  assert.equal(card.preprocess.size, 32);
  assert.equal(card.training.data.length, 2);

  // --resume continues from the checkpoint; --resume at its own step only exports.
  const more = runTraining(['--data', whole, pieces, '--out', path.join(dir, 'out'), '--config', 'tiny', '--image-size', '32', '--steps', '4', '--resume']);
  assert.equal(more.status, 0, more.stderr);
  assert.match(more.stdout, /resumed from .* at step 2/);
  assert.equal(JSON.parse(readFileSync(path.join(dir, 'out', 'model.json'), 'utf8')).training.steps, 4);
  const exportOnly = runTraining(['--data', whole, '--out', path.join(dir, 'out'), '--config', 'tiny', '--image-size', '32', '--steps', '4', '--resume']);
  assert.equal(exportOnly.status, 0, exportOnly.stderr);
  assert.equal(JSON.parse(readFileSync(path.join(dir, 'out', 'model.json'), 'utf8')).training.steps, 4);
});
