/**
 * Procedural GenCAD-Code programs: random parts built the way DeepCAD models are (a base
 * sketch + extrude, then bosses, ribs, pockets and holes added or cut), quantised exactly on the
 * DeepCAD grid and normalised into [-0.75, 0.75]³. Every program is valid by construction:
 * simple loops, holes strictly inside their outer loop, non-zero extrudes, and each later
 * feature contains a point that is known to lie in the material built so far (so a union really
 * touches the part and a cut really removes something). Training data for the bundled model.
 */
import {
  AXIS_PLANES,
  LINEAR_STEPS,
  PROFILE_UNITS,
  cross,
  dot,
  planeFrame,
  printProgram,
  type QExtrude,
  type QLoop,
  type QPlane,
  type QProgram,
  type QSketch,
  type Vec3,
} from './tokenizer-ir';
import { MAX_TOKENS, programTokens, quantizeProgram } from './tokenizer';
import {
  between,
  bbox,
  distanceToPolygon,
  holesFor,
  insidePolygon,
  interiorPoint,
  intBetween,
  outerProfile,
  pick,
  polyline,
  profileLoop,
  type OuterKind,
  type Profile,
  type Pt,
  type Rng,
} from './synthetic-shapes';

export type { Rng } from './synthetic-shapes';

/** The seeded PRNG the generator draws from (shared with the Chamfer sampler). */
export { mulberry32 } from '../geometry/random';

export interface GeneratorOptions {
  /** Most sketches in one program (default 6; GenCAD data is mostly 1–4). */
  maxSketches?: number;
  /** Token budget of the encoded program (default MAX_TOKENS). */
  maxTokens?: number;
}

/** Half-size of the normalised part: every coordinate lies in [-LIMIT, LIMIT]. */
const LIMIT = 0.75;
const GRID = 1 / LINEAR_STEPS;
const UNITS = LINEAR_STEPS * PROFILE_UNITS;

interface Frame3 {
  x: Vec3;
  y: Vec3;
  n: Vec3;
}

interface Feature {
  plane: QPlane;
  frame: Frame3;
  origin: Vec3;
  /** World length of one sketch unit. */
  unit: number;
  outer: Pt[];
  holes: Pt[][];
  /** Extent along the normal, relative to the plane origin. */
  w0: number;
  w1: number;
  additive: boolean;
  min: Vec3;
  max: Vec3;
}

const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
const scaled = (a: Vec3, s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s];
const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const snap = (v: number) => Math.round(v * LINEAR_STEPS) / LINEAR_STEPS;
/** Grid steps of a world value; never −0 (it would print as "-0.0"). */
const steps = (v: number) => Math.round(v * LINEAR_STEPS) + 0;

function frameOf(plane: QPlane): Frame3 {
  const f = planeFrame(plane);
  // CadQuery: yDir = zDir × xDir.
  return { x: f.xDir, y: cross(f.normal, f.xDir), n: f.normal };
}

function worldPoint(frame: Frame3, origin: Vec3, u: number, v: number, w: number): Vec3 {
  return add(origin, add(scaled(frame.x, u), add(scaled(frame.y, v), scaled(frame.n, w))));
}

/** Axis-aligned box of an extruded profile (profile in units) relative to its plane origin. */
function relativeBox(frame: Frame3, unit: number, outer: Pt[], w0: number, w1: number): { min: Vec3; max: Vec3 } {
  const b = bbox(outer);
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (const u of [b.min[0], b.max[0]])
    for (const v of [b.min[1], b.max[1]])
      for (const w of [w0, w1]) {
        const p = worldPoint(frame, [0, 0, 0], u * unit, v * unit, w);
        for (let a = 0; a < 3; a++) {
          min[a] = Math.min(min[a], p[a]);
          max[a] = Math.max(max[a], p[a]);
        }
      }
  return { min, max };
}

function inBounds(min: Vec3, max: Vec3): boolean {
  return min.every((v) => v >= -LIMIT - 1e-9) && max.every((v) => v <= LIMIT + 1e-9);
}

function insideBox(p: Vec3, min: Vec3, max: Vec3, pad: number): boolean {
  return p.every((v, a) => v >= min[a] - pad && v <= max[a] + pad);
}

