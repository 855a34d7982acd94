import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CadModel } from '../../src/core/model/onnx';
import { type Reference, trainedTinyModel, torchMissing } from './onnx-fixture';

const skip = torchMissing();

async function setup() {
  const { dataset, modelDir } = await trainedTinyModel();
  const model = await CadModel.load(modelDir);
  const reference = JSON.parse(readFileSync(path.join(modelDir, 'reference.json'), 'utf8')) as Reference;
  return { dataset, modelDir, model, reference };
}

function commonSubsequence(a: string, b: string): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (const ca of a) {
    const row = [0];
    for (let j = 0; j < b.length; j++) row.push(ca === b[j] ? prev[j] + 1 : Math.max(prev[j + 1], row[j]));
    prev = row;
  }
  return prev[b.length];
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

test('recipe output: one opset-17 ONNX file and a model card', { skip }, async () => {
  const { model, modelDir } = await setup();
  const card = model.card;
  assert.equal(card.onnx.opset, 17);
  assert.equal(card.onnx.file, 'model.onnx');
  assert.equal(card.preprocess.size, 64);
  assert.equal(card.vocab.size, model.codec.size);
  assert.ok((card.architecture.parameters ?? 0) > 10_000);
  assert.equal(card.training?.steps, 80);
  assert.equal(card.training?.examples, 12);
  assert.ok(typeof card.training?.hardware === 'string');
  assert.ok(readFileSync(path.join(modelDir, 'model.onnx')).length === card.onnx.bytes);
  await model.dispose();
});

test('onnxruntime reproduces torch: preprocessing, logits (1e-4), greedy tokens', { skip }, async () => {
  const { dataset, model, reference } = await setup();
  const pixels = await model.preprocess(path.join(dataset.dir, reference.file_name));
  assert.ok(maxAbsDiff(pixels, reference.pixels) < 1e-5, 'TS preprocessing differs from numpy');

  const vocab = model.card.vocab.size;
  const logits = await model.logitsForPrefix(pixels, reference.prefix);
  assert.ok(maxAbsDiff(logits, reference.logits.flat()) < 1e-4, 'ONNX logits differ from torch');

  // The KV cache gives the same logits as the full prefix, one token at a time.
  const cross = await model.encode(pixels);
  const stepper = model.stepModel(cross, 1);
  for (let t = 0; t < reference.prefix.length; t++) {
    const stepLogits = await stepper.step([reference.prefix[t]]);
    assert.ok(maxAbsDiff(stepLogits, reference.logits[t]) < 1e-4, `cached step ${t} differs`);
  }
  assert.deepEqual(
    stepper.pastLengths,
    reference.prefix.map((_, i) => i),
  );
  assert.equal(logits.length, reference.prefix.length * vocab);

  const { programs } = await model.generate(pixels);
  const greedyTorch = reference.greedy_tokens;
  const expected = greedyTorch[greedyTorch.length - 1] === model.card.vocab.eos ? greedyTorch.slice(0, -1) : greedyTorch;
  assert.deepEqual(programs[0].tokens.slice(0, expected.length), expected);
  await model.dispose();
});

test('greedy decoding is deterministic and decodes the training program', { skip }, async () => {
  const { dataset, model } = await setup();
  const image = path.join(dataset.dir, dataset.examples[0].fileName);
  const a = await model.generate(image);
  const b = await model.generate(readFileSync(image));
  assert.equal(a.programs.length, 1);
  assert.deepEqual(a.programs[0].tokens, b.programs[0].tokens);
  assert.equal(a.programs[0].logprob, b.programs[0].logprob);
  // A few CPU seconds of training: the output resembles the training program, not always exactly.
  const similarity = commonSubsequence(a.programs[0].code, dataset.examples[0].code) / dataset.examples[0].code.length;
  assert.ok(similarity > 0.7, `greedy code ${JSON.stringify(a.programs[0].code)} is ${similarity} like the training program`);
  assert.ok(a.programs[0].logprob < 0 && Number.isFinite(a.programs[0].logprob));
  await model.dispose();
});

