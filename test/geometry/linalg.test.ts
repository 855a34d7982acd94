import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { det3, eigh3, multiply3, transpose3 } from '../../src/core/geometry/linalg';

interface NumpyCase {
  label: string;
  matrix: number[];
  values: number[];
  vectors: number[];
}

// Generated with numpy.linalg.eigh (see "generator" in the file); the first six matrices are real
// inertia matrices from OCCT (the chiral shape of iou.test.ts, its mirror, four test100 parts).
const numpy = JSON.parse(fs.readFileSync(path.join(__dirname, 'numpy-eigh.json'), 'utf8')) as { cases: NumpyCase[] };

test('eigh3 reproduces numpy.linalg.eigh: values, vectors and their signs', () => {
  for (const c of numpy.cases) {
    const { values, vectors } = eigh3(c.matrix);
    const scale = Math.max(...c.values.map(Math.abs));
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(values[i] - c.values[i]) <= 1e-12 * scale, `${c.label}: eigenvalue ${i}`);
    for (let i = 0; i < 9; i++) {
      assert.ok(Math.abs(vectors[i] - c.vectors[i]) < 1e-7, `${c.label}: vector entry ${i}: ${vectors[i]} vs numpy ${c.vectors[i]}`);
    }
    assert.equal(Math.sign(det3(vectors)), Math.sign(det3(c.vectors)), `${c.label}: handedness`);
  }
});

test('eigh3 gives an orthonormal basis that diagonalises random symmetric matrices', () => {
  let seed = 12345;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  for (let k = 0; k < 500; k++) {
    const a = [random(), random(), random(), 0, random(), random(), 0, 0, random()];
    a[3] = a[1];
    a[6] = a[2];
    a[7] = a[5];
    const { values, vectors } = eigh3(a);
    assert.ok(values[0] <= values[1] && values[1] <= values[2], 'ascending');
    const vtv = multiply3(transpose3(vectors), vectors);
    const lambda = multiply3(multiply3(transpose3(vectors), a), vectors);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        assert.ok(Math.abs(vtv[3 * i + j] - (i === j ? 1 : 0)) < 1e-12);
        assert.ok(Math.abs(lambda[3 * i + j] - (i === j ? values[i] : 0)) < 1e-12);
      }
    }
  }
});

test('eigh3 refuses non-finite input', () => {
  assert.throws(() => eigh3([1, 0, 0, 0, NaN, 0, 0, 0, 1]), /finite/);
});
