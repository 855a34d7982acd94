/**
 * OpenCascade start-up. The wasm is compiled once per process (`compileOpenCascade`) and the
 * compiled module is handed to each kernel worker, which instantiates it (≈0.4 s instead of a
 * full compile).
 */
import path from 'node:path';
import { setOC } from 'replicad';
import { openCascadeDir } from './wasm';

export { compileOpenCascade, openCascadeDir, openCascadeWasmPath } from './wasm';

// The emscripten module object: typed loosely on purpose, its .d.ts is 1.6 MB.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type OpenCascade = any;

let loaded: Promise<OpenCascade> | undefined;

/**
 * Instantiates OpenCascade in this thread (once) and registers it with replicad.
 * Pass a precompiled module to skip compilation.
 */
export function loadOpenCascade(compiled?: WebAssembly.Module): Promise<OpenCascade> {
  loaded ??= (async () => {
    const jsPath = path.join(openCascadeDir(), 'replicad_single.js');
    // The emscripten glue is an ES module that finds its wasm through import.meta.url.
    const { default: factory } = await dynamicImport(pathToFileUrl(jsPath));
    const options: Record<string, unknown> = { print() {}, printErr() {} };
    if (compiled) {
      options.instantiateWasm = (imports: WebAssembly.Imports, done: (i: WebAssembly.Instance) => void) => {
        void WebAssembly.instantiate(compiled, imports).then(done);
        return {};
      };
    }
    const oc = await factory(options);
    setOC(oc);
    return oc;
  })();
  return loaded;
}

/** Bytes of WASM linear memory in use: it only grows, so it measures the leaks too. */
export function wasmHeapBytes(oc: OpenCascade): number {
  return oc?.wasmMemory?.buffer?.byteLength ?? 0;
}

/** Turns OCCT's C++ exceptions (WebAssembly.Exception) into a readable message. */
export function occtErrorMessage(oc: OpenCascade, error: unknown): string {
  if (typeof WebAssembly !== 'undefined' && 'Exception' in WebAssembly && error instanceof (WebAssembly as any).Exception) {
    try {
      const decoded = oc.getExceptionMessage(error);
      return Array.isArray(decoded) ? decoded.filter(Boolean).join(': ') : String(decoded);
    } catch {
      return 'OpenCascade error';
    }
  }
  if (typeof error === 'number') return `OpenCascade error (${error})`;
  return error instanceof Error ? error.message : String(error);
}

function pathToFileUrl(p: string): string {
  return require('node:url').pathToFileURL(p).href;
}

// esbuild/tsx would rewrite `import()` into `require()` in a CJS bundle; keep it a real import.
const dynamicImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<any>;