/** Log-uniform integer in [lo, hi]. */
function logInt(rng: Rng, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, Math.round(Math.exp(between(rng, Math.log(lo), Math.log(hi + 0.999))) - 0.5)));
}

const OUTER_WEIGHTS: Record<OuterKind, number> = {
  rect: 0.4,
  circle: 0.25,
  notched: 0.12,
  rounded: 0.06,
  slot: 0.04,
  arched: 0.05,
  chamfered: 0.03,
  regular: 0.04,
  star: 0.04,
};

function randomOuter(rng: Rng, weights: Partial<Record<OuterKind, number>> = OUTER_WEIGHTS): Profile | null {
  const kinds = Object.keys(weights) as OuterKind[];
  const kind = pick(
    rng,
    kinds,
    kinds.map((k) => weights[k]!),
  );
  const aspect = kind === 'rect' && rng() < 0.25 ? between(rng, 0.03, 0.3) : between(rng, 0.3, 1);
  return outerProfile(rng, kind, PROFILE_UNITS, aspect);
}

function loopsOf(outer: Profile, holes: Profile[]): QLoop[] {
  return [profileLoop(outer), ...holes.map(profileLoop)];
}

function basePlane(rng: Rng): QPlane {
  const origin: [number, number, number] = [0, 0, 0];
  if (rng() < 0.025) {
    // A slightly tilted frame, as DeepCAD's quantised angles sometimes give.
    const base = AXIS_PLANES[intBetween(rng, 0, 3)].angles;
    const angles = base.map((a) => a + (rng() < 0.6 ? pick(rng, [-3, -2, -1, 1, 2, 3]) : 0)) as [number, number, number];
    if (angles.some((a, i) => a !== base[i])) return { kind: 'angles', angles, origin };
  }
  const weights = AXIS_PLANES.map((_, i) => [0.44, 0.4, 0.1, 0.03][i] ?? 0.03 / 20);
  return {
    kind: 'table',
    index: pick(
      rng,
      AXIS_PLANES.map((_, i) => i),
      weights,
    ),
    origin,
  };
}

function withOrigin(plane: QPlane, origin: Vec3): QPlane {
  const k = origin.map(steps) as [number, number, number];
  return plane.kind === 'table' ? { ...plane, origin: k } : { ...plane, origin: k };
}

function extrudeRange(extrude: QExtrude): [number, number] {
  const d = extrude.distance * GRID;
  if (extrude.kind === 'both') return [-Math.abs(d), Math.abs(d)];
  if (extrude.kind === 'two') {
    const d2 = extrude.distance2 * GRID;
    return [Math.min(d, d2, 0), Math.max(d, d2, 0)];
  }
  return d > 0 ? [0, d] : [d, 0];
}

function baseExtrude(rng: Rng): QExtrude {
  const k = rng() < 0.26 ? 96 : rng() < 0.5 ? logInt(rng, 1, 72) : intBetween(rng, 8, 72);
  const r = rng();
  if (r < 0.1) return { kind: 'both', distance: Math.max(1, Math.min(64, Math.round(k / 2))) * (rng() < 0.2 ? -1 : 1) };
  if (r < 0.17 && k >= 2) {
    const first = intBetween(rng, 1, k - 1);
    return { kind: 'two', distance: first, distance2: -(k - first) };
  }
  return { kind: 'one', distance: rng() < 0.1 ? -k : k };
}

