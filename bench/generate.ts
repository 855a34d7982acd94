/**
 * Image → CadQuery on all of test100 with the bundled model (or --model DIR): VSR and mean IoU
 * (paper protocol, against the gt STEP; invalid counted 0, and valid-only) at K=1 (greedy), at K=8
 * ranked without ground truth (render-vs-image score), and the oracle best-of-8 — the amortisation
 * gap in the paper's table — with the time per image.
 * Run: npm run bench -- generate     (GIFT_BENCH_LIMIT=N for the first N images)
 */
import fs from 'node:fs';
import path from 'node:path';
import { summarize, type VerifyOutcome } from '../src/core/geometry/evaluation';
import { KernelPool } from '../src/core/pool/pool';
import { bundledModelDir, generateCandidates, onnxBackend } from '../src/core/generate';
import { rankCandidates } from '../src/core/generate/rank';
import { loadTest100 } from '../test/helpers/test100';
import { printTable, quantile } from './table';

const workerScript = path.join(__dirname, '..', 'dist', 'kernel-worker.js');
const K = 8;

async function main() {
  const limit = Number(process.env.GIFT_BENCH_LIMIT ?? 100);
  const modelDir = process.env.GIFT_MODEL ?? bundledModelDir();
  const samples = loadTest100().slice(0, limit);
  const pool = new KernelPool({ workers: 2, workerScript, timeoutMs: 30_000 });
  const backend = onnxBackend({ model: modelDir, threads: 1 });
  const greedy: VerifyOutcome[] = [];
  const ranked: VerifyOutcome[] = [];
  const oracle: VerifyOutcome[] = [];
  const k1Ms: number[] = [];
  const k8Ms: number[] = [];
  try {
    for (const [i, s] of samples.entries()) {
      const image = new Uint8Array(fs.readFileSync(s.image));
      const reference = { kind: 'step' as const, bytes: new Uint8Array(fs.readFileSync(s.step)), name: s.step };
      // What a user waits for: sample, run, rank by the image (no ground truth).
      let t = performance.now();
      const one = await generateCandidates({ backend, pool, image, imageName: s.image, samples: 1 });
      k1Ms.push(performance.now() - t);
      t = performance.now();
      const eight = await generateCandidates({ backend, pool, image, imageName: s.image, samples: K, seed: i });
      k8Ms.push(performance.now() - t);
      // Then the IoU of each candidate against the ground truth, for the table.
      const [g] = await rankCandidates(
        [one.best?.code ?? one.candidates[0]?.code ?? null].map((code) => ({ code })),
        { pool, reference },
      );
      greedy.push({ ok: g.ok && g.iou !== undefined, iou: g.iou });
      const withIou = await rankCandidates(
        eight.candidates.map((c) => ({ code: c.code })),
        { pool, reference },
      );
      const iouOf = new Map(withIou.map((c) => [c.code, c]));
      const pick = eight.best ? iouOf.get(eight.best.code) : undefined;
      ranked.push({ ok: !!pick?.ok && pick.iou !== undefined, iou: pick?.iou });
      const top = withIou.find((c) => c.ok && c.iou !== undefined);
      oracle.push({ ok: !!top, iou: top?.iou });
      process.stderr.write(
        `${i + 1}/${samples.length} ${s.id}: K=1 ${g.iou?.toFixed(3) ?? 'fail'}, K=8 ranked ${pick?.iou?.toFixed(3) ?? 'fail'}, oracle ${top?.iou?.toFixed(3) ?? 'fail'}\n`,
      );
    }
  } finally {
    await backend.close?.();
    await pool.close();
  }
  const row = (label: string, outcomes: VerifyOutcome[], times: number[]) => {
    const s = summarize(outcomes);
    return [
      label,
      `${(s.vsr * 100).toFixed(0)}%`,
      s.adjustedMeanIou.toFixed(3),
      s.meanIou.toFixed(3),
      s.medianIou.toFixed(3),
      times.length ? (quantile(times, 0.5) / 1000).toFixed(2) : '—',
    ];
  };
  printTable(
    `image → CadQuery on test100 (${samples.length} images), model ${path.basename(modelDir)}, IoU aligned vs gt STEP`,
    ['setting', 'VSR', 'mean IoU (invalid = 0)', 'mean IoU (valid)', 'median IoU (valid)', 's / image'],
    [row('K=1 (greedy)', greedy, k1Ms), row(`K=${K}, ranked by image score`, ranked, k8Ms), row(`K=${K}, oracle best (uses GT)`, oracle, [])],
  );
  console.log('goals for the bundled model: mean IoU ≥ 0.5 with VSR ≥ 95% at K=1; ≤ 1 s / image at K=1, ≤ 4 s at K=8');
}

void main();
