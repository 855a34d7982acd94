/**
 * A closed triangle mesh as a solid: the indexed form every mesh path here shares (STL/OBJ/PLY
 * references, a B-rep's tessellation for mesh booleans and for the point-membership check).
 *
 * Contract: `positions` are xyz doubles, `indices` three per triangle, counter-clockwise seen from
 * outside (positive signed volume). Meshes read from files pass through `repairMesh`
 * (mesh-repair.ts) first; a B-rep's tessellation (`tessellate`) shares the vertices OCCT
 * duplicates per face, so it is closed whenever the B-rep is.
 *
 * Mass properties follow OCCT's conventions (measure.ts): the matrix of inertia about the centre
 * of mass, diagonal = moments, off-diagonal = −products, so `aligned` treats a mesh exactly as it
 * treats a B-rep. They are exact for the mesh (sums over signed tetrahedra from a point near the
 * mesh, which keeps the rounding small).
 */
import { CadError } from '../errors';
import type { Mat3, Vec3 } from './linalg';
import type { BBox, MassProperties } from './measure';
import { meshShape } from './mesh';
import type { ShapeLike } from './measure';

export interface TriangleMesh {
  positions: Float64Array;
  indices: Uint32Array;
}

export function meshBoundingBox(mesh: TriangleMesh): BBox {
  const p = mesh.positions;
  const b: BBox = [Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity];
  for (let i = 0; i < p.length; i += 3) {
    for (let k = 0; k < 3; k++) {
      const v = p[i + k];
      if (v < b[k]) b[k] = v;
      if (v > b[k + 3]) b[k + 3] = v;
    }
  }
  if (b[0] === Infinity) throw new CadError('geometry', 'the mesh has no vertices');
  return b;
}

/** Signed volume (positive for an outward-oriented closed mesh). */
export function meshVolume(mesh: TriangleMesh): number {
  return meshMassProperties(mesh).volume;
}

/** Volume, centre of mass and matrix of inertia about it (OCCT's convention; see the top of this file). */
export function meshMassProperties(mesh: TriangleMesh): MassProperties {
  const { positions: p, indices: t } = mesh;
  const b = meshBoundingBox(mesh);
  const o: Vec3 = [(b[0] + b[3]) / 2, (b[1] + b[4]) / 2, (b[2] + b[5]) / 2];
  let v6 = 0;
  let mx = 0,
    my = 0,
    mz = 0;
  // ∫ x_i x_j over each tetrahedron (o, a, b, c) = D/120 · (Σ v_i v_j + s_i s_j), D = det, v in {a, b, c}.
  let sxx = 0,
    syy = 0,
    szz = 0,
    sxy = 0,
    sxz = 0,
    syz = 0;
  for (let i = 0; i < t.length; i += 3) {
    const a = 3 * t[i],
      c1 = 3 * t[i + 1],
      c2 = 3 * t[i + 2];
    const ax = p[a] - o[0],
      ay = p[a + 1] - o[1],
      az = p[a + 2] - o[2];
    const bx = p[c1] - o[0],
      by = p[c1 + 1] - o[1],
      bz = p[c1 + 2] - o[2];
    const cx = p[c2] - o[0],
      cy = p[c2 + 1] - o[1],
      cz = p[c2 + 2] - o[2];
    const d = ax * (by * cz - bz * cy) - ay * (bx * cz - bz * cx) + az * (bx * cy - by * cx);
    v6 += d;
    const sx = ax + bx + cx,
      sy = ay + by + cy,
      sz = az + bz + cz;
    mx += d * sx;
    my += d * sy;
    mz += d * sz;
    sxx += d * (ax * ax + bx * bx + cx * cx + sx * sx);
    syy += d * (ay * ay + by * by + cy * cy + sy * sy);
    szz += d * (az * az + bz * bz + cz * cz + sz * sz);
    sxy += d * (ax * ay + bx * by + cx * cy + sx * sy);
    sxz += d * (ax * az + bx * bz + cx * cz + sx * sz);
    syz += d * (ay * az + by * bz + cy * cz + sy * sz);
  }
  const volume = v6 / 6;
  if (!(Math.abs(volume) > 0) || !Number.isFinite(volume)) return { volume, centre: o, inertia: [0, 0, 0, 0, 0, 0, 0, 0, 0] };
  // Centre (relative to o): ∫x / V with ∫x = Σ D·s/24.
  const c: Vec3 = [mx / 24 / volume, my / 24 / volume, mz / 24 / volume];
  // Second moments about o, then about the centre: C = ∫xxᵀ − V·c·cᵀ.
  const cxx = sxx / 120 - volume * c[0] * c[0];
  const cyy = syy / 120 - volume * c[1] * c[1];
  const czz = szz / 120 - volume * c[2] * c[2];
  const cxy = sxy / 120 - volume * c[0] * c[1];
  const cxz = sxz / 120 - volume * c[0] * c[2];
  const cyz = syz / 120 - volume * c[1] * c[2];
  const inertia: Mat3 = [cyy + czz, -cxy, -cxz, -cxy, cxx + czz, -cyz, -cxz, -cyz, cxx + cyy];
  return { volume, centre: [c[0] + o[0], c[1] + o[1], c[2] + o[2]], inertia };
}

