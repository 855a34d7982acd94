/**
 * The extension's kernel pool, created on first use (never on activation: OpenCascade costs
 * ≈0.5 s and ~100 MB per worker) and rebuilt when its settings change.
 */
import { errorMessage } from '../core/errors';
import type { ExecutePayload, ExecuteResult } from '../core/jobs/execute';
import { findCadQueryPython, PYTHON_ENGINE_TIMEOUT_MS, runPythonCadQuery, type PythonCadQuery } from '../core/shape/python-engine';
import type { ShapeSource } from '../core/shape/source';
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

  /**
   * Runs a program (or loads a file) and measures it. With `gift.cadquery.engine` = python, a
   * program runs in that Python's CadQuery (python-engine.ts) unless `builtinOnly` (programs a
   * model wrote, while gift.cadquery.pythonForGenerated is off), and its B-rep is measured here;
   * `engine` then names it.
   */
  async execute(
    payload: ExecutePayload,
    options: { signal?: AbortSignal; timeoutMs?: number; builtinOnly?: boolean } = {},
  ): Promise<JobResult<ExecuteResult> & { engine?: string }> {
    const settings = readSettings();
    const pool = await this.ensurePool();
    const run = { signal: options.signal, timeoutMs: options.timeoutMs ?? settings.kernel.timeoutMs };
    if (payload.source === undefined || settings.cadquery.engine !== 'python' || (options.builtinOnly && !settings.cadquery.generated)) {
      return pool.run('shape.execute', payload, run);
    }
    let python: PythonCadQuery | undefined;
    try {
      python = this.python(settings.cadquery.python);
    } catch (e) {
      return { ok: false, error: { kind: 'unsupported', message: `gift.cadquery.python: ${errorMessage(e)}` }, ms: 0 };
    }
    if (!python) {
      const message =
        'gift.cadquery.engine is python, but no Python with CadQuery was found ($GIFT_PYTHON, python3, python): pip install cadquery, or set gift.cadquery.python';
      return { ok: false, error: { kind: 'unsupported', message }, ms: 0 };
    }
    const ran = await runPythonCadQuery(python.python, payload.source, {
      signal: options.signal,
      timeoutMs: Math.max(run.timeoutMs, PYTHON_ENGINE_TIMEOUT_MS),
    });
    if (!ran.ok) return { ok: false, error: ran.error, ms: ran.ms };
    const bytes = new TextEncoder().encode(ran.brep);
    this.lastPython = { source: payload.source, bytes };
    const { source: _, ...rest } = payload;
    const result = await pool.run('shape.execute', { ...rest, input: { kind: 'brep', bytes, name: 'python-result.brep' } }, run);
    const engine = `CadQuery ${python.version} (Python)`;
    return result.ok ? { ...result, ms: result.ms + ran.ms, engine } : { ...result, engine };
  }

  /**
   * What the verifier should compare for this program: the B-rep the Python engine last built from
   * exactly this source, else the source itself (the built-in engine).
   */
  shapeSourceFor(source: string): ShapeSource {
    if (this.lastPython?.source === source && readSettings().cadquery.engine === 'python') {
      return { kind: 'brep', bytes: this.lastPython.bytes, name: 'python-result.brep' };
    }
    return { kind: 'code', source };
  }

  private lastPython?: { source: string; bytes: Uint8Array };
  private pythonProbe?: { configured: string; found: PythonCadQuery | undefined };

  /** The configured or found Python with CadQuery, probed once per setting value. */
  private python(configured: string): PythonCadQuery | undefined {
    if (this.pythonProbe?.configured !== configured) this.pythonProbe = { configured, found: findCadQueryPython(configured || undefined) };
    return this.pythonProbe.found;
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
