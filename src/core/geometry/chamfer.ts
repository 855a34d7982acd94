/**
 * Chamfer distance with cadrille's convention (its evaluate.py): 8,192 points sampled uniformly by
 * area on each shape's tessellated surface, CD = mean over candidate points of the squared
 * distance to the nearest reference point + the same the other way round; papers report CD × 1000.
 *
 * The shapes are first put in the protocol's common frame (iou.ts `normalisation`): cadrille
 * uses `unit-cube`. For `aligned`, whose four rotations all are candidates, the rotation with the
 * smallest CD is used unless the caller names one (e.g. the rotation that won the IoU).
 * Sampling is deterministic: a seeded PRNG (mulberry32), the same seed for both shapes, so the same
 * shapes give the same number and a shape against itself gives 0 (cadrille draws independently).
 */
import { CadError } from '../errors';
import { normalisation, type Affine, type IouProtocol, type Normalisation } from './iou';
import type { ShapeLike } from './measure';
import { mulberry32 } from './random';
import { PreparedSolid, SURFACE_TESSELLATION } from './solid';
import { tessellate, type TriangleMesh } from './triangle-mesh';

export interface ChamferOptions {
  /** Points per shape (default 8192, cadrille's). */
  points?: number;
  /** PRNG seed (default 0). */
  seed?: number;
  /** The reference's seed, when it should be sampled independently of the candidate (default: `seed`). */
  referenceSeed?: number;
  /** For the aligned protocols: use this rotation (an index into the normalisation's candidates) instead of the best. */
  rotation?: number;
  /** Tessellation tolerance relative to the shape's largest extent (default 1e-3). */
  relativeTolerance?: number;
  /** Tessellation angular tolerance in radians (default 0.1). */
  angularTolerance?: number;
  /** The protocol's transforms when the caller has them already (the IoU job computed them). */
  frames?: Normalisation;
}

export interface ChamferResult {
  /** mean d²(candidate→reference) + mean d²(reference→candidate), in the common frame. */
  chamfer: number;
  /** The number papers print. */
  chamferX1000: number;
  protocol: IouProtocol;
  /** The rotation used, and the distance each rotation gave. */
  rotation: number;
  perRotation: number[];
  points: number;
}

export function chamferDistance(
  candidateInput: ShapeLike | PreparedSolid,
  referenceInput: ShapeLike | PreparedSolid,
  protocol: IouProtocol = 'unit-cube',
  options: ChamferOptions = {},
): ChamferResult {
  const count = options.points ?? 8192;
  if (!Number.isInteger(count) || count < 1) throw new CadError('geometry', `chamfer: points must be a positive integer, got ${count}`);
  const seed = options.seed ?? 0;
  const candidate = PreparedSolid.of(candidateInput, 'candidate');
  const reference = PreparedSolid.of(referenceInput, 'reference');
  // Chamfer tries every rotation it is asked for: the symmetry check would be wasted here.
  const frames = options.frames ?? normalisation(candidate, reference, protocol, { allRotations: true });
  if (frames.protocol !== protocol) throw new CadError('geometry', `chamfer: frames are for ${frames.protocol}, not ${protocol}`);
  const mesh = { relativeTolerance: options.relativeTolerance, angularTolerance: options.angularTolerance };
  const candidatePoints = samplePoints(candidate, count, seed, mesh, 'candidate');
  const referencePoints = transformPoints(samplePoints(reference, count, options.referenceSeed ?? seed, mesh, 'reference'), frames.reference);
  const referenceTree = new KdTree(referencePoints);

  const indices = options.rotation === undefined ? frames.candidates.map((_, i) => i) : [options.rotation];
  for (const i of indices) {
    if (!(i >= 0 && i < frames.candidates.length)) throw new CadError('geometry', `chamfer: rotation ${i} does not exist for protocol ${protocol}`);
  }
  const perRotation: number[] = [];
  let best = -1;
  for (const i of indices) {
    const moved = transformPoints(candidatePoints, frames.candidates[i]);
    const movedTree = new KdTree(moved);
    const d = referenceTree.meanSquaredNearest(moved, movedTree.coherentOrder()) + movedTree.meanSquaredNearest(referencePoints, referenceTree.coherentOrder());
    perRotation[i] = d;
    if (best < 0 || d < perRotation[best]) best = i;
  }
  const chamfer = perRotation[best];
  return { chamfer, chamferX1000: chamfer * 1000, protocol, rotation: best, perRotation, points: count };
}

/**
 * `count` points uniformly distributed (by area) on the shape's tessellated surface (a mesh's own
 * triangles). The default tessellation is the one the solid keeps for the consistency check.
 */
