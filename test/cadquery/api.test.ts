/**
 * The CadQuery API construct by construct, through the interpreter on real OCCT, against volumes
 * computed by hand; and the errors degenerate input must produce.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadOpenCascade } from '../../src/core/occt/occt';
import { interpret } from '../../src/core/cadquery/interpret';
import { createCadQueryModule, resultShape, parseSelector } from '../../src/core/cadquery/api';
import { boundsOf, isValidShape, subShapes, volumeOf } from '../../src/core/cadquery/api/geom';
import { CadError } from '../../src/core/errors';

const PI = Math.PI;

function run(body: string) {
  const { globals, shown } = interpret(`import cadquery as cq\n${body}`, { modules: { cadquery: createCadQueryModule() } });
  return { shape: resultShape(globals, shown), globals };
}

function vol(body: string): number {
  return volumeOf(run(body).shape);
}

function near(actual: number, expected: number, rel = 1e-6) {
  assert.ok(Math.abs(actual - expected) <= rel * Math.max(1, Math.abs(expected)), `${actual} != ${expected}`);
}

function fails(body: string, kind: string, pattern: RegExp) {
  assert.throws(
    () => run(body),
    (e: unknown) => e instanceof CadError && e.kind === kind && pattern.test(e.message),
  );
}

test('primitives: box, cylinder, sphere, centered flags', async () => {
  await loadOpenCascade();
  near(vol('result = cq.Workplane("XY").box(1, 2, 3)'), 6);
  const b = boundsOf(run('result = cq.Workplane("XY").box(1, 2, 3, centered=False)').shape);
  near(b.min.x, 0);
  near(b.max.z, 3);
  near(vol('result = cq.Workplane("XY").cylinder(2, 0.5)'), PI * 0.25 * 2);
  near(vol('result = cq.Workplane("XY").sphere(1)'), (4 / 3) * PI);
  near(vol('result = cq.Workplane("XY").rarray(3, 3, 2, 2).box(1, 1, 1)'), 4);
});

test('sketch loops: rect, circle, polygon, nested holes and islands, extrude both / negative', async () => {
  await loadOpenCascade();
  near(vol('result = cq.Workplane("XY").rect(2, 3).extrude(4)'), 24);
  near(vol('result = cq.Workplane("XY").circle(1).extrude(2)'), 2 * PI);
  near(vol('result = cq.Workplane("XY").circle(2).circle(1).extrude(1)'), 3 * PI);
  // island inside a hole: 4x4 square, 3x3 hole, 1x1 island
  near(vol('result = cq.Workplane("XY").rect(4, 4).rect(3, 3).rect(1, 1).extrude(1)'), 16 - 9 + 1);
  near(vol('result = cq.Workplane("XY").polygon(6, 2).extrude(1)'), (3 * Math.sqrt(3)) / 2);
  near(vol('result = cq.Workplane("XY").rect(1, 1).extrude(2, both=True)'), 4);
  const neg = run('result = cq.Workplane("XY").rect(1, 1).extrude(-2)').shape;
  near(volumeOf(neg), 2);
  near(boundsOf(neg).min.z, -2);
  // lines and a three-point arc: a half disc of radius 1 on a 2x1 rectangle
  near(
    vol('result = cq.Workplane("XY").moveTo(-1, 0).lineTo(-1, -1).lineTo(1, -1).lineTo(1, 0).threePointArc((0, 1), (-1, 0)).close().extrude(1)'),
    2 + PI / 2,
  );
  near(vol('result = cq.Workplane("XY").polyline([(0, 0), (2, 0), (2, 1)]).close().extrude(1)'), 1);
  near(vol('result = cq.Workplane("XY").hLine(2).vLine(1).hLineTo(0).close().extrude(1)'), 2);
});

test('GenCAD style: rotated planes, add() of loops, moveTo then circle', async () => {
  await loadOpenCascade();
  const { shape } = run(`
wp = cq.Workplane(cq.Plane(cq.Vector(1, 2, 3), cq.Vector(0, 1, 0), cq.Vector(1, 0, 0)))
loop0 = wp.moveTo(0, 0).lineTo(2, 0).lineTo(2, 1).lineTo(0, 1).close()
loop1 = wp.moveTo(1, 0.5).circle(0.25)
solid = wp.add(loop0).add(loop1).extrude(0.5)`);
  near(volumeOf(shape), (2 - PI * 0.0625) * 0.5);
  const b = boundsOf(shape);
  near(b.min.x, 1);
  near(b.max.x, 1.5);
  near(b.min.y, 2);
  near(b.max.y, 4);
  near(b.max.z, 4);
  assert.ok(isValidShape(shape));
});

test('booleans: union, cut, intersect and their operators', async () => {
  await loadOpenCascade();
  const base = 'a = cq.Workplane("XY").box(2, 2, 2)\nb = cq.Workplane("XY").center(1, 0).box(2, 2, 2)\n';
  near(vol(`${base}result = a.union(b)`), 12);
  near(vol(`${base}result = a + b`), 12);
  near(vol(`${base}result = a.cut(b)`), 4);
  near(vol(`${base}result = a - b`), 4);
  near(vol(`${base}result = a.intersect(b)`), 4);
  near(vol(`${base}result = a & b`), 4);
});

test('holes, selectors, workplane on a face', async () => {
  await loadOpenCascade();
  near(vol('result = cq.Workplane("XY").box(4, 4, 1).faces(">Z").workplane().hole(1)'), 16 - PI * 0.25);
  near(vol('result = cq.Workplane("XY").box(4, 4, 2).faces(">Z").workplane().cboreHole(1, 2, 0.5)'), 32 - PI * 0.25 * 1.5 - PI * 0.5);
  near(
    vol('result = cq.Workplane("XY").box(4, 4, 1).faces(">Z").workplane().rect(2, 2, forConstruction=True).vertices().hole(0.5, 0.5)'),
    16 - 4 * PI * 0.0625 * 0.5,
  );
  // boss on the top face, centred on it
  const boss = run('result = cq.Workplane("XY").box(2, 2, 1).faces(">Z").workplane().circle(0.5).extrude(1)').shape;
  near(volumeOf(boss), 4 + PI * 0.25);
  near(boundsOf(boss).max.z, 1.5);
  const { globals } = run(
    'b = cq.Workplane("XY").box(1, 1, 1)\nresult = b\nn1 = b.faces(">Z").size()\nn2 = b.faces("|Z").size()\nn3 = b.edges("|Z").size()\nn4 = b.faces("#Z").size()\nn5 = b.faces(">Z or <Z").size()\nn6 = b.faces("not(>Z or <Z)").size()\nn7 = b.edges("%LINE").size()\nn8 = b.faces(">X[0]").size()',
  );
  assert.deepEqual(
    ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8'].map((k) => globals.get(k)),
    [1, 2, 4, 4, 2, 4, 12, 1],
  );
  assert.throws(() => parseSelector('>Q'), /invalid selector/);
});

test('fillet, chamfer, shell, revolve, mirror, translate, rotate', async () => {
  await loadOpenCascade();
  // fillet the 4 vertical edges of a 2x2x1 box with r=0.5: removes (4 - π) r² per unit height
  near(vol('result = cq.Workplane("XY").box(2, 2, 1).edges("|Z").fillet(0.5)'), 4 - (4 - PI) * 0.25, 1e-5);
  near(vol('result = cq.Workplane("XY").box(2, 2, 1).edges("|Z").chamfer(0.5)'), 4 - 4 * 0.125);
  near(vol('result = cq.Workplane("XY").box(2, 2, 2).faces(">Z").shell(-0.1)'), 8 - 1.8 * 1.8 * 1.9, 1e-5);
  // revolve a 1x1 square at x∈[1,2] about the workplane's y axis: ring of volume π(2²−1²)·1
  near(vol('result = cq.Workplane("XY").center(1.5, 0.5).rect(1, 1).revolve(360, (-1.5, -0.5), (-1.5, 0.5))'), PI * 3, 1e-5);
  const m = run('result = cq.Workplane("XY").box(1, 1, 1, centered=False).mirror("YZ", union=True)').shape;
  near(volumeOf(m), 2);
  near(boundsOf(m).min.x, -1);
  const t = run('result = cq.Workplane("XY").box(1, 1, 1).translate((5, 0, 0)).rotate((0, 0, 0), (0, 0, 1), 90)').shape;
  near(boundsOf(t).min.y, 4.5);
});

test('Sketch API (CAD-Recode / cadrille style)', async () => {
  await loadOpenCascade();
  near(
    vol(
      `result = cq.Workplane("XY", origin=(0, 0, 1)).sketch().segment((0, 0), (2, 0)).segment((2, 1)).arc((1, 1.5), (0, 1)).close().assemble().finalize().extrude(1)`,
    ),
    2 + ((PI * 1.25 * 1.25 * Math.acos(0.6)) / PI - 0.5 * 2 * 0.75),
    1e-6,
  );
  near(vol('result = cq.Workplane("XY").sketch().push([(0, 0)]).circle(2).push([(0, 0)]).circle(1, mode="s").finalize().extrude(1)'), 3 * PI);
  near(vol('result = cq.Workplane("XY").sketch().rect(2, 2).push([(1, 1)]).rect(2, 2).finalize().extrude(1)'), 7);
  const b = boundsOf(run('result = cq.Workplane("XY", origin=(0, 0, 5)).sketch().rect(1, 1).finalize().extrude(1)').shape);
  near(b.min.z, 5);
});

test('errors name the construct and refuse degenerate input', async () => {
  await loadOpenCascade();
  fails('result = cq.Workplane("XY").rect(1, 1).extrude(0)', 'geometry', /extrude distance must not be zero/);
  fails('result = cq.Workplane("XY").moveTo(0, 0).lineTo(0, 0)', 'geometry', /lineTo\(\): zero-length/);
  fails('result = cq.Workplane("XY").moveTo(0, 0).threePointArc((1, 0), (2, 0))', 'geometry', /threePointArc\(\).*collinear/);
  fails('result = cq.Workplane("XY").circle(0).extrude(1)', 'geometry', /circle\(\): radius/);
  fails('result = cq.Workplane("XY").close()', 'geometry', /close\(\): nothing to close/);
  fails('result = cq.Workplane("XY").moveTo(0, 0).lineTo(1, 0).lineTo(1, 1).extrude(1)', 'geometry', /extrude\(\): no pending wires/);
  fails('result = cq.Workplane("XY").box(1, 1, 1).faces(">>>Z")', 'geometry', /faces\(\): invalid selector/);
  fails('result = cq.Workplane("XY").box(1, 1, 1).edges("|Z").fillet(2)', 'geometry', /fillet\(\)/);
  fails('result = cq.Workplane("XY").circle(1).lineTo(1, 1)', 'geometry', /lineTo\(\): no current point/);
  fails('x = 1', 'runtime', /no result/);
});

test('results of booleans are valid solids; union of touching boxes is one solid', async () => {
  await loadOpenCascade();
  const s = run('result = cq.Workplane("XY").box(1, 1, 1, centered=False).union(cq.Workplane("XY").center(1, 0).box(1, 1, 1, centered=False))').shape;
  assert.equal(subShapes(s, 'solid').length, 1);
  assert.ok(isValidShape(s));
  near(volumeOf(s), 2);
});
