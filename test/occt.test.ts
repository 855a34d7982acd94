import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadOpenCascade, compileOpenCascade, wasmHeapBytes, occtErrorMessage } from '../src/core/occt/occt';
import { makeBaseBox, measureVolume } from 'replicad';

test('OpenCascade loads from a precompiled module and measures a box', async () => {
  const oc = await loadOpenCascade(await compileOpenCascade());
  assert.ok(Math.abs(measureVolume(makeBaseBox(1, 2, 3)) - 6) < 1e-9);
  assert.ok(wasmHeapBytes(oc) > 1e6);
  assert.equal(occtErrorMessage(oc, new Error('x')), 'x');
});
