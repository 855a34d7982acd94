/**
 * Point membership against a closed triangle mesh, and the consistency check every IoU passes
 * before it is reported `ok` (#16: a boolean that fails silently must not pass as IoU 0).
 *
 * ## The classifier
 * Ray parity along +x: a point is inside when a ray from it crosses the surface an odd number of
 * times. Triangles are bucketed by their (y, z) bounding box in a uniform grid, so a query tests
 * only the triangles of one cell. The query points are random doubles, so a ray through an edge or
 * a vertex (where parity would count twice) has probability zero; the rare miss only adds noise,
 * which the tolerance absorbs. Nothing here shares code with OCCT's or manifold's booleans: it is
 * an independent witness.
 *
 * ## The check (`checkIou`)
 * In the protocol's common frame, N points (default 4,096, seeded) uniform in the box around both
 * shapes are classified against both; the boolean's numbers must agree with the counts:
 * - bounds: −ε·V∪ ≤ V∩ ≤ min(VA, VB)·(1 + ε), ε = 1e-6 (a boolean's rounding);
 * - the IoU: |IoU − n(A∧B)/n(A∨B)| ≤ 4σ + δ, σ = √((p(1−p) + 1/n∪)/n∪) with p the boolean's IoU
 *   (the binomial spread of the estimate given the union's count, floored at 1/n∪ so p = 0 or 1 is
 *   not a zero-width test), δ = 0.02 for the tessellation the points are classified against (its
 *   chordal deviation, 1e-3 of the extent, can misplace points in the thin skin along curved faces);
 * - each volume: |V − n(A)/N·V_box| ≤ 4σ_V·V_box + δ·V, likewise, so a shape measured with the wrong
 *   sign or scale cannot pass either.
 * A failure makes the result `inconsistent` with both numbers, never `ok`.
 */
import { invertAffine, type Affine } from './linalg';
import { mulberry32 } from './random';
import type { TriangleMesh } from './triangle-mesh';

export class MeshClassifier {
  private readonly p: Float64Array;
  private readonly t: Uint32Array;
  private readonly y0: number;
  private readonly z0: number;
  private readonly cy: number;
  private readonly cz: number;
  private readonly ny: number;
  private readonly nz: number;
  private readonly start: Uint32Array;
  private readonly items: Uint32Array;
  readonly bbox: [number, number, number, number, number, number];

  constructor(mesh: TriangleMesh) {
    this.p = mesh.positions;
    this.t = mesh.indices;
    const p = this.p;
    const b: [number, number, number, number, number, number] = [Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity];
    for (let i = 0; i < p.length; i += 3) {
      for (let k = 0; k < 3; k++) {
        if (p[i + k] < b[k]) b[k] = p[i + k];
        if (p[i + k] > b[k + 3]) b[k + 3] = p[i + k];
      }
    }
    this.bbox = b;
    const triangles = this.t.length / 3;
    const side = Math.max(1, Math.min(512, Math.ceil(Math.sqrt(triangles / 2))));
    const sy = b[4] - b[1] || 1;
    const sz = b[5] - b[2] || 1;
    // Square-ish cells: more cells along the longer side.
    const ratio = Math.sqrt(sy / sz);
    this.ny = Math.max(1, Math.min(1024, Math.round(side * ratio)));
    this.nz = Math.max(1, Math.min(1024, Math.round(side / ratio)));
    this.y0 = b[1];
    this.z0 = b[2];
    this.cy = sy / this.ny;
    this.cz = sz / this.nz;
    const counts = new Uint32Array(this.ny * this.nz + 1);
    const range = (tri: number, visit: (cell: number) => void) => {
      const a = 3 * this.t[3 * tri],
        c1 = 3 * this.t[3 * tri + 1],
        c2 = 3 * this.t[3 * tri + 2];
      const ylo = Math.min(p[a + 1], p[c1 + 1], p[c2 + 1]);
      const yhi = Math.max(p[a + 1], p[c1 + 1], p[c2 + 1]);
      const zlo = Math.min(p[a + 2], p[c1 + 2], p[c2 + 2]);
      const zhi = Math.max(p[a + 2], p[c1 + 2], p[c2 + 2]);
      const i0 = this.cellY(ylo),
        i1 = this.cellY(yhi),
        j0 = this.cellZ(zlo),
        j1 = this.cellZ(zhi);
      for (let i = i0; i <= i1; i++) for (let j = j0; j <= j1; j++) visit(i * this.nz + j);
    };
    for (let tri = 0; tri < triangles; tri++) range(tri, (c) => counts[c + 1]++);
    for (let c = 0; c < this.ny * this.nz; c++) counts[c + 1] += counts[c];
    this.start = counts;
    this.items = new Uint32Array(counts[this.ny * this.nz]);
    const fill = counts.slice(0, this.ny * this.nz);
    for (let tri = 0; tri < triangles; tri++) range(tri, (c) => (this.items[fill[c]++] = tri));
  }

