import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readShapeSource } from '../../src/core/shape/files';
import { KernelPool } from '../../src/core/pool/pool';
import { bundledModelDir, generateCandidates, labelCandidates, openAiBackend, type ImageToCadBackend } from '../../src/core/generate';
import type { GenerateJson } from '../../src/cli/commands/generate';
import { loadTest100 } from '../helpers/test100';
import { answerWith, startPeer } from './openai-peer';
import { servedModel, servedModelMissing } from './server-fixture';

const skip = servedModelMissing();
const repoRoot = path.resolve(__dirname, '../..');
const cli = path.join(__dirname, 'generate-cli.ts');
const work = mkdtempSync(path.join(tmpdir(), 'gift-generate-test-'));
const sample = loadTest100().find((s) => s.id === '00534824')!;

const pool = new KernelPool({ workers: 2, timeoutMs: 60_000 });
const children: ChildProcess[] = [];
after(async () => {
  for (const child of children) child.kill('SIGTERM');
  await pool.close();
});

function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, GIFT_API_KEY: '', GIFT_MODEL: '', GIFT_ENDPOINT: '', ...env },
    timeout: 120_000,
  });
}

test('bundledModelDir: a clear error without models; a real model is preferred to the smoke one', () => {
  const empty = path.join(work, 'no-models');
  mkdirSync(empty);
  assert.throws(() => bundledModelDir(empty), /no bundled image-to-CAD model: .*no-models holds no <name>\/model\.json \+ model\.onnx.*--model DIR/);
  const models = path.join(work, 'models');
  for (const name of ['smoke', 'gift-cad-small']) {
    mkdirSync(path.join(models, name), { recursive: true });
    writeFileSync(path.join(models, name, 'model.json'), '{}');
    writeFileSync(path.join(models, name, 'model.onnx'), '');
  }
  assert.equal(bundledModelDir(models), path.join(models, 'gift-cad-small'));
});

