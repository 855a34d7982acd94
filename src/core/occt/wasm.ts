/**
 * Where OpenCascade's wasm lives and how to compile it: no replicad import here, so the extension
 * host (which only starts kernel workers) does not bundle replicad.
 */
import fs from 'node:fs';
import path from 'node:path';

let wasmPathCache: string | undefined;

/** Finds replicad-opencascadejs on disk: from node_modules when run from source or a bundle. */
export function openCascadeDir(): string {
  const main = require.resolve('replicad-opencascadejs/package.json', { paths: [__dirname, process.cwd()] });
  return path.join(path.dirname(main), 'dist');
}

export function openCascadeWasmPath(): string {
  return (wasmPathCache ??= path.join(openCascadeDir(), 'replicad_single.wasm'));
}

export async function compileOpenCascade(): Promise<WebAssembly.Module> {
  return WebAssembly.compile(await fs.promises.readFile(openCascadeWasmPath()));
}
