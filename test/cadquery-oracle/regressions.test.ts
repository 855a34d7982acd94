/**
 * The silent-wrong-geometry bugs of issue #15 and the CadQuery features added for its corpus, each a
 * program with real CadQuery 2.8's result recorded beside it (regressions.json, made with
 * record.ts through run_cadquery.py): ours must agree with the record
 * (oracle.ts's rule), always; where the oracle is installed, the record must still be what
 * CadQuery says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { boxesDiffer, disagreement, oracleMissing, runOracle, runOurs, type Outcome } from './oracle';

interface Case {
  id: string;
  bug: string;
  source: string;
  cadquery: Outcome;
}
const cases: Case[] = JSON.parse(readFileSync(path.join(__dirname, 'regressions.json'), 'utf8'));

test('regressions: ours agrees with what CadQuery 2.8 made of each bug’s program', { timeout: 300_000 }, async () => {
  const ours = await runOurs(cases);
  // Where the AddOptimal boxes differ, the recorded box of CadQuery's extreme points decides (oracle.ts).
  const recheck = cases.filter((c) => c.cadquery.ok && c.cadquery.extremaBox && boxesDiffer(ours.get(c.id)!, c.cadquery));
  if (recheck.length) for (const [id, o] of await runOurs(recheck, { extremaBox: true })) ours.set(id, o);
  const wrong = cases.flatMap((c) => {
    const why = disagreement(ours.get(c.id)!, c.cadquery);
    return why ? [`${c.id} (bug ${c.bug}): ${why}`] : [];
  });
  assert.deepEqual(wrong, []);
});

test('regressions: the recorded results are still what CadQuery says', { skip: oracleMissing(), timeout: 300_000 }, async () => {
  const live = await runOracle(cases);
  const stale = cases.flatMap((c) => {
    const why = disagreement(live.get(c.id)!, c.cadquery);
    return why ? [`${c.id}: ${why}`] : [];
  });
  assert.deepEqual(stale, []);
});
