/** The oracle's agreement rules on measured outcomes (no CadQuery needed). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cadqueryInvalid, disagreement, settleVarying, type Comparison, type Outcome } from './oracle';

const part = (volume: number, valid = true, faces = 13): Outcome => ({
  ok: true,
  volume,
  bbox: [0, 0, 0, 1, 1, 1],
  valid,
  solids: 1,
  faces,
  edges: 27,
  vertices: 18,
});

test('validity: ours invalid where CadQuery is valid disagrees; ours valid where CadQuery is not agrees and is named', () => {
  assert.equal(disagreement(part(5, false), part(5, true)), 'valid false vs true');
  assert.equal(disagreement(part(5, true), part(5, false)), undefined);
  assert.equal(cadqueryInvalid(part(5, true), part(5, false)), true);
  assert.equal(cadqueryInvalid(part(5, true), part(5, true)), false);
  // Anything else that differs still disagrees.
  assert.match(disagreement(part(5, true, 7), part(5, false, 6)) ?? '', /^faces 7 vs 6$/);
});

test("a result of CadQuery's own that varies between runs: ours equal to one of them agrees, all are kept", () => {
  const ours = part(14039.36);
  const c: Comparison = { id: 'p', ours, theirs: part(5530.85, true, 24), why: disagreement(ours, part(5530.85, true, 24)) };
  assert.ok(c.why);
  settleVarying(c, [c.theirs, part(14039.36), part(14039.36)]);
  assert.equal(c.why, undefined);
  assert.equal(c.cadqueryVaries?.length, 3);
  assert.equal(c.theirs.ok && c.theirs.volume, 14039.36);
});

test('a steady CadQuery result, or a varying one ours matches none of, still disagrees', () => {
  const ours = part(14039.36);
  const steady: Comparison = { id: 'a', ours, theirs: part(5530.85), why: 'volume' };
  settleVarying(steady, [part(5530.85), part(5530.85), part(5530.85)]);
  assert.equal(steady.why, 'volume');
  assert.equal(steady.cadqueryVaries, undefined);
  const neither: Comparison = { id: 'b', ours, theirs: part(5530.85), why: 'volume' };
  settleVarying(neither, [part(5530.85), part(7000), part(5530.85)]);
  assert.equal(neither.why, 'volume');
});
