/**
 * The contract between the kernel pool (main thread) and its workers: what a handler is, what a
 * job answers, and the messages between the two threads. The kinds themselves: catalog.ts.
 */
import type { CadErrorInfo } from '../errors';
import type { OpenCascade } from '../occt/occt';

/** What a handler gets besides its payload: the thread's OpenCascade instance. */
export interface JobContext {
  oc: OpenCascade;
}

/**
 * Runs inside a kernel worker. Returns a structured-cloneable result. Throw a CadError for
 * failures the user should see (kind, message, line); anything else becomes a `runtime` error.
 * Transferables (typed-array buffers) may be listed in `transfer` on the returned envelope.
 */
export type JobHandler<P, R> = (payload: P, ctx: JobContext) => R | Promise<R> | JobOutput<R> | Promise<JobOutput<R>>;

export interface JobOutput<R> {
  readonly __jobOutput: true;
  value: R;
  transfer: ArrayBuffer[];
}

export function withTransfer<R>(value: R, transfer: ArrayBuffer[]): JobOutput<R> {
  return { __jobOutput: true, value, transfer };
}

/** `ms`: from run() to the answer, queueing included; `workMs`: the job itself, in the worker. */
export type JobResult<R> = { ok: true; value: R; ms: number; workMs?: number } | { ok: false; error: CadErrorInfo; ms: number; workMs?: number };

export interface RunOptions {
  /** Milliseconds before the job's worker is terminated and the job fails with `timeout`. */
  timeoutMs?: number;
  /** Aborting cancels the job: a queued job is dropped, a running one's worker is terminated. */
  signal?: AbortSignal;
}

// ---- messages between pool and worker ----
export interface WorkerInit {
  wasm: WebAssembly.Module;
}

/** `kind` is a catalogue kind (the pool's `run` is typed by catalog.ts); the worker still checks it. */
export type ToWorker = { type: 'job'; id: number; kind: string; payload: unknown };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'init-failed'; message: string }
  | { type: 'done'; id: number; ok: true; value: unknown; heapBytes: number; workMs: number }
  | { type: 'done'; id: number; ok: false; error: CadErrorInfo; heapBytes: number; workMs: number };
