/**
 * CadQuery's `hull.find_hull` (cadquery/hull.py, used by Sketch.hull): the convex hull of planar
 * straight segments and circular arcs (Yue, Murray, Corney & Clark 1999), ported step for step so
 * that the same edges give the same wire — including hull.py's quirks: an arc's start and end
 * points are taken about the origin, not its centre, when choosing the lowest entity, and only
 * the x and y of each edge are read (a sketch's local plane).
 */
import type { Edge, Wire } from 'replicad';
import { CadError } from '../../errors';
import { circleArcEdge, edgeEndpoints, edgeGeomType, geometryError, lineEdge, occ, wireFromEdges } from './geom';
import { Vec3 } from './vec';

interface Point {
  kind: 'point';
  x: number;
  y: number;
}
interface Arc {
  kind: 'arc';
  c: Point;
  r: number;
  a1: number;
  a2: number;
  s: Point;
  e: Point;
}
interface Segment {
  kind: 'segment';
  a: Point;
  b: Point;
}
type Entity = Point | Arc;

const point = (x: number, y: number): Point => ({ kind: 'point', x, y });
const segment = (a: Point, b: Point): Segment => ({ kind: 'segment', a, b });
const arc = (c: Point, r: number, a1: number, a2: number): Arc => ({
  kind: 'arc',
  c,
  r,
  a1,
  a2,
  s: point(r * Math.cos(a1), r * Math.sin(a1)),
  e: point(r * Math.cos(a2), r * Math.sin(a2)),
});

/** atan2 in [0, 2π). */
function atan2p(x: number, y: number): number {
  let rv = Math.atan2(y, x);
  if (rv < 0) rv = (2 * Math.PI + rv) % (2 * Math.PI);
  return rv;
}

