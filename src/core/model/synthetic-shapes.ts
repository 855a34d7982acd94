/**
 * 2D profile templates and planar geometry for the procedural GenCAD program generator.
 * Everything is in integer sketch units (see tokenizer-ir): outer profiles fill a 95-unit box,
 * the DeepCAD normalisation, so a sketch's size token is its real size.
 */
import { PROFILE_UNITS, SWEEP_STEPS, type IntPoint, type QLoop, type QSegment } from './tokenizer-ir';

export type Rng = () => number;
export type Pt = readonly [number, number];

/** Edge from a vertex to the next one. */
export type Edge = { kind: 'line' } | { kind: 'arc'; sweep: number; ccw: boolean };

export type Profile = { kind: 'poly'; vertices: { p: IntPoint; edge: Edge }[] } | { kind: 'circle'; center: IntPoint; radius: number };

export const between = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng();
export const intBetween = (rng: Rng, lo: number, hi: number) => Math.floor(between(rng, lo, hi + 1 - 1e-9));

export function pick<T>(rng: Rng, items: readonly T[], weights?: readonly number[]): T {
  const w = weights ?? items.map(() => 1);
  const total = w.reduce((a, b) => a + b, 0);
  let r = rng() * total;
  for (let i = 0; i < items.length; i++) {
    r -= w[i];
    if (r < 0) return items[i];
  }
  return items[items.length - 1];
}

const line: Edge = { kind: 'line' };

function poly(points: IntPoint[], edges?: Edge[]): Profile {
  return { kind: 'poly', vertices: points.map((p, i) => ({ p, edge: edges?.[i] ?? line })) };
}

// ---------------------------------------------------------------------------------------------
// Geometry of profiles.

function arcCenter(a: Pt, b: Pt, sweep: number, ccw: boolean): { center: Pt; radius: number } {
  const half = (sweep / SWEEP_STEPS) * Math.PI;
  const cx = b[0] - a[0];
  const cy = b[1] - a[1];
  const chord = Math.hypot(cx, cy);
  const radius = chord / 2 / Math.sin(half);
  const d = radius * Math.cos(half); // signed distance chord-midpoint → center (toward the left for ccw)
  const side = ccw ? 1 : -1;
  return { center: [(a[0] + b[0]) / 2 - (side * cy * d) / chord, (a[1] + b[1]) / 2 + (side * cx * d) / chord], radius };
}

/** Closed polyline approximation (arcs sampled), first point not repeated. */
export function polyline(profile: Profile, arcSamples = 12): Pt[] {
  if (profile.kind === 'circle') {
    const n = 48;
    return Array.from({ length: n }, (_, i) => [
      profile.center[0] + profile.radius * Math.cos((2 * Math.PI * i) / n),
      profile.center[1] + profile.radius * Math.sin((2 * Math.PI * i) / n),
    ]);
  }
  const out: Pt[] = [];
  const v = profile.vertices;
  v.forEach((vertex, i) => {
    const a = vertex.p;
    const b = v[(i + 1) % v.length].p;
    out.push(a);
    if (vertex.edge.kind === 'arc') {
      const { sweep, ccw } = vertex.edge;
      const { center } = arcCenter(a, b, sweep, ccw);
      const a0 = Math.atan2(a[1] - center[1], a[0] - center[0]);
      const r = Math.hypot(a[0] - center[0], a[1] - center[1]);
      const total = (sweep / SWEEP_STEPS) * 2 * Math.PI * (ccw ? 1 : -1);
      for (let k = 1; k < arcSamples; k++) {
        const t = a0 + (total * k) / arcSamples;
        out.push([center[0] + r * Math.cos(t), center[1] + r * Math.sin(t)]);
      }
    }
  });
  return out;
}

export function bbox(points: readonly Pt[]): { min: Pt; max: Pt } {
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity;
  for (const [x, y] of points) {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  return { min: [x0, y0], max: [x1, y1] };
}

export function insidePolygon(p: Pt, polygon: readonly Pt[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i];
    const [xj, yj] = polygon[j];
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function distanceToPolygon(p: Pt, polygon: readonly Pt[]): number {
  let best = Infinity;
  for (let i = 0; i < polygon.length; i++) {
    const a = polygon[i];
    const b = polygon[(i + 1) % polygon.length];
    const dx = b[0] - a[0];
    const dy = b[1] - a[1];
    const len2 = dx * dx + dy * dy;
    const t = len2 > 0 ? Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2)) : 0;
    best = Math.min(best, Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy));
  }
  return best;
}