test('generate over a vLLM-shaped endpoint: K answers ranked by IoU; no-code and broken answers last', async () => {
  const broken = sample.code.replace('solid=solid0', 'solid=solid_missing');
  const thicker = sample.code.replace(/extrude\(([\d.]+)\)/, (_m, d: string) => `extrude(${(+d * 3).toFixed(4)})`);
  const answers = ['I am not sure what this part is.', `\`\`\`python\n${broken}\`\`\``, `\`\`\`python\n${thicker}\`\`\``, `\`\`\`python\n${sample.code}\`\`\``];
  const peer = await startPeer(answerWith((i) => answers[i]));
  try {
    const reports: string[] = [];
    const outcome = await generateCandidates({
      backend: openAiBackend({ endpoint: peer.url, model: 'CADCODER/Qwen2.5-VL-7B-CadCoder' }),
      pool,
      image: sample.image,
      samples: 4,
      reference: readShapeSource(sample.step),
      report: (m) => reports.push(m),
    });
    assert.equal(peer.chatRequests()[0].body.temperature, 0.8, 'K > 1 samples at the default temperature');
    assert.equal(outcome.rankedBy, 'iou');
    assert.ok(outcome.ok);
    assert.equal(outcome.best?.code.trim(), sample.code.trim());
    assert.ok(outcome.best!.iou! > 0.95);
    assert.deepEqual(
      outcome.candidates.map((c) => [c.index, c.ok]),
      [
        [3, true],
        [2, true],
        [0, false],
        [1, false],
      ],
    );
    assert.match(outcome.candidates[2].error!.message, /answered without code: "I am not sure/);
    assert.match(outcome.candidates[3].error!.message, /solid_missing/);
    assert.ok(reports.some((r) => /checked 4\/4/.test(r)));
    const labels = labelCandidates(outcome);
    assert.match(labels[0].label!, /^IoU 0\.9\d\d$/);
    assert.equal(labels[0].score, outcome.best!.iou);
    assert.match(labels[3].label!, /^line 6:7: runtime error: .*solid_missing/);
  } finally {
    await peer.close();
  }
});

test('generate is cancellable while the endpoint is thinking', async () => {
  const peer = await startPeer(() => ({ hang: true }));
  try {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    await assert.rejects(
      generateCandidates({ backend: openAiBackend({ endpoint: peer.url, model: 'm' }), pool, image: sample.image, samples: 2, signal: abort.signal }),
      /cancelled/,
    );
  } finally {
    await peer.close();
  }
});

test('gift generate --json against gift serve (two real processes), ranked by the image score', { skip, timeout: 180_000 }, async () => {
  const { modelDir, images } = await servedModel();
  const server = spawn(process.execPath, ['--import', 'tsx', cli, 'serve', '--model', modelDir, '--port', '0', '--threads', '1'], {
    cwd: repoRoot,
    env: { ...process.env, GIFT_SERVE_TOKEN: 'generate-test-token' },
  });
  children.push(server);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    server.stdout!.on('data', (d) => {
      out += d;
      const m = /serving .* at (http:\/\/\S+) \(token required\)/.exec(out);
      if (m) resolve(m[1]);
    });
    server.stderr!.on('data', (d) => (err += d));
    server.on('exit', (code) => reject(new Error(`gift serve exited ${code}: ${err}`)));
  });
  const image = images[5];
  const run = runCli(['generate', image.file, '--endpoint', url, '--samples', '2', '--temperature', '0', '--json'], { GIFT_API_KEY: 'generate-test-token' });
  assert.equal(run.status, 0, run.stderr);
  const json = JSON.parse(run.stdout) as GenerateJson;
  assert.equal(json.ok, true);
  // The tiny model leaves out the import; generate adds it so the program runs anywhere.
  assert.match(json.code!, /^import cadquery as cq\nsolid = cq\.Workplane\("XY"\)\.box\(\d+, \d+, 1\)\n$/);
  assert.ok(json.score! > 0 && json.score! <= 1);
  assert.ok(json.volume! > 0);
  assert.equal(json.bbox!.length, 6);
  assert.equal(json.iou, undefined);
  assert.equal(json.candidates.length, 2);
  assert.ok(json.candidates.every((c) => c.ok && c.code === json.code && typeof c.score === 'number'));

  // Without the key the server refuses, and the CLI says so in its JSON.
  const refused = runCli(['generate', image.file, '--endpoint', url, '--json']);
  assert.equal(refused.status, 1);
  const refusedJson = JSON.parse(refused.stdout) as GenerateJson;
  assert.equal(refusedJson.ok, false);
  assert.match(refusedJson.error!.message, /refused the request \(401, an API key is needed\)/);
});

test('gift generate with the onnx backend writes --out; a missing model is a clear error', { skip, timeout: 120_000 }, async () => {
  const { modelDir, images } = await servedModel();
  const out = path.join(work, 'best.py');
  const reference = path.join(work, 'reference.py');
  writeFileSync(reference, `import cadquery as cq\n${images[2].code}`);
  const run = runCli(['generate', images[2].file, '--model', modelDir, '--samples', '1', '--reference', reference, '--out', out]);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /#1 \(sample 1\): IoU \d\.\d{4}/);
  assert.match(readFileSync(out, 'utf8'), /^import cadquery as cq\nsolid = cq\.Workplane\("XY"\)\.box\(\d+, \d+, 1\)\n$/);

  const missing = runCli(['generate', images[2].file, '--model', path.join(work, 'nowhere'), '--json']);
  assert.equal(missing.status, 1);
  assert.match((JSON.parse(missing.stdout) as GenerateJson).error!.message, /nowhere.*cannot read model card/);

  const usage = runCli(['generate', images[2].file, '--backend', 'openai']);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--backend openai needs --endpoint URL/);
});

test('a file that is no image is named before any model runs', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gift-not-image-'));
  const empty = path.join(dir, 'empty.png');
  const text = path.join(dir, 'notes.png');
  writeFileSync(empty, '');
  writeFileSync(text, 'not an image, just 32 bytes here');
  let sampled = 0;
  const backend: ImageToCadBackend = {
    name: 'must-not-run',
    async sample() {
      sampled++;
      return [];
    },
  };
  await assert.rejects(generateCandidates({ backend, pool, image: empty, samples: 1 }), new RegExp(`${empty}: the file is empty`));
  await assert.rejects(generateCandidates({ backend, pool, image: text, samples: 1 }), new RegExp(`${text}: not a readable image`));
  assert.equal(sampled, 0, 'the backend was never asked');
});
