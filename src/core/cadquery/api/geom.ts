/**
 * The OpenCascade layer under the CadQuery API: edges, wires, faces (with CadQuery's wire nesting),
 * prisms, primitives, booleans, transforms and measurements. Built on raw OCCT calls because
 * replicad's helpers simplify after every boolean (slow); results are wrapped in replicad's shape
 * classes so the rest of the product can use them.
 *
 * Every function refuses degenerate input before OCCT sees it (OCCT can hang on it) and turns
 * OCCT's C++ exceptions into CadError('geometry', `${method}(): …`).
 */
import { cast, Compound, Edge, Face, getOC, iterTopo, Shell, Solid, Vertex, Wire, type AnyShape, type Shape3D } from 'replicad';
import { CadError } from '../../errors';
import { occtErrorMessage } from '../../occt/occt';
import { Frame } from './plane';
import { Vec3 } from './vec';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type OC = any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type TopoShape = any;

/** Lengths below this are treated as zero (CadQuery's/OCCT's confusion tolerance is 1e-7). */
export const LENGTH_EPS = 1e-7;

export function geometryError(method: string, message: string): CadError {
  return new CadError('geometry', `${method}(): ${message}`);
}

/** Runs `fn`, deleting every OCCT object registered through `keep` afterwards; maps C++ errors. */
export function occ<T>(method: string, fn: (oc: OC, keep: <U>(o: U) => U) => T): T {
  const oc = getOC();
  const temps: { delete(): void }[] = [];
  const keep = <U>(o: U): U => {
    temps.push(o as unknown as { delete(): void });
    return o;
  };
  try {
    return fn(oc, keep);
  } catch (e) {
    if (e instanceof CadError) throw e;
    throw geometryError(method, occtErrorMessage(oc, e));
  } finally {
    for (const t of temps) {
      try {
        t.delete();
      } catch {
        // already freed
      }
    }
  }
}

const pnt = (oc: OC, v: Vec3) => new oc.gp_Pnt(v.x, v.y, v.z);
const dir = (oc: OC, v: Vec3) => new oc.gp_Dir(v.x, v.y, v.z);
const vec = (oc: OC, v: Vec3) => new oc.gp_Vec(v.x, v.y, v.z);

function ax2(oc: OC, keep: <U>(o: U) => U, origin: Vec3, z: Vec3, x: Vec3) {
  return keep(new oc.gp_Ax2(keep(pnt(oc, origin)), keep(dir(oc, z)), keep(dir(oc, x))));
}
function ax3(oc: OC, keep: <U>(o: U) => U, f: Frame) {
  return keep(new oc.gp_Ax3(keep(pnt(oc, f.origin)), keep(dir(oc, f.zDir)), keep(dir(oc, f.xDir))));
}

// ---- outlines: polyline approximations of the wires we build, for nesting and areas ----------

/**
 * Wire → its points in order (world coordinates), sampled finely enough to decide which loop lies
 * inside which. Recorded when we build a wire; wires from elsewhere are sampled from OCCT.
 */
const outlines = new WeakMap<object, Vec3[]>();

export function recordOutline(shape: Wire | Edge, points: Vec3[]): void {
  outlines.set(shape, points);
}

/** Points along a circle arc from angle a0 to a1 around `center` in the frame's plane directions. */
export function arcPoints(center: Vec3, u: Vec3, v: Vec3, r: number, a0: number, a1: number, n: number): Vec3[] {
  const pts: Vec3[] = [];
  for (let i = 0; i <= n; i++) {
    const a = a0 + ((a1 - a0) * i) / n;
    pts.push(center.add(u.scale(r * Math.cos(a))).add(v.scale(r * Math.sin(a))));
  }
  return pts;
}

export function wireOutline(w: Wire): Vec3[] {
  const known = outlines.get(w);
  if (known) return known;
  const pts = occ('wire', (oc, keep) => {
    const adaptor = keep(new oc.BRepAdaptor_CompCurve(w.wrapped, false));
    const first = adaptor.FirstParameter();
    const last = adaptor.LastParameter();
    const n = 96;
    const out: Vec3[] = [];
    for (let i = 0; i < n; i++) {
      const p = adaptor.Value(first + ((last - first) * i) / n);
      out.push(new Vec3(p.X(), p.Y(), p.Z()));
      p.delete();
    }
    return out;
  });
  outlines.set(w, pts);
  return pts;
}

// ---- edges and wires ---------------------------------------------------------------------------

export function lineEdge(method: string, a: Vec3, b: Vec3): Edge {
  if (a.distance(b) < LENGTH_EPS) throw geometryError(method, 'zero-length segment (start and end points coincide)');
  return occ(method, (oc, keep) => {
    const e = new Edge(keep(new oc.BRepBuilderAPI_MakeEdge(keep(pnt(oc, a)), keep(pnt(oc, b)))).Edge());
    recordOutline(e, [a, b]);
    knownCurves.set(e, [{ a, b }]);
    return e;
  });
}

/** The edges (or wires) each wireFromEdges wire was made of, in order. */
const wireParts = new WeakMap<Wire, (Edge | Wire)[]>();

/** A line (no centre) or circular arc from a to b: what faceMayMerge needs of an edge. */
interface Curve {
  a: Vec3;
  b: Vec3;
  centre?: Vec3;
  axis?: Vec3;
  radius?: number;
}

/** Lines, arcs and circles made here, with their geometry (see wiresCurves). */
const knownCurves = new WeakMap<Edge | Wire, Curve[]>();

/**
 * The wire with each run of segments along one line, one after the other in the same direction,
 * made one segment (also across the wire's start), or the wire itself when it has none or was not
 * made here from segments. A prism of the result is what CadQuery's clean() makes of the prism of
 * the original (UnifySameDomain merges those side faces and edges), without the clean.
 */
