/**
 * `gift eval`: the paper's metrics on hand-made results, and the command end to end through the
 * built CLI with the bundled model on real test100 images — its per-image IoUs (aligned, and
 * aligned-robust beside them) equal what `gift generate --seed` + `gift iou` give by hand, a rerun
 * resumes, reports compare.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { budgets, evalMetrics, expectedBest, metricsUnder, rankedPick, type ImageResult } from '../../src/core/evaluate/metrics';
import { buildReport, compareMarkdown, readReport, type EvalSetting } from '../../src/core/evaluate/report';
import { TEST100_DIR } from '../helpers/test100';

const root = path.join(__dirname, '..', '..');
const gift = path.join(root, 'bin', 'gift.js');

function runGift(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [gift, ...args], { cwd: root, maxBuffer: 64 * 1024 ** 2 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const result = (id: string, ious: number[], scores: (number | null)[], ran = ious.map((v) => v > 0)): ImageResult => ({
  id,
  ious,
  ran,
  scores,
  sampleMs: 0,
  checkMs: 0,
});

test('pass@k, ranked@k, VSR and the gap, computed by hand', () => {
  const results = [
    // The ranker picks sample 2 (score 0.9) among 3, and sample 0 among the first 1.
    result('a', [0.5, 0.8, 0.6, 0.9], [0.1, 0.2, 0.9, 0.3]),
    // A failed first sample counts 0 for pass@1 and VSR; the failed one is never picked.
    result('b', [0, 0.4, 0.7, 0.2], [0.99, 0.5, 0.1, 0.6], [false, true, true, true]),
  ];
  assert.deepEqual(budgets(4), [1, 2, 4]);
  assert.deepEqual(budgets(10), [1, 2, 4, 5, 6, 8, 10]);
  assert.equal(rankedPick(results[1], 4), 3);
  const m = evalMetrics(results, 4);
  assert.equal(m.n, 2);
  assert.equal(m.vsr, 0.5);
  assert.deepEqual(m.pass_at_k, { 1: (0.5 + 0) / 2, 2: (0.8 + 0.4) / 2, 4: (0.9 + 0.7) / 2 });
  assert.deepEqual(m.ranked_at_k, { 1: (0.5 + 0) / 2, 2: (0.8 + 0.4) / 2, 4: (0.6 + 0.2) / 2 });
  assert.ok(Math.abs(m.gap - (0.8 - 0.25) / 0.25) < 1e-12);
});

test('aligned and aligned-robust side by side: per_image keeps ious, adds ious_by_protocol; tables get a row per protocol; old reports still compare', () => {
  const withRobust = (r: ImageResult, robust: number[]): ImageResult => ({ ...r, iousByProtocol: { 'aligned-robust': robust } });
  const results = [
    withRobust(result('a', [0.5, 0.8, 0.6, 0.9], [0.1, 0.2, 0.9, 0.3]), [0.95, 0.8, 0.99, 0.9]),
    withRobust(result('b', [0, 0.4, 0.7, 0.2], [0.99, 0.5, 0.1, 0.6], [false, true, true, true]), [0, 0.4, 0.98, 0.2]),
  ];
  // The ranker picks the same samples; only their IoUs change.
  const robust = metricsUnder(results, 4, 'aligned-robust');
  assert.ok(robust);
  assert.equal(robust.n, 2);
  assert.deepEqual(robust.pass_at_k, { 1: (0.95 + 0) / 2, 2: (0.95 + 0.4) / 2, 4: (0.99 + 0.98) / 2 });
  assert.deepEqual(robust.ranked_at_k, { 1: (0.95 + 0) / 2, 2: (0.8 + 0.4) / 2, 4: (0.99 + 0.2) / 2 });
  assert.equal(metricsUnder(results, 4, 'raw'), undefined);

  const setting: EvalSetting = { label: 'm', model: 'm', input: 'in', samples: 4, protocol: 'aligned', reference: 'step', temperature: 0.8, seed: 0 };
  const report = buildReport(setting, results, 1);
  assert.deepEqual(report.per_image[0].ious, [0.5, 0.8, 0.6, 0.9], 'ious stay the main protocol');
  assert.deepEqual(report.per_image[0].ious_by_protocol, { 'aligned-robust': [0.95, 0.8, 0.99, 0.9] });
  assert.deepEqual(Object.keys(report.by_protocol ?? {}), ['aligned-robust']);
  assert.deepEqual(report.by_protocol!['aligned-robust'].pass_at_k, robust.pass_at_k);
  const md = compareMarkdown([report]);
  assert.match(md, /IoU protocol: aligned \(rows marked · aligned-robust/);
  assert.match(md, /\| m \| oracle \| 0\.250 \| 0\.600 \| 0\.800 \|/);
  assert.match(md, /\| m · aligned-robust \| oracle \| 0\.475 \| 0\.675 \| 0\.985 \|/);
  assert.match(md, /\| m · aligned-robust \| 50\.0% \| 0\.475 \|/);

  // A report from before both were measured: no by_protocol, no ious_by_protocol. It still reads and
  // compares; the newer report's robust rows have no Δ (nothing of that protocol to compare with).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-eval-old-'));
  const { by_protocol: _b, ...old } = buildReport(
    { ...setting, label: 'old' },
    results.map(({ iousByProtocol: _i, ...r }) => r),
    1,
  );
  fs.writeFileSync(path.join(dir, 'report.json'), JSON.stringify(old));
  const oldReport = readReport(path.join(dir, 'report.json'));
  assert.equal(oldReport.by_protocol, undefined);
  const cmp = compareMarkdown([oldReport, report]);
  assert.match(cmp, /\| m \| oracle \| 0\.250 \(\+0\.0%\)/);
  assert.match(cmp, /\| m · aligned-robust \| oracle \| 0\.475 \| 0\.675 \| 0\.985 \|/);
  assert.doesNotMatch(cmp, /\| old · aligned-robust/);
  // …and with the old one second, the newer one's robust rows lead and the old one has only its main rows.
  assert.match(compareMarkdown([report, oldReport]), /\| old \| ranked \| 0\.250 \(\+0\.0%\)/);
});

test('expected@k: the unbiased best-of-k estimate equals the mean over every k-subset', () => {
  assert.equal(expectedBest([0.9, 0.1, 0.5], 1), 0.5);
  assert.ok(Math.abs(expectedBest([0.9, 0.1, 0.5], 2) - (0.5 + 0.9 + 0.9) / 3) < 1e-12);
  assert.equal(expectedBest([0.9, 0.1, 0.5], 3), 0.9);
  assert.equal(expectedBest([], 2), 0);
  // Brute force over all subsets of 10 values.
  const xs = [0.31, 0, 0.77, 0.52, 0.05, 0.99, 0.64, 0, 0.2, 0.41];
  for (let k = 1; k <= xs.length; k++) {
    let sum = 0;
    let count = 0;
    for (let mask = 0; mask < 1 << xs.length; mask++) {
      let bits = 0;
      let best = 0;
      for (let i = 0; i < xs.length; i++)
        if (mask & (1 << i)) {
          bits++;
          best = Math.max(best, xs[i]);
        }
      if (bits !== k) continue;
      sum += best;
      count++;
    }
    assert.ok(Math.abs(expectedBest(xs, k) - sum / count) < 1e-12, `k=${k}`);
  }
  const m = evalMetrics([result('a', [0.5, 0.8, 0.6, 0.9], [0, 0, 0, 0])], 4);
  assert.ok(Math.abs(m.expected_at_k[1] - (0.5 + 0.8 + 0.6 + 0.9) / 4) < 1e-12);
  assert.equal(m.expected_at_k[4], 0.9);
});

test('gift eval on test100 images: one process, the per-image IoUs equal gift generate + gift iou by hand; resumable; compare', {
  timeout: 600_000,
}, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-eval-'));
  const args = [TEST100_DIR, '--samples', '2', '--limit', '2', '--seed', '3', '--timeout', '120000'];
  const first = await runGift(['eval', ...args, '--out', out, '--json']);
  assert.equal(first.code, 0, first.stderr);
  const report = JSON.parse(first.stdout);
  assert.equal(report.n, 2);
  assert.equal(report.setting.reference, 'step');
  assert.deepEqual(Object.keys(report.pass_at_k), ['1', '2']);
  for (const key of ['vsr', 'gap', 'ranked_at_k', 'per_image', 'by_protocol']) assert.ok(key in report, key);
  assert.equal(report.setting.protocol, 'aligned');
  assert.deepEqual(Object.keys(report.by_protocol), ['aligned-robust']);
  assert.deepEqual(Object.keys(report.by_protocol['aligned-robust'].pass_at_k), ['1', '2']);
  for (const f of ['report.json', 'report.md', 'pass-at-k.svg', 'iou-histogram.svg', 'per_image.jsonl']) assert.ok(fs.existsSync(path.join(out, f)), f);
  assert.match(fs.readFileSync(path.join(out, 'report.md'), 'utf8'), /Table 1: mean IoU at sampling budget k/);

  // By hand, for the first image: the same samples (seed 3), each checked with gift iou.
  const { id, ious, ious_by_protocol } = report.per_image[0];
  const image = path.join(TEST100_DIR, 'images', `${id}_0.png`);
  const step = path.join(TEST100_DIR, 'gt_steps', `${id}.step`);
  const generated = await runGift(['generate', image, '--samples', '2', '--seed', '3', '--json', '--timeout', '120000']);
  const candidates = JSON.parse(generated.stdout).candidates as { sample: number; code: string; ok: boolean }[];
  const byHand: number[] = [];
  const robustByHand: number[] = [];
  for (const c of candidates) {
    const file = path.join(out, `sample-${c.sample}.py`);
    fs.writeFileSync(file, c.code);
    const iou = JSON.parse((await runGift(['iou', file, step, '--json', '--timeout', '120000'])).stdout);
    byHand[c.sample] = iou.ok ? iou.iou : 0;
    const robust = JSON.parse((await runGift(['iou', file, step, '--protocol', 'aligned-robust', '--json', '--timeout', '120000'])).stdout);
    robustByHand[c.sample] = robust.ok ? robust.iou : 0;
  }
  assert.deepEqual(byHand, ious);
  assert.deepEqual(robustByHand, ious_by_protocol['aligned-robust']);
  assert.equal(report.pass_at_k[1], (report.per_image[0].ious[0] + report.per_image[1].ious[0]) / 2);

  // A rerun with the same --out evaluates nothing again and reports the same numbers.
  const again = await runGift(['eval', ...args, '--out', out, '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /eval: \d+\/2/);
  assert.deepEqual(JSON.parse(again.stdout).pass_at_k, report.pass_at_k);
  assert.deepEqual(JSON.parse(again.stdout).by_protocol, report.by_protocol);
  // An image logged before aligned-robust was measured beside aligned is evaluated again, only that one.
  const logFile = path.join(out, 'per_image.jsonl');
  const logged = fs
    .readFileSync(logFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  fs.writeFileSync(logFile, `${logged.map(({ iousByProtocol: _, ...r }, i) => JSON.stringify(i === 1 ? r : logged[i])).join('\n')}\n`);
  const resumed = await runGift(['eval', ...args, '--out', out, '--json']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`eval: 2/2 ${logged[1].id}: first [\\d.]+, best [\\d.]+; aligned-robust: first`));
  assert.doesNotMatch(resumed.stderr, new RegExp(`eval: \\d/2 ${logged[0].id}`));
  assert.deepEqual(JSON.parse(resumed.stdout).by_protocol, report.by_protocol);
  // Another setting in the same folder is refused, not mixed in.
  const other = await runGift(['eval', ...args, '--samples', '3', '--out', out]);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /holds an evaluation with another setting/);

  const compared = await runGift(['eval', 'compare', path.join(out, 'report.json'), path.join(out, 'report.json'), '--out', path.join(out, 'cmp')]);
  assert.equal(compared.code, 0, compared.stderr);
  assert.match(compared.stdout, /\| onnx:compact \| oracle \|/);
  assert.match(compared.stdout, /\| onnx:compact · aligned-robust \| oracle \|/);
  assert.ok(fs.existsSync(path.join(out, 'cmp', 'compare.md')));
});

test('gift eval names bad input', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-eval-bad-'));
  fs.writeFileSync(path.join(dir, 'pairs.jsonl'), `${JSON.stringify({ id: 'a', image: 'missing.png', reference: 'part.py' })}\n`);
  const r = await runGift(['eval', path.join(dir, 'pairs.jsonl'), '--samples', '1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /pairs\.jsonl:1: .*no such reference file|pairs\.jsonl:1: .*no such image/);
  const none = await runGift(['eval', path.join(dir, 'nope.jsonl')]);
  assert.match(none.stderr, /nope\.jsonl: no such file or folder/);
});