  private cellY(y: number): number {
    return Math.max(0, Math.min(this.ny - 1, Math.floor((y - this.y0) / this.cy)));
  }
  private cellZ(z: number): number {
    return Math.max(0, Math.min(this.nz - 1, Math.floor((z - this.z0) / this.cz)));
  }

  /** Whether (x, y, z) lies inside the closed mesh. */
  contains(x: number, y: number, z: number): boolean {
    const b = this.bbox;
    if (x < b[0] || x > b[3] || y < b[1] || y > b[4] || z < b[2] || z > b[5]) return false;
    const cell = this.cellY(y) * this.nz + this.cellZ(z);
    const p = this.p;
    const t = this.t;
    let crossings = 0;
    for (let k = this.start[cell], end = this.start[cell + 1]; k < end; k++) {
      const tri = this.items[k];
      const a = 3 * t[3 * tri],
        c1 = 3 * t[3 * tri + 1],
        c2 = 3 * t[3 * tri + 2];
      // Skip triangles wholly behind the point (the ray goes to +x).
      if (p[a] < x && p[c1] < x && p[c2] < x) continue;
      const ay = p[a + 1] - y,
        az = p[a + 2] - z;
      const by = p[c1 + 1] - y,
        bz = p[c1 + 2] - z;
      const cy = p[c2 + 1] - y,
        cz = p[c2 + 2] - z;
      // Signed areas of the (y, z) projection seen from the point: all one sign = the ray hits.
      const w0 = by * cz - bz * cy;
      const w1 = cy * az - cz * ay;
      const w2 = ay * bz - az * by;
      if (!((w0 > 0 && w1 > 0 && w2 > 0) || (w0 < 0 && w1 < 0 && w2 < 0))) continue;
      const sum = w0 + w1 + w2;
      const hitX = (w0 * p[a] + w1 * p[c1] + w2 * p[c2]) / sum;
      if (hitX > x) crossings++;
    }
    return (crossings & 1) === 1;
  }
}

/** A shape as the check sees it: its classifier and the map from the common frame back to it. */
export interface CheckedShape {
  classifier: MeshClassifier;
  /** The shape's map into the common frame (the protocol's normalisation). */
  toCommon: Affine;
}

export interface ConsistencyCheck {
  /** Whether the boolean's numbers agree with the point estimate within the tolerance. */
  ok: boolean;
  /** The point estimate of the IoU: n(A∧B) / n(A∨B). */
  iou: number;
  /** The largest |IoU − estimate| accepted. */
  tolerance: number;
  points: number;
  /** Points inside the union. */
  union: number;
  /** Why it failed, in words; absent when ok. */
  reason?: string;
}

export interface CheckInput {
  iou: number;
  /** Volumes in the common frame: the boolean's intersection, and the two shapes'. */
  volumes: { candidate: number; reference: number; intersection: number };
  candidate: CheckedShape;
  reference: CheckedShape;
  points?: number;
  seed?: number;
}

const BOUND_SLACK = 1e-6;
/** The tessellation's share of the tolerance (see the top of this file). */
export const MESH_SLACK = 0.02;
const SIGMAS = 4;

/** Counts of n seeded points in the common box around both shapes: in A, in B, in both, in either. */
function countPoints(candidate: CheckedShape, reference: CheckedShape, n: number, seed: number) {
  const box = commonBox([candidate, reference]);
  const boxVolume = (box[3] - box[0]) * (box[4] - box[1]) * (box[5] - box[2]);
  const toA = invertAffine(candidate.toCommon);
  const toB = invertAffine(reference.toCommon);
  const random = mulberry32(seed);
  let inA = 0,
    inB = 0,
    both = 0,
    either = 0;
  for (let k = 0; k < n; k++) {
    const x = box[0] + random() * (box[3] - box[0]);
    const y = box[1] + random() * (box[4] - box[1]);
    const z = box[2] + random() * (box[5] - box[2]);
    const a = classify(candidate.classifier, toA, x, y, z);
    const b = classify(reference.classifier, toB, x, y, z);
    if (a) inA++;
    if (b) inB++;
    if (a && b) both++;
    if (a || b) either++;
  }
  return { inA, inB, both, either, boxVolume, estimate: either > 0 ? both / either : 0 };
}