/** numpy's argmin/argmax: the first index of the extreme value. */
function argmin(v: number[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] < v[best]) best = i;
  return best;
}
function argmax(v: number[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

function convert(method: string, edges: Edge[]): { arcs: Arc[]; points: Point[] } {
  const arcs: Arc[] = [];
  const points: Point[] = [];
  const addPoint = (p: Point) => {
    if (!points.some((q) => q.x === p.x && q.y === p.y)) points.push(p);
  };
  for (const e of edges) {
    const gt = edgeGeomType(e);
    if (gt === 'LINE') {
      const [p1, p2] = edgeEndpoints(e);
      addPoint(point(p1.x, p1.y));
      addPoint(point(p2.x, p2.y));
    } else if (gt === 'CIRCLE') {
      arcs.push(
        occ(method, (oc, keep) => {
          const adaptor = keep(new oc.BRepAdaptor_Curve(e.wrapped));
          const circle = keep(adaptor.Circle());
          const c = keep(circle.Location());
          return arc(point(c.X(), c.Y()), circle.Radius(), adaptor.FirstParameter(), adaptor.LastParameter());
        }),
      );
    } else {
      throw new CadError('runtime', `${method}(): unsupported geometry ${gt} (the hull takes lines and circular arcs)`);
    }
  }
  return { arcs, points };
}

/** numpy.lexsort((x, y))[0]: the lowest y, then the lowest x (the first such). */
function lowestIndex(pts: Point[]): number {
  let best = 0;
  for (let i = 1; i < pts.length; i++) {
    if (pts[i].y < pts[best].y || (pts[i].y === pts[best].y && pts[i].x < pts[best].x)) best = i;
  }
  return best;
}

function selectLowest(arcs: Arc[], points: Point[]): Entity {
  const pLowest = points.length ? points[lowestIndex(points)] : undefined;
  let aLowest: [Point, Arc] | undefined;
  if (arcs.length) {
    const lows = arcs.map((a) => (a.a1 < 1.5 * Math.PI && a.a2 > 1.5 * Math.PI ? point(a.c.x, a.c.y - a.r) : [a.s, a.e][lowestIndex([a.s, a.e])]));
    const i = lowestIndex(lows);
    aLowest = [lows[i], arcs[i]];
  }
  if (!pLowest && aLowest) return aLowest[1];
  if (pLowest && !aLowest) return pLowest;
  if (pLowest && aLowest) return lowestIndex([pLowest, aLowest[0]]) === 0 ? pLowest : aLowest[1];
  throw new CadError('runtime', 'No entities specified');
}

function ptArcTangents(p: Point, a: Arc): [number, number, number, number] {
  const { r } = a;
  const dx = p.x - a.c.x;
  const dy = p.y - a.c.y;
  const l = Math.sqrt(dx ** 2 + dy ** 2);
  const q = Math.sqrt(l ** 2 - r ** 2);
  return [
    (r ** 2 / l ** 2) * dx - (r / l ** 2) * q * dy + a.c.x,
    (r ** 2 / l ** 2) * dy + (r / l ** 2) * q * dx + a.c.y,
    (r ** 2 / l ** 2) * dx + (r / l ** 2) * q * dy + a.c.x,
    (r ** 2 / l ** 2) * dy - (r / l ** 2) * q * dx + a.c.y,
  ];
}

function ptPt(p1: Point, p2: Point): [number, Segment] {
  const dx = p2.x - p1.x;
  const dy = p2.y - p1.y;
  return [dx !== 0 || dy !== 0 ? atan2p(dx, dy) : 0, segment(p1, p2)];
}

function ptArc(p: Point, a: Arc): [number, Segment] {
  const [x1, y1, x2, y2] = ptArcTangents(p, a);
  const angles = [atan2p(x1 - p.x, y1 - p.y), atan2p(x2 - p.x, y2 - p.y)];
  const pts = [point(x1, y1), point(x2, y2)];
  const ix = argmin(angles);
  return [angles[ix], segment(p, pts[ix])];
}

function arcPt(a: Arc, p: Point): [number, Segment] {
  const [x1, y1, x2, y2] = ptArcTangents(p, a);
  const angles = [atan2p(p.x - x1, p.y - y1), atan2p(p.x - x2, p.y - y2)];
  const pts = [point(x1, y1), point(x2, y2)];
  const ix = argmax(angles);
  return [angles[ix], segment(pts[ix], p)];
}

function arcArc(a1: Arc, a2: Arc): [number, Segment] {
  const { r: r1 } = a1;
  const { r: r2 } = a2;
  const [xc1, yc1, xc2, yc2] = [a1.c.x, a1.c.y, a2.c.x, a2.c.y];
  let dx1: number;
  let dy1: number;
  let dx2: number;
  let dy2: number;
  if (r1 !== r2) {
    // The tangents of a related point–circle problem.
    const [big, small, c] = r1 > r2 ? [a1, a2, a1.c] : [a2, a1, a2.c];
    const delta = Math.abs(r1 - r2);
    const [xt1, yt1, xt2, yt2] = ptArcTangents(small.c, arc(big.c, delta, big.a1, big.a2));
    dx1 = (xt1 - c.x) / delta;
    dy1 = (yt1 - c.y) / delta;
    dx2 = (xt2 - c.x) / delta;
    dy2 = (yt2 - c.y) / delta;
  } else {
    let dx = xc2 - xc1;
    let dy = yc2 - yc1;
    const l = Math.sqrt(dx ** 2 + dy ** 2);
    dx /= l;
    dy /= l;
    [dx1, dy1, dx2, dy2] = [-dy, dx, dy, -dx];
  }
  const [x11, y11, x12, y12] = [xc1 + dx1 * r1, yc1 + dy1 * r1, xc1 + dx2 * r1, yc1 + dy2 * r1];
  const [x21, y21, x22, y22] = [xc2 + dx1 * r2, yc2 + dy1 * r2, xc2 + dx2 * r2, yc2 + dy2 * r2];
  const a1Out = atan2p(x21 - x11, y21 - y11);
  const a2Out = atan2p(x22 - x12, y22 - y12);
  // The feasible one of the two tangents.
  const a11 = (atan2p(x11 - xc1, y11 - yc1) + Math.PI / 2) % (2 * Math.PI);
  const a21 = (atan2p(x12 - xc1, y12 - yc1) + Math.PI / 2) % (2 * Math.PI);
  const ix = argmin([Math.abs(a11 - a1Out), Math.abs(a21 - a2Out)]);
  const segments = [segment(point(x11, y11), point(x21, y21)), segment(point(x12, y12), point(x22, y22))];
  return [[a1Out, a2Out][ix], segments[ix]];
}

function angleTo(current: Entity, e: Entity): [number, Segment] {
  if (current === e) return [Number.POSITIVE_INFINITY, segment(point(Infinity, Infinity), point(Infinity, Infinity))];
  if (current.kind === 'point') return e.kind === 'point' ? ptPt(current, e) : ptArc(current, e);
  return e.kind === 'point' ? arcPt(current, e) : arcArc(current, e);
}

const degrees = (r: number) => (r * 180) / Math.PI;

function finalizeHull(method: string, hull: (Entity | Segment)[]): Wire {
  const out: Edge[] = [];
  const arcEdge = (a: Arc, from: Point, to: Point) =>
    circleArcEdge(
      method,
      new Vec3(a.c.x, a.c.y, 0),
      new Vec3(0, 0, 1),
      a.r,
      degrees(atan2p(from.x - a.c.x, from.y - a.c.y)),
      degrees(atan2p(to.x - a.c.x, to.y - a.c.y)),
      true,
    );
  for (let i = 1; i + 1 < hull.length; i++) {
    const [prev, el, next] = [hull[i - 1], hull[i], hull[i + 1]];
    if (el.kind === 'segment') out.push(lineEdge(method, new Vec3(el.a.x, el.a.y, 0), new Vec3(el.b.x, el.b.y, 0)));
    else if (el.kind === 'arc' && prev.kind === 'segment' && next.kind === 'segment') out.push(arcEdge(el, prev.b, next.a));
  }
  // hull.py closes on the first entity when it is an arc (its loop's last triple).
  const [el, elN, el1] = [hull[hull.length - 2], hull[hull.length - 1], hull[1]];
  if (el.kind === 'segment' && elN.kind === 'arc' && el1.kind === 'segment') out.push(arcEdge(elN, el.b, el1.a));
  return wireFromEdges(method, out);
}

/** The convex hull of `edges` (lines and circular arcs in the XY plane) as one closed wire. */
export function findHull(method: string, edges: Edge[]): Wire {
  const { arcs, points } = convert(method, edges);
  const start = selectLowest(arcs, points);
  const hull: (Entity | Segment)[] = [start];
  const entities: Entity[] = [...arcs, ...points];
  let current: Entity = start;
  let currentAngle = 0;
  for (let guard = 0; ; guard++) {
    if (guard > 4 * (entities.length + arcs.length) + 8) throw geometryError(method, 'the hull did not close');
    const angles: number[] = [];
    const segments: Segment[] = [];
    for (const e of entities) {
      const [angle, seg] = angleTo(current, e);
      angles.push(angle >= currentAngle ? angle : Number.POSITIVE_INFINITY);
      segments.push(seg);
    }
    const ix = argmin(angles);
    const next = entities[ix];
    if (next.kind === 'point') entities.splice(ix, 1);
    hull.push(segments[ix], next);
    current = next;
    currentAngle = angles[ix];
    if (next === hull[0]) break;
  }
  return finalizeHull(method, hull);
}