function segmentsCross(a: Pt, b: Pt, c: Pt, d: Pt): boolean {
  const orient = (p: Pt, q: Pt, r: Pt) => (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]);
  const d1 = orient(c, d, a),
    d2 = orient(c, d, b),
    d3 = orient(a, b, c),
    d4 = orient(a, b, d);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true;
  const on = (p: Pt, q: Pt, r: Pt) =>
    Math.abs(orient(p, q, r)) < 1e-9 &&
    Math.min(p[0], q[0]) - 1e-9 <= r[0] &&
    r[0] <= Math.max(p[0], q[0]) + 1e-9 &&
    Math.min(p[1], q[1]) - 1e-9 <= r[1] &&
    r[1] <= Math.max(p[1], q[1]) + 1e-9;
  return on(c, d, a) || on(c, d, b) || on(a, b, c) || on(a, b, d);
}

/** No two non-adjacent edges of the closed polyline touch, and its area is not tiny. */
export function isSimple(points: readonly Pt[]): boolean {
  const n = points.length;
  if (n < 3) return false;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (j === i + 1 || (i === 0 && j === n - 1)) continue;
      if (segmentsCross(points[i], points[(i + 1) % n], points[j], points[(j + 1) % n])) return false;
    }
  }
  return Math.abs(signedArea(points)) > 1;
}

export function signedArea(points: readonly Pt[]): number {
  let a = 0;
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    const q = points[(i + 1) % points.length];
    a += p[0] * q[1] - q[0] * p[1];
  }
  return a / 2;
}

export function translate(profile: Profile, dx: number, dy: number): Profile {
  if (profile.kind === 'circle') return { ...profile, center: [profile.center[0] + dx, profile.center[1] + dy] };
  return { kind: 'poly', vertices: profile.vertices.map((v) => ({ p: [v.p[0] + dx, v.p[1] + dy], edge: v.edge })) };
}

/** Drop zero-length edges (merging arcs that meet) so every segment goes somewhere. */
function compact(profile: Profile): Profile {
  if (profile.kind === 'circle') return profile;
  const v = profile.vertices;
  const out: { p: IntPoint; edge: Edge }[] = [];
  for (let i = 0; i < v.length; i++) {
    const next = v[(i + 1) % v.length].p;
    if (next[0] === v[i].p[0] && next[1] === v[i].p[1]) {
      // The edge leaving v[i] is empty: v[i] is the same point as v[i+1]; keep v[i+1]'s edge.
      continue;
    }
    out.push(v[i]);
  }
  return { kind: 'poly', vertices: out };
}

// ---------------------------------------------------------------------------------------------
// Templates. Each returns a counter-clockwise outer profile inside [0, W] × [0, H].

function rect(w: number, h: number): Profile {
  return poly([
    [0, 0],
    [w, 0],
    [w, h],
    [0, h],
  ]);
}

/** Rectangle with rectangular notches at corners and/or edge middles: L, U, T, plus, steps. */
function notched(rng: Rng, w: number, h: number): Profile {
  const notch = (size: number) => intBetween(rng, Math.max(2, Math.round(size * 0.15)), Math.max(2, Math.floor(size * 0.45)));
  const corners = [0, 1, 2, 3].map(() => rng() < 0.45);
  if (!corners.some(Boolean) && rng() < 0.6) corners[intBetween(rng, 0, 3)] = true;
  const n = corners.map(() => [notch(w), notch(h)] as const);
  const pts: IntPoint[] = [];
  // bottom-left corner
  if (corners[0]) pts.push([0, n[0][1]], [n[0][0], n[0][1]], [n[0][0], 0]);
  else pts.push([0, 0]);
  // bottom-right
  if (corners[1]) pts.push([w - n[1][0], 0], [w - n[1][0], n[1][1]], [w, n[1][1]]);
  else pts.push([w, 0]);
  // top-right
  if (corners[2]) pts.push([w, h - n[2][1]], [w - n[2][0], h - n[2][1]], [w - n[2][0], h]);
  else pts.push([w, h]);
  // top edge middle slot (U shape)
  const leftLimit = corners[3] ? n[3][0] : 0;
  const rightLimit = corners[2] ? w - n[2][0] : w;
  if (rng() < 0.35 && rightLimit - leftLimit > 12) {
    const x2 = intBetween(rng, leftLimit + Math.ceil((rightLimit - leftLimit) * 0.55), rightLimit - 3);
    const x1 = intBetween(rng, leftLimit + 3, leftLimit + Math.floor((rightLimit - leftLimit) * 0.45));
    const depth = intBetween(rng, 2, Math.max(2, Math.floor(h * 0.5)));
    if (x2 > x1 + 1) pts.push([x2, h], [x2, h - depth], [x1, h - depth], [x1, h]);
  }
  // top-left
  if (corners[3]) pts.push([n[3][0], h], [n[3][0], h - n[3][1]], [0, h - n[3][1]]);
  else pts.push([0, h]);
  return poly(pts);
}

