/**
 * The extension's kernel pool, created on first use (never on activation: OpenCascade costs
 * ≈0.5 s and ~100 MB per worker) and rebuilt when its settings change.
 */
import type { ExecutePayload, ExecuteResult } from '../core/jobs/execute';
import type { JobKind, JobPayload, JobResult, JobValue, KernelPool } from '../core/pool/pool';
import { log } from './log';
import { readSettings } from './settings';

export type { ExecutePayload, ExecuteResult };

export class KernelService {
  private activePool?: KernelPool;
  private poolModule?: Promise<typeof import('../core/pool/pool')>;
  private poolKey = '';
  private readonly workerScript?: string;

  constructor(options: { workerScript?: string } = {}) {
    this.workerScript = options.workerScript;
  }

  get started(): boolean {
    return this.activePool !== undefined;
  }

  async execute(payload: ExecutePayload, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<JobResult<ExecuteResult>> {
    const settings = readSettings();
    const pool = await this.ensurePool();
    return pool.run('shape.execute', payload, {
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? settings.kernel.timeoutMs,
    });
  }

  /** Runs any kernel job kind ('shape.iou', 'render.image', …) with the configured deadline unless given one. */
  async run<K extends JobKind>(kind: K, payload: JobPayload<K>, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<JobResult<JobValue<K>>> {
    const settings = readSettings();
    const pool = await this.ensurePool();
    return pool.run(kind, payload, { signal: options.signal, timeoutMs: options.timeoutMs ?? settings.kernel.timeoutMs });
  }

  /** The pool itself, started if needed (for core code that takes a KernelPool, e.g. bootstrap). */
  pool(): Promise<KernelPool> {
    return this.ensurePool();
  }

  /** Called when gift.kernel.* changes: the next job gets a pool with the new settings. */
  settingsChanged(): void {
    const { workers, timeoutMs } = readSettings().kernel;
    if (this.activePool && this.poolKey !== `${workers}/${timeoutMs}`) {
      log().info(`kernel settings changed (workers ${workers}, timeout ${timeoutMs} ms): restarting the pool on next use`);
      void this.activePool.close();
      this.activePool = undefined;
    }
  }

  async dispose(): Promise<void> {
    const pool = this.activePool;
    this.activePool = undefined;
    await pool?.close();
  }

  private async ensurePool(): Promise<KernelPool> {
    // Loaded on first use: the pool module pulls in replicad, which activation should not pay for.
    const { KernelPool } = await (this.poolModule ??= import('../core/pool/pool'));
    if (!this.activePool) {
      const { workers, timeoutMs } = readSettings().kernel;
      this.poolKey = `${workers}/${timeoutMs}`;
      log().info(`starting the kernel pool: up to ${workers} worker(s), ${timeoutMs} ms per job`);
      this.activePool = new KernelPool({ workers, timeoutMs, workerScript: this.workerScript });
    }
    return this.activePool;
  }
}
