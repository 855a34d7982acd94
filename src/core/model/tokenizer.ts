/**
 * Tokenizer for GenCAD-Code CadQuery programs: the contract between the program text and the
 * bundled image→program model.
 *
 * Token grammar (numbers are integer tokens N<k>, meaning depends on the slot; see tokenizer-ir):
 *   program := <bos> sketch+ <eos>
 *   sketch  := op plane loop+ extrude            op: NEW first, then UNION | CUT | INTERSECT
 *   plane   := PLANE_<axes> ox oy oz scale  |  PLANE_ANGLES θ φ γ ox oy oz scale
 *   loop    := CIRCLE x y r  |  MOVE x y segment+ CLOSE
 *   segment := LINE x y  |  ARC_CCW x y sweep  |  ARC_CW x y sweep
 *   extrude := EXTRUDE d  |  EXTRUDE_BOTH d  |  EXTRUDE_TWO d1 d2
 * Slot ranges: origin/distance/angle −128..128 (distance ≠ 0), scale 1..256, x/y −128..128,
 * r 1..128, sweep 1..255. Programs from the GenCAD/DeepCAD data sit exactly on this grid, so
 * they round-trip without loss.
 */
import { CadError } from '../errors';
import {
  AXIS_PLANES,
  ANGLE_STEPS,
  LINEAR_STEPS,
  PROFILE_UNITS,
  SWEEP_STEPS,
  arcSweep,
  cross,
  dot,
  frameFromAngles,
  printProgram,
  type BooleanOp,
  type Frame,
  type IntPoint,
  type QExtrude,
  type QLoop,
  type QPlane,
  type QProgram,
  type QSegment,
  type QSketch,
  type Vec3,
} from './tokenizer-ir';
import { parseGenCad, type ParsedExtrude, type ParsedLoop, type ParsedPlane, type ParsedSketch } from './tokenizer-parse';

export { printProgram, type QProgram, type QSketch, type QLoop, type QSegment, type QPlane, type QExtrude } from './tokenizer-ir';

export const VOCAB_VERSION = 'gencad-tok-1';

/** Longest token sequence (with <bos>/<eos>) the model supports. */
export const MAX_TOKENS = 384;

export interface Vocabulary {
  size: number;
  pad: number;
  bos: number;
  eos: number;
  tokens: string[];
}

const NUMBER_MIN = -128;
const NUMBER_MAX = 256;

const STRUCTURAL = [
  '<pad>',
  '<bos>',
  '<eos>',
  'NEW',
  'UNION',
  'CUT',
  'INTERSECT',
  ...AXIS_PLANES.map((p) => p.name),
  'PLANE_ANGLES',
  'CIRCLE',
  'MOVE',
  'LINE',
  'ARC_CCW',
  'ARC_CW',
  'CLOSE',
  'EXTRUDE',
  'EXTRUDE_BOTH',
  'EXTRUDE_TWO',
] as const;

const TOKENS: string[] = [...STRUCTURAL];
for (let k = NUMBER_MIN; k <= NUMBER_MAX; k++) TOKENS.push(`N${k}`);

const id = (name: string): number => {
  const i = TOKENS.indexOf(name);
  if (i < 0) throw new Error(`internal: no token ${name}`);
  return i;
};

const T = {
  pad: id('<pad>'),
  bos: id('<bos>'),
  eos: id('<eos>'),
  new: id('NEW'),
  union: id('UNION'),
  cut: id('CUT'),
  intersect: id('INTERSECT'),
  plane0: id(AXIS_PLANES[0].name),
  planeAngles: id('PLANE_ANGLES'),
  circle: id('CIRCLE'),
  move: id('MOVE'),
  line: id('LINE'),
  arcCcw: id('ARC_CCW'),
  arcCw: id('ARC_CW'),
  close: id('CLOSE'),
  extrude: id('EXTRUDE'),
  extrudeBoth: id('EXTRUDE_BOTH'),
  extrudeTwo: id('EXTRUDE_TWO'),
  number0: id(`N${NUMBER_MIN}`),
};

