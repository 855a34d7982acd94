/**
 * `gift eval`'s report: report.json (the metrics, the setting, every image's per-sample IoUs),
 * report.md in the paper's table layout (mean IoU at budgets 1…10, ranked and oracle; pass@1 /
 * pass@5 / pass@10 and the gap), and two SVG plots (pass@k curves, IoU histogram). Several
 * reports compare side by side (`gift eval compare`), with the paper's own rows for reference.
 * Each table has a row per report for its main protocol (`--protocol`) and one per other protocol
 * it measured (`by_protocol`: the paper's `aligned` and `aligned-robust`, whichever is not the
 * main one), marked "· protocol"; Δ compares rows of the same protocol. Reports written before
 * `by_protocol` existed have the main rows only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors';
import { budgets, evalMetrics, expectedBest, metricsUnder, type EvalMetrics, type ImageResult, type ProtocolMetrics } from './metrics';

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
  /** The same metrics under the other protocols measured beside `setting.protocol` (absent in older reports). */
  by_protocol?: Record<string, ProtocolMetrics>;
  per_image: {
    id: string;
    /** Under `setting.protocol`. */
    ious: number[];
    /** The same samples under each protocol of `by_protocol`. */
    ious_by_protocol?: Record<string, number[]>;
    ran: boolean[];
    scores: (number | null)[];
    error?: string;
  }[];
}

export function buildReport(setting: EvalSetting, results: readonly ImageResult[], seconds: number): EvalReport {
  const samples = results.reduce((n, r) => n + r.ious.length, 0);
  const protocols = [...new Set(results.flatMap((r) => Object.keys(r.iousByProtocol ?? {})))].filter((p) => p !== setting.protocol);
  const byProtocol: Record<string, ProtocolMetrics> = {};
  for (const p of protocols) {
    const m = metricsUnder(results, setting.samples, p);
    if (m) byProtocol[p] = m;
  }
  return {
    setting,
    ...evalMetrics(results, setting.samples),
    seconds,
    samples_per_second: seconds > 0 ? samples / seconds : Number.NaN,
    created: new Date().toISOString(),
    ...(Object.keys(byProtocol).length ? { by_protocol: byProtocol } : {}),
    per_image: results.map((r) => ({
      id: r.id,
      ious: r.ious,
      ...(r.iousByProtocol && Object.keys(r.iousByProtocol).length ? { ious_by_protocol: r.iousByProtocol } : {}),
      ran: r.ran,
      scores: r.scores,
      ...(r.error ? { error: r.error } : {}),
    })),
  };
}

/** One table row's numbers: a report under its main protocol or under one of `by_protocol`. */
interface Row {
  report: EvalReport;
  protocol: string;
  /** The model's name, marked "· protocol" for the other protocols. */
  label: string;
  metrics: ProtocolMetrics;
  /** That protocol's IoUs of an image (undefined when the image has none). */
  ious: (image: EvalReport['per_image'][number]) => number[] | undefined;
}

