/**
 * Pairs with known answers (#16): boxes, offset boxes, a plate with holes, each as B-rep and as
 * mesh on either side, under raw. The right answer is reported `ok`; a deliberately wrong
 * intersection volume (iou.ts `corruptIntersection`) is caught as `inconsistent`, with both the
 * boolean's number and the point estimate; a B-rep pair that fails is measured again with mesh
 * booleans (meshFallback).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { makeBox, makeCylinder, type Shape3D } from 'replicad';
import { loadOpenCascade } from '../../src/core/occt/occt';
import { iou, meshFallback, normalisation, PreparedSolid } from '../../src/core/geometry/iou';
import { loadManifold } from '../../src/core/geometry/manifold';
import { checkIou, MeshClassifier } from '../../src/core/geometry/membership';
import { tessellate } from '../../src/core/geometry/triangle-mesh';

before(async () => {
  await loadOpenCascade();
  await loadManifold();
});

function plate(dx = 0): Shape3D {
  let p: Shape3D = makeBox([dx, 0, 0], [dx + 20, 6, 1]);
  for (const [x, y] of [
    [3, 3],
    [17, 3],
  ]) {
    p = p.cut(makeCylinder(1, 3, [dx + x, y, -1]));
  }
  return p;
}

const HOLE = Math.PI * 1 * 1;
const PAIRS: { name: string; a: () => Shape3D; b: () => Shape3D; iou: number }[] = [
  { name: 'identical boxes', a: () => makeBox([0, 0, 0], [2, 2, 2]), b: () => makeBox([0, 0, 0], [2, 2, 2]), iou: 1 },
  // [0,2]³ and [1,4]×[1,3]×[0,2]: overlap 1×1×2 = 2, union 8 + 12 − 2 = 18.
  { name: 'offset boxes', a: () => makeBox([0, 0, 0], [2, 2, 2]), b: () => makeBox([1, 1, 0], [4, 3, 2]), iou: 2 / 18 },
  { name: 'disjoint boxes', a: () => makeBox([0, 0, 0], [1, 1, 1]), b: () => makeBox([3, 0, 0], [4, 1, 1]), iou: 0 },
  // Plates 20×6×1 with r=1 holes at x = 3 and 17, the second shifted by 5 along x: the overlap
  // x ∈ [5, 20] holds one whole hole of each, and no hole meets another.
  { name: 'plates with holes', a: () => plate(), b: () => plate(5), iou: (90 - 2 * HOLE) / (150 - 2 * HOLE) },
];

type Side = 'brep' | 'mesh';
const as = (shape: Shape3D, side: Side, name: string): PreparedSolid => {
  if (side === 'brep') return PreparedSolid.brep(shape, name);
  const b = shape.boundingBox.bounds;
  const extent = Math.max(b[1][0] - b[0][0], b[1][1] - b[0][1], b[1][2] - b[0][2]);
  return PreparedSolid.mesh(tessellate(shape, extent, { relativeTolerance: 2e-4, angularTolerance: 0.05 }), name);
};

for (const pair of PAIRS) {
  for (const [sa, sb] of [
    ['brep', 'brep'],
    ['mesh', 'brep'],
    ['brep', 'mesh'],
    ['mesh', 'mesh'],
  ] as [Side, Side][]) {
    test(`${pair.name}, ${sa} against ${sb}: the right IoU is ok, a wrong intersection is inconsistent`, () => {
      const a = as(pair.a(), sa, 'a');
      const b = as(pair.b(), sb, 'b');
      const right = iou(a, b, 'raw');
      assert.equal(right.status, 'ok', right.check?.reason);
      assert.equal(right.method, sa === 'brep' && sb === 'brep' ? 'brep' : 'mesh');
      // Tessellated holes are polygons: a little more volume than the exact plate.
      assert.ok(Math.abs(right.iou - pair.iou) < (sa === 'brep' && sb === 'brep' ? 1e-9 : 2e-3), `IoU ${right.iou}, expected ${pair.iou}`);
      assert.ok(right.check && Math.abs(right.check.iou - pair.iou) <= right.check.tolerance, JSON.stringify(right.check));
      // A silent zero (the failure #16 found), half the volume, and an impossible volume.
      const corruptions = [(v: number) => (v > 0 ? v / 2 : 0.5), (v: number) => v + 10];
      if (pair.iou > 0) corruptions.push(() => 0);
      for (const corrupt of corruptions) {
        const wrong = iou(a, b, 'raw', undefined, { corruptIntersection: corrupt });
        assert.equal(wrong.status, 'inconsistent', `${corrupt}: IoU ${wrong.iou}, estimate ${wrong.check?.iou}`);
        assert.ok(wrong.check && !wrong.check.ok && wrong.check.reason, 'says why');
        assert.ok(typeof wrong.iou === 'number' && typeof wrong.check.iou === 'number', 'both numbers');
      }
    });
  }
}

test('aligned: a boolean that silently loses the best rotation is caught, though the reported one is right', () => {
  // Three bars of different lengths from one corner: no symmetry, so the four rotations differ.
  const chiral = () =>
    makeBox([0, 0, 0], [4, 1, 1])
      .fuse(makeBox([0, 0, 0], [1, 2, 1]))
      .fuse(makeBox([0, 0, 0], [1, 1, 3]));
  const right = iou(chiral(), chiral(), 'aligned');
  assert.equal(right.status, 'ok');
  assert.ok(right.iou > 1 - 1e-9);
  const lost = iou(chiral(), chiral(), 'aligned', undefined, { corruptIntersection: (v, i) => (i === right.best ? 0 : v) });
  assert.notEqual(lost.best, right.best);
  assert.ok(lost.iou < 0.9, `another rotation is reported: ${lost.iou}`);
  assert.equal(lost.status, 'inconsistent');
  assert.equal(lost.check?.rotation, right.best, 'the check names the rotation whose boolean disagrees');
});

test('a B-rep pair whose OCCT boolean fails the check is measured again with mesh booleans on its tessellations', () => {
  const a = PreparedSolid.brep(plate(), 'a');
  const b = PreparedSolid.brep(plate(5), 'b');
  const frames = normalisation(a, b, 'raw');
  const wrong = iou(a, b, 'raw', frames, { corruptIntersection: (v) => v + 10 });
  assert.equal(wrong.status, 'inconsistent');
  const fallback = meshFallback(a, b, wrong, frames);
  assert.ok(fallback, 'a mesh result');
  assert.equal(fallback.status, 'ok');
  assert.equal(fallback.method, 'mesh');
  const expected = (90 - 2 * HOLE) / (150 - 2 * HOLE);
  assert.ok(Math.abs(fallback.iou - expected) < 2e-3, `IoU ${fallback.iou}, expected ${expected}`);
  assert.equal(fallback.fallbackFrom?.iou, wrong.iou, 'the failed B-rep number is kept');
  assert.equal(fallback.fallbackFrom?.check?.ok, false);
  assert.ok(fallback.tessellation && fallback.tessellation.candidate > 0, 'the tessellation error is reported');
  // A consistent result is not redone.
  assert.equal(meshFallback(a, b, iou(a, b, 'raw', frames), frames), undefined);
});

test('the classifier: inside and outside of a plate with holes, and the volume estimate', () => {
  const shape = plate();
  const c = new MeshClassifier(tessellate(shape, 20));
  assert.equal(c.contains(5.01, 3.02, 0.5), true);
  assert.equal(c.contains(3.01, 3.02, 0.5), false, 'in a hole');
  assert.equal(c.contains(5.01, 3.02, 1.5), false, 'above');
  const check = checkIou({
    iou: 1,
    volumes: { candidate: 120 - 2 * HOLE, reference: 120 - 2 * HOLE, intersection: 120 - 2 * HOLE },
    candidate: { classifier: c, toCommon: { matrix: [1, 0, 0, 0, 1, 0, 0, 0, 1], translation: [0, 0, 0] } },
    reference: { classifier: c, toCommon: { matrix: [1, 0, 0, 0, 1, 0, 0, 0, 1], translation: [0, 0, 0] } },
  });
  assert.ok(check.ok, check.reason);
  assert.equal(check.iou, 1);
});
