/**
 * A program runs as CQ-editor and CQGI run it (runCadQuery): `cq` and `cadquery` predefined,
 * `__name__` is "__cq_main__", `typing` importable, exports recorded (never written), `cq.Plane.XY()`;
 * CadQuery names that are not implemented fail as `unsupported`, naming them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadOpenCascade } from '../../src/core/occt/occt';
import { runCadQuery, runCadQueryProgram } from '../../src/core/shape/run-cadquery';
import { volumeOf } from '../../src/core/cadquery/api/geom';
import { CadError } from '../../src/core/errors';

function fails(source: string, kind: string, pattern: RegExp) {
  assert.throws(
    () => runCadQuery(source),
    (e: unknown) => e instanceof CadError && e.kind === kind && pattern.test(e.message),
  );
}

test('CQ-editor environment: cq predefined, typing, exporters, Plane.XY(), __cq_main__', async () => {
  await loadOpenCascade();
  const s = runCadQuery(
    [
      'from typing import List, Optional',
      'def width(x: float) -> Optional[float]:',
      '    return x',
      'p = cq.Plane.XY()',
      'q = cadquery.Plane.named("XZ", origin=(0, 0, 1))',
      'result = cq.Workplane(q).rect(1, width(2)).extrude(1)',
      'cq.exporters.export(result, "part.step")',
      'if __name__ == "__main__":',
      '    result = None',
    ].join('\n'),
  );
  assert.ok(Math.abs(volumeOf(s) - 2) < 1e-9);
});

test('exports are recorded in order, as solids; a program that only exports has its first export as the result', async () => {
  await loadOpenCascade();
  const { shape, exports } = runCadQueryProgram(
    [
      'big = cq.Workplane().box(2, 2, 2)',
      'small = cq.Workplane().box(1, 1, 1)',
      'cq.exporters.export(big, "big.step", exportType="STEP", tolerance=0.01)',
      'small.export("small.stl")',
      'small.val().exportStep("shape.step")',
      'cq.exporters.export(cq.Workplane().rect(1, 1), "flat.svg")',
    ].join('\n'),
  );
  assert.ok(Math.abs(volumeOf(shape) - 8) < 1e-9);
  assert.deepEqual(
    exports.map((e) => [e.fileName, e.exportType, e.shape ? +volumeOf(e.shape).toFixed(9) : e.error]),
    [
      ['big.step', 'STEP', 8],
      ['small.stl', undefined, 1],
      ['shape.step', 'STEP', 1],
      ['flat.svg', undefined, 'the exported object is not a solid (it is a Wire)'],
    ],
  );
  // A named result still wins over the exports; nothing to pick at all is a clear error.
  assert.ok(Math.abs(volumeOf(runCadQuery('cq.exporters.export(cq.Workplane().box(2, 2, 2), "a.stl")\nresult = cq.Workplane().box(1, 1, 3)')) - 3) < 1e-9);
  fails('x = 1', 'runtime', /no result: assign the final shape .*, or export it/);
});

test('CadQuery names not implemented here fail as unsupported, naming them', async () => {
  await loadOpenCascade();
  fails('a = cq.Assembly()', 'unsupported', /cq\.Assembly is not supported/);
  fails('s = cq.Solid.makeWedge(1, 2, 3, 0, 0, 1, 1)', 'unsupported', /cq\.Solid\.makeWedge\(\) is not supported/);
  fails('f = cq.Face.makeNSidedSurface([], [])', 'unsupported', /cq\.Face\.makeNSidedSurface\(\) is not supported/);
  fails(
    'result = cq.Workplane().placeSketch(cq.Sketch().rect(4, 3).bezier([(0, 0), (1, 1), (2, 0)])).extrude(1)',
    'unsupported',
    /Sketch\.bezier\(\) is not supported/,
  );
  fails('result = cq.Workplane().text("a", 5, 1)', 'unsupported', /Workplane\.text\(\) is not supported/);
  fails('from cadquery.func import *\nresult = text("a", 1)', 'unsupported', /cadquery\.func\.text is not supported/);
  fails('from cadquery.func import box\nresult = box(1, 1, 1).trim(0, 1)', 'unsupported', /Solid\.trim\(\) is not supported/);
  fails('from cadquery.func import History\nh = History()', 'unsupported', /cadquery\.func\.History is not supported/);
});

test('cq.Workplane plugins: a function assigned to the class is a method of every workplane of the run', async () => {
  await loadOpenCascade();
  const s = runCadQuery(
    [
      'def twice(self, d):',
      '    return self.box(d, d, d).translate((2 * d, 0, 0)).union(self.box(d, d, d))',
      'cq.Workplane.twice = twice',
      'result = cq.Workplane().twice(1)',
    ].join('\n'),
  );
  assert.ok(Math.abs(volumeOf(s) - 2) < 1e-9);
  // A new module (a new run) starts without them.
  fails('result = cq.Workplane().twice(1)', 'runtime', /'Workplane' object has no attribute 'twice'/);
  fails('cq.Workplane.box = None', 'unsupported', /replacing Workplane\.box is not supported/);
});
