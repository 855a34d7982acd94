import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeBaseBox, makeBox, makeCylinder } from 'replicad';
import { loadOpenCascade } from '../../src/core/occt/occt';
import { readShape, writeStep, writeStl } from '../../src/core/geometry/io';
import { boundingBox, extremaBoundingBox, isValidShape, massProperties, measureShape, shapeVolume } from '../../src/core/geometry/measure';
import { runCadQuery } from '../../src/core/shape/run-cadquery';
import { CadError } from '../../src/core/errors';

const stepDir = path.join(__dirname, '..', 'fixtures', 'gencad-test100', 'gt_steps');

before(async () => {
  await loadOpenCascade();
});

function close(actual: number, expected: number, relative: number, what: string) {
  assert.ok(Math.abs(actual - expected) <= relative * Math.abs(expected), `${what}: ${actual} vs ${expected}`);
}

test('measureShape: volume, tight bbox and validity of a box', () => {
  const m = measureShape(makeBox([1, 2, 3], [3, 5, 7]));
  close(m.volume, 2 * 3 * 4, 1e-12, 'volume');
  for (const [i, v] of m.bbox.entries()) assert.ok(Math.abs(v - [1, 2, 3, 3, 5, 7][i]) < 1e-9, `bbox[${i}] = ${v}`);
  assert.equal(m.valid, true);
});

test("extremaBoundingBox: the part's own extremes where AddOptimal bounds a trimmed torus over its UV rectangle", () => {
  // A torus of radii 11.87 and 2.06 about z cuts a 54.92 × 24.47 box (y ±12.235), then a cylinder
  // 12.77 each way along y is added: the part is ±12.77 in y, the cut's trimmed torus face reaches ±13.93.
  const part = runCadQuery(`import cadquery as cq
result = cq.Workplane("XY").rect(54.92, 24.47).extrude(21.32)
result = result.cut(cq.Workplane("XZ").center(11.87, 10.66).circle(2.06).revolve(360, (-11.87, 0, 0), (-11.87, 1, 0)))
result = result.union(cq.Workplane("XZ").center(4.55, 6.4).circle(2.73).extrude(12.77, both=True))`);
  const exact = [-27.46, -12.77, 0, 27.46, 12.77, 21.32];
  for (const [i, v] of extremaBoundingBox(part).entries()) assert.ok(Math.abs(v - exact[i]) < 1e-6, `extremes[${i}] = ${v}`);
  const b = boundingBox(part);
  for (let i = 0; i < 3; i++) assert.ok(b[i] <= exact[i] + 1e-6 && b[i + 3] >= exact[i + 3] - 1e-6, "AddOptimal's box holds the part");
});

test('massProperties: centre of mass and inertia of a box match the analytic values', () => {
  // Box a×b×c: I_xx = V(b²+c²)/12 about the centre; no products of inertia.
  const [a, b, c] = [2, 3, 4];
  const { volume, centre, inertia } = massProperties(makeBox([1, 1, 1], [1 + a, 1 + b, 1 + c]));
  close(volume, a * b * c, 1e-12, 'volume');
  for (const [i, v] of centre.entries()) assert.ok(Math.abs(v - [2, 2.5, 3][i]) < 1e-9);
  const expected = [(b * b + c * c) / 12, 0, 0, 0, (a * a + c * c) / 12, 0, 0, 0, (a * a + b * b) / 12].map((v) => v * volume);
  for (const [i, v] of inertia.entries()) assert.ok(Math.abs(v - expected[i]) < 1e-9 * volume, `inertia[${i}] = ${v}`);
});

test('massProperties: products of inertia have the sign of OCCT MatrixOfInertia (−∫xy dV)', () => {
  // A bar along (1,1,0) has ∫xy dV > 0 about its centre, so the off-diagonal entry is negative.
  const bar = makeBaseBox(10, 1, 1).rotate(45, [0, 0, 0], [0, 0, 1]);
  const { inertia } = massProperties(bar);
  assert.ok(inertia[1] < 0 && inertia[3] === inertia[1], `I_xy = ${inertia[1]}`);
});

test('STEP round trip keeps the volume and the bbox', () => {
  const cyl = makeCylinder(3, 7);
  const bytes = writeStep(cyl);
  assert.ok(new TextDecoder().decode(bytes.subarray(0, 12)).startsWith('ISO-10303-21'));
  assert.equal(bytes.byteOffset, 0);
  assert.equal(bytes.buffer.byteLength, bytes.byteLength, 'the bytes own their buffer (transferable)');
  const back = readShape(bytes, 'step', 'cyl.step');
  close(shapeVolume(back), Math.PI * 9 * 7, 1e-9, 'volume');
  for (const [i, v] of boundingBox(back).entries()) assert.ok(Math.abs(v - [-3, -3, 0, 3, 3, 7][i]) < 1e-6);
});