/** Rounded rectangle; a corner radius of half the short side makes a slot (stadium). */
function rounded(rng: Rng, w: number, h: number, slot: boolean): Profile {
  const r = slot ? Math.floor(Math.min(w, h) / 2) : intBetween(rng, 2, Math.max(2, Math.floor(Math.min(w, h) * 0.35)));
  const q: Edge = { kind: 'arc', sweep: SWEEP_STEPS / 4, ccw: true };
  const pts: { p: IntPoint; edge: Edge }[] = [
    { p: [r, 0], edge: line },
    { p: [w - r, 0], edge: q },
    { p: [w, r], edge: line },
    { p: [w, h - r], edge: q },
    { p: [w - r, h], edge: line },
    { p: [r, h], edge: q },
    { p: [0, h - r], edge: line },
    { p: [0, r], edge: q },
  ];
  return { kind: 'poly', vertices: mergeEmptySides(pts) };
}

/** Remove empty straight sides; the two arcs around one become a single arc. */
function mergeEmptySides(input: { p: IntPoint; edge: Edge }[]): { p: IntPoint; edge: Edge }[] {
  const v = input.map((x) => ({ ...x }));
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; i < v.length && v.length > 2; i++) {
      const nextIndex = (i + 1) % v.length;
      const next = v[nextIndex];
      if (v[i].edge.kind !== 'line' || next.p[0] !== v[i].p[0] || next.p[1] !== v[i].p[1]) continue;
      const prev = v[(i - 1 + v.length) % v.length];
      if (prev.edge.kind === 'arc' && next.edge.kind === 'arc' && prev !== next) {
        prev.edge = { kind: 'arc', sweep: prev.edge.sweep + next.edge.sweep, ccw: prev.edge.ccw };
        const drop = new Set([i, nextIndex]);
        const kept = v.filter((_, k) => !drop.has(k));
        v.length = 0;
        v.push(...kept);
      } else {
        v.splice(i, 1);
      }
      changed = true;
      break;
    }
  }
  return v;
}

/** Rectangle whose top side is an outward arc (arch, D shape, tombstone). */
function arched(rng: Rng, w: number, h: number): Profile {
  const sweep = pick(rng, [SWEEP_STEPS / 2, intBetween(rng, 24, 100)], [0.6, 0.4]);
  const sag = (w / 2) * Math.tan(((sweep / SWEEP_STEPS) * Math.PI) / 2);
  const body = Math.max(2, Math.floor(h - sag));
  return poly(
    [
      [0, 0],
      [w, 0],
      [w, body],
      [0, body],
    ],
    [line, line, { kind: 'arc', sweep, ccw: true }, line],
  );
}

/** Rectangle with chamfered corners. */
function chamfered(rng: Rng, w: number, h: number): Profile {
  const c = intBetween(rng, 2, Math.max(2, Math.floor(Math.min(w, h) * 0.3)));
  return poly([
    [c, 0],
    [w - c, 0],
    [w, c],
    [w, h - c],
    [w - c, h],
    [c, h],
    [0, h - c],
    [0, c],
  ]);
}

function regularPolygon(rng: Rng, size: number): Profile {
  const n = pick(rng, [3, 4, 5, 6, 8], [2, 1, 1, 3, 1]);
  const r = size / 2;
  const start = rng() * 2 * Math.PI;
  const pts: IntPoint[] = Array.from({ length: n }, (_, i) => [
    Math.round(r + r * Math.cos(start + (2 * Math.PI * i) / n)),
    Math.round(r + r * Math.sin(start + (2 * Math.PI * i) / n)),
  ]);
  return poly(pts);
}

