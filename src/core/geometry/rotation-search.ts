/**
 * `aligned-robust` (#16): the rotation search where principal axes are decided by noise.
 *
 * When two principal moments of a shape are (nearly) equal, its eigenvectors inside that plane
 * are whatever rounding makes them: the paper's protocol then compares a square tube against
 * itself at an arbitrary twist (00141107 scores 0.18 against its own STL). The moments only fix
 * the rotation up to the degeneracy: a free angle about the distinct axis (two equal moments), or
 * any rotation (three equal, or the two shapes degenerate in different pairs). This file searches
 * that freedom, proper rotations only:
 *
 * R = Vt · Q · D · Vsᵀ, Q a rotation allowed by the degeneracy, D a proper sign pattern.
 *
 * Each rotation is scored by a surrogate of V(A∩B): the share of points inside the candidate (a
 * seeded sample kept by the candidate's classifier) that the reference's classifier puts inside it
 * after the move, so hundreds of rotations cost a millisecond each, not a boolean each: 600
 * points for the coarse pass, 3,000 for refining. One axis: every 4°, both classes of D, then the
 * three best refined to 0.125°. Any rotation: 480
 * seeded random rotations and the cube group's 24 about the base alignment, then the best three
 * refined by coordinate descent (turns about each axis, 8° down to 0.125°). The best rotations (default two) go back to the
 * caller, who intersects them exactly beside the four proper sign patterns, so aligned-robust is
 * never below aligned-proper.
 */
import { det3, multiply3, transpose3, type Mat3, type Vec3 } from './linalg';
import { mulberry32 } from './random';
import type { PreparedSolid } from './solid';

/**
 * Two principal moments closer than this, relative to their sum, leave the axes between them to
 * rounding: a mesh reference's moments differ from its B-rep's by its tessellation, ≈1e-4–1e-3 of
 * the sum at 1e-3 chordal tolerance, which turns axes whose moments are this close arbitrarily.
 * On test100 (program vs its own STL) every `aligned` pair below 0.98 has a gap under 1e-15, and
 * the next smallest gaps (1e-15–7e-4) still score ≥ 0.999.
 */
export const DEGENERATE_GAP = 1e-3;

export interface FrameLike {
  centre: Vec3;
  scale: number;
  axes: Mat3;
  moments: Vec3;
}

/** The pairs (i, i+1) of nearly equal moments. */
export function degeneratePairs(moments: Vec3): number[] {
  const sum = Math.abs(moments[0]) + Math.abs(moments[1]) + Math.abs(moments[2]);
  return [0, 1].filter((i) => Math.abs(moments[i + 1] - moments[i]) <= DEGENERATE_GAP * sum);
}

/** The free axis of a single degenerate pair (0,1) → 2, (1,2) → 0; undefined for none or more. */
function freeAxis(pairs: number[]): number | undefined {
  if (pairs.length !== 1) return undefined;
  return pairs[0] === 0 ? 2 : 0;
}

function axisRotation(k: number, angle: number): Mat3 {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  if (k === 0) return [1, 0, 0, 0, c, -s, 0, s, c];
  if (k === 1) return [c, 0, s, 0, 1, 0, -s, 0, c];
  return [c, -s, 0, s, c, 0, 0, 0, 1];
}

function quaternionRotation(w: number, x: number, y: number, z: number): Mat3 {
  const n = Math.hypot(w, x, y, z) || 1;
  [w, x, y, z] = [w / n, x / n, y / n, z / n];
  return [
    1 - 2 * (y * y + z * z),
    2 * (x * y - z * w),
    2 * (x * z + y * w),
    2 * (x * y + z * w),
    1 - 2 * (x * x + z * z),
    2 * (y * z - x * w),
    2 * (x * z - y * w),
    2 * (y * z + x * w),
    1 - 2 * (x * x + y * y),
  ];
}

/** The 24 proper rotations of the cube (signed permutation matrices with det +1). */
function cubeGroup(): Mat3[] {
  const out: Mat3[] = [];
  const perms = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
  ];
  for (const p of perms) {
    for (let signs = 0; signs < 8; signs++) {
      const m: Mat3 = [0, 0, 0, 0, 0, 0, 0, 0, 0];
      for (let r = 0; r < 3; r++) m[3 * r + p[r]] = signs & (1 << r) ? -1 : 1;
      if (det3(m) > 0) out.push(m);
    }
  }
  return out;
}

/** Points for the coarse pass, and for refining (the first COARSE of them are the coarse pass's). */
const COARSE = 600;
const SAMPLE = 3000;

/**
 * The best rotations R (for the candidate's map p ↦ R·(p − cs)/ss) that the degeneracy allows,
 * best first; empty when neither shape is degenerate (the four sign patterns decide then).
 */
