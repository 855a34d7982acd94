// Builds every bundle: extension host (cjs, node, vscode external), the `gift` CLI, the kernel
// worker, and the preview webview (browser). Entries that do not exist yet are skipped.
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

// OpenCascade's and manifold-3d's emscripten glue find their .wasm via import.meta.url: load them
// from node_modules. onnxruntime-node and sharp carry native binaries.
const nodeExternals = ['vscode', 'replicad-opencascadejs', 'manifold-3d', 'onnxruntime-node', 'sharp', 'ssh2', 'cpu-features'];

const node = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  external: nodeExternals,
  logLevel: 'warning',
};

const builds = [
  { ...node, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js' },
  { ...node, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js' },
  { ...node, entryPoints: ['src/core/jobs/worker.ts'], outfile: 'dist/kernel-worker.js' },
  {
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    sourcemap: !production,
    minify: production,
    entryPoints: ['webview/main.ts'],
    outfile: 'dist/webview/main.js',
    loader: { '.ttf': 'file', '.css': 'css' },
    logLevel: 'warning',
  },
].filter((b) => b.entryPoints.every((e) => fs.existsSync(path.join(__dirname, e))));

(async () => {
  if (watch) {
    for (const b of builds) await (await esbuild.context(b)).watch();
    return;
  }
  await Promise.all(builds.map((b) => esbuild.build(b)));
  // The real-CadQuery engine's Python side (src/core/shape/python-engine.ts reads it beside the bundle).
  fs.copyFileSync(path.join(__dirname, 'src/core/shape/cadquery-engine.py'), path.join(__dirname, 'dist/cadquery-engine.py'));
})().catch((e) => {
  console.error(e.message ?? e);
  process.exit(1);
});
