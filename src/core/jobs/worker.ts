/**
 * A kernel worker thread: instantiates OpenCascade from the pool's compiled module, then runs
 * jobs one at a time. Reports its WASM heap size after each job so the pool can recycle it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage, toErrorInfo } from '../errors';
import { loadOpenCascade, occtErrorMessage, wasmHeapBytes, type OpenCascade } from '../occt/occt';
import { jobHandlers } from './registry';
import type { FromWorker, JobHandler, JobOutput, ToWorker, WorkerInit } from './types';

const port = parentPort!;
const init = workerData as WorkerInit;

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function isJobOutput(v: unknown): v is JobOutput<unknown> {
  return typeof v === 'object' && v !== null && (v as JobOutput<unknown>).__jobOutput === true;
}

async function main(): Promise<void> {
  let oc: OpenCascade;
  try {
    oc = await loadOpenCascade(init.wasm);
  } catch (e) {
    send({ type: 'init-failed', message: errorMessage(e) });
    return;
  }
  port.on('message', async (message: ToWorker) => {
    // The kind comes from the pool, which the compiler ties to the catalogue; a stale bundle may still send an unknown one.
    const handler = (jobHandlers as Partial<Record<string, JobHandler<unknown, unknown>>>)[message.kind];
    const started = performance.now();
    try {
      if (!handler) throw new Error(`unknown kernel job kind '${message.kind}'`);
      const out = await handler(message.payload, { oc });
      const [value, transfer] = isJobOutput(out) ? [out.value, out.transfer] : [out, []];
      send({ type: 'done', id: message.id, ok: true, value, heapBytes: wasmHeapBytes(oc), workMs: performance.now() - started }, transfer);
    } catch (e) {
      const error = toErrorInfo(e);
      if (!(e instanceof Error) || e.constructor.name === 'Exception') {
        error.kind = 'geometry';
        error.message = occtErrorMessage(oc, e);
      }
      send({ type: 'done', id: message.id, ok: false, error, heapBytes: wasmHeapBytes(oc), workMs: performance.now() - started });
    }
  });
  send({ type: 'ready' });
}

void main();
