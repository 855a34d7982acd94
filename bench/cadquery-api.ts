/**
 * Warm time per test100 program through parse + interpret + CadQuery API geometry (one thread).
 * Usage: node --import tsx bench/cadquery-api.ts [passes=3]
 */
import { loadOpenCascade } from '../src/core/occt/occt';
import { interpret } from '../src/core/cadquery/interpret';
import { createCadQueryModule, resultShape } from '../src/core/cadquery/api';
import { loadTest100 } from '../test/helpers/test100';

async function main() {
  await loadOpenCascade();
  const samples = loadTest100();
  const passes = Number(process.argv[2] ?? 3);
  const rows: { pass: number; median: number; p95: number; max: number; total: number }[] = [];
  let slowest: string[] = [];
  for (let pass = 0; pass < passes; pass++) {
    const times: number[] = [];
    for (const s of samples) {
      const t0 = performance.now();
      const { globals, shown } = interpret(s.code, { modules: { cadquery: createCadQueryModule() } });
      resultShape(globals, shown);
      times.push(performance.now() - t0);
    }
    const sorted = [...times].sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
    rows.push({ pass, median: q(0.5), p95: q(0.95), max: sorted[sorted.length - 1], total: times.reduce((a, b) => a + b, 0) });
    slowest = times
      .map((t, i) => [t, i] as const)
      .sort((a, b) => b[0] - a[0])
      .slice(0, 5)
      .map(([t, i]) => `${samples[i].id} ${t.toFixed(0)}ms`);
  }
  console.log('pass | median ms | p95 ms | max ms | total ms');
  for (const r of rows) console.log(`${r.pass} | ${r.median.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.max.toFixed(1)} | ${r.total.toFixed(0)}`);
  console.log(`goal (warm passes): median <= 20 ms, p95 <= 100 ms; slowest in last pass: ${slowest.join(', ')}`);
}

void main();
