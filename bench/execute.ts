/**
 * test100 execution through the kernel pool (the bundled worker, as shipped): cold (fresh
 * workers: start-up and JIT warm-up included) and warm, with 1 and 2 workers.
 * Run: npm run bench -- execute
 */
import path from 'node:path';
import { KernelPool } from '../src/core/pool/pool';
import { loadTest100 } from '../test/helpers/test100';
import { printTable, quantile } from './table';

const workerScript = path.join(__dirname, '..', 'dist', 'kernel-worker.js');
const WARM_PASSES = 3;

async function pass(pool: KernelPool, sources: string[]) {
  const started = performance.now();
  const results = await Promise.all(sources.map((source) => pool.run('shape.execute', { source })));
  const wall = performance.now() - started;
  const failed = results.filter((r) => !r.ok).length;
  return { wall, times: results.map((r) => r.workMs ?? r.ms), failed };
}

async function main() {
  const sources = loadTest100().map((s) => s.code);
  const rows: (string | number)[][] = [];
  for (const workers of [1, 2]) {
    const pool = new KernelPool({ workers, workerScript, timeoutMs: 30_000 });
    const cold = await pass(pool, sources);
    const warmTimes: number[] = [];
    let warmWall = 0;
    let failed = cold.failed;
    for (let i = 0; i < WARM_PASSES; i++) {
      const p = await pass(pool, sources);
      warmTimes.push(...p.times);
      warmWall += p.wall;
      failed += p.failed;
    }
    await pool.close();
    const row = (label: string, times: number[], wall: number, programs: number) => [
      workers,
      label,
      quantile(times, 0.5).toFixed(1),
      quantile(times, 0.95).toFixed(1),
      Math.max(...times).toFixed(1),
      (wall / 1000).toFixed(2),
      (programs / (wall / 1000)).toFixed(0),
      failed,
    ];
    rows.push(row('cold', cold.times, cold.wall, sources.length));
    rows.push(row(`warm ×${WARM_PASSES}`, warmTimes, warmWall, sources.length * WARM_PASSES));
  }
  printTable(
    'test100 execution (parse + interpret + OCCT + measure, per program, in the worker)',
    ['workers', 'pass', 'median ms', 'p95 ms', 'max ms', 'wall s', 'programs/s', 'failed'],
    rows,
  );
  console.log('goal: warm median ≤ 20 ms, p95 ≤ 100 ms');
}

void main();