export function mergedCollinearWire(method: string, wire: Wire): Wire {
  const parts = wireParts.get(wire);
  if (!parts || parts.length < 3 || !parts.every((p) => p instanceof Edge)) return wire;
  // A segment made by lineEdge: one known curve without a centre.
  const segment = (e: Edge) => {
    const c = knownCurves.get(e);
    return c?.length === 1 && !c[0].centre ? c[0] : undefined;
  };
  const joins = (p: Edge, q: Edge) => {
    const s = segment(p);
    const t = segment(q);
    if (!s || !t) return false;
    const [a, b, c, d] = [s.a, s.b, t.a, t.b];
    if (b.distance(c) > 1e-9) return false;
    const u = b.sub(a).normalized();
    const v = d.sub(c).normalized();
    return u.dot(v) > 0 && u.cross(v).length < 1e-9;
  };
  const edges = parts as Edge[];
  const n = edges.length;
  if (!edges.some((e, i) => joins(e, edges[(i + 1) % n]))) return wire;
  // Start after a break, so that no run wraps around the end of the list.
  const start = edges.findIndex((e, i) => !joins(edges[(i + n - 1) % n], e));
  if (start < 0) return wire; // one straight line all round: not a closed profile
  const runs: Edge[][] = [];
  for (let k = 0; k < n; k++) {
    const e = edges[(start + k) % n];
    const last = runs[runs.length - 1];
    if (last && joins(last[last.length - 1], e)) last.push(e);
    else runs.push([e]);
  }
  const merged = runs.map((run) => (run.length === 1 ? run[0] : lineEdge(method, segment(run[0])!.a, segment(run[run.length - 1])!.b)));
  return wireFromEdges(method, merged);
}

/** Circle through three points: centre and radius, or undefined when they are collinear. */
export function circleThrough(a: Vec3, m: Vec3, b: Vec3): { center: Vec3; radius: number; normal: Vec3 } | undefined {
  const ab = b.sub(a);
  const am = m.sub(a);
  const n = am.cross(ab);
  const n2 = n.dot(n);
  if (n2 < 1e-18 * Math.max(1e-300, am.dot(am) * ab.dot(ab)) || n2 === 0) return undefined;
  // Circumcentre: a + ((|am|² ab − |ab|² am) × n) / (2|n|²) … in the standard form below.
  const t1 = n.cross(am).scale(ab.dot(ab));
  const t2 = ab.cross(n).scale(am.dot(am));
  const center = a.add(t1.add(t2).scale(1 / (2 * n2)));
  return { center, radius: center.distance(a), normal: n.normalized() };
}

export function threePointArcEdge(method: string, a: Vec3, m: Vec3, b: Vec3): Edge {
  if (a.distance(b) < LENGTH_EPS || a.distance(m) < LENGTH_EPS || m.distance(b) < LENGTH_EPS) {
    throw geometryError(method, 'the three arc points must be distinct');
  }
  const circle = circleThrough(a, m, b);
  if (!circle) throw geometryError(method, 'the three arc points are collinear');
  return occ(method, (oc, keep) => {
    const maker = keep(new oc.GC_MakeArcOfCircle(keep(pnt(oc, a)), keep(pnt(oc, m)), keep(pnt(oc, b))));
    if (!maker.IsDone()) throw geometryError(method, 'could not build the arc');
    const curve = keep(maker.Value());
    const e = new Edge(keep(new oc.BRepBuilderAPI_MakeEdge(curve)).Edge());
    recordOutline(e, sampleArc(a, m, b, circle));
    knownCurves.set(e, [{ a, b, centre: circle.center, axis: circle.normal, radius: circle.radius }]);
    return e;
  });
}

function sampleArc(a: Vec3, m: Vec3, b: Vec3, c: { center: Vec3; radius: number; normal: Vec3 }): Vec3[] {
  const u = a.sub(c.center).normalized();
  const v = c.normal.cross(u);
  const angleOf = (p: Vec3) => {
    const d = p.sub(c.center);
    let t = Math.atan2(d.dot(v), d.dot(u));
    if (t < 0) t += 2 * Math.PI;
    return t;
  };
  // With the normal from (m−a)×(b−a) the arc a→m→b runs counter-clockwise about it.
  let end = angleOf(b);
  if (end <= 0) end += 2 * Math.PI;
  const n = Math.max(8, Math.ceil((end / (2 * Math.PI)) * 64));
  void m;
  return arcPoints(c.center, u, v, c.radius, 0, end, n);
}

/**
 * CadQuery's Edge.makeCircle: the circle about `center` with normal `dir` (OpenCascade picks its x
 * direction), whole when a1 == a2 (the sense then does not matter), else the arc from a1 to a2
 * degrees, counter-clockwise, or the other arc reversed when `sense` is false.
 */
export function circleArcEdge(method: string, center: Vec3, dir: Vec3, r: number, a1: number, a2: number, sense: boolean): Edge {
  if (!(r > LENGTH_EPS)) throw geometryError(method, `radius must be positive (got ${r})`);
  return occ(method, (oc, keep) => {
    const ax = keep(new oc.gp_Ax2(keep(pnt(oc, center)), keep(new oc.gp_Dir(dir.x, dir.y, dir.z))));
    const circ = keep(new oc.gp_Circ(ax, r));
    if (a1 === a2) return new Edge(keep(new oc.BRepBuilderAPI_MakeEdge(circ)).Edge());
    const [u1, u2] = [(a1 * Math.PI) / 180, (a2 * Math.PI) / 180];
    const e = new Edge(keep(sense ? new oc.BRepBuilderAPI_MakeEdge(circ, u1, u2) : new oc.BRepBuilderAPI_MakeEdge(circ, u2, u1)).Edge());
    return sense ? e : (cast(e.wrapped.Reversed()) as Edge);
  });
}

