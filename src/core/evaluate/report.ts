/**
 * `gift eval`'s report: report.json (the metrics, the setting, every image's per-sample IoUs),
 * report.md in the paper's table layout (mean IoU at budgets 1…10, ranked and oracle; pass@1 /
 * pass@5 / pass@10 and the gap), and two SVG plots (pass@k curves, IoU histogram). Several
 * reports compare side by side (`gift eval compare`), with the paper's own rows for reference.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors';
import { budgets, evalMetrics, expectedBest, type EvalMetrics, type ImageResult } from './metrics';

export interface EvalSetting {
  /** A name for tables: the model's (onnx:compact, openai:…) unless given. */
  label: string;
  model: string;
  input: string;
  samples: number;
  protocol: string;
  reference: string;
  temperature: number;
  seed: number | null;
}

export interface EvalReport extends EvalMetrics {
  setting: EvalSetting;
  /** Seconds of wall time, and samples checked per second. */
  seconds: number;
  samples_per_second: number;
  created: string;
  per_image: { id: string; ious: number[]; ran: boolean[]; scores: (number | null)[]; error?: string }[];
}

export function buildReport(setting: EvalSetting, results: readonly ImageResult[], seconds: number): EvalReport {
  const samples = results.reduce((n, r) => n + r.ious.length, 0);
  return {
    setting,
    ...evalMetrics(results, setting.samples),
    seconds,
    samples_per_second: seconds > 0 ? samples / seconds : Number.NaN,
    created: new Date().toISOString(),
    per_image: results.map((r) => ({ id: r.id, ious: r.ious, ran: r.ran, scores: r.scores, ...(r.error ? { error: r.error } : {}) })),
  };
}

