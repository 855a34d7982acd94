// GIFT CAD's tests inside a real VS Code: builds the extension, bundles test/vscode/, prepares a
// scratch workspace of test100 programs, runs the mocha suite through @vscode/test-electron's
// runTests pointed at test/vscode/code-shim.js (code-server + headless Chromium), then the
// Playwright e2e that screenshots the preview to .test-work/preview.png (and the right-click Image
// to CAD flow to .test-work/image-to-cad.png), then packages the VSIX and checks it installed.
// usage: node scripts/test-vscode.mjs [--no-e2e | --e2e-only] [--no-vsix]
// Needs scripts/setup-code-server.sh once (run automatically when code-server is missing).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const work = path.join(root, '.test-work');
const args = new Set(process.argv.slice(2));
const t0 = Date.now();
const seconds = (from = t0) => `${((Date.now() - from) / 1000).toFixed(1)} s`;
const timings = [];

function step(name, fn) {
  const started = Date.now();
  const result = fn();
  timings.push([name, Date.now() - started]);
  return result;
}

function run(command, argv, options = {}) {
  const r = spawnSync(command, argv, { cwd: root, stdio: 'inherit', ...options });
  if (r.status !== 0) {
    console.error(`${command} ${argv.join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

// 1. A VS Code to run in.
if (!fs.existsSync(path.join(work, 'code-server', 'node_modules', '.bin', 'code-server'))) {
  step('install code-server', () => run('bash', [path.join(root, 'scripts', 'setup-code-server.sh')]));
}

// 2. The extension, kernel worker and webview bundles; then the tests.
step('build', () => run(process.execPath, [path.join(root, 'esbuild.js')]));
const testsOut = path.join(work, 'vscode-tests');
step('bundle tests', () => {
  fs.rmSync(testsOut, { recursive: true, force: true });
  require('esbuild').buildSync({
    entryPoints: [path.join(root, 'test/vscode/index.ts'), path.join(root, 'test/vscode/extension.test.ts')],
    outdir: testsOut,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    external: ['vscode', 'mocha'],
    logLevel: 'warning',
  });
});

// 3. A scratch workspace: test100 programs as .py files, a STEP reference and a source image.
const workspace = path.join(work, 'vscode-workspace');
function prepareWorkspace() {
  fs.rmSync(workspace, { recursive: true, force: true });
  const parts = path.join(workspace, 'parts');
  fs.mkdirSync(parts, { recursive: true });
  const fixtures = path.join(root, 'test', 'fixtures', 'gencad-test100');
  const samples = fs
    .readFileSync(path.join(fixtures, 'samples.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const wanted = { 71404: 'plate_71404.py', 111911: 'block_111911.py', 137986: 'part_137986.py' };
  for (const sample of samples) {
    const name = wanted[sample.question_id];
    if (!name) continue;
    fs.writeFileSync(path.join(parts, name), sample.ground_truth);
    const stem = sample.image.replace(/_0\.png$/, '');
    fs.copyFileSync(path.join(fixtures, 'images', sample.image), path.join(parts, sample.image));
    fs.copyFileSync(path.join(fixtures, 'gt_steps', `${stem}.step`), path.join(parts, `${stem}.step`));
  }
}
step('prepare workspace', prepareWorkspace);

let failed = false;

// 4. The mocha suite inside the extension host.
if (!args.has('--e2e-only')) {
  const { runTests } = require('@vscode/test-electron');
  const profile = path.join(work, 'vscode-profile');
  fs.rmSync(profile, { recursive: true, force: true });
  const started = Date.now();
  try {
    // GIFT_VSCODE=download: plain test-electron, which downloads VS Code (where that is possible;
    // it is not on this project's machines); GIFT_VSCODE=/path/to/code: that executable.
    const choice = process.env.GIFT_VSCODE;
    const executable = choice === 'download' ? undefined : choice || path.join(root, 'test', 'vscode', 'code-shim.js');
    await runTests({
      ...(executable ? { vscodeExecutablePath: executable } : { version: '1.100.3' }),
      extensionDevelopmentPath: root,
      extensionTestsPath: path.join(testsOut, 'index.js'),
      launchArgs: [workspace, `--user-data-dir=${path.join(profile, 'user-data')}`, `--extensions-dir=${path.join(profile, 'extensions')}`],
      extensionTestsEnv: { TEST_TIMEOUT_MS: process.env.TEST_TIMEOUT_MS ?? '300000' },
    });
  } catch (e) {
    failed = true;
    console.error(`VS Code tests failed: ${e.message}`);
  }
  timings.push(['extension tests (code-server)', Date.now() - started]);
}

// 5. The e2e screenshot.
if (!args.has('--no-e2e')) {
  // A fresh workspace: the suites above leave generated programs (00442545_0.py …) and a dataset in it.
  if (!args.has('--e2e-only')) step('prepare workspace again for the e2e', prepareWorkspace);
  const started = Date.now();
  const r = spawnSync(process.execPath, [path.join(root, 'test', 'vscode', 'e2e.js'), workspace, path.join(work, 'preview.png')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) failed = true;
  timings.push(['e2e screenshot', Date.now() - started]);
}

// 6. The packaged extension: vsce package (the .vscodeignore allowlist), installed into code-server,
// activates and previews (test/vscode/vsix.js). --no-vsix skips it.
if (!args.has('--no-vsix') && !args.has('--e2e-only')) {
  const started = Date.now();
  const r = spawnSync(process.execPath, [path.join(root, 'test', 'vscode', 'vsix.js'), workspace], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed = true;
  timings.push(['vsix package + install + preview', Date.now() - started]);
}

console.log('\nstep                               seconds');
for (const [name, ms] of timings) console.log(`${name.padEnd(34)} ${(ms / 1000).toFixed(1).padStart(7)}`);
console.log(`${'total'.padEnd(34)} ${seconds().padStart(9)}`);
process.exit(failed ? 1 : 0);
