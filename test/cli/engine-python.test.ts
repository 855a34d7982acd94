/**
 * `gift run --engine python`: the optional real-CadQuery engine (#15 item 4), with the
 * pip-installed CadQuery of the differential suite (.venv-cadquery). Code the built-in engine does
 * not cover runs there and comes back as a B-rep the rest of the product measures and exports;
 * the sandbox closes the network and enforces the deadline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CADQUERY_PYTHON, oracleMissing } from '../cadquery-oracle/oracle';

const root = path.join(__dirname, '..', '..');
const gift = path.join(root, 'bin', 'gift.js');
const corpus = path.join(root, 'test', 'fixtures', 'cadquery-corpus');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-engine-'));

function runGift(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [gift, ...args], { cwd: root, maxBuffer: 64 * 1024 ** 2 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const lines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

test('--engine python runs what the built-in engine does not cover, with CadQuery’s own numbers', { skip: oracleMissing(), timeout: 300_000 }, async () => {
  // cadquery.func's History and Workplane.text (both unsupported built in); CadQuery 2.8's volumes (known-disagreements.json).
  const history = path.join(corpus, 'cq-docs', 'free-func-06.py');
  const text = path.join(corpus, 'hobby', 'Roger_random__cadquery_tests__lathe_chuck_key.py');
  const builtin = lines((await runGift(['run', history, text, '--json'])).stdout);
  assert.deepEqual(
    builtin.map((l) => l.error?.kind),
    ['unsupported', 'unsupported'],
  );
  const step = path.join(work, 'out');
  const r = await runGift(['run', history, text, '--json', '--engine', 'python', '--python', CADQUERY_PYTHON, '--step', step]);
  assert.equal(r.code, 0, r.stderr);
  const [a, b] = lines(r.stdout);
  assert.ok(a.ok && Math.abs(a.volume - 6.54406726) < 1e-6, JSON.stringify(a));
  assert.ok(b.ok && Math.abs(b.volume - 5719.23349) < 1e-4, JSON.stringify(b));
  for (const l of [a, b]) assert.match(l.engine, /^cadquery 2\.\d+/);
  // The shape came back as a B-rep: exports and measures as any other.
  assert.match(fs.readFileSync(path.join(step, 'free-func-06.step'), 'utf8'), /^ISO-10303-21;/);
  // The same program in both engines gives the same solid.
  const block = path.join(corpus, 'cq-examples', 'Ex001_Simple_Block.py');
  const [ours] = lines((await runGift(['run', block, '--json'])).stdout);
  const [theirs] = lines((await runGift(['run', block, '--json', '--engine', 'python', '--python', CADQUERY_PYTHON])).stdout);
  assert.equal(ours.engine, undefined);
  assert.ok(Math.abs(ours.volume - theirs.volume) < 1e-6 * ours.volume);
  assert.deepEqual(
    ours.bbox.map((v: number) => +v.toFixed(6)),
    theirs.bbox.map((v: number) => +v.toFixed(6)),
  );
});

test('the Python engine is sandboxed: no network, a deadline, errors at their line', { skip: oracleMissing(), timeout: 120_000 }, async () => {
  const net = path.join(work, 'net.py');
  fs.writeFileSync(net, 'import cadquery as cq\nimport urllib.request\nurllib.request.urlopen("http://127.0.0.1:9/")\nresult = cq.Workplane().box(1, 1, 1)\n');
  const loop = path.join(work, 'loop.py');
  fs.writeFileSync(loop, 'import cadquery as cq\nwhile True:\n    pass\n');
  const bad = path.join(work, 'bad.py');
  fs.writeFileSync(bad, 'import cadquery as cq\nresult = cq.Workplane().box(1, 1)\n');
  // The deadline is tested on the loop alone: importing CadQuery on a loaded machine can take seconds.
  const r = await runGift(['run', net, bad, '--json', '--engine', 'python', '--python', CADQUERY_PYTHON, '--timeout', '60000']);
  assert.equal(r.code, 1);
  const [n, b] = lines(r.stdout);
  const [l] = lines((await runGift(['run', loop, '--json', '--engine', 'python', '--python', CADQUERY_PYTHON, '--timeout', '8000'])).stdout);
  assert.equal(n.ok, false);
  assert.match(n.error.message, /network access is disabled/);
  assert.equal(n.error.line, 3);
  assert.equal(l.error.kind, 'timeout');
  assert.equal(b.error.kind, 'runtime');
  assert.equal(b.error.line, 2);
  assert.match(b.error.message, /TypeError/);
});

test('--engine python names the Python it cannot use', async () => {
  const r = await runGift([
    'run',
    path.join(corpus, 'cq-examples', 'Ex001_Simple_Block.py'),
    '--engine',
    'python',
    '--python',
    path.join(work, 'no-such-python'),
  ]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no-such-python: this Python cannot run CadQuery \(not found\)/);
  const usage = await runGift(['run', 'x.py', '--engine', 'java']);
  assert.match(usage.stderr, /--engine: expected builtin or python, not 'java'/);
});
