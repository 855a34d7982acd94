/**
 * The extension's kernel pool, created on first use (never on activation: OpenCascade costs
 * ≈0.5 s and ~100 MB per worker) and rebuilt when its settings change.
 */
import type { ExecutePayload, ExecuteResult } from '../core/cadquery/jobs';
import type { KernelPool } from '../core/kernel/pool';
import type { JobResult } from '../core/kernel/types';
import { log } from './log';
import { readSettings } from './settings';

export type { ExecutePayload, ExecuteResult };

export class KernelService {
  private pool?: KernelPool;
  private poolModule?: Promise<typeof import('../core/kernel/pool')>;
  private poolKey = '';
  private readonly workerScript?: string;

  constructor(options: { workerScript?: string } = {}) {
    this.workerScript = options.workerScript;
  }

  get started(): boolean {
    return this.pool !== undefined;
  }

  async execute(payload: ExecutePayload, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<JobResult<ExecuteResult>> {
    const settings = readSettings();
    const pool = await this.ensurePool();
    return pool.run<ExecuteResult>('execute', payload, {
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? settings.kernel.timeoutMs,
    });
  }

  /** Called when gift.kernel.* changes: the next job gets a pool with the new settings. */
  settingsChanged(): void {
    const { workers, timeoutMs } = readSettings().kernel;
    if (this.pool && this.poolKey !== `${workers}/${timeoutMs}`) {
      log().info(`kernel settings changed (workers ${workers}, timeout ${timeoutMs} ms): restarting the pool on next use`);
      void this.pool.close();
      this.pool = undefined;
    }
  }

  async dispose(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }

  private async ensurePool(): Promise<KernelPool> {
    // Loaded on first use: the pool module pulls in replicad, which activation should not pay for.
    const { KernelPool } = await (this.poolModule ??= import('../core/kernel/pool'));
    if (!this.pool) {
      const { workers, timeoutMs } = readSettings().kernel;
      this.poolKey = `${workers}/${timeoutMs}`;
      log().info(`starting the kernel pool: up to ${workers} worker(s), ${timeoutMs} ms per job`);
      this.pool = new KernelPool({ workers, timeoutMs, workerScript: this.workerScript });
    }
    return this.pool;
  }
}
