/**
 * Several training seeds per arm, one table: each arm's expected@1 (the mean IoU of every sample)
 * and expected-gap per seed, Δ vs the base arm of the same seed, and the seed-averaged paired
 * difference (per image: the mean over seeds of arm − base; ± one standard error over the images).
 *
 *   node --import tsx training/seed_table.ts BASE=sft.json,sft-s1.json ARM=gift.json,gift-s1.json …
 * The first group is the base; the i-th report of every group is seed i (an arm may have fewer).
 */
import { type EvalReport as Report, readReport as load } from '../src/core/evaluate/report';
import { expectedBest } from '../src/core/evaluate/metrics';

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} %`;
const sign = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;

function main() {
  const groups = process.argv.slice(2).map((a) => {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new Error(`'${a}': expected LABEL=report.json[,report.json…]`);
    return {
      label: a.slice(0, eq),
      reports: a
        .slice(eq + 1)
        .split(',')
        .map(load),
    };
  });
  if (groups.length < 2) throw new Error('usage: seed_table.ts BASE=a.json,… ARM=b.json,… (the first group is the base)');
  const [base, ...arms] = groups;
  const k = Math.max(...Object.keys(base.reports[0].expected_at_k).map(Number));
  const e1 = (r: Report) => r.expected_at_k['1'];
  const gap = (r: Report) => (r.expected_at_k[String(k)] - e1(r)) / e1(r);
  const perImage = (r: Report) => new Map(r.per_image.map((p) => [p.id, expectedBest(p.ious, 1)]));

  const head = ['seed', base.label, ...arms.flatMap((a) => [a.label, 'Δ'])];
  const lines = [`| ${head.join(' | ')} | gap (expected@${k}) ${[base, ...arms].map((g) => g.label).join(' / ')} |`];
  lines.push(`|${' --- |'.repeat(head.length + 1)}`);
  const seeds = base.reports.length;
  for (let s = 0; s < seeds; s++) {
    const b = base.reports[s];
    const cells = [String(s), e1(b).toFixed(3)];
    const gaps = [pct(gap(b)).replace('+', '')];
    for (const a of arms) {
      const r = a.reports[s];
      cells.push(r ? e1(r).toFixed(3) : '—', r ? pct(e1(r) / e1(b) - 1) : '');
      if (r) gaps.push(pct(gap(r)).replace('+', ''));
    }
    lines.push(`| ${cells.join(' | ')} | ${gaps.join(' / ')} |`);
  }
  // Mean row: seed-averaged paired difference over the seeds both have.
  const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
  const baseMean = mean(base.reports.map(e1));
  const cells = ['mean', baseMean.toFixed(3)];
  for (const a of arms) {
    const n = Math.min(a.reports.length, seeds);
    const bMaps = base.reports.slice(0, n).map(perImage);
    const aMaps = a.reports.slice(0, n).map(perImage);
    const ids = [...bMaps[0].keys()].filter((id) => bMaps.every((m) => m.has(id)) && aMaps.every((m) => m.has(id)));
    const diffs = ids.map((id) => mean(aMaps.map((m, i) => (m.get(id) as number) - (bMaps[i].get(id) as number))));
    const d = mean(diffs);
    const se = Math.sqrt(diffs.reduce((x, v) => x + (v - d) ** 2, 0) / (diffs.length - 1) / diffs.length);
    const am = mean(a.reports.slice(0, n).map(e1));
    const bm = mean(base.reports.slice(0, n).map(e1));
    cells.push(`${am.toFixed(3)} (${(am / bm).toFixed(2)} × ${base.label}${n < seeds ? `, seeds 0–${n - 1}` : ''})`, `${sign(d)} ± ${se.toFixed(3)}`);
  }
  const meanGaps = [base, ...arms].map((g) => pct(mean(g.reports.map(gap))).replace('+', ''));
  lines.push(`| ${cells.join(' | ')} | ${meanGaps.join(' / ')} |`);
  console.log(lines.join('\n'));
}

try {
  main();
} catch (e) {
  console.error(`seed_table: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
