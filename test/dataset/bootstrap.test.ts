/**
 * The GIFT loop's data step on real components: a dataset of test100 pairs, the kernel pool, real
 * IoU and real renders. The sampler stands in for a model by returning the ground truth with its
 * extrude distances scaled, so the IoU of each sample is known in advance under the `raw` protocol.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bootstrap, parseShard, readBootstrapLog, shardRecords } from '../../src/core/dataset/bootstrap';
import type { ImageToCadBackend } from '../../src/core/generate';
import { openDataset } from '../../src/core/dataset';
import { KernelPool } from '../../src/core/pool/pool';
import { loadTest100 } from '../helpers/test100';

const pool = new KernelPool({ workers: 2, timeoutMs: 30_000 });
after(() => pool.close());

/** Single-sketch, single-extrude programs: scaling the extrude by f gives raw IoU = f exactly. */
const prisms = loadTest100()
  .filter((s) => (s.code.match(/extrude\(/g) ?? []).length === 1 && !s.code.includes('both=True'))
  .slice(0, 3);

const scaledExtrude = (code: string, factor: number) => code.replace(/extrude\(([-\d.e]+)\)/, (_, d) => `extrude(${Number(d) * factor})`);

const sampler: ImageToCadBackend = {
  name: 'scaled-extrude',
  async sample(image) {
    const sample = prisms.find((p) => fs.readFileSync(p.image).equals(image))!;
    return [0.95, 0.95, 0.7, 0.3]
      .map((f) => ({ code: scaledExtrude(sample.code, f) }))
      .concat([{ code: 'import cadquery as cq\nsolid = cq.Workplane("XY").box(1, 1, 0)\n' }]);
  },
};

async function datasetOfPrisms() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-bootstrap-'));
  const ds = await openDataset(dir, { create: true });
  for (const p of prisms) await ds.append({ id: path.basename(p.step, '.step'), collection: 'sft', image: p.image, code: p.code });
  return ds;
}

test('each sample is verified and bucketed: SRS keeps the image, FDA gets a render and the ground truth', { timeout: 180_000 }, async () => {
  assert.equal(prisms.length, 3);
  const ds = await datasetOfPrisms();
  const summary = await bootstrap(ds, { pool, backend: sampler, samples: 5, protocol: 'raw' });
  assert.deepEqual({ done: summary.done, srs: summary.srs, fda: summary.fda, skipped: summary.skipped }, { done: 3, srs: 3, fda: 3, skipped: 0 });
  const { records: srs } = await ds.list('srs');
  const { records: fda } = await ds.list('fda');
  const { records: sft } = await ds.list('sft');
  for (const r of srs) {
    const base = sft.find((s) => s.id === r.source)!;
    assert.equal(r.image, base.image, 'SRS pairs the original image');
    assert.notEqual(r.code, base.code);
    assert.ok(Math.abs(r.iou! - 0.95) < 1e-6, `SRS IoU ${r.iou}`);
    assert.equal(r.protocol, 'raw');
    assert.equal(r.model, 'scaled-extrude');
  }
  for (const r of fda) {
    const base = sft.find((s) => s.id === r.source)!;
    assert.equal(r.code, base.code, 'FDA pairs the ground-truth code');
    assert.notEqual(r.image, base.image, 'FDA gets a new image');
    assert.ok(Math.abs(r.iou! - 0.7) < 1e-6);
    const png = fs.readFileSync(ds.imagePath(r));
    assert.equal(png.readUInt32BE(16), 448);
  }
  const log = readBootstrapLog(ds.dir);
  assert.equal(log.size, 3);
  for (const s of log.values()) {
    assert.deepEqual([s.samples, s.distinct, s.valid, s.srs, s.fda], [5, 4, 3, 1, 1]);
    assert.ok(Math.abs(s.bestIou! - 0.95) < 1e-6);
  }

  // A second run finds everything done and writes nothing twice.
  const again = await bootstrap(ds, { pool, backend: sampler, samples: 5, protocol: 'raw' });
  assert.equal(again.skipped, 3);
  assert.equal((await ds.list('srs')).records.length, 3);
  assert.equal((await ds.list('fda')).records.length, 3);
});

test('a cancelled run stops early and the rerun completes it without duplicates', { timeout: 180_000 }, async () => {
  const ds = await datasetOfPrisms();
  const controller = new AbortController();
  const first = await bootstrap(ds, {
    pool,
    backend: sampler,
    samples: 5,
    protocol: 'raw',
    concurrency: 1,
    signal: controller.signal,
    onProgress: () => controller.abort(),
  });
  assert.equal(first.cancelled, true);
  assert.ok(first.done < 3);
  const second = await bootstrap(ds, { pool, backend: sampler, samples: 5, protocol: 'raw' });
  assert.equal(second.done, 3);
  assert.equal((await ds.list('srs')).records.length, 3);
  assert.equal((await ds.list('fda')).records.length, 3);
});

test('shards split the samples without overlap', () => {
  const records = Array.from({ length: 10 }, (_, i) => ({ id: `s${String(i).padStart(2, '0')}` }));
  const shards = [0, 1, 2].map((i) => shardRecords(records, parseShard(`${i}/3`)).map((r) => r.id));
  assert.deepEqual(
    shards.flat().sort(),
    records.map((r) => r.id),
  );
  assert.equal(new Set(shards.flat()).size, 10);
  assert.throws(() => parseShard('3/3'), /invalid shard/);
  assert.throws(() => parseShard('x'), /invalid shard/);
});