export function searchRotations(candidate: PreparedSolid, reference: PreparedSolid, source: FrameLike, target: FrameLike, keep = 2): Mat3[] {
  const ps = degeneratePairs(source.moments);
  const pt = degeneratePairs(target.moments);
  if (ps.length === 0 && pt.length === 0) return [];
  const fs = freeAxis(ps);
  const ft = freeAxis(pt);
  const axis = ps.length === 0 ? ft : pt.length === 0 ? fs : fs === ft ? fs : undefined;

  // Points inside the candidate, in its principal frame: u = Vsᵀ (p − cs) / ss.
  const inside = candidate.classifier();
  const b = inside.bbox;
  const random = mulberry32(0x16a);
  const points: number[] = [];
  const vsT = transpose3(source.axes);
  for (let tries = 0; points.length < 3 * SAMPLE && tries < 40 * SAMPLE; tries++) {
    const x = b[0] + random() * (b[3] - b[0]);
    const y = b[1] + random() * (b[4] - b[1]);
    const z = b[2] + random() * (b[5] - b[2]);
    if (!inside.contains(x, y, z)) continue;
    const d = [(x - source.centre[0]) / source.scale, (y - source.centre[1]) / source.scale, (z - source.centre[2]) / source.scale];
    points.push(vsT[0] * d[0] + vsT[1] * d[1] + vsT[2] * d[2], vsT[3] * d[0] + vsT[4] * d[1] + vsT[5] * d[2], vsT[6] * d[0] + vsT[7] * d[1] + vsT[8] * d[2]);
  }
  if (points.length === 0) return [];
  const ref = reference.classifier();
  const n = points.length / 3;
  /** Share of the candidate's points inside the reference when moved by Vt·M (M = Q·D). */
  const score = (m: Mat3, count = COARSE): number => {
    const end = 3 * Math.min(n, count);
    const r = multiply3(target.axes, m);
    const s = target.scale;
    const c = target.centre;
    let hits = 0;
    for (let i = 0; i < end; i += 3) {
      const u = points[i],
        v = points[i + 1],
        w = points[i + 2];
      if (ref.contains(c[0] + s * (r[0] * u + r[1] * v + r[2] * w), c[1] + s * (r[3] * u + r[4] * v + r[5] * w), c[2] + s * (r[6] * u + r[7] * v + r[8] * w)))
        hits++;
    }
    return hits / (end / 3);
  };
  // Proper sign patterns: det(Vt)·det(D)·det(Vs) = +1.
  const handed = det3(target.axes) * det3(source.axes) > 0 ? 1 : -1;
  const patterns: Vec3[] = (
    [
      [1, 1, 1],
      [1, -1, -1],
      [-1, 1, -1],
      [-1, -1, 1],
    ] as Vec3[]
  ).map((a) => a.map((x) => x * handed) as Vec3);
  const diag = (a: Vec3): Mat3 => [a[0], 0, 0, 0, a[1], 0, 0, 0, a[2]];
  const found: { m: Mat3; score: number }[] = [];

  if (axis !== undefined) {
    // A half-turn about the axis flips the other two signs: one pattern per sign of d_axis covers all.
    const classes = [patterns.find((a) => a[axis] > 0)!, patterns.find((a) => a[axis] < 0)!];
    const at = (d: Vec3, angle: number) => multiply3(axisRotation(axis, angle), diag(d));
    const coarse: { d: Vec3; angle: number; score: number }[] = [];
    for (const d of classes)
      for (let deg = 0; deg < 360; deg += 4) coarse.push({ d, angle: (deg * Math.PI) / 180, score: score(at(d, (deg * Math.PI) / 180)) });
    coarse.sort((x, y) => y.score - x.score);
    const seeds: typeof coarse = [];
    for (const c of coarse) {
      if (seeds.length >= 3) break;
      if (seeds.some((s) => s.d === c.d && Math.abs(Math.atan2(Math.sin(s.angle - c.angle), Math.cos(s.angle - c.angle))) < (10 * Math.PI) / 180)) continue;
      seeds.push(c);
    }
    for (const s of seeds) {
      let best = { ...s, score: score(at(s.d, s.angle), SAMPLE) };
      for (let step = 2; step >= 0.125; step /= 2) {
        for (const delta of [-step, step]) {
          const angle = best.angle + (delta * Math.PI) / 180;
          const value = score(at(best.d, angle), SAMPLE);
          if (value > best.score) best = { d: best.d, angle, score: value };
        }
      }
      found.push({ m: at(best.d, best.angle), score: best.score });
    }
  } else {
    const candidates: Mat3[] = [];
    for (const g of cubeGroup()) candidates.push(multiply3(g, diag(patterns[0])));
    const rq = mulberry32(0x50e3);
    for (let i = 0; i < 480; i++) {
      // Uniform random rotations (Shoemake).
      const u1 = rq(),
        u2 = rq() * 2 * Math.PI,
        u3 = rq() * 2 * Math.PI;
      const q = [Math.sqrt(1 - u1) * Math.sin(u2), Math.sqrt(1 - u1) * Math.cos(u2), Math.sqrt(u1) * Math.sin(u3), Math.sqrt(u1) * Math.cos(u3)];
      candidates.push(quaternionRotation(q[0], q[1], q[2], q[3]));
    }
    const scored = candidates.map((m) => ({ m, score: score(m) })).sort((x, y) => y.score - x.score);
    for (const start of scored.slice(0, 3)) {
      // Coordinate descent: turn about each axis by ±step, halving the step from 8° to 0.125°.
      let best = { m: start.m, score: score(start.m, SAMPLE) };
      for (let step = 8; step >= 0.125; step /= 2) {
        for (let k = 0; k < 3; k++) {
          for (const sign of [-1, 1]) {
            const m = multiply3(axisRotation(k, (sign * step * Math.PI) / 180), best.m);
            const value = score(m, SAMPLE);
            if (value > best.score) best = { m, score: value };
          }
        }
      }
      found.push(best);
    }
  }
  found.sort((x, y) => y.score - x.score);
  // R = Vt · M · Vsᵀ.
  return found.slice(0, keep).map((f) => multiply3(multiply3(target.axes, f.m), transpose3(source.axes)));
}