/** The report's rows: its main protocol first, then each of `by_protocol`. */
function rowsOf(report: EvalReport): Row[] {
  const main = report.setting.protocol;
  return [
    { report, protocol: main, label: report.setting.label, metrics: report, ious: (im) => im.ious },
    ...Object.entries(report.by_protocol ?? {})
      .filter(([p]) => p !== main)
      .map(([protocol, metrics]) => ({
        report,
        protocol,
        label: `${report.setting.label} · ${protocol}`,
        metrics,
        ious: (im: EvalReport['per_image'][number]) => im.ious_by_protocol?.[protocol],
      })),
  ];
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

/**
 * Markdown tables comparing reports: mean IoU by budget (ranked, oracle) and pass@1/5/10 + gap, each
 * Δ vs the first report's row of the same protocol; a row per report and protocol (`rowsOf`).
 */
export function compareMarkdown(reports: readonly EvalReport[]): string {
  const k = ks(reports).filter((b) => b !== 5);
  const base = reports[0];
  const rows = reports.flatMap(rowsOf);
  /** The first report's row of the same protocol: what a row's Δ is against (none for the first report's own). */
  const baseOf = (row: Row) => (row.report === base ? undefined : rows.find((r) => r.report === base && r.protocol === row.protocol));
  const delta = (x: number | undefined, y: number | undefined) =>
    x === undefined || y === undefined || !Number.isFinite(x) || !Number.isFinite(y) ? '' : ` (${x >= y ? '+' : ''}${((x / y - 1) * 100).toFixed(1)}%)`;
  const lines: string[] = [];
  const s = base.setting;
  const others = [...new Set(rows.filter((r) => r.protocol !== s.protocol).map((r) => r.protocol))];
  const protocols = others.length
    ? `IoU protocol: ${s.protocol} (rows marked · ${others.join(' / ')}: the same samples under that protocol)`
    : `IoU protocol: ${s.protocol}`;
  lines.push(
    `Input: ${s.input} (${base.n} images), reference: ${s.reference}, ${protocols}, K = ${s.samples}, temperature ${s.temperature}, seed ${s.seed ?? '—'}.`,
  );
  lines.push('');
  lines.push(
    '**Table 1: mean IoU at sampling budget k** (failed samples count 0). *Ranked*: the sample the image score picks (no ground truth); *oracle*: the best of the first k (pass@k).',
  );
  lines.push('');
  lines.push(`| model | pick | ${k.map((b) => `k=${b}`).join(' | ')} |`);
  lines.push(`|---|---|${k.map(() => '---').join('|')}|`);
  for (const row of rows) {
    const b = baseOf(row)?.metrics;
    const m = row.metrics;
    const ranked = k.map((x) => `${f3(m.ranked_at_k[x])}${b ? delta(m.ranked_at_k[x], b.ranked_at_k[x]) : ''}`);
    const oracle = k.map((x) => `${f3(m.pass_at_k[x])}${b ? delta(m.pass_at_k[x], b.pass_at_k[x]) : ''}`);
    lines.push(`| ${row.label} | ranked | ${ranked.join(' | ')} |`);
    lines.push(`| ${row.label} | oracle | ${oracle.join(' | ')} |`);
  }
  lines.push('');
  lines.push('**Table 2: pass@k and the amortisation gap** (gap = (pass@K − pass@1) / pass@1).');
  lines.push('');
  lines.push('| model | VSR | pass@1 | pass@5 | pass@10 | gap | ranked@K | samples/s |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const row of rows) {
    const r = row.report;
    const m = row.metrics;
    const K = r.setting.samples;
    const main = row.protocol === r.setting.protocol;
    lines.push(
      `| ${row.label} | ${pct(r.vsr)} | ${f3(m.pass_at_k[1])} | ${f3(m.pass_at_k[5])} | ${f3(m.pass_at_k[10])} | ${pct(m.gap)} | ${f3(m.ranked_at_k[K])} | ${main ? f3(r.samples_per_second) : ''} |`,
    );
  }
  for (const p of [PAPER_ROWS.sft, PAPER_ROWS.gift]) lines.push(`| ${p.label} | | ${f3(p.pass1)} | | ${f3(p.passK)} | ${pct(p.gap)} | | |`);
  lines.push('');
  lines.push(`The paper's rows: ${PAPER_ROWS.note}; its pass@10 is best-of-10, under aligned.`);
  if (reports.some((r) => r.expected_at_k)) {
    const kk = k.filter((b) => reports.every((r) => r.setting.samples >= b));
    lines.push('');
    lines.push(
      "**Table 3: expected@k**, the unbiased estimate of the best IoU among k samples from all K samples of each image (expected@1 = mean IoU of every sample): the same quantity as pass@k with less sampling noise. Δ vs the first report's row of the same protocol: paired over the same images, ± one standard error.",
    );
    lines.push('');
    lines.push(`| model | ${kk.map((b) => `k=${b}`).join(' | ')} | gap |`);
    lines.push(`|---|${kk.map(() => '---').join('|')}|---|`);
    for (const row of rows) {
      const e = row.metrics.expected_at_k ?? {};
      const against = baseOf(row);
      const cells = kk.map((b) => {
        const d = against ? pairedRowDelta(against, row, b) : undefined;
        const be = against?.metrics.expected_at_k?.[b];
        const rel = d && be !== undefined && Number.isFinite(be) ? ` (${d.delta >= 0 ? '+' : ''}${((d.delta / be) * 100).toFixed(1)}%)` : '';
        return `${f3(e[b])}${d ? ` ${d.delta >= 0 ? '+' : '−'}${Math.abs(d.delta).toFixed(3)} ± ${d.se.toFixed(3)}${rel}` : ''}`;
      });
      const K = Math.max(...kk);
      lines.push(`| ${row.label} | ${cells.join(' | ')} | ${pct((e[K] - e[1]) / e[1])} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Paired difference of expected@k (B − A) over the images both reports hold, with its standard
 * error across images (sd of the per-image differences / √n): the comparison's noise, since the
 * two models see the same images. Under each report's main protocol.
 */
export function pairedDelta(a: EvalReport, b: EvalReport, k: number): { n: number; delta: number; se: number } | undefined {
  return pairedRowDelta(rowsOf(a)[0], rowsOf(b)[0], k);
}

function pairedRowDelta(a: Row, b: Row, k: number): { n: number; delta: number; se: number } | undefined {
  const other = new Map(b.report.per_image.map((im) => [im.id, im]));
  const d: number[] = [];
  for (const im of a.report.per_image) {
    const o = other.get(im.id);
    const x = a.ious(im);
    const y = o && b.ious(o);
    if (x && y && x.length >= k && y.length >= k) d.push(expectedBest(y, k) - expectedBest(x, k));
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