/** Star-shaped random polygon: sorted angles, random radii, so it cannot self-intersect. */
function starPolygon(rng: Rng, size: number): Profile {
  const n = intBetween(rng, 4, 9);
  const angles = Array.from({ length: n }, () => rng() * 2 * Math.PI).sort((a, b) => a - b);
  const r = size / 2;
  const pts: IntPoint[] = angles.map((a) => {
    const radius = r * between(rng, 0.45, 1);
    return [Math.round(r + radius * Math.cos(a)), Math.round(r + radius * Math.sin(a))];
  });
  return poly(pts);
}

export type OuterKind = 'rect' | 'circle' | 'notched' | 'rounded' | 'slot' | 'arched' | 'chamfered' | 'regular' | 'star';

/** Fit the profile's bounding box to exactly `size` units on its long side, min corner at 0. */
function normalizeBox(profile: Profile): Profile {
  const b = bbox(polyline(profile));
  return translate(profile, -Math.round(b.min[0]), -Math.round(b.min[1]));
}

/**
 * A simple outer profile of kind `kind` whose long side is `size` units (≤ 95) and short side
 * `aspect` × that, translated so its start vertex (DeepCAD: the lowest-left one) is the origin.
 */
export function outerProfile(rng: Rng, kind: OuterKind, size = PROFILE_UNITS, aspect = 1): Profile | null {
  const long = size;
  const short = Math.max(3, Math.round(size * aspect));
  const [w, h] = rng() < 0.5 ? [long, short] : [short, long];
  let profile: Profile;
  switch (kind) {
    case 'rect':
      profile = rect(w, h);
      break;
    case 'circle': {
      const radius = Math.floor(size / 2);
      // DeepCAD starts a circle at its leftmost point: that is the sketch origin.
      return { kind: 'circle', center: [radius, 0], radius };
    }
    case 'notched':
      profile = notched(rng, w, h);
      break;
    case 'rounded':
      profile = rounded(rng, w, h, false);
      break;
    case 'slot':
      profile = rounded(rng, long, Math.max(4, Math.min(short, long - 4) - (Math.min(short, long - 4) % 2)), true);
      break;
    case 'arched':
      profile = arched(rng, w, Math.max(h, Math.ceil(w * 0.6)));
      break;
    case 'chamfered':
      profile = chamfered(rng, w, h);
      break;
    case 'regular':
      profile = regularPolygon(rng, size);
      break;
    case 'star':
      profile = starPolygon(rng, size);
      break;
  }
  profile = compact(normalizeBox(profile));
  if (profile.kind !== 'poly' || profile.vertices.length < 3 || !isSimple(polyline(profile))) return null;
  return withLineStart(profile);
}

/**
 * Rotate the vertex list so the loop starts at its lowest-left vertex whose outgoing edge is a
 * line (close() draws that edge), and translate that vertex to (0, 0).
 */
function withLineStart(profile: Profile & { kind: 'poly' }): Profile {
  const v = profile.vertices;
  let best = -1;
  for (let i = 0; i < v.length; i++) {
    if (v[i].edge.kind !== 'line') continue;
    if (best < 0 || v[i].p[1] < v[best].p[1] || (v[i].p[1] === v[best].p[1] && v[i].p[0] < v[best].p[0])) best = i;
  }
  if (best < 0) best = 0;
  const rotated = [...v.slice(best), ...v.slice(0, best)];
  const [x0, y0] = rotated[0].p;
  return translate({ kind: 'poly', vertices: rotated }, -x0, -y0);
}

/** The loop as the tokenizer stores it: moveTo(second vertex) … lineTo(first) close(). */
export function profileLoop(profile: Profile): QLoop {
  if (profile.kind === 'circle') return { kind: 'circle', center: profile.center, radius: profile.radius };
  const v = profile.vertices;
  const segments: QSegment[] = [];
  for (let i = 1; i < v.length; i++) {
    const end = v[(i + 1) % v.length].p;
    const edge = v[i].edge;
    segments.push(edge.kind === 'line' ? { kind: 'line', end } : { kind: 'arc', end, sweep: edge.sweep, ccw: edge.ccw });
  }
  return { kind: 'path', start: v[1 % v.length].p, segments };
}

