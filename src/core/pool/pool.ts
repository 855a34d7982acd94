/**
 * The one worker pool for every OpenCascade call. OCCT can hang forever on degenerate input and
 * leaks WASM memory on every boolean, so each job runs in a worker thread with a deadline: a job
 * past it has its worker terminated and replaced, and workers whose WASM heap passes a bound are
 * recycled between jobs. The wasm is compiled once here and handed to each worker.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CadErrorInfo } from '../errors';
import { compileOpenCascade } from '../occt/wasm';
import type { JobKind, JobPayload, JobValue } from '../jobs/catalog';
import type { FromWorker, JobResult, RunOptions, ToWorker, WorkerInit } from '../jobs/types';

export type { JobKind, JobPayload, JobValue, JobResult, RunOptions };

export interface KernelPoolOptions {
  /** Worker threads at most (started on demand). Default: 2. */
  workers?: number;
  /** Default per-job deadline in ms. Default: 10 000. */
  timeoutMs?: number;
  /** A worker whose WASM heap has grown past this is replaced after its job. Default: 1 GiB. */
  maxHeapBytes?: number;
  /** The worker's script; defaults to the bundled kernel-worker.js beside this code. */
  workerScript?: string;
}

export interface KernelPoolStats {
  workers: number;
  busy: number;
  queued: number;
  jobs: number;
  timeouts: number;
  crashes: number;
  recycled: number;
}

interface PendingJob {
  id: number;
  kind: JobKind;
  payload: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
  onAbort?: () => void;
  started: number;
  resolve: (r: JobResult<unknown>) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: PendingJob;
  timer?: NodeJS.Timeout;
  /** Set once the slot is being torn down, so its exit event is not treated as a crash. */
  retiring: boolean;
}

export class KernelPool {
  private readonly size: number;
  private readonly timeoutMs: number;
  private readonly maxHeapBytes: number;
  private readonly workerScript: string;
  private wasm?: Promise<WebAssembly.Module>;
  private readonly slots = new Set<Slot>();
  private readonly queue: PendingJob[] = [];
  private nextId = 1;
  private closed = false;
  private initFailure?: string;
  private consecutiveInitFailures = 0;
  private readonly counters = { jobs: 0, timeouts: 0, crashes: 0, recycled: 0 };

  constructor(options: KernelPoolOptions = {}) {
    this.size = Math.max(1, Math.floor(options.workers ?? 2));
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxHeapBytes = options.maxHeapBytes ?? 1024 ** 3;
    this.workerScript = options.workerScript ?? defaultWorkerScript();
  }

