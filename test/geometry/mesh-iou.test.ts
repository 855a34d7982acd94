/**
 * Mesh references (#16): a test100 program against an STL of itself must score ≈1. Through the
 * B-rep path (the STL sewn into a faceted OCCT solid, then OCCT's boolean) several such pairs
 * scored IoU 0 with status ok: the booleans of nearly coincident faceted and analytic faces fail
 * silently. These run through the `shape.iou` job, as `gift verify` does.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadOpenCascade } from '../../src/core/occt/occt';
import { writeStl } from '../../src/core/geometry/io';
import type { IouJobResult } from '../../src/core/jobs/geometry';
import { jobHandlers } from '../../src/core/jobs/registry';
import { runCadQuery } from '../../src/core/shape/run-cadquery';
import { loadTest100 } from '../helpers/test100';

let oc: any;
before(async () => {
  oc = await loadOpenCascade();
});

const samples = new Map(loadTest100().map((s) => [s.id, s]));

// Ids that gave IoU 0 with status ok under raw (00827834, 00319779), and one whose STL was refused.
for (const id of ['00827834', '00319779']) {
  test(`${id}: the program against its own STL scores ≈1 under raw`, async () => {
    const code = samples.get(id)!.code;
    const stl = writeStl(runCadQuery(code));
    const out = (await jobHandlers['shape.iou'](
      { candidate: { kind: 'code', source: code }, reference: { kind: 'stl', bytes: stl, name: `${id}.stl` }, protocol: 'raw' },
      { oc },
    )) as IouJobResult;
    assert.ok(out.results[0].iou >= 0.98, `IoU ${out.results[0].iou}`);
  });
}

test('00141107 (a square tube: two equal moments) against its own STL: aligned says axes degenerate, aligned-robust scores ≈1', async () => {
  const code = samples.get('00141107')!.code;
  const stl = writeStl(runCadQuery(code));
  const out = (await jobHandlers['shape.iou'](
    { candidate: { kind: 'code', source: code }, reference: { kind: 'stl', bytes: stl, name: '00141107.stl' }, protocol: ['aligned', 'aligned-robust'] },
    { oc },
  )) as IouJobResult;
  const [aligned, robust] = out.results;
  assert.equal(aligned.axes, 'degenerate');
  assert.ok(aligned.iou < 0.5, `aligned ${aligned.iou}: the paper's protocol twists the tube`);
  assert.equal(robust.axes, 'degenerate');
  assert.ok(robust.iou >= 0.98, `aligned-robust ${robust.iou}`);
  assert.ok(
    robust.candidates.every((c) => !c.reflection),
    'proper rotations only',
  );
  assert.equal(robust.status, 'ok');
});

test('00904404 (an invalid B-rep: its tessellation has cracks) against its own STL: the gaps are closed, IoU ≈1', async () => {
  const code = samples.get('00904404')!.code;
  const stl = writeStl(runCadQuery(code));
  const out = (await jobHandlers['shape.iou'](
    { candidate: { kind: 'code', source: code }, reference: { kind: 'stl', bytes: stl, name: '00904404.stl' }, protocol: 'raw' },
    { oc },
  )) as IouJobResult;
  assert.ok(out.results[0].iou >= 0.98, `IoU ${out.results[0].iou}`);
  assert.equal(out.results[0].status, 'ok');
});

test('mesh booleans skip a placement whose point bound cannot beat the best: an asymmetric bracket against its own STL', async () => {
  // An L-bracket with an off-centre hole: no half-turn maps it onto itself, so the four aligned
  // placements differ and the wrong ones score far below the right one.
  const code = `import cadquery as cq
result = (cq.Workplane("XY").polyline([(0, 0), (40, 0), (40, 6), (8, 6), (8, 25), (0, 25)]).close().extrude(18)
  .faces(">Y").workplane().center(12, 3).hole(5))`;
  const stl = writeStl(runCadQuery(code));
  const out = (await jobHandlers['shape.iou'](
    { candidate: { kind: 'stl', bytes: stl, name: 'bracket.stl' }, reference: { kind: 'stl', bytes: stl, name: 'bracket.stl' }, protocol: 'aligned' },
    { oc },
  )) as IouJobResult;
  const r = out.results[0];
  assert.equal(r.status, 'ok');
  assert.ok(r.iou > 0.999, `IoU ${r.iou}`);
  const skipped = r.candidates.filter((c) => c.bound !== undefined);
  assert.ok(skipped.length >= 1, `some placement skipped: ${JSON.stringify(r.candidates)}`);
  for (const c of skipped) {
    assert.equal(c.iou, null);
    assert.ok(c.bound! < r.iou, `a skipped placement's bound ${c.bound} lies below the IoU ${r.iou}`);
  }
  // The B-rep path intersects every placement: the skipped ones really score lower.
  const exact = (await jobHandlers['shape.iou'](
    { candidate: { kind: 'code', source: code }, reference: { kind: 'code', source: code }, protocol: 'aligned', allRotations: true },
    { oc },
  )) as IouJobResult;
  for (const [i, c] of r.candidates.entries()) if (c.bound !== undefined) assert.ok((exact.results[0].candidates[i].iou ?? 0) < c.bound!, `placement ${i}`);
});