export const vocabulary: Vocabulary = Object.freeze({
  size: TOKENS.length,
  pad: T.pad,
  bos: T.bos,
  eos: T.eos,
  tokens: TOKENS,
}) as Vocabulary;

/** Token id of the integer k (NUMBER_MIN..NUMBER_MAX). */
export function numberToken(k: number): number {
  if (!Number.isInteger(k) || k < NUMBER_MIN || k > NUMBER_MAX) throw new Error(`number ${k} has no token`);
  return T.number0 + (k - NUMBER_MIN);
}

function tokenNumber(tokenId: number): number | null {
  const k = tokenId - T.number0 + NUMBER_MIN;
  return tokenId >= T.number0 && k <= NUMBER_MAX ? k : null;
}

export function tokenName(tokenId: number): string {
  return TOKENS[tokenId] ?? `<?${tokenId}>`;
}

const OP_TOKENS: Record<BooleanOp, number> = { new: T.new, union: T.union, cut: T.cut, intersect: T.intersect };

// ---------------------------------------------------------------------------------------------
// Grammar: one incremental state machine shared by the encoder's self-check, the decoder and
// constrained sampling, so "allowed" and "decodable" can never disagree.

type Slot = 'origin' | 'angle' | 'scale' | 'x' | 'y' | 'radius' | 'sweep' | 'distance';

const SLOT_RANGE: Record<Slot, readonly [number, number]> = {
  origin: [-LINEAR_STEPS, LINEAR_STEPS],
  angle: [-ANGLE_STEPS, ANGLE_STEPS],
  scale: [1, 2 * LINEAR_STEPS],
  x: [-128, 128],
  y: [-128, 128],
  radius: [1, 128],
  sweep: [1, SWEEP_STEPS - 1],
  distance: [-LINEAR_STEPS, LINEAR_STEPS],
};

type Phase = 'bos' | 'op' | 'plane' | 'loopFirst' | 'loopNext' | 'segFirst' | 'segNext' | 'done';

interface PartialSketch {
  op: BooleanOp;
  planeToken: number;
  planeNumbers: number[];
  loops: QLoop[];
  /** Current path being drawn (MOVE … CLOSE). */
  path: { start: IntPoint; segments: QSegment[] } | null;
  extrudeToken: number;
}

/** Incremental grammar state; `push` returns false (and changes nothing) for a token that may not come next. */
export class GrammarCursor {
  private phase: Phase = 'bos';
  private pending: Slot[] = [];
  private numbers: number[] = [];
  /** Structural token the pending numbers belong to. */
  private head = -1;
  private sketch: PartialSketch | null = null;
  private cursorPoint: IntPoint = [0, 0];
  readonly sketches: QSketch[] = [];
  length = 0;

  get finished(): boolean {
    return this.phase === 'done';
  }

  clone(): GrammarCursor {
    const c = new GrammarCursor();
    c.phase = this.phase;
    c.pending = [...this.pending];
    c.numbers = [...this.numbers];
    c.head = this.head;
    c.sketch = this.sketch && {
      ...this.sketch,
      planeNumbers: [...this.sketch.planeNumbers],
      loops: [...this.sketch.loops],
      path: this.sketch.path && { start: this.sketch.path.start, segments: [...this.sketch.path.segments] },
    };
    c.cursorPoint = this.cursorPoint;
    c.sketches.push(...this.sketches);
    c.length = this.length;
    return c;
  }

