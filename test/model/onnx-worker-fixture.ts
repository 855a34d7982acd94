// Runs the model job inside a worker thread, as the kernel pool does (see onnx.test.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { modelGenerateJob } from '../../src/core/jobs/model';

const { payload } = workerData as { payload: unknown };
Promise.resolve(modelGenerateJob()(payload as never, {} as never))
  .then((value: unknown) => parentPort!.postMessage({ ok: true, value }))
  .catch((e: unknown) => parentPort!.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e) }));
