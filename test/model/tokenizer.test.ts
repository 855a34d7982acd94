import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTest100, seededRandom } from '../helpers/test100';
import {
  MAX_TOKENS,
  VOCAB_VERSION,
  allowedNext,
  decodeTokens,
  encodeProgram,
  GrammarCursor,
  tokenName,
  vocabulary,
  vocabularyJson,
} from '../../src/core/model/tokenizer';
import { pyFloat } from '../../src/core/model/tokenizer-ir';
import { parseGenCad, type ParsedSketch } from '../../src/core/model/tokenizer-parse';
import { CadError } from '../../src/core/errors';
import { loadOpenCascade } from '../../src/core/occt/occt';
import { runCadQuery } from '../../src/core/shape/run-cadquery';
import { shapeVolume } from '../../src/core/geometry/measure';

const samples = loadTest100();

/** Every number of a parsed program, in a fixed order, with its kind (for error bounds). */
function numbersOf(sketches: ParsedSketch[]): { kind: string; value: number; scale: number }[] {
  const out: { kind: string; value: number; scale: number }[] = [];
  for (const s of sketches) {
    const extent = Math.max(
      ...s.loops.flatMap((l) =>
        l.kind === 'circle' ? [...l.center, l.radius].map(Math.abs) : [...l.start, ...l.segments.flatMap((g) => g.end)].map(Math.abs),
      ),
    );
    for (const v of s.plane.origin) out.push({ kind: 'origin', value: v, scale: 0 });
    for (const v of [...s.plane.xDir, ...s.plane.normal]) out.push({ kind: 'direction', value: v, scale: 0 });
    for (const l of s.loops) {
      const coords =
        l.kind === 'circle' ? [...l.center, l.radius] : [...l.start, ...l.segments.flatMap((g) => (g.kind === 'arc' ? [...g.mid, ...g.end] : g.end))];
      for (const v of coords) out.push({ kind: 'coordinate', value: v, scale: extent });
    }
    const e = s.extrude;
    out.push({ kind: 'distance', value: e.distance, scale: 0 });
    if (e.kind === 'two') out.push({ kind: 'distance', value: e.distance2, scale: 0 });
  }
  return out;
}

function structure(sketches: ParsedSketch[]): string {
  return sketches
    .map((s) => `${s.op}:${s.extrude.kind}:${s.loops.map((l) => (l.kind === 'circle' ? 'c' : l.segments.map((g) => g.kind[0]).join(''))).join('|')}`)
    .join(' ');
}

test('vocabulary is fixed, versioned and self-describing', () => {
  assert.equal(VOCAB_VERSION, 'gencad-tok-1');
  assert.equal(vocabulary.tokens.length, vocabulary.size);
  assert.equal(new Set(vocabulary.tokens).size, vocabulary.size);
  assert.equal(vocabulary.tokens[vocabulary.pad], '<pad>');
  assert.equal(vocabulary.tokens[vocabulary.bos], '<bos>');
  assert.equal(vocabulary.tokens[vocabulary.eos], '<eos>');
  const json = JSON.parse(vocabularyJson());
  assert.equal(json.size, vocabulary.size);
  assert.equal(json.maxTokens, MAX_TOKENS);
  assert.deepEqual(json.tokens, vocabulary.tokens);
  assert.equal(vocabulary.size, 426);
});