  /** Whether `tokenId` may come next (ignoring the MAX_TOKENS budget). */
  accepts(tokenId: number): boolean {
    if (this.pending.length > 0) {
      const k = tokenNumber(tokenId);
      if (k === null) return false;
      const slot = this.pending[0];
      const [lo, hi] = SLOT_RANGE[slot];
      if (k < lo || k > hi) return false;
      if (slot === 'distance' && k === 0) return false;
      // A segment must go somewhere: its end may not be the current point.
      if (slot === 'y' && (this.head === T.line || this.head === T.arcCcw || this.head === T.arcCw)) {
        if (this.numbers[0] === this.cursorPoint[0] && k === this.cursorPoint[1]) return false;
      }
      return true;
    }
    switch (this.phase) {
      case 'bos':
        return tokenId === T.bos;
      case 'op':
        if (this.sketches.length === 0) return tokenId === T.new;
        return tokenId === T.union || tokenId === T.cut || tokenId === T.intersect || tokenId === T.eos;
      case 'plane':
        return (tokenId >= T.plane0 && tokenId < T.plane0 + AXIS_PLANES.length) || tokenId === T.planeAngles;
      case 'loopFirst':
        return tokenId === T.circle || tokenId === T.move;
      case 'loopNext':
        return tokenId === T.circle || tokenId === T.move || tokenId === T.extrude || tokenId === T.extrudeBoth || tokenId === T.extrudeTwo;
      case 'segFirst':
        return tokenId === T.line || tokenId === T.arcCcw || tokenId === T.arcCw;
      case 'segNext':
        return tokenId === T.line || tokenId === T.arcCcw || tokenId === T.arcCw || (tokenId === T.close && this.canClose());
      case 'done':
        return false;
    }
  }

  /** A loop needs an area: at least two segments, or one arc (closed by a line). */
  private canClose(): boolean {
    const segments = this.sketch?.path?.segments ?? [];
    return segments.length >= 2 || segments.some((s) => s.kind === 'arc');
  }

  push(tokenId: number): boolean {
    if (!this.accepts(tokenId)) return false;
    this.length++;
    if (this.pending.length > 0) {
      this.numbers.push(tokenNumber(tokenId)!);
      this.pending.shift();
      if (this.pending.length === 0) this.completeHead();
      return true;
    }
    const begin = (slots: Slot[]) => {
      this.head = tokenId;
      this.pending = slots;
      this.numbers = [];
    };
    switch (this.phase) {
      case 'bos':
        this.phase = 'op';
        return true;
      case 'op':
        if (tokenId === T.eos) {
          this.phase = 'done';
          return true;
        }
        this.sketch = {
          op: tokenId === T.new ? 'new' : tokenId === T.union ? 'union' : tokenId === T.cut ? 'cut' : 'intersect',
          planeToken: -1,
          planeNumbers: [],
          loops: [],
          path: null,
          extrudeToken: -1,
        };
        this.phase = 'plane';
        return true;
      case 'plane':
        this.sketch!.planeToken = tokenId;
        begin(tokenId === T.planeAngles ? ['angle', 'angle', 'angle', 'origin', 'origin', 'origin', 'scale'] : ['origin', 'origin', 'origin', 'scale']);
        return true;
      case 'loopFirst':
      case 'loopNext':
        if (tokenId === T.circle) begin(['x', 'y', 'radius']);
        else if (tokenId === T.move) begin(['x', 'y']);
        else if (tokenId === T.extrudeTwo) begin(['distance', 'distance']);
        else begin(['distance']);
        return true;
      case 'segFirst':
      case 'segNext':
        if (tokenId === T.close) {
          const path = this.sketch!.path!;
          this.sketch!.loops.push({ kind: 'path', start: path.start, segments: path.segments });
          this.sketch!.path = null;
          this.phase = 'loopNext';
          return true;
        }
        begin(tokenId === T.line ? ['x', 'y'] : ['x', 'y', 'sweep']);
        return true;
      case 'done':
        return false;
    }
  }