export function circleWire(method: string, center: Vec3, normal: Vec3, xDir: Vec3, radius: number): Wire {
  if (!(radius > LENGTH_EPS)) throw geometryError(method, `radius must be positive (got ${radius})`);
  return occ(method, (oc, keep) => {
    const circ = keep(new oc.gp_Circ(ax2(oc, keep, center, normal, xDir), radius));
    const edge = keep(new oc.BRepBuilderAPI_MakeEdge(circ)).Edge();
    const w = new Wire(keep(new oc.BRepBuilderAPI_MakeWire(edge)).Wire());
    edge.delete();
    const y = normal.cross(xDir);
    recordOutline(w, arcPoints(center, xDir, y, radius, 0, 2 * Math.PI, 64).slice(0, -1));
    const start = center.add(xDir.normalized().scale(radius));
    knownCurves.set(w, [{ a: start, b: start, centre: center, axis: normal, radius }]);
    return w;
  });
}

/** Joins edges (in order) into a wire; its outline is the concatenation of theirs. */
export function wireFromEdges(method: string, edges: (Edge | Wire)[]): Wire {
  if (edges.length === 0) throw geometryError(method, 'no edges to make a wire from');
  return occ(method, (oc, keep) => {
    const builder = keep(new oc.BRepBuilderAPI_MakeWire());
    for (const e of edges) builder.Add(e.wrapped);
    if (!builder.IsDone()) throw geometryError(method, 'the edges do not connect into a wire');
    const w = new Wire(builder.Wire());
    wireParts.set(w, edges.slice());
    const pts: Vec3[] = [];
    for (const e of edges) {
      const o = outlines.get(e);
      if (!o) {
        outlines.delete(w);
        return w;
      }
      pts.push(...(pts.length && o[0].distance(pts[pts.length - 1]) < 1e-9 ? o.slice(1) : o));
    }
    recordOutline(w, pts);
    return w;
  });
}

/** A closed polygon wire through `points` (not repeating the first). */
export function polygonWire(method: string, points: Vec3[]): Wire {
  if (points.length < 3) throw geometryError(method, 'a polygon needs at least 3 points');
  const edges: Edge[] = [];
  for (let i = 0; i < points.length; i++) edges.push(lineEdge(method, points[i], points[(i + 1) % points.length]));
  return wireFromEdges(method, edges);
}

export function isClosedWire(w: Wire): boolean {
  const o = outlines.get(w);
  if (o) return (o.length > 2 && o[0].distance(o[o.length - 1]) < 1e-7) || isOccClosed(w);
  return isOccClosed(w);
}

function isOccClosed(w: Wire): boolean {
  return occ('wire', (oc) => oc.BRep_Tool.IsClosed(w.wrapped));
}

// ---- faces from wires -------------------------------------------------------------------------

interface Loop {
  wire: Wire;
  pts: [number, number][];
  area: number; // signed, in the frame's xy
}

function signedArea(pts: [number, number][]): number {
  let a = 0;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) a += pts[j][0] * pts[i][1] - pts[i][0] * pts[j][1];
  return a / 2;
}

