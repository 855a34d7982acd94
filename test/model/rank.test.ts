import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readShapeSource } from '../../src/core/shape/files';
import { KernelPool } from '../../src/core/pool/pool';
import { rankCandidates } from '../../src/core/generate/rank';
import { loadTest100 } from '../helpers/test100';

// 00534824: a two-sketch part whose aligned IoU takes ~1 s per candidate.
const sample = loadTest100().find((s) => s.id === '00534824')!;
const gt = sample.code;
/** The first extrusion three times as deep. */
const thicker = gt.replace(/extrude\(([\d.]+)\)/, (_m, d: string) => `extrude(${(+d * 3).toFixed(4)})`);
/** The first outline's first corner pulled out by 60%. */
const stretched = gt.replace(/lineTo\(([\d.]+), /, (_m, d: string) => `lineTo(${(+d * 1.6).toFixed(4)}, `);
const broken = gt.replace('solid=solid0', 'solid=solid_missing');
// The ground truth deliberately neither first nor last in the input.
const candidates = [thicker, broken, gt, stretched];

const pool = new KernelPool({ workers: 2, timeoutMs: 60_000 });
after(() => pool.close());

test('perturbations really change the program', () => {
  assert.notEqual(thicker, gt);
  assert.notEqual(stretched, gt);
  assert.notEqual(broken, gt);
});

test('ranking by IoU against the ground-truth STEP: ground truth first, the broken program last with its error', async () => {
  const ranked = await rankCandidates(candidates, { pool, reference: readShapeSource(sample.step) });
  assert.deepEqual(
    ranked.map((c) => c.index),
    [2, ...ranked.slice(1, 3).map((c) => c.index), 1],
  );
  const [best, second, third, last] = ranked;
  assert.equal(best.code, gt);
  assert.ok(best.iou! > 0.95, `ground truth IoU ${best.iou}`);
  assert.ok(second.iou! < best.iou! - 0.2 && third.iou! <= second.iou!, `perturbed IoUs ${second.iou}, ${third.iou}`);
  assert.ok(best.ok && best.volume! > 0 && best.bbox!.length === 6 && best.valid);
  assert.equal(best.score, undefined);
  assert.equal(last.ok, false);
  assert.equal(last.code, broken);
  assert.equal(last.error?.kind, 'runtime');
  assert.match(last.error!.message, /solid_missing/);
  assert.ok(last.error!.line! > 0, 'the error keeps its line');
});

test('ranking by render-vs-image score against the image: ground truth first, broken last', async () => {
  const ranked = await rankCandidates(candidates, { pool, image: readFileSync(sample.image), imageName: `${sample.id}_0.png` });
  assert.equal(ranked[0].index, 2);
  assert.ok(ranked[0].score! > 0.9, `ground truth score ${ranked[0].score}`);
  assert.ok(ranked[1].score! < ranked[0].score! - 0.1);
  assert.ok(ranked[0].imageScore!.silhouette > 0.9);
  assert.equal(ranked[0].iou, undefined);
  assert.equal(ranked[3].index, 1);
  assert.equal(ranked[3].ok, false);
});

test('missing code ranks last with its reason; duplicates are evaluated once; without a key the order is kept', async () => {
  const before = pool.stats().jobs;
  const ranked = await rankCandidates([{ code: null, error: { kind: 'syntax', message: 'the model answered without code' } }, broken, gt, gt, thicker], {
    pool,
  });
  assert.deepEqual(
    ranked.map((c) => [c.index, c.ok]),
    [
      [2, true],
      [3, true],
      [4, true],
      [0, false],
      [1, false],
    ],
  );
  assert.equal(ranked[3].error?.message, 'the model answered without code');
  assert.equal(ranked[0].volume, ranked[1].volume);
  assert.equal(pool.stats().jobs - before, 3, 'one execute job per distinct program');
});

test('an invalid solid ranks below every valid candidate however it scores, and its label says why', async () => {
  const { compareRanked } = await import('../../src/core/generate/rank');
  const { labelCandidates } = await import('../../src/core/generate/generate');
  const base = { ms: 0, ok: true as const, volume: 1, bbox: { min: [0, 0, 0], max: [1, 1, 1] } as never };
  const invalid = { ...base, index: 0, code: 'a', valid: false, score: 0.99 };
  const valid = { ...base, index: 1, code: 'b', valid: true, score: 0.4 };
  const failed = { index: 2, code: 'c', ok: false as const, ms: 0, error: { kind: 'runtime' as const, message: 'boom' } };
  const sorted = [invalid, failed, valid].sort(compareRanked('score'));
  assert.deepEqual(
    sorted.map((c) => c.code),
    ['b', 'a', 'c'],
  );
  const labels = labelCandidates({ candidates: sorted as never });
  assert.equal(labels[0].label, 'image score 0.400');
  assert.match(labels[1].label!, /^invalid solid: OpenCascade's shape check rejects the result .* · image score 0\.990$/);
  assert.deepEqual([labels[1].ok, labels[1].valid], [true, false]);
  assert.equal(labels[2].ok, false);
});