  private completeHead(): void {
    const sketch = this.sketch!;
    const n = this.numbers;
    const head = this.head;
    if (this.phase === 'plane') {
      sketch.planeNumbers = n;
      this.phase = 'loopFirst';
    } else if (head === T.circle) {
      sketch.loops.push({ kind: 'circle', center: [n[0], n[1]], radius: n[2] });
      this.phase = 'loopNext';
    } else if (head === T.move) {
      sketch.path = { start: [n[0], n[1]], segments: [] };
      this.cursorPoint = [n[0], n[1]];
      this.phase = 'segFirst';
    } else if (head === T.line || head === T.arcCcw || head === T.arcCw) {
      const end: IntPoint = [n[0], n[1]];
      sketch.path!.segments.push(head === T.line ? { kind: 'line', end } : { kind: 'arc', end, sweep: n[2], ccw: head === T.arcCcw });
      this.cursorPoint = end;
      this.phase = 'segNext';
    } else {
      const extrude: QExtrude =
        head === T.extrudeTwo ? { kind: 'two', distance: n[0], distance2: n[1] } : { kind: head === T.extrudeBoth ? 'both' : 'one', distance: n[0] };
      const p = sketch.planeNumbers;
      const plane: QPlane =
        sketch.planeToken === T.planeAngles
          ? { kind: 'angles', angles: [p[0], p[1], p[2]], origin: [p[3], p[4], p[5]] }
          : { kind: 'table', index: sketch.planeToken - T.plane0, origin: [p[0], p[1], p[2]] };
      this.sketches.push({ op: sketch.op, plane, scale: p[p.length - 1], loops: sketch.loops, extrude });
      this.sketch = null;
      this.phase = 'op';
    }
    this.head = -1;
    this.numbers = [];
  }

  /** Fewest tokens that still complete the program (through <eos>). */
  minTokensToFinish(): number {
    const afterPending = (): number => {
      switch (this.phase) {
        case 'bos':
          return 1 + 13;
        case 'op':
          return this.sketches.length === 0 ? 13 : 1;
        case 'plane':
          return 5 + 4 + 3;
        case 'loopFirst':
          return 4 + 3;
        case 'loopNext':
          return 3;
        case 'segFirst':
          return 4 + 1 + 3;
        case 'segNext':
          return this.canClose() ? 1 + 3 : 4 + 1 + 3;
        case 'done':
          return 0;
      }
    };
    if (this.pending.length === 0) return afterPending();
    // Pending numbers finish the head token; what follows depends on which head it is.
    const head = this.head;
    let rest: number;
    if (this.phase === 'plane') rest = 4 + 3;
    else if (head === T.circle) rest = 3;
    else if (head === T.move) rest = 4 + 1 + 3;
    else if (head === T.line || head === T.arcCcw || head === T.arcCw) {
      const hasArc = head !== T.line || (this.sketch?.path?.segments ?? []).some((s) => s.kind === 'arc');
      const segments = (this.sketch?.path?.segments.length ?? 0) + 1;
      rest = segments >= 2 || hasArc ? 1 + 3 : 4 + 1 + 3;
    } else rest = 1;
    return this.pending.length + rest;
  }

  /** Mask of tokens that may come next and still leave room to finish within `maxTokens`. */
  allowed(maxTokens = MAX_TOKENS): Uint8Array {
    const mask = new Uint8Array(TOKENS.length);
    const fitsAfter = (t: number) => {
      const next = this.clone();
      next.push(t);
      return next.length + next.minTokensToFinish() <= maxTokens;
    };
    if (this.pending.length > 0) {
      // Every valid number leads to the same structure, so one budget check covers them all.
      let budgetOk: boolean | null = null;
      for (let t = T.number0; t < TOKENS.length; t++) {
        if (!this.accepts(t)) continue;
        budgetOk ??= fitsAfter(t);
        if (!budgetOk) break;
        mask[t] = 1;
      }
      return mask;
    }
    for (let t = 0; t < T.number0; t++) if (this.accepts(t) && fitsAfter(t)) mask[t] = 1;
    return mask;
  }
}

/** Which token ids may come next after `prefix` (a mask: 1 = allowed). */
export function allowedNext(prefix: readonly number[], maxTokens = MAX_TOKENS): Uint8Array {
  const cursor = new GrammarCursor();
  for (let i = 0; i < prefix.length; i++) {
    if (!cursor.push(prefix[i])) throw new Error(`token ${i} (${tokenName(prefix[i])}) is not valid after the tokens before it`);
  }
  return cursor.allowed(maxTokens);
}

