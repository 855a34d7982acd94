/**
 * The differential report: runs corpus sources and/or generated programs in real CadQuery and in
 * ours, prints the agreement per source and every disagreement.
 *
 *   npx tsx test/cadquery-oracle/report.ts [--generated N] [--features N] [--seed S] [--json OUT] [SOURCE…]
 *
 * --features N: programs of the hand-written Workplane operations (features.ts), not GenCAD style.
 *
 * SOURCE is a folder of test/fixtures/cadquery-corpus (default: all of them).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { corpusPrograms, corpusSources, generatedPrograms } from './corpus';
import { featurePrograms } from './features';
import { cadqueryInvalid, differential, oracleMissing, type Program } from './oracle';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { generated: { type: 'string' }, features: { type: 'string' }, seed: { type: 'string' }, json: { type: 'string' }, workers: { type: 'string' } },
    allowPositionals: true,
  });
  const missing = oracleMissing();
  if (missing) throw new Error(missing);
  const groups: [string, Program[]][] = [];
  const sources = positionals.length ? positionals : values.generated || values.features ? [] : corpusSources();
  for (const s of sources) groups.push([s, corpusPrograms(s)]);
  if (values.generated) groups.push(['generated', generatedPrograms(Number(values.generated), Number(values.seed ?? 1))]);
  if (values.features) groups.push(['features', featurePrograms(Number(values.features), Number(values.seed ?? 1))]);
  const all = groups.flatMap(([, p]) => p);
  const t0 = Date.now();
  const summary = await differential(all, { workers: Number(values.workers ?? 2) });
  const seconds = (Date.now() - t0) / 1000;
  console.log('| source | programs | CadQuery runs | ours runs | both run and agree | agree (incl. both fail) |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, programs] of groups) {
    const ids = new Set(programs.map((p) => p.id));
    const cs = summary.comparisons.filter((c) => ids.has(c.id));
    const cq = cs.filter((c) => c.theirs.ok).length;
    const both = cs.filter((c) => c.theirs.ok && c.ours.ok && !c.why).length;
    console.log(
      `| ${name} | ${cs.length} | ${cq} | ${cs.filter((c) => c.ours.ok).length} | ${both} (${cq ? ((100 * both) / cq).toFixed(1) : '–'} %) | ${cs.filter((c) => !c.why).length} |`,
    );
  }
  console.log(`\n${all.length} programs in ${seconds.toFixed(0)} s\n`);
  for (const c of summary.comparisons) if (c.why) console.log(`${c.id}: ${c.why}`);
  for (const c of summary.comparisons)
    if (!c.why && cadqueryInvalid(c.ours, c.theirs)) console.log(`${c.id}: agrees; CadQuery's own B-rep is invalid (BRepCheck), ours is valid`);
  for (const c of summary.comparisons)
    if (c.cadqueryVaries)
      console.log(
        `${c.id}: agrees with one of CadQuery's results, which vary between its runs (volumes ${c.cadqueryVaries.map((t) => (t.ok ? t.volume : t.error.kind)).join(', ')})`,
      );
  if (values.json) writeFileSync(values.json, JSON.stringify(summary, null, 1));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
