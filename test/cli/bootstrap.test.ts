/** `gift bootstrap` end to end with the bundled smoke model: records land, a rerun skips, shards split. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');
/** The JSON lines of FILE ([] when it does not exist). */
const readJsonl = (file: string) =>
  fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l))
    : [];
const gift = (...args: string[]) =>
  execFileSync(process.execPath, [path.join(root, 'bin', 'gift.js'), ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('bootstrap runs the model over sft samples, resumes, and shards', { timeout: 300_000 }, () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gift-bootstrap-cli-')), 'ds');
  gift('dataset', 'import', path.join(root, 'test/fixtures/gencad-test100/samples.jsonl'), '--out', dir);
  const first = gift('bootstrap', dir, '--samples', '3', '--limit', '2', '--shard', '1/2', '--model', path.join(root, 'models/smoke'), '--timeout', '120000');
  assert.match(first, /done: 2\/2 samples \(0 from an earlier run\)/);
  const log = readJsonl(path.join(dir, 'bootstrap.jsonl'));
  assert.equal(log.length, 2);
  const sftIds = fs
    .readFileSync(path.join(dir, 'collections', 'sft.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).id)
    .sort();
  // Shard 1/2 takes the odd positions of the id-sorted list.
  assert.deepEqual(log.map((s) => s.id).sort(), [sftIds[1], sftIds[3]]);
  for (const s of log) assert.equal(s.samples, 3);
  const again = gift('bootstrap', dir, '--samples', '3', '--limit', '2', '--shard', '1/2', '--model', path.join(root, 'models/smoke'));
  assert.match(again, /2 from an earlier run/);
  assert.throws(() => gift('bootstrap', dir, '--samples', '3', '--shard', '2/2'), /invalid shard/);
});

test('bootstrap --images samples images whose ground truth is a STEP file: SRS only, near misses counted', { timeout: 300_000 }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-bootstrap-pool-'));
  const dir = path.join(tmp, 'ds');
  const fixtures = path.join(root, 'test/fixtures/gencad-test100');
  const ids = ['00675497', '00442545'];
  const pool = path.join(tmp, 'pool.jsonl');
  fs.writeFileSync(
    pool,
    ids
      .map((id) => JSON.stringify({ id, image: path.join(fixtures, 'images', `${id}_0.png`), reference: path.join(fixtures, 'gt_steps', `${id}.step`) }))
      .join('\n'),
  );
  const model = path.join(root, 'models/compact');
  /** Four samples per pool image into DIR, bucketed by LOW, VALID, MATCH, logged under TAG. */
  const fromPool = (low: string, valid: string, match: string, tag: string) =>
    gift('bootstrap', dir, '--images', pool, '--samples', '4', '--model', model, '--low', low, '--valid', valid, '--match', match, '--tag', tag);
  // Every sample that runs is either SRS (IoU in [0.001, 1)) or a near miss ([0, 0.001)): the
  // near misses must not become FDA records, since a STEP file has no code to pair with.
  const out = fromPool('0', '0.001', '1', 'real');
  assert.match(out, /done: 2\/2 samples \(0 from an earlier run\)/);
  const log = readJsonl(path.join(dir, 'bootstrap-real.jsonl'));
  assert.deepEqual(log.map((s) => s.id).sort(), [...ids].sort());
  const records = (name: string) => readJsonl(path.join(dir, 'collections', `${name}.jsonl`));
  const srs = records('srs');
  assert.ok(srs.length > 0, 'the compact model finds programs with IoU > 0.001 for these two parts');
  assert.equal(records('fda').length, 0);
  for (const r of srs) {
    assert.ok(ids.includes(r.source), `an SRS record names its pool image: ${r.source}`);
    assert.ok(r.iou >= 0.001 && r.iou < 1);
    assert.match(r.code, /cq\.Workplane/);
  }
  assert.equal(
    srs.length,
    log.reduce((n, s) => n + s.srs, 0),
  );
  // With τ_valid just below 1, the same samples are near misses: counted, none stored as FDA.
  const strict = fromPool('0', '0.999', '1', 'strict');
  assert.match(strict, /near misses without ground-truth code: no fda/);
  assert.equal(records('fda').length, 0);
  // An image without code has no base pair: its best program at or above τ_match becomes one.
  const matched = fromPool('0', '0.0005', '0.001', 'm');
  const sft = records('sft');
  assert.match(matched, new RegExp(`\\+${sft.length} sft \\(images without code, matched\\)`));
  assert.ok(sft.length >= 1 && sft.length <= ids.length, `one sft pair at most per image, got ${sft.length}`);
  for (const r of sft) assert.ok(ids.includes(r.source) && r.iou >= 0.001);
  assert.throws(
    () => gift('bootstrap', dir, '--images', path.join(tmp, 'missing.jsonl'), '--samples', '2', '--model', model),
    /missing\.jsonl: no such file or folder/,
  );
});
