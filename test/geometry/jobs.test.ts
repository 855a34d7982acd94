import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadOpenCascade } from '../../src/core/occt/occt';
import type { ExecuteResult } from '../../src/core/jobs/execute';
import type { IouJobResult } from '../../src/core/jobs/geometry';
import { jobHandlers } from '../../src/core/jobs/registry';
import { readShape } from '../../src/core/geometry/io';
import { shapeVolume } from '../../src/core/geometry/measure';
import type { ShapeSource } from '../../src/core/shape/source';
import type { JobOutput } from '../../src/core/jobs/types';
import { CadError } from '../../src/core/errors';

const file = path.join(__dirname, '..', 'fixtures', 'gencad-test100', 'gt_steps', '00675497.step');
let oc: any;
const stepSource = (): ShapeSource => ({ kind: 'step', bytes: new Uint8Array(fs.readFileSync(file)), name: file });
const boxCode = (x: number): ShapeSource => ({ kind: 'code', source: `import cadquery as cq\nsolid = cq.Workplane("XY").box(${x}, 2, 3)\n` });

before(async () => {
  oc = await loadOpenCascade();
});

test('iou job: several protocols and the Chamfer distance for code against code', async () => {
  const out = (await jobHandlers['shape.iou'](
    { candidate: boxCode(1.5), reference: boxCode(1), protocol: ['raw', 'unit-cube'], chamfer: true },
    { oc },
  )) as IouJobResult;
  assert.deepEqual(
    out.results.map((r) => r.protocol),
    ['raw', 'unit-cube'],
  );
  // Centred boxes 1.5×2×3 and 1×2×3: the smaller lies inside, IoU = 6 / 9.
  assert.ok(Math.abs(out.results[0].iou - 6 / 9) < 1e-9);
  assert.ok(out.results[1].chamfer && out.results[1].chamfer.chamferX1000 > 0);
});

test('iou job: a STEP file against itself, aligned by default', async () => {
  const out = (await jobHandlers['shape.iou']({ candidate: stepSource(), reference: stepSource() }, { oc })) as IouJobResult;
  assert.equal(out.results.length, 1);
  assert.equal(out.results[0].protocol, 'aligned');
  assert.ok(Math.abs(out.results[0].iou - 1) < 1e-6);
});

test('iou job: errors say which input failed', async () => {
  await assert.rejects(
    async () => jobHandlers['shape.iou']({ candidate: boxCode(1), reference: { kind: 'step', bytes: new Uint8Array(0), name: 'gt.step' } }, { oc }),
    (e: unknown) => e instanceof CadError && e.kind === 'geometry' && e.message === 'reference: gt.step: the file is empty',
  );
  await assert.rejects(
    async () => jobHandlers['shape.iou']({ candidate: boxCode(1), reference: boxCode(1), protocol: 'best' as any }, { oc }),
    /unknown IoU protocol 'best'/,
  );
});

test('execute job: volume, bbox, validity and mass properties', async () => {
  const out = ((await jobHandlers['shape.execute']({ input: boxCode(1), mass: true }, { oc })) as JobOutput<ExecuteResult>).value;
  assert.ok(Math.abs(out.volume - 6) < 1e-9);
  assert.deepEqual(
    out.bbox.map((v) => Math.round(v * 1e9) / 1e9),
    [-0.5, -1, -1.5, 0.5, 1, 1.5],
  );
  assert.equal(out.valid, true);
  assert.ok(out.mass && Math.abs(out.mass.inertia[0] - (6 * (4 + 9)) / 12) < 1e-9);
});

test('execute job exports STEP and STL bytes that read back, as a transferable buffer', async () => {
  const reference = shapeVolume(readShape(fs.readFileSync(file), 'step', file));
  for (const format of ['step', 'stl'] as const) {
    const out = (await jobHandlers['shape.execute']({ input: stepSource(), export: { [format]: true } }, { oc })) as JobOutput<ExecuteResult>;
    assert.equal(out.__jobOutput, true);
    const bytes = out.value[format]!;
    assert.equal(out.transfer[0], bytes.buffer);
    const back = shapeVolume(readShape(bytes, format, `out.${format}`));
    assert.ok(Math.abs(back - reference) < (format === 'step' ? 1e-9 : 1e-2) * reference, `${format}: ${back} vs ${reference}`);
  }
});