export function readReport(file: string): EvalReport {
  let report: EvalReport;
  try {
    report = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: not a gift eval report.json (${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not JSON'})`);
  }
  if (!report?.setting || !report.pass_at_k || !report.ranked_at_k) throw new UserError(`${file}: not a gift eval report.json (no setting / pass_at_k)`);
  // Reports written before expected@k existed: computed from their per-image IoUs.
  report.expected_at_k ??= Object.fromEntries(
    budgets(report.setting.samples).map((b) => [b, report.per_image.reduce((sum, im) => sum + expectedBest(im.ious, b), 0) / report.per_image.length]),
  );
  return report;
}

const f3 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(3));
const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(1)}%`);

/** The paper's Table 1 / Table 2 rows (ICML 2026, Qwen2.5-VL-7B on GenCAD-Code), for reference. */
export const PAPER_ROWS = {
  note: "the paper (SFT vs GIFT, Qwen2.5-VL-7B, GenCAD-Code test set): pass@1 and the gap as it reports them; GIFT's pass@10 is not restated here",
  sft: { label: 'paper: SFT', pass1: 0.698, passK: 0.807, gap: 0.155 },
  gift: { label: 'paper: GIFT', pass1: 0.779, passK: Number.NaN, gap: 0.052 },
};

function ks(reports: readonly EvalReport[]): number[] {
  return budgets(Math.max(...reports.map((r) => r.setting.samples)));
}

/** Markdown tables comparing reports: mean IoU by budget (ranked, oracle) and pass@1/5/10 + gap, each Δ vs the first. */
export function compareMarkdown(reports: readonly EvalReport[]): string {
  const k = ks(reports).filter((b) => b !== 5);
  const base = reports[0];
  const delta = (x: number | undefined, y: number | undefined) =>
    x === undefined || y === undefined || !Number.isFinite(x) || !Number.isFinite(y) ? '' : ` (${x >= y ? '+' : ''}${((x / y - 1) * 100).toFixed(1)}%)`;
  const lines: string[] = [];
  const s = base.setting;
  lines.push(
    `Input: ${s.input} (${base.n} images), reference: ${s.reference}, IoU protocol: ${s.protocol}, K = ${s.samples}, temperature ${s.temperature}, seed ${s.seed ?? '—'}.`,
  );
  lines.push('');
  lines.push(
    '**Table 1: mean IoU at sampling budget k** (failed samples count 0). *Ranked*: the sample the image score picks (no ground truth); *oracle*: the best of the first k (pass@k).',
  );
  lines.push('');
  lines.push(`| model | pick | ${k.map((b) => `k=${b}`).join(' | ')} |`);
  lines.push(`|---|---|${k.map(() => '---').join('|')}|`);
  for (const r of reports) {
    const ranked = k.map((b) => `${f3(r.ranked_at_k[b])}${r === base ? '' : delta(r.ranked_at_k[b], base.ranked_at_k[b])}`);
    const oracle = k.map((b) => `${f3(r.pass_at_k[b])}${r === base ? '' : delta(r.pass_at_k[b], base.pass_at_k[b])}`);
    lines.push(`| ${r.setting.label} | ranked | ${ranked.join(' | ')} |`);
    lines.push(`| ${r.setting.label} | oracle | ${oracle.join(' | ')} |`);
  }
  lines.push('');
  lines.push('**Table 2: pass@k and the amortisation gap** (gap = (pass@K − pass@1) / pass@1).');
  lines.push('');
  lines.push('| model | VSR | pass@1 | pass@5 | pass@10 | gap | ranked@K | samples/s |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const r of reports) {
    const K = r.setting.samples;
    lines.push(
      `| ${r.setting.label} | ${pct(r.vsr)} | ${f3(r.pass_at_k[1])} | ${f3(r.pass_at_k[5])} | ${f3(r.pass_at_k[10])} | ${pct(r.gap)} | ${f3(r.ranked_at_k[K])} | ${f3(r.samples_per_second)} |`,
    );
  }
  for (const p of [PAPER_ROWS.sft, PAPER_ROWS.gift]) lines.push(`| ${p.label} | | ${f3(p.pass1)} | | ${f3(p.passK)} | ${pct(p.gap)} | | |`);
  lines.push('');
  lines.push(`The paper's rows: ${PAPER_ROWS.note}; its pass@10 is best-of-10.`);
  if (reports.some((r) => r.expected_at_k)) {
    const kk = k.filter((b) => reports.every((r) => r.setting.samples >= b));
    lines.push('');
    lines.push(
      "**Table 3: expected@k**, the unbiased estimate of the best IoU among k samples from all K samples of each image (expected@1 = mean IoU of every sample): the same quantity as pass@k with less sampling noise. Δ vs the first row: paired over the same images, ± one standard error.",
    );
    lines.push('');
    lines.push(`| model | ${kk.map((b) => `k=${b}`).join(' | ')} | gap |`);
    lines.push(`|---|${kk.map(() => '---').join('|')}|---|`);
    for (const r of reports) {
      const e = r.expected_at_k ?? {};
      const cells = kk.map((b) => {
        const d = r === base ? undefined : pairedDelta(base, r, b);
        const rel = d && Number.isFinite(base.expected_at_k?.[b]) ? ` (${d.delta >= 0 ? '+' : ''}${((d.delta / base.expected_at_k[b]) * 100).toFixed(1)}%)` : '';
        return `${f3(e[b])}${d ? ` ${d.delta >= 0 ? '+' : '−'}${Math.abs(d.delta).toFixed(3)} ± ${d.se.toFixed(3)}${rel}` : ''}`;
      });
      const K = Math.max(...kk);
      lines.push(`| ${r.setting.label} | ${cells.join(' | ')} | ${pct((e[K] - e[1]) / e[1])} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Paired difference of expected@k (B − A) over the images both reports hold, with its standard
 * error across images (sd of the per-image differences / √n): the comparison's noise, since the
 * two models see the same images.
 */
export function pairedDelta(a: EvalReport, b: EvalReport, k: number): { n: number; delta: number; se: number } | undefined {
  const other = new Map(b.per_image.map((im) => [im.id, im]));
  const d: number[] = [];
  for (const im of a.per_image) {
    const o = other.get(im.id);
    if (o && im.ious.length >= k && o.ious.length >= k) d.push(expectedBest(o.ious, k) - expectedBest(im.ious, k));
  }
  if (d.length < 2) return undefined;
  const mean = d.reduce((x, y) => x + y, 0) / d.length;
  const sd = Math.sqrt(d.reduce((x, y) => x + (y - mean) ** 2, 0) / (d.length - 1));
  return { n: d.length, delta: mean, se: sd / Math.sqrt(d.length) };
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

/** pass@k (solid) and ranked@k (dashed) against k, one colour per report. */
export function passAtKSvg(reports: readonly EvalReport[]): string {
  const k = ks(reports);
  const W = 560;
  const H = 360;
  const m = { l: 56, r: 170, t: 20, b: 44 };
  const all = reports.flatMap((r) => [...Object.values(r.pass_at_k), ...Object.values(r.ranked_at_k)]).filter(Number.isFinite);
  const lo = Math.max(0, Math.floor((Math.min(...all) - 0.02) * 20) / 20);
  const hi = Math.min(1, Math.ceil((Math.max(...all) + 0.02) * 20) / 20);
  const x = (b: number) => m.l + ((b - k[0]) / Math.max(1, k[k.length - 1] - k[0])) * (W - m.l - m.r);
  const y = (v: number) => H - m.b - ((v - lo) / Math.max(1e-9, hi - lo)) * (H - m.t - m.b);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  for (let v = lo; v <= hi + 1e-9; v += 0.05)
    parts.push(
      `<line x1="${m.l}" x2="${W - m.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/><text x="${m.l - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(2)}</text>`,
    );
  for (const b of k) parts.push(`<text x="${x(b)}" y="${H - m.b + 16}" text-anchor="middle">${b}</text>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle">samples k</text>`);
  parts.push(`<text transform="translate(14 ${(H - m.b + m.t) / 2}) rotate(-90)" text-anchor="middle">mean IoU</text>`);
  reports.forEach((r, i) => {
    const c = COLOURS[i % COLOURS.length];
    const line = (values: Record<string, number>, dash: string) => {
      const pts = k.filter((b) => Number.isFinite(values[b])).map((b) => `${x(b).toFixed(1)},${y(values[b]).toFixed(1)}`);
      return `<polyline fill="none" stroke="${c}" stroke-width="2" ${dash} points="${pts.join(' ')}"/>`;
    };
    parts.push(line(r.pass_at_k, ''), line(r.ranked_at_k, 'stroke-dasharray="6 4"'));
    const ly = m.t + 14 + i * 34;
    parts.push(`<text x="${W - m.r + 10}" y="${ly}" fill="${c}">${escapeXml(r.setting.label)}</text>`);
    parts.push(`<text x="${W - m.r + 10}" y="${ly + 14}" fill="${c}" font-size="10">solid: oracle, dashed: ranked</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Histogram of the IoU of every sample (10 bins), one bar series per report. */
export function iouHistogramSvg(reports: readonly EvalReport[]): string {
  const W = 560;
  const H = 320;
  const m = { l: 50, r: 170, t: 20, b: 44 };
  const bins = 10;
  const counts = reports.map((r) => {
    const c = new Array(bins).fill(0);
    for (const im of r.per_image) for (const v of im.ious) c[Math.min(bins - 1, Math.floor(v * bins))]++;
    const total = c.reduce((a, b) => a + b, 0) || 1;
    return c.map((n) => n / total);
  });
  const top = Math.max(0.05, ...counts.flat());
  const bw = (W - m.l - m.r) / bins;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  for (let b = 0; b <= bins; b += 2) parts.push(`<text x="${m.l + b * bw}" y="${H - m.b + 16}" text-anchor="middle">${(b / bins).toFixed(1)}</text>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle">IoU of a sample (failed = 0)</text>`);
  parts.push(`<text transform="translate(14 ${(H - m.b + m.t) / 2}) rotate(-90)" text-anchor="middle">share of samples</text>`);
  counts.forEach((c, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const w = bw / reports.length;
    c.forEach((share, b) => {
      const h = (share / top) * (H - m.t - m.b);
      parts.push(
        `<rect x="${(m.l + b * bw + i * w).toFixed(1)}" y="${(H - m.b - h).toFixed(1)}" width="${(w - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${colour}"/>`,
      );
    });
    parts.push(`<text x="${W - m.r + 10}" y="${m.t + 14 + i * 18}" fill="${colour}">${escapeXml(reports[i].setting.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

/** Writes report.json, report.md, pass-at-k.svg and iou-histogram.svg into `dir`. */
export function writeReport(dir: string, report: EvalReport): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const files: [string, string][] = [
    ['report.json', `${JSON.stringify(report, null, 1)}\n`],
    ['report.md', `# gift eval: ${report.setting.label}\n\n${compareMarkdown([report])}\n![pass@k](pass-at-k.svg)\n![IoU histogram](iou-histogram.svg)\n`],
    ['pass-at-k.svg', passAtKSvg([report])],
    ['iou-histogram.svg', iouHistogramSvg([report])],
  ];
  for (const [name, text] of files) fs.writeFileSync(path.join(dir, name), text);
  return files.map(([name]) => path.join(dir, name));
}

/** Writes compare.md and the two plots for several reports into `dir`. */
export function writeComparison(dir: string, reports: readonly EvalReport[]): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const files: [string, string][] = [
    ['compare.md', `# gift eval compare\n\n${compareMarkdown(reports)}\n![pass@k](pass-at-k.svg)\n![IoU histogram](iou-histogram.svg)\n`],
    ['pass-at-k.svg', passAtKSvg(reports)],
    ['iou-histogram.svg', iouHistogramSvg(reports)],
  ];
  for (const [name, text] of files) fs.writeFileSync(path.join(dir, name), text);
  return files.map(([name]) => path.join(dir, name));
}