export function samplePoints(
  shapeInput: ShapeLike | PreparedSolid,
  count: number,
  seed = 0,
  {
    relativeTolerance = SURFACE_TESSELLATION.relativeTolerance,
    angularTolerance = SURFACE_TESSELLATION.angularTolerance,
  }: { relativeTolerance?: number; angularTolerance?: number } = {},
  role = 'shape',
): Float64Array {
  const shape = PreparedSolid.of(shapeInput, role);
  const extent = shape.extent();
  if (!(extent > 0)) throw new CadError('geometry', `chamfer: the ${role} has no extent`);
  const defaults = relativeTolerance === SURFACE_TESSELLATION.relativeTolerance && angularTolerance === SURFACE_TESSELLATION.angularTolerance;
  const surface: TriangleMesh = shape.isMesh || defaults ? shape.surface() : tessellate(shape.shape, extent, { relativeTolerance, angularTolerance });
  const { positions, indices } = surface;
  const triangles = indices.length / 3;
  if (triangles === 0) throw new CadError('geometry', `chamfer: the ${role} has no surface to sample`);
  const cumulative = new Float64Array(triangles);
  let total = 0;
  for (let t = 0; t < triangles; t++) {
    const a = indices[3 * t] * 3,
      b1 = indices[3 * t + 1] * 3,
      c = indices[3 * t + 2] * 3;
    const ux = positions[b1] - positions[a],
      uy = positions[b1 + 1] - positions[a + 1],
      uz = positions[b1 + 2] - positions[a + 2];
    const vx = positions[c] - positions[a],
      vy = positions[c + 1] - positions[a + 1],
      vz = positions[c + 2] - positions[a + 2];
    total += 0.5 * Math.hypot(uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx);
    cumulative[t] = total;
  }
  if (!(total > 0)) throw new CadError('geometry', `chamfer: the ${role}'s surface has zero area`);
  const random = mulberry32(seed);
  const out = new Float64Array(count * 3);
  for (let k = 0; k < count; k++) {
    const t = Math.min(triangles - 1, upperBound(cumulative, random() * total));
    let u = random();
    let v = random();
    // Fold the unit square onto the triangle (trimesh's sample_surface does the same).
    if (u + v > 1) {
      u = 1 - u;
      v = 1 - v;
    }
    const a = indices[3 * t] * 3,
      b1 = indices[3 * t + 1] * 3,
      c = indices[3 * t + 2] * 3;
    for (let axis = 0; axis < 3; axis++) {
      const o = positions[a + axis];
      out[3 * k + axis] = o + u * (positions[b1 + axis] - o) + v * (positions[c + axis] - o);
    }
  }
  return out;
}

function upperBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function transformPoints(points: Float64Array, affine: Affine): Float64Array {
  const m = affine.matrix;
  const t = affine.translation;
  const out = new Float64Array(points.length);
  for (let i = 0; i < points.length; i += 3) {
    const x = points[i],
      y = points[i + 1],
      z = points[i + 2];
    out[i] = m[0] * x + m[1] * y + m[2] * z + t[0];
    out[i + 1] = m[3] * x + m[4] * y + m[5] * z + t[1];
    out[i + 2] = m[6] * x + m[7] * y + m[8] * z + t[2];
  }
  return out;
}

/**
 * A static 3-d tree over packed xyz points (leaves of up to 8 points), for exact nearest-neighbour
 * queries: 8192² brute force would be 67 M distance evaluations per direction.
 */
export class KdTree {
  private readonly order: Uint32Array;
  // Per node: split axis (3 = leaf), split value, [start, end) into `order`, children.
  private readonly axis: Uint8Array;
  private readonly split: Float64Array;
  private readonly start: Uint32Array;
  private readonly end: Uint32Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  /** The points again, in leaf order, so a leaf scan reads contiguous memory. */
  private readonly packed: Float64Array;
  private nodes = 0;

  constructor(private readonly points: Float64Array) {
    const n = points.length / 3;
    if (n === 0) throw new Error('KdTree: no points');
    this.order = new Uint32Array(n).map((_, i) => i);
    const maxNodes = 2 * Math.ceil(n / 4) + 1;
    this.axis = new Uint8Array(maxNodes);
    this.split = new Float64Array(maxNodes);
    this.start = new Uint32Array(maxNodes);
    this.end = new Uint32Array(maxNodes);
    this.left = new Int32Array(maxNodes);
    this.right = new Int32Array(maxNodes);
    this.build(0, n);
    this.packed = new Float64Array(points.length);
    for (let i = 0; i < n; i++) {
      const o = this.order[i] * 3;
      this.packed[3 * i] = points[o];
      this.packed[3 * i + 1] = points[o + 1];
      this.packed[3 * i + 2] = points[o + 2];
    }
  }

