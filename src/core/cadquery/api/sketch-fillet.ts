/**
 * Sketch.fillet at corners where straight edges and circular arcs meet (what
 * BRepFilletAPI_MakeFillet2d does for CadQuery, which this OpenCascade build lacks): the fillet
 * circle of radius d tangent to both edges on the inside of the corner, the edges trimmed at the
 * tangent points. Corners between two straight edges stay with sketch.ts's roundCorners.
 */
import type { Edge, Wire } from 'replicad';
import { CadError } from '../../errors';
import { edgeEndpoints, edgeGeomType, geometryError, LENGTH_EPS, lineEdge, occ, subShapes, threePointArcEdge, wireFromEdges } from './geom';
import { Vec3 } from './vec';

/** One edge of the wire in travel order: a segment, or an arc about `c` turning `sense` (+1 ccw). */
type Piece = { kind: 'line'; a: Vec3; b: Vec3 } | { kind: 'arc'; a: Vec3; b: Vec3; c: Vec3; r: number; sense: number; closed: boolean };

const cross = (u: Vec3, v: Vec3) => u.x * v.y - u.y * v.x;
const leftNormal = (t: Vec3) => new Vec3(-t.y, t.x, 0);

/** An edge as found: its ends in parameter order. */
type Raw = { kind: 'line'; p0: Vec3; p1: Vec3 } | { kind: 'arc'; p0: Vec3; p1: Vec3; c: Vec3; r: number; sense: number; closed: boolean };

function describe(method: string, e: Edge): Raw {
  const [p0, p1] = edgeEndpoints(e);
  const gt = edgeGeomType(e);
  if (gt === 'LINE') return { kind: 'line', p0, p1 };
  if (gt !== 'CIRCLE') throw new CadError('unsupported', `${method}(): rounding a corner of a ${gt} edge is not supported yet`);
  return occ(method, (oc, keep) => {
    const adaptor = keep(new oc.BRepAdaptor_Curve(e.wrapped));
    const circle = keep(adaptor.Circle());
    const c = keep(circle.Location());
    const axis = keep(keep(circle.Axis()).Direction());
    const closed = adaptor.LastParameter() - adaptor.FirstParameter() > 2 * Math.PI - 1e-9;
    // p0/p1 are the curve's ends in parameter order; the parameter turns ccw when the axis is +z.
    return { kind: 'arc' as const, c: new Vec3(c.X(), c.Y(), 0), r: circle.Radius(), sense: axis.Z() > 0 ? 1 : -1, closed, p0, p1 };
  });
}

/** The wire's edges chained end to start, each with its travel direction. */
function chain(method: string, w: Wire): Piece[] {
  const raw = (subShapes(w, 'edge') as Edge[]).map((e) => describe(method, e));
  const used = raw.map(() => false);
  const out: Piece[] = [];
  const take = (i: number, reversed: boolean) => {
    used[i] = true;
    const d = raw[i];
    const [a, b] = reversed ? [d.p1, d.p0] : [d.p0, d.p1];
    if (d.kind === 'line') out.push({ kind: 'line', a, b });
    else if (d.kind === 'arc') out.push({ kind: 'arc', a, b, c: d.c, r: d.r, sense: reversed ? -d.sense : d.sense, closed: d.closed });
  };
  take(0, false);
  for (let step = 1; step < raw.length; step++) {
    const end = out[out.length - 1].b;
    const j = raw.findIndex((d, i) => !used[i] && (d.p0.distance(end) < 1e-7 || d.p1.distance(end) < 1e-7));
    if (j < 0) throw geometryError(method, 'the wire is not a closed chain of edges');
    take(j, raw[j].p0.distance(end) >= 1e-7);
  }
  return out;
}

/** The unit tangent of a piece at point p, in its travel direction. */
function tangentAt(p: Piece, at: Vec3): Vec3 {
  if (p.kind === 'line') return p.b.sub(p.a).normalized();
  return leftNormal(at.sub(p.c)).normalized().scale(p.sense);
}

/** Where a fillet centre may lie for a piece: a line (point, direction) or a circle (centre, radius). */
type Locus = { kind: 'line'; p: Vec3; t: Vec3 } | { kind: 'circle'; c: Vec3; r: number };

function locus(p: Piece, at: Vec3, side: number, d: number): Locus {
  const t = tangentAt(p, at);
  const n = leftNormal(t).scale(side);
  if (p.kind === 'line') return { kind: 'line', p: at.add(n.scale(d)), t };
  // The fillet centre moves toward the arc's centre when the inside of the corner faces it.
  return { kind: 'circle', c: p.c, r: n.dot(p.c.sub(at)) > 0 ? p.r - d : p.r + d };
}

