import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTest100 } from '../helpers/test100';
import { generateProgram, generateQProgram, mulberry32 } from '../../src/core/model/synthetic';
import { MAX_TOKENS, decodeTokens, encodeProgram, printProgram, programTokens, quantizeProgram } from '../../src/core/model/tokenizer';
import { programStatistics, statisticsTable } from '../../src/core/model/synthetic-stats';
import { loadOpenCascade } from '../../src/core/occt/occt';
import { runCadQuery } from '../../src/core/shape/run-cadquery';
import { boundingBox, isValidShape, shapeVolume, unwrapShape } from '../../src/core/geometry/measure';

test('mulberry32 is deterministic and uniform-ish', () => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  const xs = Array.from({ length: 10000 }, () => a());
  assert.deepEqual(
    xs.slice(0, 5),
    Array.from({ length: 5 }, () => b()),
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.01);
  assert.equal(generateProgram(mulberry32(7)), generateProgram(mulberry32(7)));
  assert.notEqual(generateProgram(mulberry32(7)), generateProgram(mulberry32(8)));
});

test('1,000 generated programs are GenCAD text that encodes, fits MAX_TOKENS and decodes to itself', () => {
  const rng = mulberry32(1);
  for (let i = 0; i < 1000; i++) {
    const code = generateProgram(rng);
    assert.ok(code.startsWith('import cadquery as cq\n# Generating a workplane for sketch 0\n'));
    const ids = encodeProgram(code);
    assert.ok(ids.length <= MAX_TOKENS, `program ${i}: ${ids.length} tokens`);
    const decoded = decodeTokens(ids);
    assert.ok(decoded.complete);
    // Generated programs sit exactly on the token grid: the text survives tokenisation unchanged.
    assert.equal(decoded.code, code, `program ${i} changed through tokens`);
  }
  const small = generateProgram(mulberry32(3), { maxTokens: 60, maxSketches: 2 });
  assert.ok(encodeProgram(small).length <= 60);
  assert.ok(quantizeProgram(small).sketches.length <= 2);
});

test('generated statistics follow the GenCAD test set (aggregates only)', () => {
  const rng = mulberry32(2);
  const generated = programStatistics(Array.from({ length: 1500 }, () => generateQProgram(rng)));
  const real = programStatistics(loadTest100().map((s) => quantizeProgram(s.code)));
  console.log(statisticsTable({ test100: real, generated }));
  const near = (field: keyof typeof real, tolerance: number) =>
    assert.ok(Math.abs(generated[field] - real[field]) <= tolerance, `${field}: generated ${generated[field]} vs test100 ${real[field]}`);
  near('sketchesMean', 0.4);
  near('singleSketchFraction', 0.15);
  near('unionFraction', 0.15);
  near('loopsPerSketch', 0.25);
  near('circleLoopFraction', 0.15);
  near('segmentsPerPath', 1.0);
  near('arcSegmentFraction', 0.08);
  near('planeXY', 0.15);
  near('planeXZ', 0.15);
  near('meanAbsDistance', 0.15);
  near('meanScale', 0.2);
  assert.ok(generated.cutFraction > 0.1 && generated.negativeExtrudeFraction > 0.05 && generated.bothExtrudeFraction > 0.03);
  assert.ok(generated.twoSidedExtrudeFraction > 0.01 && generated.planeTilted > 0.005);
  assert.ok(generated.tokensMax <= MAX_TOKENS);
});

test('200 generated programs run in OpenCascade to one valid solid inside the normalisation box', async () => {
  const oc = (await loadOpenCascade()) as any;
  const rng = mulberry32(5);
  for (let i = 0; i < 200; i++) {
    const code = generateProgram(rng);
    const shape = runCadQuery(code);
    assert.ok(shapeVolume(shape) > 1e-7, `program ${i}: empty\n${code}`);
    assert.ok(isValidShape(shape), `program ${i}: invalid shape\n${code}`);
    const explorer = new oc.TopExp_Explorer(unwrapShape(shape), oc.TopAbs_ShapeEnum.TopAbs_SOLID, oc.TopAbs_ShapeEnum.TopAbs_SHAPE);
    let solids = 0;
    for (; explorer.More(); explorer.Next()) solids++;
    explorer.delete();
    // One solid: every union touched the part and no cut split it.
    assert.equal(solids, 1, `program ${i}: ${solids} solids\n${code}`);
    assert.ok(
      boundingBox(shape).every((v) => Math.abs(v) <= 0.75 + 1e-6),
      `program ${i}: outside [-0.75, 0.75]\n${code}`,
    );
  }
});

test('generated quantised programs are canonical: printing and reading them back is the identity', () => {
  const rng = mulberry32(11);
  for (let i = 0; i < 200; i++) {
    const program = generateQProgram(rng);
    assert.deepEqual(quantizeProgram(printProgram(program)), program);
    assert.deepEqual(programTokens(program), encodeProgram(printProgram(program)));
  }
});