// ---------------------------------------------------------------------------------------------
// Tokens ↔ quantised program.

export function programTokens(program: QProgram): number[] {
  const ids: number[] = [T.bos];
  const num = (k: number) => ids.push(numberToken(k));
  for (const sketch of program.sketches) {
    ids.push(OP_TOKENS[sketch.op]);
    const { plane } = sketch;
    if (plane.kind === 'table') ids.push(T.plane0 + plane.index);
    else {
      ids.push(T.planeAngles);
      plane.angles.forEach(num);
    }
    plane.origin.forEach(num);
    num(sketch.scale);
    for (const loop of sketch.loops) {
      if (loop.kind === 'circle') {
        ids.push(T.circle);
        num(loop.center[0]);
        num(loop.center[1]);
        num(loop.radius);
        continue;
      }
      ids.push(T.move);
      num(loop.start[0]);
      num(loop.start[1]);
      for (const segment of loop.segments) {
        ids.push(segment.kind === 'line' ? T.line : segment.ccw ? T.arcCcw : T.arcCw);
        num(segment.end[0]);
        num(segment.end[1]);
        if (segment.kind === 'arc') num(segment.sweep);
      }
      ids.push(T.close);
    }
    const { extrude } = sketch;
    ids.push(extrude.kind === 'two' ? T.extrudeTwo : extrude.kind === 'both' ? T.extrudeBoth : T.extrude);
    num(extrude.distance);
    if (extrude.kind === 'two') num(extrude.distance2);
  }
  ids.push(T.eos);
  return ids;
}

/** Reads the longest grammatical prefix of `ids` into a program. */
export function tokensToProgram(ids: readonly number[]): { program: QProgram; complete: boolean } {
  const cursor = new GrammarCursor();
  // Model output often omits the <bos> it was primed with.
  const sequence = ids[0] === T.bos ? ids : [T.bos, ...ids];
  let valid = true;
  for (const tokenId of sequence) {
    if (cursor.finished) {
      if (tokenId === T.pad) continue;
      valid = false;
      break;
    }
    if (!cursor.push(tokenId)) {
      valid = false;
      break;
    }
  }
  return { program: { sketches: cursor.sketches }, complete: valid && cursor.finished };
}

// ---------------------------------------------------------------------------------------------
// Quantisation: parsed floats → grid integers.

/** Round half away from zero, never −0. */
function roundInt(x: number): number {
  const r = Math.sign(x) * Math.round(Math.abs(x));
  return r === 0 ? 0 : r;
}

const EXACT = 1e-6;
const MATCH = 1e-6;

function normalize(v: Vec3, what: string, line: number): Vec3 {
  const length = Math.hypot(...v);
  if (!(length > 1e-12)) throw new CadError('syntax', `line ${line}: the plane ${what} is a zero vector`, line);
  return [v[0] / length, v[1] / length, v[2] / length];
}

function tableIndex(frame: Frame): number {
  const close = (a: Vec3, b: Vec3) => a.every((v, i) => Math.abs(v - b[i]) <= MATCH);
  return AXIS_PLANES.findIndex((p) => close(p.frame.normal, frame.normal) && close(p.frame.xDir, frame.xDir));
}

function quantizeLinear(value: number, what: string, line: number, nonZero = false): number {
  let k = roundInt(value * LINEAR_STEPS);
  if (nonZero && k === 0) k = value < 0 ? -1 : 1;
  if (Math.abs(k) > LINEAR_STEPS) {
    throw new CadError('syntax', `line ${line}: ${what} ${value} is outside the GenCAD range [-1, 1]`, line);
  }
  return k;
}