function intersect(a: Locus, b: Locus): Vec3[] {
  if (a.kind === 'line' && b.kind === 'line') {
    const den = cross(a.t, b.t);
    if (Math.abs(den) < 1e-12) return [];
    const s = cross(b.p.sub(a.p), b.t) / den;
    return [a.p.add(a.t.scale(s))];
  }
  if (a.kind === 'circle' && b.kind === 'line') return intersect(b, a);
  if (a.kind === 'line' && b.kind === 'circle') {
    const f = a.p.sub(b.c);
    const bq = f.dot(a.t);
    const disc = bq * bq - (f.dot(f) - b.r * b.r);
    if (disc < -1e-12) return [];
    const q = Math.sqrt(Math.max(0, disc));
    return [a.p.add(a.t.scale(-bq - q)), a.p.add(a.t.scale(-bq + q))];
  }
  const [c1, c2] = [a as Extract<Locus, { kind: 'circle' }>, b as Extract<Locus, { kind: 'circle' }>];
  const dv = c2.c.sub(c1.c);
  const dist = dv.length;
  if (dist < 1e-12) return [];
  const x = (dist * dist + c1.r * c1.r - c2.r * c2.r) / (2 * dist);
  const h2 = c1.r * c1.r - x * x;
  if (h2 < -1e-12) return [];
  const u = dv.scale(1 / dist);
  const base = c1.c.add(u.scale(x));
  const h = Math.sqrt(Math.max(0, h2));
  return [base.add(leftNormal(u).scale(h)), base.add(leftNormal(u).scale(-h))];
}

/** Two pieces on the same line or circle. */
function sameCurve(p: Piece, q: Piece): boolean {
  if (p.kind === 'line' || q.kind === 'line') return p.kind === q.kind;
  return p.c.distance(q.c) < 1e-7 && Math.abs(p.r - q.r) < 1e-7;
}

/** The point of a piece nearest to o (its foot on the line, or on the circle). */
function foot(p: Piece, o: Vec3): Vec3 {
  if (p.kind === 'line') {
    const t = p.b.sub(p.a).normalized();
    return p.a.add(t.scale(o.sub(p.a).dot(t)));
  }
  return p.c.add(o.sub(p.c).normalized().scale(p.r));
}

/** A piece from a to b (its geometry unchanged) as an edge. */
function pieceEdge(method: string, p: Piece): Edge {
  if (p.kind === 'line') return lineEdge(method, p.a, p.b);
  const a0 = Math.atan2(p.a.y - p.c.y, p.a.x - p.c.x);
  const a1 = Math.atan2(p.b.y - p.c.y, p.b.x - p.c.x);
  const tau = 2 * Math.PI;
  let sweep = p.sense > 0 ? (((a1 - a0) % tau) + tau) % tau : -((((a0 - a1) % tau) + tau) % tau);
  if (Math.abs(sweep) < 1e-12) sweep = p.sense * tau;
  const m = a0 + sweep / 2;
  return threePointArcEdge(method, p.a, new Vec3(p.c.x + p.r * Math.cos(m), p.c.y + p.r * Math.sin(m), 0), p.b);
}

/**
 * The wire with each corner at one of `points` rounded with radius d; undefined when it has only
 * straight edges (roundCorners' case) or none of the points.
 */
export function filletArcCorners(method: string, w: Wire, points: Vec3[], d: number): Wire | undefined {
  const pieces = chain(method, w);
  if (pieces.every((p) => p.kind === 'line')) return undefined;
  const n = pieces.length;
  const hit = (c: Vec3) => points.some((p) => p.distance(c) < 1e-6);
  if (!pieces.some((p) => hit(p.b))) return w;
  if (pieces.some((p) => p.kind === 'arc' && p.closed)) throw geometryError(method, 'a whole circle has no corner to round');
  const starts = pieces.map((p) => p.a);
  const ends = pieces.map((p) => p.b);
  const fillets: (Edge | undefined)[] = pieces.map(() => undefined);
  for (let i = 0; i < n; i++) {
    const inP = pieces[i];
    const outP = pieces[(i + 1) % n];
    const c = inP.b;
    if (!hit(c)) continue;
    const t1 = tangentAt(inP, c);
    const t2 = tangentAt(outP, c);
    const turn = cross(t1, t2);
    if (Math.abs(turn) < 1e-9) {
      // A split point of one line or circle (a circle's seam left in by an uncleaned boolean): no
      // corner, left as it is, as MakeFillet2d leaves it.
      if (sameCurve(inP, outP)) continue;
      // Tangent edges of different curves (a slot's ends): MakeFillet2d fails there (StdFail_NotDone).
      throw geometryError(method, 'the edges meet tangentially: no corner to round');
    }
    const side = Math.sign(turn);
    const centres = intersect(locus(inP, c, side, d), locus(outP, c, side, d));
    if (!centres.length) throw geometryError(method, 'the fillet is too large for the corner');
    const o = centres.reduce((best, q) => (q.distance(c) < best.distance(c) ? q : best));
    const p1 = foot(inP, o);
    const p2 = foot(outP, o);
    ends[i] = p1;
    starts[(i + 1) % n] = p2;
    const mid = o.add(p1.add(p2).scale(0.5).sub(o).normalized().scale(d));
    fillets[i] = threePointArcEdge(method, p1, mid, p2);
  }
  const edges: Edge[] = [];
  for (let i = 0; i < n; i++) {
    if (starts[i].distance(ends[i]) <= LENGTH_EPS) throw geometryError(method, 'the fillet is too large for the corner');
    edges.push(pieceEdge(method, { ...pieces[i], a: starts[i], b: ends[i] }));
    const f = fillets[i];
    if (f) edges.push(f);
  }
  return wireFromEdges(method, edges);
}
