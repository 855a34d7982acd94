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

test('iou job: a cylinder against one twice its size: aligned-robust ≈ 1, centred 1/8, size ratio 0.5, the reference placed on the candidate', async () => {
  const cylinder = (r: number, h: number, at: string): ShapeSource => ({
    kind: 'code',
    source: `import cadquery as cq\nsolid = cq.Workplane("XY").circle(${r}).extrude(${h}).translate(${at})\n`,
  });
  const out = (await jobHandlers['shape.iou'](
    { candidate: cylinder(5, 4, '(0, 0, 0)'), reference: cylinder(10, 8, '(30, -20, 5)'), protocol: ['aligned-robust', 'centred', 'raw'] },
    { oc },
  )) as IouJobResult;
  const [robust, centred, raw] = out.results;
  assert.ok(robust.iou > 0.99, String(robust.iou));
  // The small one lies inside the big one once their centres of mass meet: (5² · 4) / (10² · 8).
  assert.ok(Math.abs(centred.iou - 1 / 8) < 1e-6, String(centred.iou));
  assert.equal(centred.status, 'ok');
  assert.equal(raw.iou, 0);
  for (const r of out.results) assert.ok(Math.abs(r.sizeRatio - 0.5) < 1e-9, `${r.protocol}: ${r.sizeRatio}`);
  // referenceInCandidate puts the reference where the protocol compared it, in the candidate's coordinates.
  const place = (m: { matrix: number[]; translation: number[] }, p: number[]) =>
    [0, 1, 2].map((i) => m.matrix[3 * i] * p[0] + m.matrix[3 * i + 1] * p[1] + m.matrix[3 * i + 2] * p[2] + m.translation[i]);
  const close = (a: number[], b: number[], tol: number) => a.every((v, i) => Math.abs(v - b[i]) < tol);
  // The reference's centre of mass (30, -20, 9) lands on the candidate's (0, 0, 2): scaled by ½ aligned, moved only when centred.
  assert.ok(close(place(robust.referenceInCandidate, [30, -20, 9]), [0, 0, 2], 1e-6), JSON.stringify(robust.referenceInCandidate));
  assert.ok(close(place(centred.referenceInCandidate, [30, -20, 9]), [0, 0, 2], 1e-9));
  assert.ok(close(place(centred.referenceInCandidate, [40, -20, 13]), [10, 0, 6], 1e-9));
  assert.ok(close(place(raw.referenceInCandidate, [40, -20, 13]), [40, -20, 13], 1e-12));
  // Aligned: a point on the reference's rim ends on the candidate's rim (radius 5), its top at z = 4 or 0.
  const rim = place(robust.referenceInCandidate, [40, -20, 13]);
  assert.ok(Math.abs(Math.hypot(rim[0], rim[1]) - 5) < 1e-6 && (Math.abs(rim[2] - 4) < 1e-6 || Math.abs(rim[2]) < 1e-6), JSON.stringify(rim));
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