function pointInPolygon(x: number, y: number, pts: [number, number][]): boolean {
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i];
    const [xj, yj] = pts[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Whether loop `a` lies inside loop `b` (most of its sample points do). */
function loopInside(a: Loop, b: Loop): boolean {
  if (Math.abs(a.area) >= Math.abs(b.area)) return false;
  // Points outside b's box are outside b; stop once the majority is decided either way.
  const [x0, y0, x1, y1] = loopBox(b);
  const n = a.pts.length;
  let inside = 0;
  let outside = 0;
  for (const [x, y] of a.pts) {
    if (x >= x0 && x <= x1 && y >= y0 && y <= y1 && pointInPolygon(x, y, b.pts)) {
      if (++inside * 2 > n) return true;
    } else if (++outside * 2 >= n) return false;
  }
  return false;
}

const loopBoxes = new WeakMap<Loop, [number, number, number, number]>();

function loopBox(l: Loop): [number, number, number, number] {
  let box = loopBoxes.get(l);
  if (!box) {
    box = [Infinity, Infinity, -Infinity, -Infinity];
    for (const [x, y] of l.pts) {
      if (x < box[0]) box[0] = x;
      if (y < box[1]) box[1] = y;
      if (x > box[2]) box[2] = x;
      if (y > box[3]) box[3] = y;
    }
    loopBoxes.set(l, box);
  }
  return box;
}

/**
 * CadQuery's wire nesting: loops inside an odd number of others are holes of their smallest
 * container; the rest are outer boundaries (islands inside holes become faces of their own).
 * Faces are built on the frame's plane so their normals follow the workplane's z direction.
 */
export function facesFromWires(method: string, pending: Wire[], workplane: Frame, mergeCollinear = false): Face[] {
  // A prism that will be cleaned can be made of the cleaned profile (mergedCollinearWire).
  const wires = mergeCollinear ? pending.map((w) => mergedCollinearWire(method, w)) : pending;
  // Wires drawn at stack points off the plane (faces(">Z").rect(…) without workplane()) lie in a
  // parallel plane: CadQuery makes the faces where the wires are.
  const first = wires.length ? wireOutline(wires[0])[0] : undefined;
  const offset = first ? workplane.toLocal(first).z : 0;
  let frame = Math.abs(offset) > LENGTH_EPS ? workplane.withOrigin(workplane.origin.add(workplane.zDir.scale(offset))) : workplane;
  for (const wire of wires) if (!isClosedWire(wire)) throw geometryError(method, 'the sketch has an open wire; close() it before making a solid');
  let local = localOutlines(wires, frame);
  if (!local) {
    // Wires drawn before a transformed() that tilted the workplane: CadQuery makes the faces in
    // the wires' own plane (and extrude() then sweeps them along the new normal, obliquely).
    const own = wiresPlane(wires, workplane);
    local = own && localOutlines(wires, own);
    if (!own || !local) throw geometryError(method, 'the wires do not lie in one plane');
    frame = own;
  }
  const loops: Loop[] = wires.map((wire, i) => {
    const pts = local[i];
    const area = signedArea(pts);
    if (Math.abs(area) < 1e-12) throw geometryError(method, 'a closed wire encloses zero area');
    return { wire, pts, area };
  });
  loops.sort((p, q) => Math.abs(q.area) - Math.abs(p.area));
  const parent: number[] = loops.map(() => -1);
  const depth: number[] = loops.map(() => 0);
  for (let i = 0; i < loops.length; i++) {
    // Largest first, so containers are already placed; the smallest container is the parent.
    for (let j = i - 1; j >= 0; j--) {
      if (loopInside(loops[i], loops[j])) {
        parent[i] = j;
        depth[i] = depth[j] + 1;
        break;
      }
    }
  }
  return occ(method, (oc, keep) => {
    const plane = keep(new oc.gp_Pln(ax3(oc, keep, frame)));
    const faces: Face[] = [];
    for (let i = 0; i < loops.length; i++) {
      if (depth[i] % 2 === 1) continue;
      const outer = oriented(loops[i], true);
      const maker = keep(new oc.BRepBuilderAPI_MakeFace(plane, outer, true));
      const holes = loops.filter((_, j) => parent[j] === i && depth[j] % 2 === 1);
      for (const hole of holes) maker.Add(oriented(hole, false));
      if (!maker.IsDone()) throw geometryError(method, 'could not build a face from the sketch wires');
      // CadQuery's Face.makeFromWires heals the face (ShapeFix_Face): e.g. a closed polyline that
      // runs back over its first edge loses the doubled part. Only a face with edges on one line or
      // one circle (or other curves) can need it; the others skip its ≈1 ms.
      const face = new Face(maker.Face());
      const curves = wiresCurves([loops[i], ...holes].map((l) => l.wire));
      if (curves) mayMerge.set(face, curves.length > 64 || curvesMayMerge(curves));
      if (!faceMayMerge(face)) {
        if (curves)
          knownKinds.set(
            face,
            curves.map((c) => (c.centre ? 'CIRCLE' : 'LINE')),
          );
        faces.push(face);
        continue;
      }
      const fix = keep(new oc.ShapeFix_Face(face.wrapped));
      fix.Perform();
      faces.push(new Face(oc.TopoDS.Face(fix.Face())));
    }
    return faces;
  });
}

/** Each wire's outline in the frame's xy, or undefined when a point lies off the frame's plane. */
function localOutlines(wires: Wire[], frame: Frame): [number, number][][] | undefined {
  const out: [number, number][][] = [];
  for (const wire of wires) {
    const pts: [number, number][] = [];
    // frame.toLocal, without a vector per point
    const { origin: o, xDir: u, yDir: v, zDir: w } = frame;
    for (const p of wireOutline(wire)) {
      const dx = p.x - o.x;
      const dy = p.y - o.y;
      const dz = p.z - o.z;
      const x = dx * u.x + dy * u.y + dz * u.z;
      const y = dx * v.x + dy * v.y + dz * v.z;
      const z = dx * w.x + dy * w.y + dz * w.z;
      if (Math.abs(z) > 1e-4 * Math.max(1, Math.abs(x), Math.abs(y))) return undefined;
      pts.push([x, y]);
    }
    out.push(pts);
  }
  return out;
}

/**
 * The plane of the first wire (Newell's normal of its outline), its normal on the workplane's side
 * and its x the workplane's x projected onto it; undefined for a wire with no area.
 */
function wiresPlane(wires: Wire[], workplane: Frame): Frame | undefined {
  const pts = wires.length ? wireOutline(wires[0]) : [];
  let nx = 0,
    ny = 0,
    nz = 0;
  for (let i = 0; i < pts.length; i++) {
    const a = pts[i];
    const b = pts[(i + 1) % pts.length];
    nx += (a.y - b.y) * (a.z + b.z);
    ny += (a.z - b.z) * (a.x + b.x);
    nz += (a.x - b.x) * (a.y + b.y);
  }
  let normal = new Vec3(nx, ny, nz);
  if (!(normal.length > 1e-12)) return undefined;
  if (normal.dot(workplane.zDir) < 0) normal = normal.scale(-1);
  const n = normal.normalized();
  const x = Math.abs(workplane.xDir.dot(n)) < 0.999 ? workplane.xDir : workplane.yDir;
  return new Frame(pts[0], x, n);
}

/** The loop's wire, reversed when needed so outer loops run counter-clockwise and holes clockwise. */
function oriented(loop: Loop, outer: boolean): TopoShape {
  const ccw = loop.area > 0;
  const w = loop.wire.wrapped;
  return ccw === outer ? w : getOC().TopoDS.Wire(w.Reversed());
}

/**
 * Whether CadQuery's clean() (ShapeUpgrade_UnifySameDomain) could change a prism of this face:
 * two edges that meet lie on one line or one circle (their side faces would merge; edges that do
 * not meet give side faces that share no edge, which clean leaves apart), or an edge is some other
 * curve. When not, the prism of the face is already clean and cleaning it is skipped (it costs
 * ≈1 ms a solid), as is healing the face (ShapeFix_Face, for a polyline doubling back on itself).
 */
export function faceMayMerge(face: Face): boolean {
  let r = mayMerge.get(face);
  if (r === undefined) mayMerge.set(face, (r = computeFaceMayMerge(face)));
  return r;
}
const mayMerge = new WeakMap<Face, boolean>();

function computeFaceMayMerge(face: Face): boolean {
  return occ('clean', (oc, keep) => {
    const types = oc.GeomAbs_CurveType;
    const point = (p: { X(): number; Y(): number; Z(): number }) => new Vec3(p.X(), p.Y(), p.Z());
    const curves: Curve[] = [];
    // Raw edges and one adaptor each: replicad's wrappers (geomType, startPoint, endPoint) make an adaptor apiece.
    const explorer = keep(new oc.TopExp_Explorer(face.wrapped, oc.TopAbs_ShapeEnum.TopAbs_EDGE, oc.TopAbs_ShapeEnum.TopAbs_SHAPE));
    for (let n = 0; explorer.More(); explorer.Next(), n++) {
      if (n >= 64) return true;
      const curve = keep(new oc.BRepAdaptor_Curve(keep(oc.TopoDS.Edge(explorer.Current()))));
      const t = curve.GetType();
      if (t !== types.GeomAbs_Line && t !== types.GeomAbs_Circle) return true;
      const a = point(keep(curve.Value(curve.FirstParameter())));
      const b = point(keep(curve.Value(curve.LastParameter())));
      if (t === types.GeomAbs_Line) curves.push({ a, b });
      else {
        const c = keep(curve.Circle());
        curves.push({ a, b, centre: point(keep(c.Location())), axis: point(keep(keep(c.Axis()).Direction())), radius: c.Radius() });
      }
    }
    return curvesMayMerge(curves);
  });
}

/** Two of the curves meet and lie on one line or one circle. */
function curvesMayMerge(curves: Curve[]): boolean {
  const meet = (p: Curve, q: Curve) => p.a.distance(q.a) < 1e-7 || p.a.distance(q.b) < 1e-7 || p.b.distance(q.a) < 1e-7 || p.b.distance(q.b) < 1e-7;
  for (let i = 0; i < curves.length; i++) {
    const p = curves[i];
    for (let j = 0; j < i; j++) {
      const q = curves[j];
      if (!meet(p, q) || !p.centre !== !q.centre) continue;
      if (p.centre && q.centre) {
        if (p.centre.distance(q.centre) < 1e-7 && Math.abs(p.radius! - q.radius!) < 1e-7 && p.axis!.cross(q.axis!).length < 1e-9) return true;
      } else {
        const d = p.b.sub(p.a).normalized();
        const e = q.b.sub(q.a).normalized();
        if (e.cross(d).length < 1e-9 && e.cross(p.a.sub(q.a)).length < 1e-7) return true;
      }
    }
  }
  return false;
}

/**
 * The curves of the wires a face is made of, when they were all made here (lines, arcs and
 * circles with known geometry: faceMayMerge and faceEdgeKinds without OpenCascade calls), else undefined.
 */
function wiresCurves(wires: Wire[]): Curve[] | undefined {
  const curves: Curve[] = [];
  for (const w of wires) {
    const c = wireCurves(w);
    if (!c) return undefined;
    curves.push(...c);
  }
  return curves;
}

/** Edge kinds (LINE, CIRCLE) of faces made here from known lines, arcs and circles. */
const knownKinds = new WeakMap<Face, string[]>();

/** The geometry type of each edge of the face (edgeGeomType), from how it was made when known. */
export function faceEdgeKinds(face: Face): string[] {
  return knownKinds.get(face) ?? subShapes(face, 'edge').map((e) => edgeGeomType(e as Edge));
}

function wireCurves(w: Wire): Curve[] | undefined {
  const own = knownCurves.get(w);
  if (own) return own;
  const parts = wireParts.get(w);
  if (!parts) return undefined;
  const out: Curve[] = [];
  for (const p of parts) {
    const c = p instanceof Wire ? wireCurves(p) : knownCurves.get(p);
    if (!c) return undefined;
    out.push(...c);
  }
  return out;
}

// ---- solids -----------------------------------------------------------------------------------

export function prism(method: string, face: Face, direction: Vec3): Solid {
  if (direction.length < LENGTH_EPS) throw geometryError(method, 'extrude distance must not be zero');
  return occ(method, (oc, keep) => {
    const maker = keep(new oc.BRepPrimAPI_MakePrism(face.wrapped, keep(vec(oc, direction)), false, true));
    return new Solid(oc.TopoDS.Solid(maker.Shape()));
  });
}

/**
 * What CadQuery's extrude(both=True) makes before its clean: the prisms of `face` along `direction`
 * and against it, fused with glue. BRepPrimAPI_MakePrism keeps the face itself (its edges and
 * vertices) as the cap it starts from, so the two prisms already share that face's boundary: their
 * faces but the shared one make the glued solid's shell directly, without the boolean.
 */
export function gluedPrisms(method: string, face: Face, direction: Vec3): Solid {
  const halves = [prism(method, face, direction), prism(method, face, direction.scale(-1))];
  const faces = halves.flatMap((h) => subShapes(h, 'face').filter((f) => !f.isSame(face)));
  return occ(method, (oc, keep) => {
    const builder = keep(new oc.TopoDS_Builder());
    const shell = new oc.TopoDS_Shell();
    builder.MakeShell(shell);
    for (const f of faces) builder.Add(shell, f.wrapped);
    shell.Closed(true);
    const solid = new oc.TopoDS_Solid();
    builder.MakeSolid(solid);
    builder.Add(solid, shell);
    return new Solid(solid);
  });
}

/**
 * CadQuery's Solid.extrudeLinear(face, vec, taper) for taper ≠ 0: LocOpe_DPrism(face, d·|vec| /
 * cos(taper), d·taper), d = ±1 as vec runs with or against the face's normal. This build binds no
 * LocOpe_DPrism, but BRepFeat_MakeDPrism.Perform(h) makes exactly that one (LocOpe_DPrism(Pbase,
 * h / cos(angle), angle)) and fuses it with its basis shape: the basis is a small box far away, so
 * the fusion leaves the drafted prism as it was made, and the box is dropped again. Positive taper
 * narrows, negative widens (convex corners then round into cones, as the draft's offset makes them).
 */
export function draftedPrism(method: string, face: Face, direction: Vec3, taperDegrees: number): Solid {
  if (direction.length < LENGTH_EPS) throw geometryError(method, 'extrude distance must not be zero');
  const angle = (taperDegrees * Math.PI) / 180;
  const d = direction.angle(faceNormal(face)) < Math.PI / 2 ? 1 : -1;
  return occ(method, (oc, keep) => {
    const bounds = keep(new oc.Bnd_Box());
    oc.BRepBndLib.Add(face.wrapped, bounds, true);
    const far = keep(bounds.CornerMax());
    const reach = 10 * (direction.length + keep(bounds.CornerMin()).Distance(far)) + 1000;
    const box = keep(new oc.BRepPrimAPI_MakeBox(keep(new oc.gp_Pnt(far.X() + reach, far.Y() + reach, far.Z() + reach)), 1, 1, 1)).Solid();
    const feat = keep(new oc.BRepFeat_MakeDPrism(box, face.wrapped, face.wrapped, d * angle, 1, false));
    feat.Perform(d * direction.length);
    if (!feat.IsDone()) throw geometryError(method, 'could not make the tapered extrusion (the draft of this profile fails)');
    const solids: Solid[] = [];
    for (const s of iterTopo(feat.Shape(), 'solid')) {
      const solid = oc.TopoDS.Solid(s);
      const b = keep(new oc.Bnd_Box());
      oc.BRepBndLib.Add(solid, b, true);
      if (keep(b.CornerMin()).X() < far.X() + reach / 2) solids.push(new Solid(solid));
    }
    if (solids.length !== 1) throw geometryError(method, 'could not make the tapered extrusion (the draft of this profile fails)');
    return solids[0];
  });
}

export function revolveFace(method: string, face: Face, axisStart: Vec3, axisDir: Vec3, degrees: number): Shape3D {
  if (axisDir.length < LENGTH_EPS) throw geometryError(method, 'the axis start and end points coincide');
  if (!(Math.abs(degrees) > 1e-9)) throw geometryError(method, 'revolve angle must not be zero');
  return occ(method, (oc, keep) => {
    const axis = keep(new oc.gp_Ax1(keep(pnt(oc, axisStart)), keep(dir(oc, axisDir))));
    const maker = keep(new oc.BRepPrimAPI_MakeRevol(face.wrapped, axis, (degrees * Math.PI) / 180, false));
    return as3D(method, cast(maker.Shape()));
  });
}

export function boxSolid(method: string, corner: Vec3, frame: Frame, dx: number, dy: number, dz: number): Solid {
  for (const [n, v] of [
    ['length', dx],
    ['width', dy],
    ['height', dz],
  ] as const) {
    if (!(Math.abs(v) > LENGTH_EPS)) throw geometryError(method, `${n} must not be zero (got ${v})`);
  }
  // OCCT boxes need positive sizes: move the corner for negative ones.
  const c = corner
    .add(frame.xDir.scale(Math.min(0, dx)))
    .add(frame.yDir.scale(Math.min(0, dy)))
    .add(frame.zDir.scale(Math.min(0, dz)));
  return occ(method, (oc, keep) => {
    const maker = keep(new oc.BRepPrimAPI_MakeBox(ax2(oc, keep, c, frame.zDir, frame.xDir), Math.abs(dx), Math.abs(dy), Math.abs(dz)));
    return new Solid(maker.Solid());
  });
}

export function cylinderSolid(method: string, base: Vec3, axis: Vec3, xDir: Vec3, radius: number, height: number, degrees = 360): Solid {
  if (!(radius > LENGTH_EPS)) throw geometryError(method, `radius must be positive (got ${radius})`);
  if (!(Math.abs(height) > LENGTH_EPS)) throw geometryError(method, `height must not be zero (got ${height})`);
  const a = height < 0 ? axis.scale(-1) : axis;
  return occ(method, (oc, keep) => {
    const maker = keep(new oc.BRepPrimAPI_MakeCylinder(ax2(oc, keep, base, a, perpendicularTo(a, xDir)), radius, Math.abs(height), (degrees * Math.PI) / 180));
    return new Solid(maker.Solid());
  });
}

export function sphereSolid(method: string, center: Vec3, axis: Vec3, xDir: Vec3, radius: number, a1: number, a2: number, a3: number): Solid {
  if (!(radius > LENGTH_EPS)) throw geometryError(method, `radius must be positive (got ${radius})`);
  const rad = Math.PI / 180;
  return occ(method, (oc, keep) => {
    const maker = keep(new oc.BRepPrimAPI_MakeSphere(ax2(oc, keep, center, axis, perpendicularTo(axis, xDir)), radius, a1 * rad, a2 * rad, a3 * rad));
    return new Solid(maker.Solid());
  });
}

/**
 * A cone frustum along `axis` from `base` (radius r1) to base + axis·h (radius r2) as BRepPrimAPI_MakeCone(gp_Ax2(base, axis[, xDir]), r1, r2, h) makes it (this build binds no
 * MakeCone): its profile revolved about the axis, the seam where xDir points (by default world X
 * made perpendicular to the axis).
 */
export function coneSolid(method: string, base: Vec3, axis: Vec3, r1: number, r2: number, h: number, xDir = new Vec3(1, 0, 0)): Solid {
  if (!(h > LENGTH_EPS)) throw geometryError(method, `cone height must be positive (got ${h})`);
  const z = axis.normalized();
  const x = perpendicularTo(z, xDir);
  // Profile in the plane spanned by x (radial) and z (axial).
  const pts = [base, base.add(x.scale(r1)), base.add(z.scale(h)).add(x.scale(r2)), base.add(z.scale(h))].filter(
    (p, i, arr) => i === 0 || p.distance(arr[i - 1]) > LENGTH_EPS,
  );
  const wire = polygonWire(method, pts);
  const profileFrame = new Frame(base, z, x.cross(z));
  const [face] = facesFromWires(method, [wire], profileFrame);
  return revolveFace(method, face, base, z, 360) as Solid;
}

function perpendicularTo(axis: Vec3, hint: Vec3): Vec3 {
  const z = axis.normalized();
  let x = hint.sub(z.scale(hint.dot(z)));
  if (x.length < 1e-9) {
    const alt = Math.abs(z.x) < 0.9 ? new Vec3(1, 0, 0) : new Vec3(0, 1, 0);
    x = alt.sub(z.scale(alt.dot(z)));
  }
  return x.normalized();
}

export function as3D(method: string, shape: AnyShape): Shape3D {
  if (shape instanceof Solid || shape instanceof Compound || shape instanceof Shell || shape.constructor.name === 'CompSolid') {
    return shape as Shape3D;
  }
  throw geometryError(method, `expected a solid, got a ${shapeKind(shape)}`);
}

export function shapeKind(shape: AnyShape): string {
  if (shape instanceof Solid) return 'Solid';
  if (shape instanceof Compound) return 'Compound';
  if (shape instanceof Face) return 'Face';
  if (shape instanceof Wire) return 'Wire';
  if (shape instanceof Edge) return 'Edge';
  if (shape instanceof Vertex) return 'Vertex';
  if (shape instanceof Shell) return 'Shell';
  return 'CompSolid';
}

/** One shape from several: itself, or a compound. */
export function compoundOf(shapes: AnyShape[]): AnyShape {
  if (shapes.length === 1) return shapes[0];
  return occ('compound', (oc, keep) => {
    const builder = keep(new oc.TopoDS_Builder());
    const comp = new oc.TopoDS_Compound();
    builder.MakeCompound(comp);
    for (const s of shapes) builder.Add(comp, s.wrapped);
    return new Compound(comp);
  });
}

export type BooleanKind = 'fuse' | 'cut' | 'intersect';

/**
 * Boolean of `base` with `tools` (all at once, as CadQuery does). No UnifySameDomain here:
 * it never changes volumes; `cleanShape` runs it when topology is queried.
 */
/**
 * CadQuery's Shape.fuse/cut/intersect: `glue` (fuse only) is OCCT's BOPAlgo_GlueShift, meant for
 * shapes that only touch (on overlapping ones its result is what OCCT makes of it, as CadQuery's);
 * `tol` the fuzzy value.
 */
export interface BooleanOptions {
  glue?: boolean;
  tol?: number;
}

/** Applies glue (fuse only) and tol to an OCCT boolean before it is built. */
export function setBooleanOptions(oc: OC, algo: any, fuse: boolean, options: BooleanOptions): void {
  if (options.glue && fuse) algo.SetGlue(oc.BOPAlgo_GlueEnum.BOPAlgo_GlueShift);
  if (options.tol) algo.SetFuzzyValue(options.tol);
}

export function booleanOp(method: string, kind: BooleanKind, base: AnyShape, tools: AnyShape[], options: BooleanOptions = {}): Shape3D {
  if (tools.length === 0) return as3D(method, base);
  return occ(method, (oc, keep) => {
    const algo = kind === 'fuse' ? new oc.BRepAlgoAPI_Fuse() : kind === 'cut' ? new oc.BRepAlgoAPI_Cut() : new oc.BRepAlgoAPI_Common();
    keep(algo);
    setBooleanOptions(oc, algo, kind === 'fuse', options);
    const args = keep(new oc.NCollection_List_TopoDS_Shape());
    // A fuse's base that is a compound (the solids of a stack) goes in as its parts: overlapping
    // solids inside one argument are a self-interfering shape the boolean mishandles (parts lost),
    // overlapping arguments are fused as they should be.
    const parts = kind === 'fuse' && base instanceof Compound ? compoundParts(base) : [base];
    for (const p of parts) args.Append(p.wrapped);
    const toolList = keep(new oc.NCollection_List_TopoDS_Shape());
    for (const t of tools) toolList.Append(t.wrapped);
    algo.SetArguments(args);
    algo.SetTools(toolList);
    algo.Build();
    if (algo.HasErrors() || !algo.IsDone()) throw geometryError(method, `the ${kind} failed`);
    return as3D(method, cast(algo.Shape()));
  });
}

/** A compound made only of solids, as its solids; anything else as itself. */
function compoundParts(c: AnyShape): AnyShape[] {
  const solids = subShapes(c, 'solid');
  if (solids.length < 2) return [c];
  const faces = solids.reduce((n, s) => n + subShapes(s, 'face').length, 0);
  return faces === subShapes(c, 'face').length ? solids : [c];
}

/** Fuses several shapes together (the first with all the others). */
export function fuseAll(method: string, shapes: AnyShape[], options: BooleanOptions = {}): Shape3D {
  if (shapes.length === 0) throw geometryError(method, 'nothing to fuse');
  if (shapes.length === 1) return as3D(method, shapes[0]);
  return booleanOp(method, 'fuse', shapes[0], shapes.slice(1), options);
}

/** ShapeUpgrade_UnifySameDomain: merges coplanar faces and collinear edges, as CadQuery's clean(). */
export function cleanShape<T extends AnyShape>(shape: T): T {
  try {
    return occ('clean', (oc, keep) => {
      const u = keep(new oc.ShapeUpgrade_UnifySameDomain(shape.wrapped, true, true, true));
      u.AllowInternalEdges(false);
      u.Build();
      return cast(u.Shape()) as T;
    });
  } catch {
    return shape; // cleaning is cosmetic; keep the uncleaned shape when OCCT refuses
  }
}

// ---- transforms -------------------------------------------------------------------------------

function transformed<T extends AnyShape>(method: string, shape: T, setup: (trsf: TopoShape, oc: OC, keep: <U>(o: U) => U) => void): T {
  return occ(method, (oc, keep) => {
    const trsf = keep(new oc.gp_Trsf());
    setup(trsf, oc, keep);
    const t = keep(new oc.BRepBuilderAPI_Transform(shape.wrapped, trsf, true, false));
    return cast(t.Shape()) as T;
  });
}

export function translateShape<T extends AnyShape>(shape: T, by: Vec3): T {
  return transformed('translate', shape, (trsf, oc, keep) => trsf.SetTranslation(keep(vec(oc, by))));
}

export function rotateShape<T extends AnyShape>(shape: T, axisStart: Vec3, axisEnd: Vec3, degrees: number): T {
  const d = axisEnd.sub(axisStart);
  if (d.length < LENGTH_EPS) throw geometryError('rotate', 'the axis start and end points coincide');
  return transformed('rotate', shape, (trsf, oc, keep) =>
    trsf.SetRotation(keep(new oc.gp_Ax1(keep(pnt(oc, axisStart)), keep(dir(oc, d)))), (degrees * Math.PI) / 180),
  );
}

export function mirrorShape<T extends AnyShape>(shape: T, normal: Vec3, base: Vec3): T {
  if (normal.length < LENGTH_EPS) throw geometryError('mirror', 'the mirror plane normal must not be zero');
  return transformed('mirror', shape, (trsf, oc, keep) => trsf.SetMirror(keep(new oc.gp_Ax2(keep(pnt(oc, base)), keep(dir(oc, normal))))));
}

/** Moves a shape built in `from` coordinates so that it sits identically in `to`. */
export function relocate<T extends AnyShape>(shape: T, from: Frame, to: Frame): T {
  return transformed('locate', shape, (trsf, oc, keep) => trsf.SetTransformation(ax3(oc, keep, to), ax3(oc, keep, from)));
}

// ---- measurements and topology ----------------------------------------------------------------

export function volumeOf(shape: AnyShape): number {
  return occ('Volume', (oc, keep) => {
    const props = keep(new oc.GProp_GProps());
    oc.BRepGProp.VolumeProperties(shape.wrapped, props, false, false, false);
    return props.Mass();
  });
}

export function areaOf(shape: AnyShape): number {
  return occ('Area', (oc, keep) => {
    const props = keep(new oc.GProp_GProps());
    oc.BRepGProp.SurfaceProperties(shape.wrapped, props, false, false);
    return props.Mass();
  });
}

export function lengthOf(shape: AnyShape): number {
  return occ('Length', (oc, keep) => {
    const props = keep(new oc.GProp_GProps());
    oc.BRepGProp.LinearProperties(shape.wrapped, props, false, false);
    return props.Mass();
  });
}

/** Centre of mass, as CadQuery's Shape.Center(): volume for solids, area for faces, length for edges. */
export function centerOf(shape: AnyShape): Vec3 {
  if (shape instanceof Vertex) {
    const [x, y, z] = shape.asTuple();
    return new Vec3(x, y, z);
  }
  return occ('Center', (oc, keep) => {
    const props = keep(new oc.GProp_GProps());
    if (shape instanceof Solid || shape instanceof Compound || shape.constructor.name === 'CompSolid') {
      oc.BRepGProp.VolumeProperties(shape.wrapped, props, false, false, false);
      if (Math.abs(props.Mass()) < 1e-15) {
        // a compound of faces or edges has no volume: fall back
        props.delete();
        const p2 = keep(new oc.GProp_GProps());
        oc.BRepGProp.SurfaceProperties(shape.wrapped, p2, false, false);
        return centre(keep(p2.CentreOfMass()));
      }
    } else if (shape instanceof Face || shape instanceof Shell) {
      oc.BRepGProp.SurfaceProperties(shape.wrapped, props, false, false);
    } else {
      oc.BRepGProp.LinearProperties(shape.wrapped, props, false, false);
    }
    return centre(keep(props.CentreOfMass()));
  });
}

function centre(p: { X(): number; Y(): number; Z(): number }): Vec3 {
  return new Vec3(p.X(), p.Y(), p.Z());
}

export interface Bounds {
  min: Vec3;
  max: Vec3;
}

export function boundsOf(shape: AnyShape): Bounds {
  const [[x0, y0, z0], [x1, y1, z1]] = shape.boundingBox.bounds;
  return { min: new Vec3(x0, y0, z0), max: new Vec3(x1, y1, z1) };
}

export type TopoKind = 'vertex' | 'edge' | 'wire' | 'face' | 'shell' | 'solid' | 'compound';

/** Distinct sub-shapes of a kind, in OCCT's exploration order. */
export function subShapes(shape: AnyShape, kind: TopoKind): AnyShape[] {
  if (kind === 'compound') return shape instanceof Compound ? [shape] : [];
  return Array.from(iterTopo(shape.wrapped, kind), (s) => cast(s));
}

/**
 * The faces of a compound that are its own members rather than faces of its shells and solids
 * (what iterating a compound for faces gives in CadQuery; this OCCT build has no TopoDS_Iterator,
 * so: faces found without descending into shells).
 */
export function looseFaces(shape: AnyShape): Face[] {
  return occ('faces', (oc, keep) => {
    const e = oc.TopAbs_ShapeEnum;
    const explorer = keep(new oc.TopExp_Explorer(shape.wrapped, e.TopAbs_FACE, e.TopAbs_SHELL));
    const out: Face[] = [];
    for (; explorer.More(); explorer.Next()) out.push(new Face(oc.TopoDS.Face(explorer.Current())));
    return out;
  });
}

/** Normal of a (planar) face at its centre, accounting for the face's orientation. */
export function faceNormal(face: Face, at?: Vec3): Vec3 {
  const p = at ?? centerOf(face);
  const n = face.normalAt([p.x, p.y, p.z]);
  const v = new Vec3(n.x, n.y, n.z);
  n.delete();
  return v;
}

export function faceGeomType(face: Face): string {
  const t = face.geomType as string;
  return t === 'CYLINDRE' ? 'CYLINDER' : t;
}

export function edgeGeomType(edge: Edge): string {
  return edge.geomType as string;
}

export function edgeTangent(edge: Edge): Vec3 {
  const t = edge.tangentAt(0);
  const v = new Vec3(t.x, t.y, t.z);
  t.delete();
  return v;
}

export function edgeEndpoints(edge: Edge | Wire): [Vec3, Vec3] {
  const o = outlines.get(edge);
  if (o) return [o[0], o[o.length - 1]];
  const s = edge.startPoint;
  const e = edge.endPoint;
  const r: [Vec3, Vec3] = [new Vec3(s.x, s.y, s.z), new Vec3(e.x, e.y, e.z)];
  s.delete();
  e.delete();
  return r;
}

/** BRepCheck_Analyzer: whether the shape is a valid B-rep. */
export function isValidShape(shape: AnyShape): boolean {
  return occ('isValid', (oc, keep) => keep(new oc.BRepCheck_Analyzer(shape.wrapped, true, false, false)).IsValid());
}
