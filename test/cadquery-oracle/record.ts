/**
 * Records programs with real CadQuery's result into regressions.json (read by regressions.test.ts):
 *
 *   npx tsx test/cadquery-oracle/record.ts --bug "what it guards" FILE.py …
 *
 * Each FILE becomes (or replaces) the case whose id is its name without `.py`. Needs .venv-cadquery.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { oracleMissing, runOracle, type Outcome } from './oracle';

interface Case {
  id: string;
  bug: string;
  source: string;
  cadquery: Outcome;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { bug: { type: 'string' } }, allowPositionals: true });
  const missing = oracleMissing();
  if (missing) throw new Error(missing);
  if (!values.bug || positionals.length === 0) throw new Error('usage: record.ts --bug "what it guards" FILE.py …');
  const file = path.join(__dirname, 'regressions.json');
  const cases: Case[] = JSON.parse(readFileSync(file, 'utf8'));
  const programs = positionals.map((f) => ({ id: path.basename(f, '.py'), source: readFileSync(f, 'utf8').trimEnd() }));
  // With the box of the extreme points, which decides where the builds' AddOptimal boxes differ.
  const results = await runOracle(programs, { extremaBox: true });
  for (const p of programs) {
    const c: Case = { id: p.id, bug: values.bug, source: p.source, cadquery: results.get(p.id)! };
    const at = cases.findIndex((x) => x.id === p.id);
    if (at >= 0) cases[at] = c;
    else cases.push(c);
    console.log(`${p.id}: ${JSON.stringify(c.cadquery)}`);
  }
  writeFileSync(file, `${JSON.stringify(cases, null, 1)}\n`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
