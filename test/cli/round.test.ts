/**
 * `gift round` end to end on real parts: a dataset of generated pairs, the bundled model samples
 * them, SRS/FDA records are tagged with the round, the training set is exported with token ids and
 * image arrays equal to inference preprocessing, train_bundled.py trains a tiny model on it, and
 * old and new model are measured on test100 images; a rerun finds every stage done.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDataset } from '../../src/core/dataset/store';
import { PREPROCESS_DEFAULTS, preprocessImage, toArrayBytes } from '../../src/core/model/onnx-preprocess';
import { generateProgram, mulberry32 } from '../../src/core/model/synthetic';
import { KernelPool } from '../../src/core/pool/pool';
import { torchMissing } from '../model/onnx-fixture';
import { TEST100_DIR } from '../helpers/test100';

const root = path.join(__dirname, '..', '..');
const skip = torchMissing();

function runGift(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(root, 'bin', 'gift.js'), ...args], { cwd: root, maxBuffer: 64 * 1024 ** 2 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A dataset of `count` generated pairs (ids PREFIX0…), rendered in the kernel pool. */
async function generatedDataset(tmpPrefix: string, idPrefix: string, seed: number, count: number) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
  const dir = path.join(work, 'dataset');
  const ds = await openDataset(dir, { create: true });
  const pool = new KernelPool({ workers: 2, timeoutMs: 60_000 });
  try {
    for (let i = 0; i < count; i++) {
      const code = generateProgram(mulberry32(seed + i));
      const png = await pool.run('render.image', { shape: { kind: 'code', source: code } });
      assert.ok(png.ok);
      await ds.append({ id: `${idPrefix}${i}`, collection: 'sft', image: png.value.png, code });
    }
  } finally {
    await pool.close();
  }
  return { work, dir, ds };
}

test('gift round: bootstrap → tagged SRS/FDA → export with arrays → train → old vs new; a rerun resumes', { skip, timeout: 600_000 }, async () => {
  const { work, dir, ds } = await generatedDataset('gift-round-', 'g', 500, 6);
  const out = path.join(work, 'r1');
  const args = ['round', dir, '--model', path.join(root, 'models', 'compact'), '--out', out, '--pool', '4', '--samples', '3'];
  args.push('--config', 'tiny', '--steps', '5', '--batch-size', '4', '--eval', TEST100_DIR, '--eval-limit', '2', '--eval-samples', '2', '--timeout', '120000');
  const first = await runGift(args);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /round done: bootstrap \+\d+ SRS, \+\d+ FDA; \d+ training records/);

  const added = [...(await ds.list('srs')).records, ...(await ds.list('fda')).records];
  assert.ok(added.length > 0, 'the bootstrap added records');
  for (const r of added) assert.match(r.id, /^g\d-r1-(srs|fda)-\d+$/, 'records carry the round tag');
  const state = JSON.parse(fs.readFileSync(path.join(out, 'round.json'), 'utf8'));
  assert.equal(state.exported.records, 6 + added.length);
  // The arrays are what inference sees, row by row.
  const rows = fs
    .readFileSync(path.join(out, 'data', 'metadata.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const array = fs.readFileSync(path.join(out, 'data', 'images-64.u8'));
  assert.equal(array.length, rows.length * 64 * 64);
  const spec = { ...PREPROCESS_DEFAULTS, size: 64 };
  const last = rows.length - 1;
  const expected = toArrayBytes(await preprocessImage(path.join(out, 'data', rows[last].file_name), spec), spec);
  assert.deepEqual(new Uint8Array(array.subarray(last * 4096, (last + 1) * 4096)), expected);
  for (const f of ['model/model.onnx', 'model/model.json', 'eval/report.json', 'eval-before/report.json', 'compare/compare.md'])
    assert.ok(fs.existsSync(path.join(out, f)), f);
  assert.match(fs.readFileSync(path.join(out, 'compare', 'compare.md'), 'utf8'), /\| after r1 \| oracle \|/);

  // Every stage is done: the rerun samples, trains and measures nothing again.
  const again = await runGift(args);
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /bootstrap with|train_bundled\.py|evaluating/);
});