function quantizePlane(plane: ParsedPlane, line: number): QPlane {
  const origin = plane.origin.map((v) => quantizeLinear(v, 'plane origin', line)) as [number, number, number];
  const normal = normalize(plane.normal, 'normal', line);
  const rawX = normalize(plane.xDir, 'xDir', line);
  // OCCT (gp_Ax3) keeps only the part of xDir perpendicular to the normal.
  const along = dot(rawX, normal);
  const xDir = normalize([rawX[0] - along * normal[0], rawX[1] - along * normal[1], rawX[2] - along * normal[2]], 'xDir', line);
  const direct = tableIndex({ xDir, normal });
  if (direct >= 0) return { kind: 'table', index: direct, origin };

  const theta = Math.acos(Math.max(-1, Math.min(1, normal[2])));
  const thetaSteps = roundInt((theta / Math.PI) * ANGLE_STEPS);
  const phi = Math.sin(theta) < 1e-9 ? 0 : Math.atan2(normal[1], normal[0]);
  const phiSteps = roundInt((phi / Math.PI) * ANGLE_STEPS);
  // γ measured against the reference axes of the quantised (θ, φ).
  const ref = frameFromAngles(thetaSteps, phiSteps, 0);
  const refY = cross(ref.normal, ref.xDir);
  const gamma = Math.atan2(dot(xDir, refY), dot(xDir, ref.xDir));
  const gammaSteps = roundInt((gamma / Math.PI) * ANGLE_STEPS);
  const angles: [number, number, number] = [thetaSteps, phiSteps, gammaSteps];
  const snapped = tableIndex(frameFromAngles(...angles));
  if (snapped >= 0) return { kind: 'table', index: snapped, origin };
  return { kind: 'angles', angles, origin };
}

const UNITS_PER_SCALE = LINEAR_STEPS * PROFILE_UNITS;

/**
 * The sketch size m (coordinates in units of (m/128)/95): the smallest m that puts every
 * coordinate exactly on the grid within ±95 units (DeepCAD data always has one), else the
 * smallest m that fits ±95 units, so the rounding error stays below (m/128)/190.
 */
function chooseScale(values: number[], line: number): number {
  const maxAbs = Math.max(...values.map(Math.abs));
  const fits = (m: number, limit: number) => (maxAbs * UNITS_PER_SCALE) / m <= limit + EXACT;
  for (let m = 1; m <= 2 * LINEAR_STEPS; m++) {
    if (!fits(m, PROFILE_UNITS)) continue;
    if (values.every((v) => Math.abs((v * UNITS_PER_SCALE) / m - Math.round((v * UNITS_PER_SCALE) / m)) <= EXACT)) return m;
  }
  const m = Math.max(1, Math.ceil(maxAbs * LINEAR_STEPS - EXACT));
  if (m <= 2 * LINEAR_STEPS) return m;
  if (fits(2 * LINEAR_STEPS, SLOT_RANGE.x[1])) return 2 * LINEAR_STEPS;
  throw new CadError('syntax', `line ${line}: sketch coordinates reach ${maxAbs}, beyond the GenCAD range`, line);
}

function quantizeSketch(sketch: ParsedSketch): QSketch {
  const { line } = sketch;
  const values: number[] = [];
  for (const loop of sketch.loops) {
    if (loop.kind === 'circle') values.push(...loop.center, loop.radius);
    else values.push(...loop.start, ...loop.segments.flatMap((s) => s.end));
  }
  const scale = chooseScale(values, line);
  const unit = (v: number) => roundInt((v * UNITS_PER_SCALE) / scale);
  const point = (p: readonly [number, number]): IntPoint => [unit(p[0]), unit(p[1])];
  const loops: QLoop[] = [];
  for (const loop of sketch.loops) {
    const q = quantizeLoop(loop, point, unit);
    if (q) loops.push(q);
  }
  if (loops.length === 0) {
    throw new CadError('syntax', `line ${line}: every loop of this sketch is smaller than the quantisation step`, line);
  }
  return {
    op: sketch.op,
    plane: quantizePlane(sketch.plane, line),
    scale,
    loops,
    extrude: quantizeExtrude(sketch.extrude, line),
  };
}

