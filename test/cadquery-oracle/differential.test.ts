/**
 * The differential suite: every program of the real-CadQuery corpus (test/fixtures/cadquery-corpus)
 * and GIFT_DIFF_GENERATED (default 600) generated GenCAD-style programs run in real CadQuery 2.8 and
 * in ours, and GIFT_DIFF_FEATURES (default 150) generated programs of hand-written Workplane
 * operations (features.ts says which); they must agree (oracle.ts says how). Skips, saying why,
 * without .venv-cadquery (scripts/install-python-cadquery.sh).
 *
 * A disagreement fails unless known-disagreements.json lists its program with the reason; a listed
 * program that now agrees fails too, until it is taken off the list (so the list only shrinks).
 * Generated programs are deterministic (seeded), so they can be listed too; a change to the generator
 * may need the list redone.
 * Their face/edge/vertex counts may differ, where everything else agrees, on at most
 * GENERATED_TOPOLOGY_BUDGET of them (reported): measured on 600, 27 (4.5 %), 13 since extrude(both=True)'s
 * glued halves are always cleaned (2026-12-06), 8 since circular-only halves are cleaned only extruding
 * against the normal, as CadQuery 2.8 merges them (2026-12-07). The cause: ShapeUpgrade_UnifySameDomain merges two
 * coaxial half cylinders into one face or not, differently in the two OpenCascade builds — on the same
 * B-rep (an annulus extruded both ways: CadQuery's own uncleaned result read into ours, 7.9 keeps 4
 * half cylinders, 7.6 merges the inner pair), or through the boolean's face order, which the builds
 * make differently (led_tube_endcap in known-disagreements.json). No code of ours decides either.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { corpusPrograms, corpusSources, generatedPrograms } from './corpus';
import { featurePrograms } from './features';
import { cadqueryInvalid, differential, oracleMissing, type Comparison } from './oracle';

const GENERATED = Number(process.env.GIFT_DIFF_GENERATED ?? 600);
const FEATURES = Number(process.env.GIFT_DIFF_FEATURES ?? 150);
const GENERATED_TOPOLOGY_BUDGET = 0.06;
const KNOWN_FILE = path.join(__dirname, 'known-disagreements.json');

/** Only the counts differ: both ran, and volume, box and validity agree (as oracle.ts compares them). */
function topologyOnly(c: Comparison): boolean {
  return !!c.why && c.ours.ok && c.theirs.ok && c.why.split('; ').every((d) => /^(faces|edges|vertices) /.test(d));
}

test(`differential: the real-CadQuery corpus, ${GENERATED} generated and ${FEATURES} feature programs agree with CadQuery 2.8`, {
  skip: oracleMissing(),
  timeout: 900_000,
}, async (t) => {
  const corpus = corpusSources().flatMap(corpusPrograms);
  const generated = generatedPrograms(GENERATED);
  const features = featurePrograms(FEATURES);
  const s = await differential([...corpus, ...generated, ...features]);
  const byId = new Map(s.comparisons.map((c) => [c.id, c]));
  const known: Record<string, string> = JSON.parse(readFileSync(KNOWN_FILE, 'utf8'));

  const real = s.comparisons.filter((c) => !c.id.startsWith('generated/') && !c.id.startsWith('features/'));
  const realRuns = real.filter((c) => c.theirs.ok);
  const realAgree = realRuns.filter((c) => c.ours.ok && !c.why);
  const gen = s.comparisons.filter((c) => c.id.startsWith('generated/'));
  const genTopology = gen.filter(topologyOnly);
  const realCadQueryInvalid = realAgree.filter((c) => cadqueryInvalid(c.ours, c.theirs)).map((c) => c.id);
  t.diagnostic(
    `corpus: ${real.length} programs, CadQuery runs ${realRuns.length}, ours runs and agrees on ${realAgree.length} (${((100 * realAgree.length) / Math.max(1, realRuns.length)).toFixed(1)} %)` +
      (realCadQueryInvalid.length ? `, of which CadQuery's own B-rep is invalid (ours valid) in ${realCadQueryInvalid.join(', ')}` : ''),
  );
  t.diagnostic(`generated: ${gen.length} programs, ${gen.filter((c) => !c.why).length} agree exactly, ${genTopology.length} differ in counts only`);
  const varies = s.comparisons.filter((c) => c.cadqueryVaries).map((c) => c.id);
  if (varies.length) t.diagnostic(`CadQuery's own result varied between its runs, ours equals one of them: ${varies.join(', ')}`);
  const feat = s.comparisons.filter((c) => c.id.startsWith('features/'));
  t.diagnostic(`features: ${feat.length} programs, CadQuery runs ${feat.filter((c) => c.theirs.ok).length}, ${feat.filter((c) => !c.why).length} agree`);

  const unexpected = s.comparisons.filter((c) => c.why && !(c.id in known) && !(c.id.startsWith('generated/') && topologyOnly(c)));
  const nowAgree = Object.keys(known).filter((id) => byId.has(id) && !byId.get(id)!.why);
  assert.deepEqual(
    unexpected.map((c) => `${c.id}: ${c.why}`),
    [],
    'programs where ours and CadQuery disagree (fix ours, or list the program in known-disagreements.json with the reason)',
  );
  assert.deepEqual(nowAgree, [], 'listed in known-disagreements.json but now agree with CadQuery: take them off the list');
  assert.ok(
    genTopology.length <= GENERATED_TOPOLOGY_BUDGET * gen.length,
    `${genTopology.length} generated programs differ in face/edge/vertex counts (budget ${GENERATED_TOPOLOGY_BUDGET * gen.length}):\n${genTopology
      .slice(0, 20)
      .map((c) => `${c.id}: ${c.why}`)
      .join('\n')}`,
  );
});