test('gift round --train-elsewhere: export and train.json; device_train.py pack → run (CPU) → finish; the rerun takes the model and evaluates', {
  skip,
  timeout: 600_000,
}, async () => {
  const { work, dir } = await generatedDataset('gift-round-elsewhere-', 'e', 700, 4);
  const out = path.join(work, 'arm-x');
  const args = ['round', dir, '--model', path.join(root, 'models', 'compact'), '--out', out, '--pool', '2', '--samples', '2', '--train-elsewhere'];
  args.push('--config', 'tiny', '--steps', '4', '--batch-size', '2', '--seed', '3', '--eval', TEST100_DIR, '--eval-limit', '1', '--eval-samples', '1');
  const first = await runGift(args);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /round exported: .*train .*train\.json elsewhere/);
  assert.ok(!fs.existsSync(path.join(out, 'model', 'model.json')), 'nothing trained here');
  const plan = JSON.parse(fs.readFileSync(path.join(out, 'train.json'), 'utf8'));
  assert.deepEqual([plan.config, plan.steps, plan.batch_size, plan.seed], ['tiny', 4, 2, 3]);
  assert.deepEqual(plan.data, [path.join(out, 'data')]);

  const py = (argv: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        '/usr/bin/python3',
        [path.join(root, 'training', 'device_train.py'), ...argv],
        { env: { ...process.env, OMP_NUM_THREADS: '1' } },
        (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });
  const bundle = path.join(work, 'bundle');
  const packed = await py(['pack', bundle, out]);
  assert.equal(packed.code, 0, packed.stderr);
  const manifest = JSON.parse(fs.readFileSync(path.join(bundle, 'manifest.json'), 'utf8'));
  assert.deepEqual(
    manifest.runs.map((r: { name: string; steps: number; seed: number }) => [r.name, r.steps, r.seed]),
    [['arm-x', 4, 3]],
  );
  const results = path.join(work, 'results');
  const ran = await py(['run', bundle, '--out', results, '--device', 'cpu', '--jobs', '1']);
  assert.equal(ran.code, 0, ran.stdout + ran.stderr);
  const summary = JSON.parse(fs.readFileSync(path.join(results, 'summary.json'), 'utf8'));
  assert.equal(summary.runs['arm-x'].state, 'done');
  for (const f of fs.readdirSync(results)) assert.ok(fs.statSync(path.join(results, f)).size <= 16 * 1024 * 1024, `${f} fits a device's return`);
  const finished = await py(['finish', results, out]);
  assert.equal(finished.code, 0, finished.stdout + finished.stderr);
  const card = JSON.parse(fs.readFileSync(path.join(out, 'model', 'model.json'), 'utf8'));
  assert.equal(card.training.planned_steps, 4);
  assert.match(card.returned.weights, /float16/);

  const again = await runGift(args.filter((a) => a !== '--train-elsewhere'));
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /holds a finished model; taking it/);
  assert.doesNotMatch(again.stderr, /train_bundled\.py|bootstrap with/);
  assert.match(again.stdout, /round done:/);
  assert.ok(fs.existsSync(path.join(out, 'eval', 'report.json')), 'the returned model was evaluated');
});

test('gift round --images: parts known only by a STEP file are the source pool; --repeat weights the round’s records', { timeout: 600_000 }, async () => {
  const { work, dir } = await generatedDataset('gift-round-images-', 'g', 900, 2);
  // Two further generated parts, given to the round as a user with real parts would: an image and a
  // STEP file, no code.
  const lines: string[] = [];
  for (let i = 0; i < 2; i++) {
    const py = path.join(work, `part${i}.py`);
    fs.writeFileSync(py, generateProgram(mulberry32(950 + i)));
    const ran = await runGift(['run', py, '--step', path.join(work, `part${i}.step`)]);
    assert.equal(ran.code, 0, ran.stderr);
    const drawn = await runGift(['render', path.join(work, `part${i}.step`), '--out', path.join(work, `part${i}.png`)]);
    assert.equal(drawn.code, 0, drawn.stderr);
    lines.push(JSON.stringify({ id: `part${i}`, image: `part${i}.png`, reference: `part${i}.step` }));
  }
  const pool = path.join(work, 'pool.jsonl');
  fs.writeFileSync(pool, `${lines.join('\n')}\n`);
  const out = path.join(work, 'real');
  // Thresholds low enough that the bundled model's samples count as SRS (IoU ≥ 0.001).
  const args = ['round', dir, '--model', path.join(root, 'models', 'compact'), '--out', out, '--images', pool, '--samples', '3', '--low', '0'];
  args.push('--valid', '0.001', '--match', '1', '--repeat', '3', '--collections', 'sft,srs', '--config', 'tiny', '--train-elsewhere', '--timeout', '120000');
  const ran = await runGift(args);
  assert.equal(ran.code, 0, ran.stderr);
  const log = fs
    .readFileSync(path.join(dir, 'bootstrap-real.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(log.map((s) => s.id).sort(), ['part0', 'part1'], 'the pool was sampled, not the dataset’s own images');
  const rows = fs
    .readFileSync(path.join(out, 'data', 'metadata.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const base = rows.filter((r) => r.collection === 'sft' && r.source === null);
  const derived = rows.filter((r) => !(r.collection === 'sft' && r.source === null));
  assert.deepEqual(base.map((r) => r.id).sort(), ['g0', 'g1']);
  const srs = (await openDataset(dir)).list('srs');
  const stored = (await srs).records.filter((r) => r.id.includes('-real-'));
  assert.ok(stored.length > 0, 'the model found SRS programs for the STEP-only parts');
  assert.equal(derived.length, 3 * stored.length, 'each of the round’s records appears three times');
  for (const r of stored) assert.ok(['part0', 'part1'].includes(r.source!));
  assert.equal(fs.statSync(path.join(out, 'data', 'images-64.u8')).size, rows.length * 64 * 64);
  const bad = await runGift([
    'round',
    dir,
    '--model',
    path.join(root, 'models', 'compact'),
    '--out',
    path.join(work, 'bad'),
    '--images',
    path.join(work, 'nope.jsonl'),
  ]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /nope\.jsonl: no such file or folder/);
});