test('K samples decode as one batch with a KV cache: one token per live row per step', { skip }, async () => {
  const { dataset, model } = await setup();
  const image = path.join(dataset.dir, dataset.examples[3].fileName);
  const K = 6;
  const { programs, stats } = await model.generate(image, { samples: K, temperature: 1.5, topP: 0.95, seed: 7 });
  assert.equal(programs.length, K);
  const distinct = new Set(programs.map((p) => p.tokens.join(',')));
  assert.ok(distinct.size >= 2, 'temperature sampling gave identical samples');
  // In sampling order (not re-sorted by log-probability: pass@k takes the first k as a fair draw):
  // sample i is batch row i of the same decode.
  const { decodeSequences } = await import('../../src/core/model/decoding');
  const pixels = await model.preprocess(image);
  const rows = await decodeSequences(model.stepModel(await model.encode(pixels), K), {
    bos: model.card.vocab.bos,
    eos: model.card.vocab.eos,
    samples: K,
    temperature: 1.5,
    topP: 0.95,
    maxTokens: model.card.max_tokens - 1,
    seed: 7,
    allowedNext: model.codec.allowedNext?.bind(model.codec),
  });
  assert.deepEqual(
    programs.map((p) => p.tokens),
    rows.sequences.map((s) => s.tokens),
  );
  // Cache at step t holds exactly t positions: nothing is recomputed.
  assert.deepEqual(
    stats.pastLengths,
    stats.rowsPerStep.map((_, t) => t),
  );
  assert.equal(stats.rowsPerStep[0], K);
  assert.ok(
    stats.rowsPerStep.every((rows, t) => t === 0 || rows <= stats.rowsPerStep[t - 1]),
    'finished rows must leave the batch',
  );
  // Tokens fed = tokens generated (each generated token is fed once, except the last of each row).
  const generated = programs.reduce((n, p) => n + p.tokens.length + (p.stop === 'eos' ? 1 : 0), 0);
  assert.equal(stats.tokensFed, generated);
  assert.equal(
    stats.tokensFed,
    stats.rowsPerStep.reduce((a, b) => a + b, 0),
  );
  const again = await model.generate(image, { samples: K, temperature: 1.5, topP: 0.95, seed: 7 });
  assert.deepEqual(
    again.programs.map((p) => p.tokens),
    programs.map((p) => p.tokens),
    'same seed, same samples',
  );
  await model.dispose();
});

test('grammar constraint via allowedNext restricts every step', { skip }, async () => {
  const { modelDir, dataset } = await setup();
  const { vocabulary } = dataset;
  const digits = vocabulary.tokens.flatMap((t, id) => (/[0-9]/.test(t) ? [id] : []));
  const banned = new Set(digits.slice(0, 5)); // 0-4 may never appear
  const prefixes: number[][] = [];
  const model = await CadModel.load(modelDir, {
    codec: {
      size: vocabulary.size,
      decode: (ids) => ({
        code: ids
          .filter((id) => id > 2)
          .map((id) => vocabulary.tokens[id])
          .join(''),
        complete: ids.at(-1) === vocabulary.eos,
      }),
      allowedNext: (prefix) => {
        prefixes.push([...prefix]);
        if (prefix.length >= 31) return (id: number) => id === vocabulary.eos; // force the end
        const mask = new Uint8Array(vocabulary.size).fill(1);
        for (const id of banned) mask[id] = 0;
        mask[vocabulary.pad] = 0;
        mask[vocabulary.bos] = 0;
        return mask;
      },
    },
  });
  const { programs } = await model.generate(path.join(dataset.dir, dataset.examples[1].fileName), { samples: 3, temperature: 1, seed: 1 });
  for (const p of programs) {
    assert.ok(
      p.tokens.every((id) => !banned.has(id)),
      `banned token in ${p.code}`,
    );
    assert.ok(p.tokens.length <= 30);
    assert.equal(p.stop, 'eos');
    assert.equal(p.complete, true);
    assert.ok(!/[0-4]/.test(p.code));
  }
  assert.deepEqual(prefixes[0], [vocabulary.bos]); // the first call sees just BOS
  const unconstrained = await model.generate(path.join(dataset.dir, dataset.examples[1].fileName), { constrained: false });
  assert.equal(unconstrained.programs.length, 1);
  await model.dispose();
});

test('runs inside a worker thread (the kernel job kind)', { skip }, async () => {
  const { modelDir, dataset } = await setup();
  // Loaded through tsx's require hook, as the kernel pool loads its TypeScript worker.
  const boot = `require('tsx/cjs'); require(${JSON.stringify(path.join(__dirname, 'onnx-worker-fixture.ts'))});`;
  const worker = new Worker(boot, {
    eval: true,
    workerData: {
      payload: { model: modelDir, image: readFileSync(path.join(dataset.dir, dataset.examples[0].fileName)), options: { samples: 2, temperature: 1 } },
    },
  });
  const reply = await new Promise<{ ok: boolean; value?: { programs: { code: string }[]; modelSteps: number }; message?: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  assert.ok(reply.ok, reply.message);
  assert.equal(reply.value!.programs.length, 2);
  assert.ok(reply.value!.modelSteps > 0);
});

test('bad model files fail with errors naming the problem', { skip }, async () => {
  await assert.rejects(CadModel.load('/nonexistent/model'), /\/nonexistent\/model\/model.json: cannot read model card/);
  const { modelDir } = await setup();
  await assert.rejects(CadModel.load(modelDir, { codec: { size: 3, decode: () => ({ code: '', complete: false }) } }), /trained with another tokenizer/);
});