test('a test100 STEP file loads as a valid solid and survives a STEP round trip', () => {
  const file = path.join(stepDir, '00675497.step');
  const shape = readShape(fs.readFileSync(file), 'step', file);
  const m = measureShape(shape);
  assert.ok(m.volume > 0);
  assert.equal(m.valid, true);
  const again = readShape(writeStep(shape), 'step', 'again.step');
  close(shapeVolume(again), m.volume, 1e-9, 'volume after round trip');
});

test('binary STL round trip keeps the volume within the tessellation error', () => {
  const cyl = makeCylinder(10, 20);
  const bytes = writeStl(cyl, { tolerance: 0.01 });
  const triangles = new DataView(bytes.buffer).getUint32(80, true);
  assert.equal(bytes.byteLength, 84 + 50 * triangles);
  const back = readShape(bytes, 'stl', 'cyl.stl');
  assert.equal(isValidShape(back), true);
  // A polygon inscribed with sagitta ≤ 0.01 on r = 10 loses at most ≈ 2·0.01/10 of the area.
  const exact = Math.PI * 100 * 20;
  const v = shapeVolume(back);
  assert.ok(v < exact && v > exact * (1 - 2e-3), `volume ${v} vs ${exact}`);
});

test('ASCII STL with inward normals and reversed winding is read as a positive-volume solid', () => {
  // A unit tetrahedron written with every triangle wound inwards.
  const p = [
    [0, 0, 0],
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  const faces = [
    [0, 1, 2],
    [0, 3, 1],
    [0, 2, 3],
    [1, 3, 2],
  ];
  const text = `solid tet\n${faces
    .map((f) => `facet normal 0 0 0\n outer loop\n${f.map((i) => `  vertex ${p[i].join(' ')}`).join('\n')}\n endloop\nendfacet`)
    .join('\n')}\nendsolid tet\n`;
  const shape = readShape(new TextEncoder().encode(text), 'stl', 'tet.stl');
  close(shapeVolume(shape), 1 / 6, 1e-9, 'volume');
});

test('bad files give geometry errors naming the file and the problem', () => {
  const cases: [Uint8Array, 'step' | 'stl', RegExp][] = [
    [new Uint8Array(0), 'step', /^broken\.x: the file is empty$/],
    [new TextEncoder().encode('hello world'), 'step', /^broken\.x: not a STEP file/],
    [new TextEncoder().encode('ISO-10303-21;\nHEADER;\nthis is not STEP\n'), 'step', /^broken\.x: the STEP data is corrupt/],
    [new TextEncoder().encode('solid empty\nendsolid empty\n'), 'stl', /^broken\.x: the STL file has no triangles/],
    [new TextEncoder().encode('garbage'), 'stl', /^broken\.x: not an STL file/],
  ];
  for (const [bytes, format, message] of cases) {
    assert.throws(
      () => readShape(bytes, format, 'broken.x'),
      (e: unknown) => e instanceof CadError && e.kind === 'geometry' && message.test(e.message),
      `${format}: ${new TextDecoder().decode(bytes).slice(0, 20)}`,
    );
  }
});

test('a truncated STEP file is refused, not half-read', () => {
  const file = path.join(stepDir, '00675497.step');
  const full = fs.readFileSync(file);
  const truncated = new Uint8Array(full.subarray(0, Math.floor(full.byteLength / 3)));
  assert.throws(
    () => readShape(truncated, 'step', 'cut.step'),
    (e: unknown) => e instanceof CadError && /^cut\.step: /.test(e.message),
  );
});

test('an open STL mesh is refused: it has no volume', () => {
  // The tetrahedron without its last face.
  const text =
    'solid open\n' +
    [
      [
        [0, 0, 0],
        [0, 1, 0],
        [1, 0, 0],
      ],
      [
        [0, 0, 0],
        [1, 0, 0],
        [0, 0, 1],
      ],
      [
        [0, 0, 0],
        [0, 0, 1],
        [0, 1, 0],
      ],
    ]
      .map((t) => `facet normal 0 0 0\nouter loop\n${t.map((v) => `vertex ${v.join(' ')}`).join('\n')}\nendloop\nendfacet`)
      .join('\n') +
    '\nendsolid open\n';
  assert.throws(() => readShape(new TextEncoder().encode(text), 'stl', 'open.stl'), /open\.stl: the mesh is not closed: 3 boundary edges/);
});