/** A random point inside `outer`, outside `holes`, at least `margin` from every boundary. */
export function interiorPoint(rng: Rng, outer: readonly Pt[], holes: readonly (readonly Pt[])[], margin: number, tries = 80): Pt | null {
  const b = bbox(outer);
  for (let t = 0; t < tries; t++) {
    const p: Pt = [between(rng, b.min[0], b.max[0]), between(rng, b.min[1], b.max[1])];
    if (!insidePolygon(p, outer) || distanceToPolygon(p, outer) < margin) continue;
    if (holes.some((h) => insidePolygon(p, h) || distanceToPolygon(p, h) < margin)) continue;
    return p;
  }
  return null;
}

/**
 * Holes for an outer profile: concentric rings and tubes, circles (often in symmetric
 * patterns), small rectangles and slots; each strictly inside the outer loop and apart.
 */
export function holesFor(rng: Rng, outer: Profile, count: number): Profile[] {
  const outline = polyline(outer);
  const b = bbox(outline);
  const w = b.max[0] - b.min[0];
  const h = b.max[1] - b.min[1];
  const holes: Profile[] = [];
  const outlines: Pt[][] = [];
  const margin = 2;
  // Concentric ring / tube first: the commonest GenCAD hole.
  if (outer.kind === 'circle' && rng() < 0.6) {
    const r = Math.round(outer.radius * between(rng, 0.3, 0.92));
    if (r >= 1 && r <= outer.radius - 2) {
      const ring: Profile = { kind: 'circle', center: outer.center, radius: r };
      return [ring];
    }
  }
  const isRect = outer.kind === 'poly' && outer.vertices.length === 4 && outer.vertices.every((v) => v.edge.kind === 'line');
  if (isRect && rng() < 0.2) {
    const t = intBetween(rng, 2, Math.max(2, Math.floor(Math.min(w, h) / 4)));
    if (Math.min(w, h) - 2 * t >= 3) {
      const inner = translate(rect(Math.round(w - 2 * t), Math.round(h - 2 * t)), Math.round(b.min[0] + t), Math.round(b.min[1] + t));
      return [inner];
    }
  }
  const symmetric = isRect && count >= 2 && rng() < 0.6;
  let attempts = 0;
  while (holes.length < count && attempts++ < 40) {
    const kind = pick(rng, ['circle', 'rect', 'slot'] as const, [0.75, 0.15, 0.1]);
    const limit = Math.min(w, h) * (count > 1 ? 0.22 : 0.35);
    if (limit < 1.5) break;
    let candidates: Profile[];
    const center = symmetric
      ? ([b.min[0] + w * between(rng, 0.12, 0.4), b.min[1] + h * between(rng, 0.12, 0.88)] as Pt)
      : interiorPoint(rng, outline, outlines, margin + 1);
    if (!center) continue;
    const cx = Math.round(center[0]);
    const cy = Math.round(center[1]);
    if (kind === 'circle') {
      const r = intBetween(rng, 1, Math.max(1, Math.floor(limit)));
      const one: Profile = { kind: 'circle', center: [cx, cy], radius: r };
      candidates = [one];
      if (symmetric) candidates.push({ kind: 'circle', center: [Math.round(b.min[0] + b.max[0] - cx), cy], radius: r });
    } else {
      const hw = intBetween(rng, 1, Math.max(1, Math.floor(limit)));
      const hh = kind === 'slot' ? Math.max(1, Math.floor(hw / 3)) : intBetween(rng, 1, Math.max(1, Math.floor(limit)));
      const shape = kind === 'slot' ? rounded(rng, 2 * hw + 2 * hh, 2 * hh, true) : rect(2 * hw, 2 * hh);
      const one = translate(shape, cx - hw - (kind === 'slot' ? hh : 0), cy - hh);
      candidates = [one];
      if (symmetric) {
        const mirroredX = Math.round(b.min[0] + b.max[0] - cx);
        candidates.push(translate(one, mirroredX - cx, 0));
      }
    }
    const lines = candidates.map((c) => polyline(c));
    const ok = lines.every(
      (pts) =>
        pts.every((p) => insidePolygon(p, outline) && distanceToPolygon(p, outline) >= margin) &&
        outlines.every(
          (other) => pts.every((p) => !insidePolygon(p, other) && distanceToPolygon(p, other) >= margin) && other.every((p) => !insidePolygon(p, pts)),
        ),
    );
    const apart = lines.length < 2 || lines[0].every((p) => !insidePolygon(p, lines[1]) && distanceToPolygon(p, lines[1]) >= margin);
    if (!ok || !apart) continue;
    holes.push(...candidates);
    outlines.push(...lines);
  }
  return holes;
}
