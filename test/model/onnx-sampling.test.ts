import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { argmax, chooseToken, createRng, logSoftmax, maskToBytes } from '../../src/core/model/sampling';
import { selectBatchRows } from '../../src/core/model/onnx';

test('greedy picks the largest allowed logit; masks and predicates agree', () => {
  const logits = Float32Array.from([1, 5, 3, 5, -2]);
  assert.equal(argmax(logits), 1); // first of the tied maxima
  const mask = maskToBytes((id) => id !== 1, 5)!;
  assert.deepEqual([...mask], [1, 0, 1, 1, 1]);
  assert.equal(chooseToken(logits, { temperature: 0, topP: 1 }, createRng(0), mask), 3);
  assert.equal(chooseToken(logits, { temperature: 0, topP: 1 }, createRng(0), new Uint8Array(5)), -1);
  assert.throws(() => maskToBytes(new Uint8Array(4), 5), /mask has 4 entries, vocabulary has 5/);
});

test('log-softmax is normalised over the allowed tokens only', () => {
  const lp = logSoftmax([0, 1, 2, 3], 1, Uint8Array.from([1, 0, 1, 0]))!;
  assert.equal(lp[1], -Infinity);
  assert.ok(Math.abs(Math.exp(lp[0]) + Math.exp(lp[2]) - 1) < 1e-12);
  assert.equal(logSoftmax([1, 2], 1, new Uint8Array(2)), undefined);
});

test('sampling: seeded, follows the distribution, top-p keeps only the nucleus', () => {
  const logits = Float32Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]);
  const draw = (seed: number, topP: number, n: number) => {
    const rng = createRng(seed);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) counts[chooseToken(logits, { temperature: 1, topP }, rng)]++;
    return counts;
  };
  assert.deepEqual(draw(3, 1, 500), draw(3, 1, 500));
  const full = draw(1, 1, 20000);
  assert.ok(Math.abs(full[0] / 20000 - 0.5) < 0.02 && Math.abs(full[3] / 20000 - 0.05) < 0.01, `counts ${full}`);
  const nucleus = draw(1, 0.75, 5000); // 0.5 + 0.3 reaches 0.75: only tokens 0 and 1
  assert.equal(nucleus[2] + nucleus[3], 0);
  assert.ok(Math.abs(nucleus[0] / 5000 - 0.625) < 0.03);
  assert.throws(() => chooseToken(logits, { temperature: 1, topP: 0 }, createRng(0)), /topP must be in \(0, 1\]/);
});

test('selectBatchRows keeps the chosen rows of a [L,2,B,H,P,dh] cache', () => {
  const dims = [2, 2, 3, 2, 4, 5];
  const data = Float32Array.from({ length: dims.reduce((a, b) => a * b) }, (_, i) => i);
  const kept = selectBatchRows(new ort.Tensor('float32', data, dims), [0, 2]);
  assert.deepEqual(kept.dims, [2, 2, 2, 2, 4, 5]);
  const block = 2 * 4 * 5;
  const out = kept.data as Float32Array;
  for (let lk = 0; lk < 4; lk++) {
    for (const [i, row] of [0, 2].entries()) {
      assert.equal(out[(lk * 2 + i) * block], data[(lk * 3 + row) * block]);
      assert.equal(out[(lk * 2 + i) * block + block - 1], data[(lk * 3 + row) * block + block - 1]);
    }
  }
});