  private build(from: number, to: number): number {
    const node = this.nodes++;
    this.start[node] = from;
    this.end[node] = to;
    if (to - from <= 8) {
      this.axis[node] = 3;
      return node;
    }
    const p = this.points;
    const lo = [Infinity, Infinity, Infinity];
    const hi = [-Infinity, -Infinity, -Infinity];
    for (let i = from; i < to; i++) {
      const o = this.order[i] * 3;
      for (let k = 0; k < 3; k++) {
        const v = p[o + k];
        if (v < lo[k]) lo[k] = v;
        if (v > hi[k]) hi[k] = v;
      }
    }
    const spans = [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]];
    const axis = spans[0] >= spans[1] && spans[0] >= spans[2] ? 0 : spans[1] >= spans[2] ? 1 : 2;
    const mid = (from + to) >>> 1;
    this.select(from, to - 1, mid, axis);
    this.axis[node] = axis;
    this.split[node] = p[this.order[mid] * 3 + axis];
    this.left[node] = this.build(from, mid);
    this.right[node] = this.build(mid, to);
    return node;
  }

  /** Quickselect: order[k] gets the k-th point along `axis`, smaller ones before it. */
  private select(lo: number, hi: number, k: number, axis: number): void {
    const p = this.points;
    const o = this.order;
    while (hi > lo) {
      const pivot = p[o[(lo + hi) >>> 1] * 3 + axis];
      let i = lo;
      let j = hi;
      while (i <= j) {
        while (p[o[i] * 3 + axis] < pivot) i++;
        while (p[o[j] * 3 + axis] > pivot) j--;
        if (i <= j) {
          const t = o[i];
          o[i] = o[j];
          o[j] = t;
          i++;
          j--;
        }
      }
      if (k <= j) hi = j;
      else if (k >= i) lo = i;
      else return;
    }
  }

  // Reused traversal stack (node, lower bound on its squared distance): queries allocate nothing.
  private stackNode = new Int32Array(64);
  private stackBound = new Float64Array(64);

  /** Leaf-order slot of the point the last nearestSquared call found (what `hint` takes). */
  lastNearest = -1;

  /**
   * Squared distance from (x, y, z) to the nearest point of the tree. `hint` (a leaf-order slot:
   * lastNearest after a nearby query) gives a starting bound, so most of the tree
   * is pruned at once; the answer is the same with or without it.
   */
  nearestSquared(x: number, y: number, z: number, hint = -1): number {
    let best = Infinity;
    let bestSlot = -1;
    const p = this.packed;
    if (hint >= 0) {
      const o = hint * 3;
      const dx = p[o] - x,
        dy = p[o + 1] - y,
        dz = p[o + 2] - z;
      best = dx * dx + dy * dy + dz * dz;
      bestSlot = hint;
    }
    let nodes = this.stackNode;
    let bounds = this.stackBound;
    let top = 0;
    nodes[top] = 0;
    bounds[top++] = 0;
    while (top > 0) {
      top--;
      if (bounds[top] >= best) continue;
      const node = nodes[top];
      const axis = this.axis[node];
      if (axis === 3) {
        for (let i = this.start[node], end = this.end[node]; i < end; i++) {
          const o = i * 3;
          const dx = p[o] - x,
            dy = p[o + 1] - y,
            dz = p[o + 2] - z;
          const d = dx * dx + dy * dy + dz * dz;
          if (d < best) {
            best = d;
            bestSlot = i;
          }
        }
        continue;
      }
      if (top + 2 > nodes.length) {
        nodes = this.stackNode = growInt32(nodes);
        bounds = this.stackBound = growFloat64(bounds);
      }
      const diff = (axis === 0 ? x : axis === 1 ? y : z) - this.split[node];
      // Far side first on the stack so the near side is searched first.
      nodes[top] = diff < 0 ? this.right[node] : this.left[node];
      bounds[top++] = diff * diff;
      nodes[top] = diff < 0 ? this.left[node] : this.right[node];
      bounds[top++] = 0;
    }
    this.lastNearest = bestSlot;
    return best;
  }

  /** This tree's points in leaf order: neighbours in the list are neighbours in space. */
  coherentOrder(): Uint32Array {
    return this.order;
  }

  /**
   * Mean squared nearest distance of the query points. Visiting them in a spatially coherent
   * `order` (another tree's coherentOrder()) lets each query start from the last one's answer.
   */
  meanSquaredNearest(queries: Float64Array, order?: ArrayLike<number>): number {
    let sum = 0;
    const n = queries.length / 3;
    let hint = -1;
    for (let k = 0; k < n; k++) {
      const i = order ? order[k] : k;
      sum += this.nearestSquared(queries[3 * i], queries[3 * i + 1], queries[3 * i + 2], hint);
      hint = this.lastNearest;
    }
    return sum / n;
  }
}

function growInt32(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

function growFloat64(a: Float64Array): Float64Array<ArrayBuffer> {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}