export interface TessellationOptions {
  /** Chordal deviation relative to the largest bounding-box extent (default 1e-3). */
  relativeTolerance?: number;
  /** Radians (default 0.1, CadQuery's STL default). */
  angularTolerance?: number;
}

/**
 * A B-rep's surface as an indexed, closed triangle mesh: OCCT's per-face triangulations with the
 * vertices they duplicate along shared edges merged (same position to float32 rounding).
 */
export function tessellate(shape: ShapeLike, extent: number, options: TessellationOptions = {}): TriangleMesh {
  const tolerance = extent * (options.relativeTolerance ?? 1e-3);
  const { positions, indices } = meshShape(shape, { tolerance, angularTolerance: options.angularTolerance ?? 0.1, edges: false });
  return weldVertices(Float64Array.from(positions), indices, extent * 1e-7);
}

/**
 * Merges vertices closer than `tolerance` (a grid of that cell size; neighbours in the 27 cells
 * around are checked) and drops triangles that become degenerate. Returns a new mesh.
 */
/** The first vertex of `bucket` (indices into `kept`) within √tol2 of (x, y, z), or -1. */
function keptWithin(bucket: number[] | undefined, kept: number[], x: number, y: number, z: number, tol2: number): number {
  if (!bucket) return -1;
  for (const j of bucket) {
    const ex = kept[3 * j] - x,
      ey = kept[3 * j + 1] - y,
      ez = kept[3 * j + 2] - z;
    if (ex * ex + ey * ey + ez * ez <= tol2) return j;
  }
  return -1;
}

export function weldVertices(positions: Float64Array, indices: Uint32Array, tolerance: number): TriangleMesh {
  const n = positions.length / 3;
  const cell = tolerance > 0 ? tolerance : 1e-12;
  const buckets = new Map<number, number[]>();
  // Cells hashed to a number; a collision only puts more vertices in a bucket (each is compared by distance).
  const key = (x: number, y: number, z: number) => (Math.imul(x, 73856093) ^ Math.imul(y, 19349663) ^ Math.imul(z, 83492791)) | 0;
  const remap = new Uint32Array(n);
  const kept: number[] = [];
  const tol2 = tolerance * tolerance;
  for (let i = 0; i < n; i++) {
    const x = positions[3 * i],
      y = positions[3 * i + 1],
      z = positions[3 * i + 2];
    const gx = Math.floor(x / cell),
      gy = Math.floor(y / cell),
      gz = Math.floor(z / cell);
    // Its own cell first (an STL repeats each vertex exactly), then the 26 around it.
    let found = keptWithin(buckets.get(key(gx, gy, gz)), kept, x, y, z, tol2);
    for (let dx = -1; dx <= 1 && found < 0; dx++) {
      for (let dy = -1; dy <= 1 && found < 0; dy++) {
        for (let dz = -1; dz <= 1 && found < 0; dz++) {
          if (dx || dy || dz) found = keptWithin(buckets.get(key(gx + dx, gy + dy, gz + dz)), kept, x, y, z, tol2);
        }
      }
    }
    if (found < 0) {
      found = kept.length / 3;
      kept.push(x, y, z);
      const k = key(gx, gy, gz);
      const bucket = buckets.get(k);
      if (bucket) bucket.push(found);
      else buckets.set(k, [found]);
    }
    remap[i] = found;
  }
  const out: number[] = [];
  for (let i = 0; i < indices.length; i += 3) {
    const a = remap[indices[i]],
      b = remap[indices[i + 1]],
      c = remap[indices[i + 2]];
    if (a !== b && b !== c && a !== c) out.push(a, b, c);
  }
  return { positions: Float64Array.from(kept), indices: Uint32Array.from(out) };
}

/** The mesh with every vertex mapped by p ↦ M·p + t. */
export function transformMesh(mesh: TriangleMesh, matrix: Mat3, translation: Vec3): TriangleMesh {
  const p = mesh.positions;
  const out = new Float64Array(p.length);
  const m = matrix;
  for (let i = 0; i < p.length; i += 3) {
    const x = p[i],
      y = p[i + 1],
      z = p[i + 2];
    out[i] = m[0] * x + m[1] * y + m[2] * z + translation[0];
    out[i + 1] = m[3] * x + m[4] * y + m[5] * z + translation[1];
    out[i + 2] = m[6] * x + m[7] * y + m[8] * z + translation[2];
  }
  // A reflection turns the triangles inside out: rewind them.
  const det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
  if (det >= 0) return { positions: out, indices: mesh.indices };
  const idx = new Uint32Array(mesh.indices.length);
  for (let i = 0; i < idx.length; i += 3) {
    idx[i] = mesh.indices[i];
    idx[i + 1] = mesh.indices[i + 2];
    idx[i + 2] = mesh.indices[i + 1];
  }
  return { positions: out, indices: idx };
}
