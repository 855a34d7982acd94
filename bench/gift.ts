/**
 * Throughput of a GIFT round's data step on 2 cores: N generated images (never test100) → K samples
 * each from the bundled model → every distinct program verified by IoU against the ground truth →
 * SRS/FDA records (FDA renders included), through the product's own `bootstrap`. Also the model's
 * sampling alone, to show where the time goes. Goal: ≥ 10 candidates/s.
 * Run: npm run bench -- gift        (GIFT_BENCH_IMAGES=N, GIFT_BENCH_K=K, GIFT_MODEL=DIR)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bootstrap } from '../src/core/dataset/bootstrap';
import { openDataset } from '../src/core/dataset/store';
import { bundledModelDir, onnxBackend } from '../src/core/generate';
import { generateProgram, mulberry32 } from '../src/core/model/synthetic';
import { KernelPool } from '../src/core/pool/pool';
import { printTable } from './table';

const workerScript = path.join(__dirname, '..', 'dist', 'kernel-worker.js');

async function main() {
  const n = Number(process.env.GIFT_BENCH_IMAGES ?? 20);
  const k = Number(process.env.GIFT_BENCH_K ?? 8);
  const modelDir = process.env.GIFT_MODEL ?? bundledModelDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-bench-round-'));
  const pool = new KernelPool({ workers: 2, workerScript, timeoutMs: 30_000 });
  const backend = onnxBackend({ model: modelDir, threads: 1 });
  try {
    const ds = await openDataset(dir, { create: true });
    for (let i = 0; i < n; i++) {
      const code = generateProgram(mulberry32(7_000 + i));
      const png = await pool.run('render.image', { shape: { kind: 'code', source: code } });
      if (!png.ok) continue;
      await ds.append({ id: `gen${String(i).padStart(4, '0')}`, collection: 'sft', image: png.value.png, code });
    }
    const { records } = await ds.list('sft');
    // The model alone: K samples per image, nothing run.
    let t = performance.now();
    let sampledAlone = 0;
    for (const r of records) sampledAlone += (await backend.sample(new Uint8Array(fs.readFileSync(ds.imagePath(r))), r.image, { samples: k, seed: 1 })).length;
    const sampleS = (performance.now() - t) / 1000;
    // The whole data step.
    t = performance.now();
    let candidates = 0;
    let distinct = 0;
    let verified = 0;
    const summary = await bootstrap(ds, {
      pool,
      backend,
      samples: k,
      protocol: 'aligned',
      onProgress: (p) => {
        candidates += p.last?.samples ?? 0;
        distinct += p.last?.distinct ?? 0;
        verified += p.last?.valid ?? 0;
      },
    });
    const roundS = (performance.now() - t) / 1000;
    printTable(
      `GIFT round data step: ${records.length} generated images × K=${k}, model ${path.basename(modelDir)}, 2 kernel workers, aligned IoU`,
      ['stage', 'candidates', 'distinct', 'ran + verified', 'SRS', 'FDA', 'seconds', 'candidates / s'],
      [
        ['sampling alone', String(sampledAlone), '', '', '', '', sampleS.toFixed(1), (sampledAlone / sampleS).toFixed(1)],
        [
          'sample + verify + render (bootstrap)',
          String(candidates),
          String(distinct),
          String(verified),
          String(summary.srs),
          String(summary.fda),
          roundS.toFixed(1),
          (candidates / roundS).toFixed(1),
        ],
      ],
    );
    console.log('goal: ≥ 10 candidates / s for the whole step on 2 cores');
  } finally {
    await backend.close?.();
    await pool.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
