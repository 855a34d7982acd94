import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadOpenCascade } from '../../src/core/geometry/occt';
import { geometryJobs, type IouJobResult, type MeasureJobResult } from '../../src/core/geometry/jobs';
import { readShape } from '../../src/core/geometry/io';
import { shapeVolume } from '../../src/core/geometry/measure';
import type { ShapeSource } from '../../src/core/geometry/source';
import type { JobOutput } from '../../src/core/kernel/types';
import { CadError } from '../../src/core/cadquery/errors';

const file = path.join(__dirname, '..', 'fixtures', 'gencad-test100', 'gt_steps', '00675497.step');
let oc: any;
const stepSource = (): ShapeSource => ({ kind: 'step', bytes: new Uint8Array(fs.readFileSync(file)), name: file });
const boxCode = (x: number): ShapeSource => ({ kind: 'code', source: `import cadquery as cq\nsolid = cq.Workplane("XY").box(${x}, 2, 3)\n` });

before(async () => {
  oc = await loadOpenCascade();
});

test('iou job: several protocols and the Chamfer distance for code against code', async () => {
  const out = (await geometryJobs.iou({ candidate: boxCode(1.5), reference: boxCode(1), protocol: ['raw', 'unit-cube'], chamfer: true }, { oc })) as IouJobResult;
  assert.deepEqual(
    out.results.map((r) => r.protocol),
    ['raw', 'unit-cube'],
  );
  // Centred boxes 1.5×2×3 and 1×2×3: the smaller lies inside, IoU = 6 / 9.
  assert.ok(Math.abs(out.results[0].iou - 6 / 9) < 1e-9);
  assert.ok(out.results[1].chamfer && out.results[1].chamfer.chamferX1000 > 0);
});

test('iou job: a STEP file against itself, aligned by default', async () => {
  const out = (await geometryJobs.iou({ candidate: stepSource(), reference: stepSource() }, { oc })) as IouJobResult;
  assert.equal(out.results.length, 1);
  assert.equal(out.results[0].protocol, 'aligned');
  assert.ok(Math.abs(out.results[0].iou - 1) < 1e-6);
});

test('iou job: errors say which input failed', async () => {
  await assert.rejects(
    async () => geometryJobs.iou({ candidate: boxCode(1), reference: { kind: 'step', bytes: new Uint8Array(0), name: 'gt.step' } }, { oc }),
    (e: unknown) => e instanceof CadError && e.kind === 'geometry' && e.message === 'reference: gt.step: the file is empty',
  );
  await assert.rejects(
    async () => geometryJobs.iou({ candidate: boxCode(1), reference: boxCode(1), protocol: 'best' as any }, { oc }),
    /unknown IoU protocol 'best'/,
  );
});

test('measure job: volume, bbox, validity and mass properties', async () => {
  const out = (await geometryJobs.measure({ shape: boxCode(1), mass: true }, { oc })) as MeasureJobResult;
  assert.ok(Math.abs(out.volume - 6) < 1e-9);
  assert.deepEqual(
    out.bbox.map((v) => Math.round(v * 1e9) / 1e9),
    [-0.5, -1, -1.5, 0.5, 1, 1.5],
  );
  assert.equal(out.valid, true);
  assert.ok(out.mass && Math.abs(out.mass.inertia[0] - (6 * (4 + 9)) / 12) < 1e-9);
});

test('export job: STEP and STL bytes that read back, as a transferable buffer', async () => {
  const reference = shapeVolume(readShape(fs.readFileSync(file), 'step', file));
  for (const format of ['step', 'stl'] as const) {
    const out = (await geometryJobs.export({ shape: stepSource(), format }, { oc })) as JobOutput<{ bytes: Uint8Array }>;
    assert.equal(out.__jobOutput, true);
    assert.equal(out.transfer[0], out.value.bytes.buffer);
    const back = shapeVolume(readShape(out.value.bytes, format, `out.${format}`));
    assert.ok(Math.abs(back - reference) < (format === 'step' ? 1e-9 : 1e-2) * reference, `${format}: ${back} vs ${reference}`);
  }
});