test('python float formatting matches repr()', () => {
  const cases: [number, string][] = [
    [0, '0.0'],
    [-0, '-0.0'],
    [1, '1.0'],
    [-0.75, '-0.75'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [6.123233995736766e-17, '6.123233995736766e-17'],
    [1e16, '1e+16'],
    [123.456, '123.456'],
    [0.24753289473684212, '0.24753289473684212'],
  ];
  for (const [x, text] of cases) assert.equal(pyFloat(x), text);
});

test('all 100 test programs round-trip: same structure, numbers within the grid, idempotent', () => {
  const lengths: number[] = [];
  const maxError: Record<string, number> = { origin: 0, direction: 0, coordinate: 0, distance: 0 };
  let maxRelativeCoordinate = 0;
  for (const sample of samples) {
    const ids = encodeProgram(sample.code);
    lengths.push(ids.length);
    assert.ok(ids.length <= MAX_TOKENS, `${sample.id}: ${ids.length} tokens`);
    const decoded = decodeTokens(ids);
    assert.ok(decoded.complete, sample.id);
    const again = decodeTokens(encodeProgram(decoded.code));
    assert.equal(again.code, decoded.code, `${sample.id}: decode∘encode is not idempotent`);
    assert.deepEqual(encodeProgram(decoded.code), ids, sample.id);

    const original = parseGenCad(sample.code);
    const roundTrip = parseGenCad(decoded.code);
    assert.equal(structure(roundTrip), structure(original), sample.id);
    const a = numbersOf(original);
    const b = numbersOf(roundTrip);
    assert.equal(a.length, b.length);
    a.forEach((n, i) => {
      const error = Math.abs(n.value - b[i].value);
      maxError[n.kind] = Math.max(maxError[n.kind], error);
      if (n.kind === 'coordinate') maxRelativeCoordinate = Math.max(maxRelativeCoordinate, error / n.scale);
    });
  }
  lengths.sort((x, y) => x - y);
  const median = lengths[lengths.length >> 1];
  console.log(
    `test100 tokens: median ${median}, p90 ${lengths[Math.floor(lengths.length * 0.9)]}, max ${lengths[lengths.length - 1]} (MAX_TOKENS ${MAX_TOKENS})`,
  );
  console.log(
    `test100 round-trip max abs error: ${Object.entries(maxError)
      .map(([k, v]) => `${k} ${v.toExponential(2)}`)
      .join(', ')}; coordinate error / sketch extent ${maxRelativeCoordinate.toExponential(2)}`,
  );
  // GenCAD numbers sit exactly on the DeepCAD grid: only float rounding remains.
  for (const v of Object.values(maxError)) assert.ok(v < 1e-12, JSON.stringify(maxError));
  assert.ok(lengths[lengths.length - 1] <= MAX_TOKENS);
});

test('off-grid programs are quantised within the documented step', () => {
  const random = seededRandom(7);
  let worstCoordinateRatio = 0;
  let worstOrigin = 0;
  let checked = 0;
  for (const sample of samples.slice(0, 60)) {
    // Jitter every number with ≥ 4 decimals by up to ±0.3 % so it leaves the grid (the same
    // number the same way, so the repeated halves of a two-sided extrude stay identical).
    const jitter = new Map<string, string>();
    const jittered = sample.code.replace(/-?\d+\.\d{4,}(?:e-?\d+)?/g, (t) => {
      const v = Number(t);
      if (Math.abs(v) < 1e-9) return t;
      if (!jitter.has(t)) jitter.set(t, pyFloat(v * (1 + (random() - 0.5) * 0.006)));
      return jitter.get(t)!;
    });
    const decoded = decodeTokens(encodeProgram(jittered));
    assert.ok(decoded.complete);
    const a = parseGenCad(jittered);
    const b = parseGenCad(decoded.code);
    if (structure(a) !== structure(b)) continue; // a tiny segment may collapse on the grid
    checked++;
    const na = numbersOf(a);
    const nb = numbersOf(b);
    na.forEach((n, i) => {
      const error = Math.abs(n.value - nb[i].value);
      if (n.kind === 'origin' || n.kind === 'distance') worstOrigin = Math.max(worstOrigin, error);
    });
    // Coordinates (not arc midpoints): error ≤ half a unit, a unit being (scale/128)/95 ≤ extent/95.
    for (let s = 0; s < a.length; s++) {
      const loopsA = a[s].loops;
      const loopsB = b[s].loops;
      const extent = Math.max(
        ...loopsA.flatMap((l) => (l.kind === 'circle' ? [...l.center, l.radius] : [...l.start, ...l.segments.flatMap((g) => g.end)]).map(Math.abs)),
      );
      const step = (Math.ceil(extent * 128) / 128 / 95) * 1.0000001;
      loopsA.forEach((la, li) => {
        const lb = loopsB[li];
        const pa = la.kind === 'circle' ? [...la.center, la.radius] : [...la.start, ...la.segments.flatMap((g) => g.end)];
        const pb = lb.kind === 'circle' ? [...lb.center, lb.radius] : [...lb.start, ...lb.segments.flatMap((g) => g.end)];
        pa.forEach((v, k) => {
          worstCoordinateRatio = Math.max(worstCoordinateRatio, Math.abs(v - pb[k]) / step);
        });
      });
    }
  }
  console.log(
    `off-grid: ${checked} programs, worst coordinate error ${worstCoordinateRatio.toFixed(3)} units, worst origin/distance error ${worstOrigin.toExponential(2)}`,
  );
  assert.ok(checked >= 40);
  assert.ok(worstCoordinateRatio <= 0.5 + 1e-9, `coordinate error ${worstCoordinateRatio} units`);
  assert.ok(worstOrigin <= 1 / 256 + 1e-12);
});

test('a general (non axis-aligned) plane survives as Euler angles', () => {
  const code = samples.find((s) => s.code.includes('0.9993977281025862'))!.code;
  const ids = encodeProgram(code);
  assert.ok(ids.map(tokenName).includes('PLANE_ANGLES'));
  assert.ok(decodeTokens(ids).code.includes('cq.Vector(0.9993977281025862, 0.024541228522912326, 0.024533837163709046)'));
  // An arbitrary rotated frame snaps to the nearest π/128 angles.
  const tilted = [
    'import cadquery as cq',
    'wp_sketch0 = cq.Workplane(cq.Plane(cq.Vector(0.1, 0.0, 0.0), cq.Vector(0.8, 0.6, 0.0), cq.Vector(0.0, 0.0, 1.0)))',
    'loop0=wp_sketch0.moveTo(0.5, 0.0).lineTo(0.5, 0.5).lineTo(0.0, 0.5).lineTo(0.0, 0.0).close()',
    'solid0=wp_sketch0.add(loop0).extrude(0.25)',
    'solid=solid0',
  ].join('\n');
  const decoded = parseGenCad(decodeTokens(encodeProgram(tilted)).code)[0];
  const angle = Math.atan2(decoded.plane.xDir[1], decoded.plane.xDir[0]);
  assert.ok(Math.abs(angle - Math.atan2(0.6, 0.8)) <= Math.PI / 256 + 1e-12);
  assert.ok(Math.abs(decoded.plane.normal[2] - 1) < 1e-12);
});

test('code outside the GenCAD grammar is refused with the line', () => {
  const bad = ['import cadquery as cq', 'result = cq.Workplane("XY").box(1, 2, 3)'].join('\n');
  assert.throws(
    () => encodeProgram(bad),
    (e: unknown) => e instanceof CadError && e.line === 2 && /line 2/.test(e.message),
  );
  const badLoop = [
    'import cadquery as cq',
    'wp_sketch0 = cq.Workplane(cq.Plane(cq.Vector(0.0, 0.0, 0.0), cq.Vector(1.0, 0.0, 0.0), cq.Vector(0.0, 0.0, 1.0)))',
    'loop0=wp_sketch0.moveTo(0.5, 0.0).spline([(1, 2)]).close()',
  ].join('\n');
  assert.throws(() => encodeProgram(badLoop), /line 3: "spline"/);
  const unknownLoop = samples[0].code.replace('.add(loop0)', '.add(loop9)');
  assert.throws(() => encodeProgram(unknownLoop), /"loop9" is not a loop defined earlier/);
  assert.throws(() => encodeProgram('import cadquery as cq\n'), /never assigns "solid"/);
  const outOfRange = samples[0].code.replace('extrude(0.03125)', 'extrude(3.5)');
  assert.throws(() => encodeProgram(outOfRange), /outside the GenCAD range/);
});

test('decoding is tolerant: every prefix and random garbage yield a runnable prefix program', () => {
  const ids = encodeProgram(samples.find((s) => s.id === '00442545')!.code);
  let lastSketches = 0;
  for (let n = 0; n <= ids.length; n++) {
    const { code, complete } = decodeTokens(ids.slice(0, n));
    assert.equal(complete, n === ids.length);
    const sketches = (code.match(/# Generating a workplane/g) ?? []).length;
    assert.ok(sketches >= lastSketches);
    lastSketches = sketches;
    if (sketches > 0) assert.doesNotThrow(() => encodeProgram(code));
  }
  assert.equal(lastSketches, 3);
  // Trailing padding is fine; a token after <eos> is not.
  assert.ok(decodeTokens([...ids, vocabulary.pad, vocabulary.pad]).complete);
  assert.ok(!decodeTokens([...ids, ids[3]]).complete);
  // Without the leading <bos> (as a model emits after priming) it still decodes.
  assert.ok(decodeTokens(ids.slice(1)).complete);
  const random = seededRandom(3);
  for (let i = 0; i < 200; i++) {
    const garbage = Array.from({ length: 1 + Math.floor(random() * 60) }, () => Math.floor(random() * (vocabulary.size + 5)) - 2);
    const { code, complete } = decodeTokens(garbage);
    assert.equal(typeof code, 'string');
    assert.ok(!complete);
  }
});

test('allowedNext admits every token of real programs and forces a finish within MAX_TOKENS', () => {
  for (const sample of samples.slice(0, 20)) {
    const ids = encodeProgram(sample.code);
    const cursor = new GrammarCursor();
    for (const tokenId of ids) {
      assert.equal(cursor.allowed()[tokenId], 1, `${sample.id}: ${tokenName(tokenId)} refused`);
      cursor.push(tokenId);
    }
    assert.ok(cursor.finished);
  }
  assert.deepEqual(
    [...allowedNext([])].flatMap((v, i) => (v ? [i] : [])),
    [vocabulary.bos],
  );
  // Random walks through the grammar always end with <eos> inside the budget and decode completely.
  const random = seededRandom(11);
  for (const budget of [40, 120, MAX_TOKENS]) {
    for (let walk = 0; walk < 5; walk++) {
      const cursor = new GrammarCursor();
      const ids: number[] = [];
      while (!cursor.finished) {
        const mask = cursor.allowed(budget);
        const choices = [...mask].flatMap((v, i) => (v ? [i] : []));
        assert.ok(choices.length > 0, `dead end after ${ids.map(tokenName).join(' ')}`);
        // Favour structure over <eos>/CLOSE so walks get long and test the budget.
        const pick = choices[Math.floor(random() * choices.length)];
        ids.push(pick);
        cursor.push(pick);
      }
      assert.ok(ids.length <= budget, `${ids.length} > ${budget}`);
      const decoded = decodeTokens(ids);
      assert.ok(decoded.complete);
      assert.deepEqual(allowedNext(ids.slice(0, -1), budget)[ids[ids.length - 1]], 1);
    }
  }
});

test('decode(encode(p)) of the 100 test programs runs and keeps the volume', async () => {
  await loadOpenCascade();
  let worst = 0;
  for (const sample of samples) {
    const original = shapeVolume(runCadQuery(sample.code));
    const roundTrip = shapeVolume(runCadQuery(decodeTokens(encodeProgram(sample.code)).code));
    const change = Math.abs(roundTrip - original) / original;
    worst = Math.max(worst, change);
    assert.ok(change < 0.01, `${sample.id}: volume ${original} → ${roundTrip}`);
  }
  console.log(`test100 decode∘encode: worst relative volume change ${worst.toExponential(2)}`);
});