/** The largest |IoU − estimate| the check accepts, for an IoU p and `either` points in the union. */
function estimateTolerance(p: number, either: number): number {
  const m = Math.max(1, either);
  return SIGMAS * Math.sqrt((p * (1 - p) + 1 / m) / m) + MESH_SLACK;
}

/**
 * An upper bound on a placement's IoU from the points alone, before any boolean: the estimate plus
 * the check's own tolerance. Mesh booleans skip a placement whose bound lies below an IoU already
 * computed (it could not be the best, and the check would accept nothing above the bound).
 */
export function iouUpperBound(candidate: CheckedShape, reference: CheckedShape, points = 1024, seed = 0x16): { estimate: number; bound: number } {
  const { estimate, either } = countPoints(candidate, reference, points, seed);
  return { estimate, bound: estimate + estimateTolerance(Math.min(1, estimate), either) };
}

/** The consistency check of one IoU (see the top of this file). */
export function checkIou(input: CheckInput): ConsistencyCheck {
  const n = input.points ?? 4096;
  const { candidate: vA, reference: vB, intersection: vI } = input.volumes;
  const vU = vA + vB - vI;
  const { inA, inB, either, both, boxVolume, estimate } = countPoints(input.candidate, input.reference, n, input.seed ?? 0x16);
  const p = Math.min(1, Math.max(0, input.iou));
  const tolerance = estimateTolerance(p, either);
  const result: ConsistencyCheck = { ok: true, iou: estimate, tolerance, points: n, union: either };
  const fail = (reason: string): ConsistencyCheck => ({ ...result, ok: false, reason });
  if (!(vI >= -BOUND_SLACK * vU) || !(vI <= Math.min(vA, vB) * (1 + BOUND_SLACK))) {
    return fail(`the intersection volume ${vI} lies outside [0, min(${vA}, ${vB})]`);
  }
  for (const [role, count, volume] of [
    ['candidate', inA, vA],
    ['reference', inB, vB],
  ] as const) {
    const q = Math.min(1, Math.max(0, volume / boxVolume));
    const spread = SIGMAS * Math.sqrt((q * (1 - q) + 1 / n) / n) * boxVolume + MESH_SLACK * volume;
    const estimated = (count / n) * boxVolume;
    if (Math.abs(estimated - volume) > spread) return fail(`the ${role}'s volume ${volume} disagrees with the point estimate ${estimated}`);
  }
  if (Math.abs(estimate - p) > tolerance) {
    return fail(`the boolean's IoU ${p.toFixed(4)} disagrees with the point estimate ${estimate.toFixed(4)} (${both} of ${either} points)`);
  }
  return result;
}

function classify(c: MeshClassifier, back: Affine, x: number, y: number, z: number): boolean {
  const m = back.matrix;
  const t = back.translation;
  return c.contains(m[0] * x + m[1] * y + m[2] * z + t[0], m[3] * x + m[4] * y + m[5] * z + t[1], m[6] * x + m[7] * y + m[8] * z + t[2]);
}

/** The axis-aligned box around both shapes in the common frame (each bbox's 8 corners, mapped). */
function commonBox(shapes: CheckedShape[]): [number, number, number, number, number, number] {
  const out: [number, number, number, number, number, number] = [Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity];
  for (const s of shapes) {
    const b = s.classifier.bbox;
    const m = s.toCommon.matrix;
    const t = s.toCommon.translation;
    for (let corner = 0; corner < 8; corner++) {
      const x = corner & 1 ? b[3] : b[0];
      const y = corner & 2 ? b[4] : b[1];
      const z = corner & 4 ? b[5] : b[2];
      const q = [m[0] * x + m[1] * y + m[2] * z + t[0], m[3] * x + m[4] * y + m[5] * z + t[1], m[6] * x + m[7] * y + m[8] * z + t[2]];
      for (let k = 0; k < 3; k++) {
        if (q[k] < out[k]) out[k] = q[k];
        if (q[k] > out[k + 3]) out[k + 3] = q[k];
      }
    }
  }
  return out;
}
