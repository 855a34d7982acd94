/**
 * Mesh booleans with manifold-3d (https://github.com/elalish/manifold, Apache-2.0): exact
 * topology, symbolic perturbation for coplanar and coincident faces, so a mesh intersected with a
 * copy of itself, or with a B-rep's tessellation that shares its faces, gives the right volume.
 * OCCT's booleans on a faceted solid (an STL sewn into thousands of planar faces) against the
 * analytic B-rep it came from fail silently (IoU 0, #16).
 *
 * Loading: manifold-3d's emscripten glue is an ES module that finds its wasm through
 * import.meta.url, so it is imported from node_modules at run time (esbuild keeps it external, as
 * for OpenCascade); ≈50 ms, once per thread, on the first mesh pair (`loadManifold`). The wasm is
 * single-threaded (no pthreads), so it runs in a kernel worker like OCCT.
 *
 * Memory: every Manifold is a WASM object; `deleteAll` frees what a computation made.
 */
import { CadError } from '../errors';
import type { Affine } from './linalg';
import type { TriangleMesh } from './triangle-mesh';

// The module's .d.ts is an ES module; typed loosely here, as OpenCascade is.
type ManifoldModule = any;
export type ManifoldSolid = any;

let loading: Promise<ManifoldModule> | undefined;
let loaded: ManifoldModule | undefined;

/** Instantiates manifold-3d in this thread (once). */
export function loadManifold(): Promise<ManifoldModule> {
  loading ??= (async () => {
    // The package exports ./manifold.js (for require.resolve too) but not its package.json.
    const file = require.resolve('manifold-3d/manifold.js', { paths: [__dirname, process.cwd()] });
    const url = require('node:url').pathToFileURL(file).href;
    const { default: factory } = await dynamicImport(url);
    const wasm = await factory();
    wasm.setup();
    loaded = wasm;
    return wasm;
  })();
  return loading;
}

/** The loaded module; `loadManifold` must have finished in this thread. */
export function manifoldModule(): ManifoldModule {
  if (!loaded) throw new Error('internal: manifold-3d is not loaded in this thread (await loadManifold() first)');
  return loaded;
}

/** A Manifold from a closed, consistently oriented mesh; a clear error naming `name` otherwise. */
export function toManifold(mesh: TriangleMesh, name: string): ManifoldSolid {
  const { Manifold, Mesh } = manifoldModule();
  const input = new Mesh({ numProp: 3, vertProperties: Float32Array.from(mesh.positions), triVerts: mesh.indices });
  try {
    return new Manifold(input);
  } catch (e) {
    throw new CadError(
      'geometry',
      `${name}: the mesh is not a closed 2-manifold, so mesh booleans cannot use it (${e instanceof Error ? e.message : String(e)})`,
    );
  }
}

/** Simplification before booleans (fractions of the solid's extent; see `forBooleans`). */
export const SIMPLIFY_ALWAYS = 1e-5;
export const SIMPLIFY_LARGE = 1e-4;
export const LARGE_MESH_TRIANGLES = 20_000;

/**
 * The solid for booleans: redundant triangles removed (manifold's simplify, every surface kept
 * within 1e-5 of the extent: mostly the fans of flat faces, ≈ half of a fine STL), and a mesh still
 * over 20 k triangles simplified to 1e-4 of the extent (a plate with 81 holes: 112 k → 15 k
 * triangles, volume 4e-4 off). Mesh booleans cost ≈ 1 s per 100 k triangles in this WASM build.
 * Returns the solid (a new one, or `solid` itself) and its relative volume change.
 */
export function forBooleans(solid: ManifoldSolid, extent: number): { solid: ManifoldSolid; volumeChange: number } {
  const before = solid.volume();
  let out = solid.simplify(SIMPLIFY_ALWAYS * extent);
  if (out.numTri() > LARGE_MESH_TRIANGLES) {
    const coarser = out.simplify(SIMPLIFY_LARGE * extent);
    out.delete();
    out = coarser;
  }
  if (out.status() !== 'NoError' || !(out.volume() > 0)) {
    out.delete();
    return { solid, volumeChange: 0 };
  }
  return { solid: out, volumeChange: Math.abs(out.volume() - before) / Math.abs(before) };
}

/** The solid moved by an affine map (a similarity here), as a new Manifold. */
export function transformManifold(solid: ManifoldSolid, a: Affine): ManifoldSolid {
  const m = a.matrix;
  const t = a.translation;
  // Column-major 4×4.
  return solid.transform([m[0], m[3], m[6], 0, m[1], m[4], m[7], 0, m[2], m[5], m[8], 0, t[0], t[1], t[2], 1]);
}

/** Volume of A∩B (both already in the common frame). */
export function manifoldIntersectionVolume(a: ManifoldSolid, b: ManifoldSolid): number {
  const common = a.intersect(b);
  try {
    const status = common.status();
    if (status !== 'NoError') throw new Error(`the mesh intersection failed (${status})`);
    return common.volume();
  } finally {
    common.delete();
  }
}

export function deleteAll(solids: ManifoldSolid[]): void {
  for (const s of solids) s?.delete?.();
  solids.length = 0;
}

// esbuild/tsx would rewrite `import()` into `require()` in a CJS bundle; keep it a real import.
const dynamicImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<{ default: (o?: object) => Promise<ManifoldModule> }>;
