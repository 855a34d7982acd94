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
  fails('w = cq.Wire.makeHelix(1, 2, 3)', 'unsupported', /cq\.Wire is not supported/);
  fails('result = cq.Workplane().placeSketch(cq.Sketch().trapezoid(4, 3, 90)).extrude(1)', 'unsupported', /Sketch\.trapezoid\(\) is not supported/);
  fails('result = cq.Workplane().box(2, 2, 2).faces(">Z").workplane().rect(1, 1).cutBlind("last")', 'unsupported', /cutBlind\(\): cutting up to a face/);
});
