// Runs the model job inside a worker thread, as the kernel pool does (see onnx.test.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { createModelJobs } from '../../src/core/model/onnx-jobs';

const { payload } = workerData as { payload: unknown };
createModelJobs()
  ['model.generate'](payload, {} as never)
  .then((value: unknown) => parentPort!.postMessage({ ok: true, value }))
  .catch((e: unknown) => parentPort!.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e) }));
