/** `test.*`: kinds that exercise the pool's failure paths with real worker behaviour (tests only). */
import type { JobHandler } from './types';

export const testEcho: JobHandler<unknown, unknown> = (payload) => payload;

export const testSleep: JobHandler<{ ms: number }, number> = (payload) => new Promise<number>((r) => setTimeout(() => r(payload.ms), payload.ms));

export const testSpin: JobHandler<Record<string, never>, never> = () => {
  for (;;) {
    // A stand-in for an OCCT call that never returns.
  }
};

export const testCrash: JobHandler<Record<string, never>, never> = () => process.exit(3);

/** Grows the WASM heap like leaking booleans do. */
export const testLeak: JobHandler<{ bytes: number }, boolean> = (payload, { oc }) => {
  oc.___libc_malloc(payload.bytes);
  return true;
};
