/**
 * Every public name of real CadQuery's Workplane and Sketch (dir() in the installed CadQuery 2.8)
 * is either implemented or reported `unsupported` naming it: never "object has no attribute", the
 * runtime error a typo gets (#15: missing features report unsupported, never runtime).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { loadOpenCascade } from '../../src/core/occt/occt';
import { interpret } from '../../src/core/cadquery/interpret';
import { createCadQueryModule } from '../../src/core/cadquery/api';
import { CADQUERY_PYTHON, oracleMissing } from './oracle';

test('CadQuery’s public Workplane and Sketch API: each name implemented or unsupported by name', { skip: oracleMissing(), timeout: 120_000 }, async () => {
  const listing = execFileSync(
    CADQUERY_PYTHON,
    ['-c', "import cadquery as cq, json; print(json.dumps({c.__name__: [n for n in dir(c) if not n.startswith('_')] for c in (cq.Workplane, cq.Sketch)}))"],
    { encoding: 'utf8' },
  );
  const names: Record<string, string[]> = JSON.parse(listing);
  await loadOpenCascade();
  const wrong: string[] = [];
  for (const [cls, members] of Object.entries(names)) {
    assert.ok(members.length > 30, `${cls} lists its API`);
    for (const name of members) {
      try {
        interpret(`import cadquery as cq\nx = cq.${cls}().${name}\n`, { modules: { cadquery: createCadQueryModule() } });
      } catch (e) {
        const kind = (e as { kind?: string }).kind;
        if (kind !== 'unsupported' || !String((e as Error).message).includes(name)) wrong.push(`${cls}.${name}: ${kind}: ${(e as Error).message}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});
