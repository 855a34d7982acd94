// `npm test`: everything, on a fresh machine too. Builds, type-checks, installs what the suites need
// (Debian's torch for the recipe, code-server + Chromium for VS Code, Slurm + sshd for training;
// each installer is idempotent), runs every suite, and ends with one "N passed, N failed" line.
// GIFT_TEST_ONLY=unit,vscode,training picks suites.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const only = process.env.GIFT_TEST_ONLY?.split(',').map((s) => s.trim());
const wanted = (name) => !only || only.includes(name);
const started = Date.now();
const totals = { passed: 0, failed: 0 };
const report = [];

function mustRun(label, command, args) {
  console.log(`\n== ${label}`);
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`${label} failed (exit ${r.status ?? r.signal})`);
    totals.failed++;
    report.push([label, 'FAILED']);
    return false;
  }
  return true;
}

/** Runs a suite, echoing its output and reading its counts (node:test TAP or mocha's spec lines). */
function suite(label, command, args, env = {}) {
  console.log(`\n== ${label}`);
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let passed = 0;
    let failed = 0;
    const scan = (chunk, out) => {
      out.write(chunk);
      for (const line of chunk.toString().split('\n')) {
        let m;
        if ((m = /^# pass (\d+)/.exec(line))) passed += Number(m[1]);
        else if ((m = /^# fail (\d+)/.exec(line))) failed += Number(m[1]);
        else if ((m = /^\s*(\d+) passing\b/.exec(line))) passed += Number(m[1]);
        else if ((m = /^\s*(\d+) failing\b/.exec(line))) failed += Number(m[1]);
      }
    };
    child.stdout.on('data', (d) => scan(d, process.stdout));
    child.stderr.on('data', (d) => scan(d, process.stderr));
    child.on('close', (code) => {
      // A suite that dies before reporting still counts as a failure.
      if (code !== 0 && failed === 0) failed = 1;
      totals.passed += passed;
      totals.failed += failed;
      report.push([label, `${passed} passed, ${failed} failed, ${((Date.now() - t0) / 1000).toFixed(0)} s`]);
      resolve();
    });
  });
}

const node = process.execPath;
if (mustRun('build', node, ['esbuild.js']) && mustRun('type-check', node, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', '.'])) {
  if (fs.existsSync(path.join(root, 'webview/tsconfig.json')))
    mustRun('type-check webview', node, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'webview']);
  // `npm run lint`: Biome's lint rules and formatting (biome.jsonc).
  mustRun('lint and format check (biome)', node, [path.join(root, 'node_modules/@biomejs/biome/bin/biome'), 'check', '--error-on-warnings']);
  if (wanted('unit')) {
    mustRun('python deps for the training recipe', 'bash', ['scripts/install-python-deps.sh']);
    // Current PyTorch/onnx/onnxruntime/transformers from PyPI in .venv-pypi (≈90 s, 5.8 GB the first time): test/training-pypi.
    mustRun('PyPI torch + transformers for the training recipes', 'bash', ['scripts/install-python-pypi.sh']);
    // Real CadQuery 2.8 in .venv-cadquery (≈50 s, 1.8 GB the first time): the oracle of test/cadquery-oracle.
    mustRun('CadQuery 2.8 (the differential oracle)', 'bash', ['scripts/install-python-cadquery.sh']);
    await suite('unit, CLI and fuzz tests (node:test)', node, ['scripts/test.mjs']);
  }
  // One Slurm + sshd on 127.0.0.1 serves both the VS Code Training view tests and the CLI e2e.
  const cluster = (wanted('vscode') || wanted('training')) && mustRun('Slurm + sshd on 127.0.0.1', 'bash', ['scripts/training-env-up.sh']);
  if (wanted('vscode')) await suite('VS Code integration tests (code-server)', node, ['scripts/test-vscode.mjs']);
  if (wanted('training') && cluster) await suite('training end to end (Slurm over SSH)', node, ['scripts/test.mjs', 'test/train/e2e']);
  if (cluster) spawnSync('bash', ['scripts/training-env-down.sh'], { cwd: root, stdio: 'inherit' });
}

console.log(`\n== summary (${((Date.now() - started) / 60000).toFixed(1)} min)`);
for (const [label, result] of report) console.log(`${label}: ${result}`);
console.log(`${totals.passed} passed, ${totals.failed} failed`);
process.exit(totals.failed ? 1 : 0);