  /** Runs one job; never rejects: failures, timeouts and cancellations come back as `ok: false`. */
  run<K extends JobKind>(kind: K, payload: JobPayload<K>, options: RunOptions = {}): Promise<JobResult<JobValue<K>>> {
    return new Promise((resolve) => {
      const started = Date.now();
      if (this.closed) return resolve(failure('runtime', 'the kernel pool is closed', started));
      if (options.signal?.aborted) return resolve(failure('cancelled', 'cancelled', started));
      const job: PendingJob = {
        id: this.nextId++,
        kind,
        payload,
        timeoutMs: options.timeoutMs ?? this.timeoutMs,
        signal: options.signal,
        started,
        resolve: resolve as (r: JobResult<unknown>) => void,
      };
      if (job.signal) {
        job.onAbort = () => this.cancel(job);
        job.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.counters.jobs++;
      this.queue.push(job);
      this.dispatch();
    });
  }

  stats(): KernelPoolStats {
    let busy = 0;
    for (const s of this.slots) if (s.job) busy++;
    return { workers: this.slots.size, busy, queued: this.queue.length, ...this.counters };
  }

  /** Terminates every worker; queued and running jobs finish as cancelled. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.finish(job, failure('cancelled', 'the kernel pool closed', job.started));
    const exits: Promise<unknown>[] = [];
    for (const slot of [...this.slots]) {
      if (slot.job) this.finish(slot.job, failure('cancelled', 'the kernel pool closed', slot.job.started));
      exits.push(this.retire(slot));
    }
    await Promise.all(exits);
  }

  private dispatch(): void {
    if (this.closed) return;
    if (this.initFailure) {
      for (const job of this.queue.splice(0)) this.finish(job, failure('runtime', this.initFailure, job.started));
      return;
    }
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.ready && !slot.job && !slot.retiring) this.start(slot, this.queue.shift()!);
    }
    // Start workers on demand, one per waiting job, up to the pool size.
    let starting = 0;
    for (const s of this.slots) if (!s.ready && !s.retiring) starting++;
    while (this.queue.length > starting && this.slots.size < this.size) {
      this.spawn();
      starting++;
    }
  }

  private spawn(): void {
    this.wasm ??= compileOpenCascade();
    const slot: Slot = { worker: undefined as unknown as Worker, ready: false, retiring: false };
    this.slots.add(slot);
    this.wasm.then(
      (wasm) => {
        if (slot.retiring) return;
        slot.worker = createWorker(this.workerScript, { wasm });
        slot.worker.on('message', (m: FromWorker) => this.onMessage(slot, m));
        slot.worker.on('error', (e) => this.onCrash(slot, `kernel worker crashed: ${e.message}`));
        slot.worker.on('exit', (code) => this.onCrash(slot, `kernel worker exited with code ${code}`));
      },
      (e: Error) => {
        this.slots.delete(slot);
        this.initFailure = `OpenCascade could not be loaded: ${e.message}`;
        this.dispatch();
      },
    );
  }

  private onMessage(slot: Slot, message: FromWorker): void {
    switch (message.type) {
      case 'ready':
        slot.ready = true;
        this.consecutiveInitFailures = 0;
        this.dispatch();
        return;
      case 'init-failed':
        this.consecutiveInitFailures++;
        void this.retire(slot);
        // A broken install fails every start; stop retrying instead of spinning.
        if (this.consecutiveInitFailures >= 3) this.initFailure = `kernel worker failed to start: ${message.message}`;
        this.dispatch();
        return;
      case 'done': {
        const job = slot.job;
        if (!job || job.id !== message.id) return;
        clearTimeout(slot.timer);
        slot.job = undefined;
        const ms = Date.now() - job.started;
        const workMs = message.workMs;
        this.finish(job, message.ok ? { ok: true, value: message.value, ms, workMs } : { ok: false, error: message.error, ms, workMs });
        if (message.heapBytes > this.maxHeapBytes) {
          this.counters.recycled++;
          void this.retire(slot);
        }
        this.dispatch();
        return;
      }
    }
  }

  private start(slot: Slot, job: PendingJob): void {
    slot.job = job;
    slot.timer = setTimeout(() => {
      this.counters.timeouts++;
      slot.job = undefined;
      this.finish(job, failure('timeout', `${job.kind} took longer than ${job.timeoutMs} ms and was stopped`, job.started));
      void this.retire(slot);
      this.dispatch();
    }, job.timeoutMs);
    const message: ToWorker = { type: 'job', id: job.id, kind: job.kind, payload: job.payload };
    slot.worker.postMessage(message);
  }

  private cancel(job: PendingJob): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.finish(job, failure('cancelled', 'cancelled', job.started));
      return;
    }
    for (const slot of this.slots) {
      if (slot.job === job) {
        // OCCT calls cannot be interrupted from outside: the worker goes.
        clearTimeout(slot.timer);
        slot.job = undefined;
        this.finish(job, failure('cancelled', 'cancelled', job.started));
        void this.retire(slot);
        this.dispatch();
        return;
      }
    }
  }

  private onCrash(slot: Slot, reason: string): void {
    if (slot.retiring) return;
    slot.retiring = true;
    this.slots.delete(slot);
    clearTimeout(slot.timer);
    const job = slot.job;
    slot.job = undefined;
    if (job) {
      this.counters.crashes++;
      this.finish(job, failure('runtime', reason, job.started));
    } else if (!slot.ready) {
      this.consecutiveInitFailures++;
      if (this.consecutiveInitFailures >= 3) this.initFailure = reason;
    }
    this.dispatch();
  }

  private retire(slot: Slot): Promise<unknown> {
    slot.retiring = true;
    this.slots.delete(slot);
    clearTimeout(slot.timer);
    return slot.worker ? slot.worker.terminate() : Promise.resolve();
  }

  private finish(job: PendingJob, result: JobResult<unknown>): void {
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    job.resolve(result);
  }
}

function failure(kind: CadErrorInfo['kind'], message: string, started: number): JobResult<never> {
  return { ok: false, error: { kind, message }, ms: Date.now() - started };
}

function defaultWorkerScript(): string {
  // From source (tests, tsx) this file is pool.ts; bundled, it sits beside kernel-worker.js.
  return __filename.endsWith('.ts') ? path.join(__dirname, '..', 'jobs', 'worker.ts') : path.join(__dirname, 'kernel-worker.js');
}

function createWorker(script: string, init: WorkerInit): Worker {
  if (script.endsWith('.ts')) {
    // Running from TypeScript sources: load the worker through tsx's require hook.
    const boot = `require('tsx/cjs'); require(${JSON.stringify(script)});`;
    return new Worker(boot, { eval: true, workerData: init });
  }
  return new Worker(script, { workerData: init });
}