/** The first sketch: the main body, placed so the part reaches the ±0.75 normalisation box. */
function makeBase(rng: Rng): { sketch: QSketch; feature: Feature } | null {
  const outer = randomOuter(rng);
  if (!outer) return null;
  const holeCount = rng() < 0.36 ? pick(rng, [1, 2, 4], [0.5, 0.3, 0.2]) : 0;
  const holes = holeCount > 0 ? holesFor(rng, outer, holeCount) : [];
  const r = rng();
  const scale = r < 0.45 ? 192 : r < 0.7 ? 96 : intBetween(rng, 24, 192);
  const unit = scale / UNITS;
  const extrude = baseExtrude(rng);
  const [w0, w1] = extrudeRange(extrude);
  let plane = basePlane(rng);
  const frame = frameOf(plane);
  const outline = polyline(outer);
  const rel = relativeBox(frame, unit, outline, w0, w1);
  const extent = rel.max.map((v, a) => v - rel.min[a]);
  if (extent.some((e) => e > 2 * LIMIT + 1e-9)) return null;
  const longest = extent.indexOf(Math.max(...extent));
  const origin: Vec3 = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    const L = extent[a];
    const policy =
      a === longest
        ? pick(rng, ['low', 'zero', 'negative', 'center'], [0.45, 0.25, 0.2, 0.1])
        : pick(rng, ['center', 'zero', 'low', 'negative'], [0.45, 0.35, 0.1, 0.1]);
    let targetMin: number;
    if (L >= 2 * LIMIT - 1e-9 || policy === 'low') targetMin = -LIMIT;
    else if (policy === 'zero' && L <= LIMIT) targetMin = 0;
    else if (policy === 'negative' && L <= LIMIT) targetMin = -L;
    else targetMin = -L / 2;
    // Keep the origin on the grid and the part inside the box.
    let o = Math.ceil((targetMin - rel.min[a]) * LINEAR_STEPS - 1e-9) / LINEAR_STEPS;
    while (o + rel.max[a] > LIMIT + 1e-9) o -= GRID;
    if (o + rel.min[a] < -LIMIT - 1e-9) return null;
    origin[a] = o;
  }
  plane = withOrigin(plane, origin);
  const sketch: QSketch = { op: 'new', plane, scale, loops: loopsOf(outer, holes), extrude };
  const feature: Feature = {
    plane,
    frame,
    origin,
    unit,
    outer: outline,
    holes: holes.map((h) => polyline(h)),
    w0,
    w1,
    additive: true,
    min: add(origin, rel.min),
    max: add(origin, rel.max),
  };
  return { sketch, feature };
}

/** Whether a world point lies in no cut made so far (conservative: the cuts' boxes). */
function notCutAway(p: Vec3, features: Feature[]): boolean {
  return features.every((f) => f.additive || !insideBox(p, f.min, f.max, 2 * GRID));
}

/** Local (u, v in units; w in world) coordinates of a world point in a feature's frame. */
function toLocal(frame: Frame3, origin: Vec3, unit: number, p: Vec3): [number, number, number] {
  const d = sub(p, origin);
  return [dot(d, frame.x) / unit, dot(d, frame.y) / unit, dot(d, frame.n)];
}

function sizeToScale(worldSize: number): number {
  return Math.max(2, Math.min(2 * LINEAR_STEPS, Math.round(worldSize * LINEAR_STEPS)));
}

/**
 * A boss or pocket on the top or bottom face of feature F, in F's frame: the profile contains an
 * anchor point of F's face; a union grows outward, a cut goes inward and stays inside F's outline.
 */
