/** Every job kind a kernel worker can run. Feature areas contribute handler tables here. */
import { cadqueryJobs } from '../cadquery/jobs';
import { geometryJobs } from '../geometry/jobs';
import { createModelJobs } from '../model/onnx-jobs';
import { renderJobs } from '../render/jobs';
import type { JobHandler } from './types';

/** Test-only kinds that exercise the pool's failure paths with real worker behaviour. */
const diagnosticJobs: Record<string, JobHandler> = {
  echo: (payload) => payload,
  sleep: (payload: { ms: number }) => new Promise((r) => setTimeout(() => r(payload.ms), payload.ms)),
  spin: () => {
    for (;;) {
      // A stand-in for an OCCT call that never returns.
    }
  },
  crash: () => process.exit(3),
  /** Grows the WASM heap like leaking booleans do. */
  leak: (payload: { bytes: number }, { oc }) => {
    oc.___libc_malloc(payload.bytes);
    return true;
  },
};

export const jobHandlers: Record<string, JobHandler> = {
  ...diagnosticJobs,
  ...cadqueryJobs,
  ...geometryJobs,
  ...renderJobs,
  ...createModelJobs(),
};
