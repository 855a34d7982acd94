import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeBaseBox, makeCylinder } from 'replicad';
import { loadOpenCascade } from '../../src/core/occt/occt';
import { meshShape, meshTransferables } from '../../src/core/geometry/mesh';
import { CadError } from '../../src/core/errors';

test('meshShape: a box has 12 triangles on 6 faces and 12 straight B-rep edges', async () => {
  await loadOpenCascade();
  const m = meshShape(makeBaseBox(2, 4, 6));
  assert.equal(m.indices.length / 3, 12);
  assert.equal(m.faceGroups.length, 12);
  assert.deepEqual([...new Set(m.faceGroups)].sort(), [0, 1, 2, 3, 4, 5]);
  assert.equal(m.edges.length / 6, 12, 'one segment per straight edge, not the triangle edges');
  assert.deepEqual(
    [...new Set(m.edgeGroups)].sort((a, b) => a - b),
    [...Array(12).keys()],
  );
  assert.deepEqual(
    m.bbox.map((v) => Math.round(v * 1e6) / 1e6),
    [-1, -2, 0, 1, 2, 6],
  );
  assert.equal(m.positions.length, m.normals.length);
  for (let i = 0; i < m.normals.length; i += 3) assert.ok(Math.abs(Math.hypot(m.normals[i], m.normals[i + 1], m.normals[i + 2]) - 1) < 1e-4);
  for (const index of m.indices) assert.ok(index < m.positions.length / 3);
});

test('meshShape: curved edges are polylines; the tolerance follows the part size', async () => {
  await loadOpenCascade();
  const small = meshShape(makeCylinder(0.01, 0.02));
  const big = meshShape(makeCylinder(100, 200));
  // Same shape at two scales: the default relative tolerance gives the same tessellation density.
  assert.equal(small.indices.length, big.indices.length);
  assert.equal(small.edges.length, big.edges.length);
  assert.ok(small.edges.length / 6 > 40, `a circle needs many segments, got ${small.edges.length / 6}`);
  // Face ids follow replicad's shape.faces order: the cylinder has 3 faces.
  assert.deepEqual([...new Set(big.faceGroups)].sort(), [0, 1, 2]);
  // Every edge point lies on the cylinder's boundary circles or seam.
  for (let i = 0; i < big.edges.length; i += 3) {
    const r = Math.hypot(big.edges[i], big.edges[i + 1]);
    assert.ok(Math.abs(r - 100) < 0.5, `edge point at radius ${r}`);
  }
  // Edges: two circles and the seam (drawn in the dataset's images); seams: false drops the seam.
  assert.equal(new Set(big.edgeGroups).size, 3);
  const noSeam = meshShape(makeCylinder(100, 200), { seams: false });
  assert.equal(new Set(noSeam.edgeGroups).size, 2);
  const coarse = meshShape(makeCylinder(100, 200), { tolerance: 5, angularTolerance: 0.5 });
  assert.ok(coarse.indices.length < big.indices.length);
});

test('meshTransferables lists each buffer once; bad input gives geometry errors', async () => {
  await loadOpenCascade();
  const m = meshShape(makeBaseBox(1, 1, 1));
  assert.equal(meshTransferables(m).length, 6);
  assert.throws(
    () => meshShape(makeBaseBox(1, 1, 1), { tolerance: 0 }),
    (e: unknown) => e instanceof CadError && e.kind === 'geometry' && /tolerance/.test(e.message),
  );
  assert.throws(
    () => meshShape(null as any),
    (e: unknown) => e instanceof CadError && /null shape/.test(e.message),
  );
});

test('meshShape with edges: false skips the B-rep edges but keeps the triangles', async () => {
  await loadOpenCascade();
  const full = meshShape(makeCylinder(1, 2));
  const facesOnly = meshShape(makeCylinder(1, 2), { edges: false });
  assert.equal(facesOnly.edges.length, 0);
  assert.equal(facesOnly.edgeGroups.length, 0);
  assert.deepEqual(facesOnly.indices, full.indices);
});