function faceFeature(rng: Rng, f: Feature, op: 'union' | 'cut', features: Feature[]): { sketch: QSketch; feature: Feature } | null {
  const top = rng() < 0.85;
  const wFace = top ? f.w1 : f.w0;
  const anchorUV = interiorPoint(rng, f.outer, f.holes, Math.max(1.5, (3 * GRID) / f.unit));
  if (!anchorUV) return null;
  const anchor = worldPoint(f.frame, f.origin, anchorUV[0] * f.unit, anchorUV[1] * f.unit, wFace);
  if (!notCutAway(anchor, features)) return null;
  const fb = bbox(f.outer);
  const fSize = Math.max(fb.max[0] - fb.min[0], fb.max[1] - fb.min[1]) * f.unit;
  const worldSize = fSize * (op === 'union' ? between(rng, 0.15, 1) : between(rng, 0.08, 0.6));
  const scale = sizeToScale(worldSize);
  const unit = scale / UNITS;
  const outer = randomOuter(
    rng,
    op === 'union'
      ? { rect: 0.45, circle: 0.3, notched: 0.08, rounded: 0.06, slot: 0.04, regular: 0.04, arched: 0.03 }
      : { circle: 0.45, rect: 0.35, slot: 0.08, rounded: 0.06, regular: 0.03, star: 0.03 },
  );
  if (!outer) return null;
  const holes = op === 'union' && rng() < 0.15 ? holesFor(rng, outer, 1) : [];
  const outline = polyline(outer);
  const holeLines = holes.map((h) => polyline(h));
  const p = interiorPoint(rng, outline, holeLines, Math.max(1.5, (2 * GRID) / unit));
  if (!p) return null;
  // Offset inside F's plane, on the grid so the new origin stays on it.
  const du = snap(anchorUV[0] * f.unit - p[0] * unit);
  const dv = snap(anchorUV[1] * f.unit - p[1] * unit);
  const general = f.plane.kind === 'angles';
  // On a tilted frame the snapped origin may leave the face: start a little inside instead.
  const wStart = general ? wFace + (top ? -1 : 1) * 3 * GRID : wFace;
  let origin = worldPoint(f.frame, f.origin, du, dv, wStart);
  origin = origin.map(snap) as Vec3;
  const local = toLocal(f.frame, origin, unit, anchor);
  if (!insidePolygon([local[0], local[1]], outline) || holeLines.some((h) => insidePolygon([local[0], local[1]], h))) return null;
  const thickness = Math.round((f.w1 - f.w0) * LINEAR_STEPS);
  let distance: number;
  if (op === 'union') {
    distance = logInt(rng, 2, 96) + (general ? 3 : 0);
    if (!top) distance = -distance;
  } else {
    const depth = thickness <= 1 || rng() < 0.6 ? thickness : intBetween(rng, 1, thickness - 1);
    distance = top ? -depth : depth;
  }
  if (distance === 0) return null;
  const extrude: QExtrude = { kind: 'one', distance };
  const [w0, w1] = extrudeRange(extrude);
  if (op === 'cut') {
    // A pocket strictly inside F's outline cannot split the part.
    const margin = 1;
    const inside = outline.every((q) => {
      const world = worldPoint(f.frame, origin, q[0] * unit, q[1] * unit, 0);
      const [u, v] = toLocal(f.frame, f.origin, f.unit, world);
      return insidePolygon([u, v], f.outer) && distanceToPolygon([u, v], f.outer) >= margin;
    });
    if (!inside) return null;
  }
  const rel = relativeBox(f.frame, unit, outline, w0, w1);
  const min = add(origin, rel.min);
  const max = add(origin, rel.max);
  if (op === 'union' && !inBounds(min, max)) return null;
  const plane = withOrigin(f.plane, origin);
  return {
    sketch: { op, plane, scale, loops: loopsOf(outer, holes), extrude },
    feature: { plane, frame: f.frame, origin, unit, outer: outline, holes: holeLines, w0, w1, additive: op === 'union', min, max },
  };
}

/**
 * A rib, boss, slot or side hole on a plane perpendicular to feature F, through an anchor point
 * inside F's volume.
 */
