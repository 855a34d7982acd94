// The committed smoke model (models/smoke) with the product tokenizer: runs without Python.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CadModel } from '../../src/core/model/onnx';
import { encodeProgram, vocabulary, VOCAB_VERSION } from '../../src/core/model/tokenizer';

const modelDir = path.join(__dirname, '..', '..', 'models', 'smoke');
const skip = existsSync(path.join(modelDir, 'model.json')) ? undefined : 'models/smoke is not built (see models/README.md)';

interface Reference {
  pixels: number[];
  prefix: number[];
  logits: number[][];
  greedy_tokens: number[];
}

test('smoke model: onnxruntime matches the torch reference shipped with it', { skip }, async () => {
  const model = await CadModel.load(modelDir);
  const reference = JSON.parse(readFileSync(path.join(modelDir, 'reference.json'), 'utf8')) as Reference;
  const logits = await model.logitsForPrefix(Float32Array.from(reference.pixels), reference.prefix);
  const expected = reference.logits.flat();
  let max = 0;
  for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(logits[i] - expected[i]));
  assert.ok(max < 1e-4, `max logit difference ${max}`);
  const { programs } = await model.generate(Float32Array.from(reference.pixels));
  const torchGreedy = reference.greedy_tokens.filter((id) => id !== vocabulary.eos);
  assert.deepEqual(programs[0].tokens.slice(0, torchGreedy.length), torchGreedy);
  await model.dispose();
});

test('smoke model + tokenizer grammar: every sample is a complete, re-encodable program', { skip }, async () => {
  const model = await CadModel.load(modelDir);
  assert.equal(JSON.parse(readFileSync(path.join(modelDir, 'vocab.json'), 'utf8')).version, VOCAB_VERSION);
  assert.ok(model.codec.allowedNext, 'the product tokenizer (with its grammar) should be chosen');
  const reference = JSON.parse(readFileSync(path.join(modelDir, 'reference.json'), 'utf8')) as Reference;
  const { programs, stats } = await model.generate(Float32Array.from(reference.pixels), { samples: 4, temperature: 1.2, seed: 3 });
  assert.equal(programs.length, 4);
  for (const p of programs) {
    assert.equal(p.stop, 'eos', `sample stopped by ${p.stop}`);
    assert.equal(p.complete, true);
    assert.match(p.code, /cq\.Workplane/);
    // Grammatical programs print to GenCAD code the tokenizer reads back. (Not always to the same
    // tokens: the grammar cannot force the canonical sketch scale, which re-encoding recomputes.)
    const again = encodeProgram(p.code);
    assert.equal(again[0], vocabulary.bos);
    assert.equal(again.at(-1), vocabulary.eos);
  }
  assert.deepEqual(
    stats.pastLengths,
    stats.rowsPerStep.map((_, t) => t),
  );
  await model.dispose();
});
