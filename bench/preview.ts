/**
 * The live preview's edit → new mesh latency over test100, through the path the extension uses:
 * a LiveRunner (src/extension/liveRun.ts, 150 ms debounce as in the preview panel) whose run is the
 * kernel pool's 'shape.execute' job with `mesh` (as PreviewPanel does; KernelService itself needs the
 * vscode module, so the pool is driven directly with the extension's defaults: 2 workers, the
 * bundled worker). Each test100 program is "edited" (a changed comment) on a warm pool, one at a
 * time like a user typing. With --vscode it also runs test/vscode/vsix.js: the packaged VSIX is
 * installed into code-server and VS Code's own activation time (Show Running Extensions: code
 * loading + activate()) is read from the workbench.
 * Run: node --import tsx bench/preview.ts [--vscode]   (after `node esbuild.js`)
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { ExecuteResult } from '../src/core/jobs/execute';
import { KernelPool } from '../src/core/pool/pool';
import type { JobResult } from '../src/core/jobs/types';
import { LiveRunner } from '../src/extension/preview/live-run';
import { loadTest100 } from '../test/helpers/test100';
import { printTable, quantile } from './table';

const root = path.join(__dirname, '..');
const workerScript = path.join(root, 'dist', 'kernel-worker.js');
const DEBOUNCE_MS = 150;

interface Sample {
  keystrokeToMesh: number;
  debounceToMesh: number;
  roundTrip: number;
  worker: number;
  triangles: number;
}

async function main() {
  const sources = loadTest100().map((s) => s.code);
  const pool = new KernelPool({ workers: 2, workerScript, timeoutMs: 30_000 });
  // Warm-up: both workers started and JIT-warm, as after the first few edits of a session.
  const warmStarted = performance.now();
  await Promise.all(sources.map((source) => pool.run('shape.execute', { source, mesh: {} })));
  const warmMs = performance.now() - warmStarted;

  const samples: Sample[] = [];
  let failed = 0;
  let pending: { scheduled: number; fired: number; resolve: () => void } | undefined;
  const runner = new LiveRunner<string, JobResult<ExecuteResult>>({
    delayMs: DEBOUNCE_MS,
    onStart: () => {
      if (pending) pending.fired = performance.now();
    },
    run: (source, signal) => pool.run('shape.execute', { source, mesh: {} }, { signal }),
    onResult: (result) => {
      const now = performance.now();
      if (!pending) return;
      if (result.ok && result.value.mesh) {
        samples.push({
          keystrokeToMesh: now - pending.scheduled,
          debounceToMesh: now - pending.fired,
          roundTrip: result.ms,
          worker: result.workMs ?? result.ms,
          triangles: result.value.mesh.indices.length / 3,
        });
      } else failed++;
      pending.resolve();
    },
    onError: () => {
      failed++;
      pending?.resolve();
    },
  });
  for (const [i, source] of sources.entries()) {
    await new Promise<void>((resolve) => {
      pending = { scheduled: performance.now(), fired: NaN, resolve };
      runner.schedule(`${source}\n# edit ${i}\n`);
    });
  }
  runner.dispose();
  await pool.close();

  const row = (label: string, values: number[]) => [label, quantile(values, 0.5).toFixed(1), quantile(values, 0.95).toFixed(1), Math.max(...values).toFixed(1)];
  printTable(
    `test100 edit → new mesh in the extension host (warm pool of 2 workers, ${samples.length} programs, ${failed} failed; warm-up pass ${(warmMs / 1000).toFixed(1)} s)`,
    ['stage', 'p50 ms', 'p95 ms', 'max ms'],
    [
      row(
        'worker: parse + run + mesh',
        samples.map((s) => s.worker),
      ),
      row(
        'pool round trip (incl. mesh transfer)',
        samples.map((s) => s.roundTrip),
      ),
      row(
        'debounce fired → mesh on host',
        samples.map((s) => s.debounceToMesh),
      ),
      row(
        `keystroke → mesh on host (+${DEBOUNCE_MS} ms debounce)`,
        samples.map((s) => s.keystrokeToMesh),
      ),
    ],
  );
  console.log(
    `mesh size: p50 ${quantile(
      samples.map((s) => s.triangles),
      0.5,
    ).toFixed(0)} triangles, max ${Math.max(...samples.map((s) => s.triangles))}`,
  );
  console.log(`goal: p50 ≤ 150 ms from the run starting (after the debounce) to the mesh`);

  if (process.argv.includes('--vscode')) {
    const r = spawnSync(process.execPath, [path.join(root, 'test', 'vscode', 'vsix.js'), path.join(root, '.test-work', 'vscode-workspace')], {
      cwd: root,
      encoding: 'utf8',
    });
    const line = /\[vsix\] result (\{.*\})/.exec(r.stdout ?? '')?.[1];
    const result = line ? (JSON.parse(line) as { activationMs?: number | null; vsixBytes?: number }) : undefined;
    printTable(
      'the packaged extension in code-server (VS Code OSS): VSIX installed with --install-extension',
      ['measure', 'value'],
      [
        ['activation (code loading + activate(), Show Running Extensions)', result?.activationMs != null ? `${result.activationMs} ms` : 'n/a'],
        ['VSIX size', result?.vsixBytes ? `${(result.vsixBytes / 2 ** 20).toFixed(2)} MiB` : 'n/a'],
        ['preview from the VSIX', r.status === 0 ? 'ok' : `failed (exit ${r.status})`],
      ],
    );
    console.log('goal: activation ≤ 300 ms, VSIX ≤ 60 MiB');
    if (r.status !== 0) console.log((r.stdout + r.stderr).slice(-2000));
  }
}

void main();
