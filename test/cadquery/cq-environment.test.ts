/**
 * A program runs as CQ-editor and CQGI run it (runCadQuery): `cq` and `cadquery` predefined,
 * `__name__` is "__cq_main__", `typing` importable, `cq.exporters.export` a no-op, `cq.Plane.XY()`;
 * CadQuery names that are not implemented fail as `unsupported`, naming them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadOpenCascade } from '../../src/core/occt/occt';
import { runCadQuery } from '../../src/core/shape/run-cadquery';
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