function crossFeature(rng: Rng, f: Feature, op: 'union' | 'cut', features: Feature[]): { sketch: QSketch; feature: Feature } | null {
  if (f.plane.kind !== 'table') return null;
  const thickness = f.w1 - f.w0;
  if (thickness < 4 * GRID) return null;
  const candidates = AXIS_PLANES.map((_, i) => i).filter((i) => Math.abs(dot(AXIS_PLANES[i].frame.normal, f.frame.n)) < 1e-6);
  const index = pick(
    rng,
    candidates,
    candidates.map((i) => (i < 4 ? 5 : 0.05)),
  );
  const anchorUV = interiorPoint(rng, f.outer, f.holes, Math.max(1.5, (3 * GRID) / f.unit));
  if (!anchorUV) return null;
  const anchor = worldPoint(f.frame, f.origin, anchorUV[0] * f.unit, anchorUV[1] * f.unit, f.w0 + between(rng, 0.3, 0.7) * thickness);
  if (!notCutAway(anchor, features)) return null;
  const frame = frameOf({ kind: 'table', index, origin: [0, 0, 0] });
  const extent = sub(f.max, f.min);
  const worldSize =
    op === 'union' ? between(rng, 0.1, 0.9) : Math.max(3 * GRID, between(rng, 0.05, 0.45) * Math.min(...extent.filter((_, a) => Math.abs(frame.n[a]) < 0.5)));
  const scale = sizeToScale(worldSize);
  const unit = scale / UNITS;
  const outer = randomOuter(
    rng,
    op === 'union' ? { rect: 0.5, circle: 0.25, notched: 0.1, arched: 0.05, rounded: 0.05, chamfered: 0.05 } : { circle: 0.5, rect: 0.35, slot: 0.15 },
  );
  if (!outer) return null;
  const outline = polyline(outer);
  const p = interiorPoint(rng, outline, [], Math.max(1.5, (3 * GRID) / unit));
  if (!p) return null;
  let extrude: QExtrude;
  let wOffset: number;
  if (op === 'union' ? rng() < 0.8 : rng() < 0.4) {
    const k = logInt(rng, op === 'union' ? 3 : 4, op === 'union' ? 96 : 128) * (rng() < 0.3 ? -1 : 1);
    extrude = { kind: 'one', distance: k };
    wOffset = k * GRID * between(rng, 0.25, 0.75);
  } else {
    const k = logInt(rng, 3, 64) * (rng() < 0.15 ? -1 : 1);
    extrude = { kind: 'both', distance: k };
    wOffset = Math.abs(k) * GRID * between(rng, -0.5, 0.5);
  }
  let origin = sub(anchor, add(scaled(frame.x, p[0] * unit), add(scaled(frame.y, p[1] * unit), scaled(frame.n, wOffset))));
  origin = origin.map(snap) as Vec3;
  if (origin.some((v) => Math.abs(v) > 1)) return null;
  const [w0, w1] = extrudeRange(extrude);
  const local = toLocal(frame, origin, unit, anchor);
  if (!insidePolygon([local[0], local[1]], outline) || distanceToPolygon([local[0], local[1]], outline) < 0.5) return null;
  if (local[2] < w0 + GRID || local[2] > w1 - GRID) return null;
  const rel = relativeBox(frame, unit, outline, w0, w1);
  const min = add(origin, rel.min);
  const max = add(origin, rel.max);
  if (op === 'union' && !inBounds(min, max)) return null;
  const plane: QPlane = { kind: 'table', index, origin: origin.map(steps) as [number, number, number] };
  return {
    sketch: { op, plane, scale, loops: [profileLoop(outer)], extrude },
    feature: { plane, frame, origin, unit, outer: outline, holes: [], w0, w1, additive: op === 'union', min, max },
  };
}

function sketchCount(rng: Rng, max: number): number {
  return Math.min(max, pick(rng, [1, 2, 3, 4, 5, 6], [0.52, 0.2, 0.13, 0.09, 0.03, 0.03]));
}

/** A random GenCAD program in its quantised form (tokenize with programTokens, print with printProgram). */
export function generateQProgram(rng: Rng, options: GeneratorOptions = {}): QProgram {
  const maxSketches = options.maxSketches ?? 6;
  const maxTokens = options.maxTokens ?? MAX_TOKENS;
  for (;;) {
    const base = makeBase(rng);
    if (!base) continue;
    const sketches: QSketch[] = [base.sketch];
    const features: Feature[] = [base.feature];
    const target = sketchCount(rng, maxSketches);
    for (let i = 1; i < target; i++) {
      for (let attempt = 0; attempt < 25; attempt++) {
        const op = rng() < 0.64 ? 'union' : 'cut';
        const additive = features.filter((f) => f.additive);
        const f = rng() < 0.6 ? additive[0] : pick(rng, additive);
        const made = rng() < 0.6 || f.plane.kind !== 'table' ? faceFeature(rng, f, op, features) : crossFeature(rng, f, op, features);
        if (!made) continue;
        const trial = [...sketches, made.sketch];
        if (programTokens({ sketches: trial }).length > maxTokens) break;
        sketches.push(made.sketch);
        features.push(made.feature);
        break;
      }
    }
    if (programTokens({ sketches }).length > maxTokens) continue;
    // One shape can have several integer spellings (a sketch size and its multiples, equivalent
    // angle triples): return the canonical one the tokenizer reads back from the text.
    return quantizeProgram(printProgram({ sketches }));
  }
}

/** A random GenCAD-Code program text (result variable `solid`). */
export function generateProgram(rng: Rng, options: GeneratorOptions = {}): string {
  return printProgram(generateQProgram(rng, options));
}