function quantizeLoop(loop: ParsedLoop, point: (p: readonly [number, number]) => IntPoint, unit: (v: number) => number): QLoop | null {
  if (loop.kind === 'circle') return { kind: 'circle', center: point(loop.center), radius: Math.max(1, unit(loop.radius)) };
  const start = point(loop.start);
  const segments: QSegment[] = [];
  let current = start;
  let currentFloat = loop.start;
  for (const segment of loop.segments) {
    const end = point(segment.end);
    const before = currentFloat;
    currentFloat = segment.end;
    if (end[0] === current[0] && end[1] === current[1]) continue; // collapsed below the grid
    let quantized: QSegment = { kind: 'line', end };
    if (segment.kind === 'arc') {
      const arc = arcSweep(before, segment.mid, segment.end);
      const sweep = arc ? Math.min(SWEEP_STEPS - 1, roundInt((arc.sweep / (2 * Math.PI)) * SWEEP_STEPS)) : 0;
      if (arc && sweep > 0) quantized = { kind: 'arc', end, sweep, ccw: arc.ccw };
    }
    segments.push(quantized);
    current = end;
  }
  const closes = segments.length >= 2 || segments.some((s) => s.kind === 'arc');
  return closes ? { kind: 'path', start, segments } : null;
}

function quantizeExtrude(extrude: ParsedExtrude, line: number): QExtrude {
  const d = (v: number) => quantizeLinear(v, 'extrude distance', line, true);
  if (extrude.kind === 'two') return { kind: 'two', distance: d(extrude.distance), distance2: d(extrude.distance2) };
  return { kind: extrude.kind, distance: d(extrude.distance) };
}

/** GenCAD-Code text → quantised program (throws CadError('syntax') naming the line otherwise). */
export function quantizeProgram(code: string): QProgram {
  return { sketches: parseGenCad(code).map(quantizeSketch) };
}

// ---------------------------------------------------------------------------------------------
// The public contract.

/** GenCAD-style code → token ids (with <bos>/<eos>); throws a CadError naming the line when outside the grammar. */
export function encodeProgram(code: string): number[] {
  return programTokens(quantizeProgram(code));
}

/**
 * Token ids → GenCAD-style program text. Tolerant: stops at the first token the grammar does not
 * allow (or the end) and prints the complete sketches before it; `complete` says whether the
 * sequence was a whole valid program (trailing <pad>s are fine).
 */
export function decodeTokens(ids: readonly number[]): { code: string; complete: boolean } {
  const { program, complete } = tokensToProgram(ids);
  return { code: printProgram(program), complete };
}

/** The vocabulary and grammar facts the Python training side and model cards need. */
export function vocabularyJson(): string {
  return JSON.stringify(
    {
      version: VOCAB_VERSION,
      size: vocabulary.size,
      pad: vocabulary.pad,
      bos: vocabulary.bos,
      eos: vocabulary.eos,
      maxTokens: MAX_TOKENS,
      numberTokens: { firstId: T.number0, min: NUMBER_MIN, max: NUMBER_MAX },
      slotRanges: SLOT_RANGE,
      grammar: [
        'program := <bos> sketch+ <eos>',
        'sketch := (NEW first | UNION | CUT | INTERSECT) plane loop+ extrude',
        'plane := PLANE_<axes> ox oy oz scale | PLANE_ANGLES theta phi gamma ox oy oz scale',
        'loop := CIRCLE x y r | MOVE x y segment+ CLOSE',
        'segment := LINE x y | ARC_CCW x y sweep | ARC_CW x y sweep',
        'extrude := EXTRUDE d | EXTRUDE_BOTH d | EXTRUDE_TWO d1 d2',
        'units: origin/distance k/128; angles k*pi/128; coordinates j*(scale/128)/95; sweep k*2pi/256',
      ],
      tokens: vocabulary.tokens,
    },
    null,
    1,
  );
}
