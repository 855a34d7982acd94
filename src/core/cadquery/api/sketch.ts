/**
 * CadQuery's `Sketch` (sketch.py): face-based rect / circle / polygon / regularPolygon / trapezoid /
 * slot, and face() of another sketch, a wire, edges or a shape, with modes 'a' (add), 's'
 * (subtract, not cleaned: CadQuery's Shape.cut), 'i' (intersect), 'r' (replace), 'c' (construction),
 * placed at the selected locations (push, rarray, parray) or selected shapes' centres; selection of
 * faces / wires / edges / vertices (by selector or tag), tag / select / reset / delete; fillet and
 * chamfer of selected vertices (corners between straight edges), clean, offset of selected wires;
 * copy / moved / located; edge-based segment / arc / close / assemble; finalize() returns to the
 * workplane, which extrudes the sketch's faces.
 *
 * Geometry lives in the sketch's local XY; `locs` are where it goes (CadQuery's Sketch.locs): the
 * identity for `cq.Sketch()`, and for `Workplane.sketch()` / `placeSketch(s)` the workplane's
 * locations as cq.py's `_locs()` makes them (the plane at each pushed point or the centre of each
 * shape on the stack, else the plane itself). `locatedFaces()` is CadQuery's iteration over a sketch:
 * every face at every location.
 */
import { Edge, Face, Vertex, Wire, type AnyShape } from 'replicad';
import { CadError } from '../../errors';
import { bindArgs, builtin, expectBool, expectNumber, expectString, sequenceItems, typeName, type HostObject, type Kwargs, type Value } from '../values';
import {
  booleanOp,
  boundsOf,
  circleArcEdge,
  centerOf,
  circleWire,
  cleanShape,
  compoundOf,
  edgeEndpoints,
  facesFromWires,
  geometryError,
  lineEdge,
  LENGTH_EPS,
  occ,
  polygonWire,
  relocate,
  subShapes,
  threePointArcEdge,
  wireFromEdges,
  type TopoKind,
} from './geom';
import { composeFrames, LocationObj, locationFromArgs, toLocation } from './location';
import { Frame, namedFrame } from './plane';
import { findHull } from './hull';
import { filletArcCorners } from './sketch-fillet';
import { selectorOf } from './selector-classes';
import { edgesOf, ellipseWire, facesOfWires, makeCompound, offsetWires } from './shape-ops';
import { ShapeObj } from './shapes';
import { asVec3, toVec3, Vec3 } from './vec';

/**
 * What a sketch needs of the Workplane it was started from. An interface, so that this file does
 * not import workplane.ts (which imports this one to place sketches).
 */
export interface SketchParent extends HostObject {
  /** A new workplane with these objects on its stack (finalize()). */
  newObject(objects: SketchObj[]): HostObject;
}

const LOCAL = namedFrame('XY');

/** CadQuery's Sketch methods not implemented here: an `unsupported` error naming them, not a missing attribute. */
const SKETCH_UNSUPPORTED = new Set([
  // With the rest of CadQuery 2.8's public Sketch API below: unsupported, not "no attribute".
  'apply',
  'edge',
  'filter',
  'invoke',
  'map',
  'sort',
  'each',
  'importDXF',
  'spline',
  'bezier',
  'constrain',
  'solve',
  'val',
  'vals',
  'add',
  'subtract',
  'replace',
]);

type Mode = 'a' | 's' | 'i' | 'r' | 'c';

/** What a sketch can have selected: locations (push, rarray, parray) or shapes (faces(), vertices() …). */
type Selected = Frame | AnyShape;

export class SketchObj implements HostObject {
  readonly kind = 'host';
  readonly typeName = 'Sketch';
  faces: Face[] = [];
  /** Edges drawn with segment()/arc() so far (read by the builtins below). */
  edges: Edge[] = [];
  /** CadQuery's _selection: null (or empty) places face elements at the sketch's origin. */
  selection: Selected[] | null = null;
  tags = new Map<string, Selected[]>();

  /** Where the sketch is placed: world frames, each receiving a copy of the faces. */
  locs: Frame[] = [LOCAL];

  constructor(
    readonly parent: SketchParent | null,
    locs?: Frame[],
  ) {
    if (locs) this.locs = locs;
  }

  /** CadQuery's `s.copy()` with new `locs` (placeSketch): the faces only, placed at `locs`. */
  placedAt(locs: Frame[]): SketchObj {
    const s = new SketchObj(null, locs);
    s.faces = this.faces;
    return s;
  }

  getAttr(name: string): Value | undefined {
    const m = SKETCH_METHODS[name];
    if (m) return builtin(`Sketch.${name}`, (args, kwargs) => m(this, args, kwargs));
    if (SKETCH_UNSUPPORTED.has(name)) {
      return builtin(`Sketch.${name}`, () => {
        throw new CadError('unsupported', `Sketch.${name}() is not supported yet`);
      });
    }
    return undefined;
  }

  /** The sketch's faces at each of its locations. */
  locatedFaces(): Face[] {
    return this.locs.flatMap((t) => (t === LOCAL ? this.faces : this.faces.map((f) => relocate(f, LOCAL, t))));
  }

  applyMode(method: string, newFaces: Face[], mode: Mode): void {
    if (mode === 'c') return;
    if (mode === 'r') {
      this.faces = newFaces;
      return;
    }
    if (this.faces.length === 0) {
      if (mode === 'a') this.faces = newFaces;
      return;
    }
    const kind = mode === 'a' ? 'fuse' : mode === 's' ? 'cut' : 'intersect';
    if (mode === 'a' && !overlaps(this.faces, newFaces)) {
      this.faces = [...this.faces, ...newFaces];
      return;
    }
    const result = booleanOp(`Sketch.${method}`, kind, compoundOf(this.faces), newFaces);
    this.faces = subShapes(result, 'face') as Face[];
  }

  /** Where face elements go (CadQuery's each()): each selected location, or selected shape's centre; else the origin. */
  elementFrames(ignoreSelection = false): Frame[] {
    if (!this.selection?.length || ignoreSelection) return [LOCAL];
    return this.selection.map((el) => (el instanceof Frame ? el : LOCAL.withOrigin(centerOf(el))));
  }
}

/** Sketch.fillet / chamfer: each face's selected vertices rounded (sketch.py's _matchFacesToVertices). */
function roundSelected(s: SketchObj, kind: 'fillet' | 'chamfer', d: number): SketchObj {
  if (!s.selection?.length) throw new CadError('runtime', `Sketch.${kind}(): a selection is needed`);
  const points = s.selection.filter((el): el is Vertex => el instanceof Vertex).map((v) => centerOf(v));
  s.faces = s.faces.map((f) => {
    const mine = points.filter((p) => subShapes(f, 'vertex').some((v) => centerOf(v).distance(p) < 1e-7));
    return mine.length ? roundCorners(`Sketch.${kind}`, f, mine, d, kind) : f;
  });
  return s;
}

/** Sketch.moved(...): the placements as Shape.moved takes them (one or several). */
function movedLocationsFor(method: string, a: Value[], k: Kwargs): { frames: Frame[] } {
  if (a.every((v) => typeof v === 'number' || typeof v === 'boolean')) return { frames: [locationFromArgs(method, a, k)] };
  const items = a.length === 1 && !(a[0] instanceof LocationObj) && !asVec3(a[0]) ? sequenceItems(a[0]) : undefined;
  return { frames: (items ?? a).map((v) => toLocation(method, 'loc', v)) };
}

function overlaps(a: Face[], b: Face[]): boolean {
  const ba = a.map(boundsOf);
  return b.some((f) => {
    const x = boundsOf(f);
    return ba.some((y) => x.min.x <= y.max.x && y.min.x <= x.max.x && x.min.y <= y.max.y && y.min.y <= x.max.y);
  });
}

function modeOf(method: string, v: Value | undefined): Mode {
  const m = v === undefined ? 'a' : expectString(method, 'mode', v);
  if (!['a', 's', 'i', 'r', 'c'].includes(m)) throw new CadError('runtime', `${method}(): mode must be 'a', 's', 'i', 'r' or 'c', not '${m}'`);
  return m as Mode;
}

type SketchMethod = (s: SketchObj, args: Value[], kwargs: Kwargs) => Value;

function faceElement(s: SketchObj, method: string, mode: Mode, angle: number, build: (f: Frame) => Face[], tag?: Value, ignoreSelection = false): SketchObj {
  const faces = s.elementFrames(ignoreSelection).flatMap((f) => build(f.rotatedAboutZ(angle)));
  if (tag !== undefined && tag !== null) s.tags.set(expectString(`Sketch.${method}`, 'tag', tag), faces);
  s.applyMode(method, faces, mode);
  return s;
}

/** Sketch.faces() / wires() / edges() / vertices(): from a tag, the selection, or everything. */
function selectIn(s: SketchObj, method: string, kind: TopoKind, a: Value[], k: Kwargs): SketchObj {
  const b = bindArgs(`Sketch.${method}`, ['s=', 'tag='], a, k);
  let found: AnyShape[] = [];
  if (b.tag !== undefined && b.tag !== null) {
    const tagged = s.tags.get(expectString(`Sketch.${method}`, 'tag', b.tag));
    if (!tagged) throw new CadError('runtime', `Sketch.${method}(): no tag '${String(b.tag)}'`);
    for (const el of tagged) if (!(el instanceof Frame)) found.push(...subShapes(el, kind));
  } else if (s.selection?.length) {
    for (const el of s.selection) if (!(el instanceof Frame)) found.push(...subShapes(el, kind));
  } else {
    for (const f of s.faces) found.push(...subShapes(f, kind));
    for (const e of s.edges) found.push(...subShapes(e, kind));
  }
  if (b.s !== undefined && b.s !== null && b.s !== '') found = selectorOf(`Sketch.${method}`, b.s)(found);
  const unique: AnyShape[] = [];
  for (const f of found) if (!unique.some((u) => u.isSame(f))) unique.push(f);
  s.selection = unique;
  return s;
}

/** Locations of push(): Locations as they are, points as translations. */
function locationOf(method: string, v: Value): Frame {
  if (v instanceof LocationObj) return v.frame;
  return LOCAL.withOrigin(toVec3(method, 'locs', v));
}

/** rarray / parray: each new location combined with each selected one (or the origin). */
function combineWithSelection(s: SketchObj, locs: Frame[]): Frame[] {
  const selected = s.selection?.length ? s.selection.map((el) => (el instanceof Frame ? el : LOCAL.withOrigin(centerOf(el)))) : [LOCAL];
  return locs.flatMap((l) => selected.map((el) => composeFrames(l, el)));
}

/**
 * Face.fillet2D / chamfer2D on the corners at `points`: each corner between two straight edges
 * becomes a tangent arc of radius d (fillet) or a straight cut d from the corner along both edges
 * (chamfer), as BRepFilletAPI_MakeFillet2d makes them (which this OpenCascade build lacks).
 */
function roundCorners(method: string, face: Face, points: Vec3[], d: number, kind: 'fillet' | 'chamfer'): Face {
  if (!(d > LENGTH_EPS)) throw geometryError(method, `the ${kind === 'fillet' ? 'radius' : 'distance'} must be positive (got ${d})`);
  const wires = subShapes(face, 'wire') as Wire[];
  const rebuilt = wires.map((w) => {
    const withArcs = kind === 'fillet' ? filletArcCorners(method, w, points, d) : undefined;
    if (withArcs) return withArcs;
    const corners = polygonCorners(method, w);
    if (!corners.some((c) => points.some((p) => p.distance(c) < 1e-6))) return w;
    const n = corners.length;
    // Per corner: where the incoming edge now ends and the outgoing one starts (and the arc's midpoint).
    const cut = corners.map((c, i) => {
      if (!points.some((p) => p.distance(c) < 1e-6)) return { a: c, b: c, mid: undefined as Vec3 | undefined };
      const u = corners[(i + n - 1) % n].sub(c).normalized();
      const v = corners[(i + 1) % n].sub(c).normalized();
      const half = Math.acos(Math.max(-1, Math.min(1, u.dot(v)))) / 2;
      if (!(half > 1e-9) || Math.abs(half - Math.PI / 2) < 1e-12) return { a: c, b: c, mid: undefined };
      const t = kind === 'fillet' ? d / Math.tan(half) : d;
      const a = c.add(u.scale(t));
      const b = c.add(v.scale(t));
      if (kind === 'chamfer') return { a, b, mid: undefined };
      const bis = u.add(v).normalized();
      const center = c.add(bis.scale(d / Math.sin(half)));
      return { a, b, mid: center.sub(bis.scale(d)) };
    });
    const edges: Edge[] = [];
    for (let i = 0; i < n; i++) {
      const here = cut[i];
      const next = cut[(i + 1) % n];
      if (here.a.distance(here.b) > LENGTH_EPS) edges.push(here.mid ? threePointArcEdge(method, here.a, here.mid, here.b) : lineEdge(method, here.a, here.b));
      if (here.b.distance(next.a) <= LENGTH_EPS) throw geometryError(method, `the ${kind} is too large for the corner`);
      edges.push(lineEdge(method, here.b, next.a));
    }
    return wireFromEdges(method, edges);
  });
  const result = facesFromWires(method, rebuilt, LOCAL);
  if (result.length !== 1) throw geometryError(method, `could not ${kind} the face`);
  return result[0];
}

/** The corners of a wire of straight edges, in order around it; other curves are not supported yet. */
function polygonCorners(method: string, w: Wire): Vec3[] {
  const edges = subShapes(w, 'edge') as Edge[];
  if (edges.some((e) => (e.geomType as string) !== 'LINE')) {
    throw new CadError('unsupported', `${method}(): only corners between straight edges can be rounded yet`);
  }
  // Chain the edges end to start (their own orientation does not matter).
  const ends = edges.map((e) => edgeEndpoints(e));
  const used = ends.map(() => false);
  const out: Vec3[] = [ends[0][0]];
  let current = ends[0][1];
  used[0] = true;
  for (let step = 1; step < ends.length; step++) {
    const j = ends.findIndex((e, i) => !used[i] && (e[0].distance(current) < 1e-7 || e[1].distance(current) < 1e-7));
    if (j < 0) throw geometryError(method, 'the wire is not a closed chain of edges');
    used[j] = true;
    out.push(current);
    current = ends[j][0].distance(current) < 1e-7 ? ends[j][1] : ends[j][0];
  }
  return out;
}

/** A closed polygon face through local points (the first point may repeat at the end). */
function polygonFace(method: string, f: Frame, pts: Vec3[]): Face[] {
  const p = pts.length > 1 && pts[0].distance(pts[pts.length - 1]) < LENGTH_EPS ? pts.slice(0, -1) : pts;
  return facesFromWires(
    method,
    [
      polygonWire(
        method,
        p.map((q) => f.toWorld(q.x, q.y)),
      ),
    ],
    LOCAL,
  );
}

const angleOf = (m: string, v: Value | undefined) => (v === undefined ? 0 : expectNumber(m, 'angle', v));

const SKETCH_METHODS: Record<string, SketchMethod> = {
  rect: (s, a, k) => {
    const m = 'rect';
    const b = bindArgs(m, ['w', 'h', 'angle=', 'mode=', 'tag='], a, k);
    const w = expectNumber(m, 'w', b.w);
    const h = expectNumber(m, 'h', b.h);
    if (!(Math.abs(w) > LENGTH_EPS && Math.abs(h) > LENGTH_EPS)) throw geometryError(`Sketch.${m}`, 'width and height must not be zero');
    const pts = [new Vec3(-w / 2, -h / 2, 0), new Vec3(w / 2, -h / 2, 0), new Vec3(w / 2, h / 2, 0), new Vec3(-w / 2, h / 2, 0)];
    return faceElement(s, m, modeOf(m, b.mode), angleOf(m, b.angle), (f) => polygonFace(`Sketch.${m}`, f, pts), b.tag);
  },
  circle: (s, a, k) => {
    const m = 'circle';
    const b = bindArgs(m, ['r', 'mode=', 'tag='], a, k);
    const r = expectNumber(m, 'r', b.r);
    return faceElement(
      s,
      m,
      modeOf(m, b.mode),
      0,
      (f) => facesFromWires(`Sketch.${m}`, [circleWire(`Sketch.${m}`, f.origin, f.zDir, f.xDir, r)], LOCAL),
      b.tag,
    );
  },
  ellipse: (s, a, k) => {
    const m = 'ellipse';
    const b = bindArgs(m, ['a1', 'a2', 'angle=', 'mode=', 'tag='], a, k);
    const a1 = expectNumber(m, 'a1', b.a1);
    const a2 = expectNumber(m, 'a2', b.a2);
    return faceElement(
      s,
      m,
      modeOf(m, b.mode),
      angleOf(m, b.angle),
      (f) => facesFromWires(`Sketch.${m}`, [ellipseWire(`Sketch.${m}`, f, a1, a2)], LOCAL),
      b.tag,
    );
  },
  regularPolygon: (s, a, k) => {
    const m = 'regularPolygon';
    const b = bindArgs(m, ['r', 'n', 'angle=', 'mode=', 'tag='], a, k);
    const r = expectNumber(m, 'r', b.r);
    const n = expectNumber(m, 'n', b.n);
    if (!Number.isInteger(n) || n < 3) throw geometryError(`Sketch.${m}`, 'n must be an integer >= 3');
    // sketch.py: the first corner on the +y axis (x = r·sin, y = r·cos).
    const pts = Array.from({ length: n }, (_, i) => new Vec3(r * Math.sin((2 * Math.PI * i) / n), r * Math.cos((2 * Math.PI * i) / n), 0));
    return faceElement(s, m, modeOf(m, b.mode), angleOf(m, b.angle), (f) => polygonFace(`Sketch.${m}`, f, pts), b.tag);
  },
  polygon: (s, a, k) => {
    const m = 'polygon';
    const b = bindArgs(m, ['pts', 'angle=', 'mode=', 'tag='], a, k);
    const items = sequenceItems(b.pts);
    if (!items) throw new CadError('runtime', `Sketch.polygon(): 'pts' must be a list of points`);
    const pts = items.map((p) => toVec3(`Sketch.${m}`, 'pts', p));
    return faceElement(s, m, modeOf(m, b.mode), angleOf(m, b.angle), (f) => polygonFace(`Sketch.${m}`, f, pts), b.tag);
  },
  trapezoid: (s, a, k) => {
    const m = 'trapezoid';
    const b = bindArgs(m, ['w', 'h', 'a1', 'a2=', 'angle=', 'mode=', 'tag='], a, k);
    const w = expectNumber(m, 'w', b.w);
    const h = expectNumber(m, 'h', b.h);
    const a1 = (expectNumber(m, 'a1', b.a1) * Math.PI) / 180;
    const a2 = b.a2 === undefined || b.a2 === null || b.a2 === 0 ? a1 : (expectNumber(m, 'a2', b.a2) * Math.PI) / 180;
    const pts = [
      new Vec3(-w / 2, -h / 2, 0),
      new Vec3(w / 2, -h / 2, 0),
      new Vec3(w / 2 - h / Math.tan(a2), h / 2, 0),
      new Vec3(-w / 2 + h / Math.tan(a1), h / 2, 0),
    ];
    return faceElement(s, m, modeOf(m, b.mode), angleOf(m, b.angle), (f) => polygonFace(`Sketch.${m}`, f, pts), b.tag);
  },
  slot: (s, a, k) => {
    const m = 'slot';
    const b = bindArgs(m, ['w', 'h', 'angle=', 'mode=', 'tag='], a, k);
    const w = expectNumber(m, 'w', b.w);
    const h = expectNumber(m, 'h', b.h);
    const method = `Sketch.${m}`;
    return faceElement(
      s,
      m,
      modeOf(m, b.mode),
      angleOf(m, b.angle),
      (f) => {
        const p = (x: number, y: number) => f.toWorld(x, y);
        const e1 = lineEdge(method, p(-w / 2, h / 2), p(w / 2, h / 2));
        const e2 = threePointArcEdge(method, p(w / 2, h / 2), p(w / 2 + h / 2, 0), p(w / 2, -h / 2));
        const e3 = lineEdge(method, p(w / 2, -h / 2), p(-w / 2, -h / 2));
        const e4 = threePointArcEdge(method, p(-w / 2, -h / 2), p(-w / 2 - h / 2, 0), p(-w / 2, h / 2));
        return facesFromWires(method, [wireFromEdges(method, [e1, e2, e3, e4])], LOCAL);
      },
      b.tag,
    );
  },
  face: (s, a, k) => {
    // sketch.py face(b, angle, mode, tag, ignore_selection): a Wire's face, a Sketch's faces (in its
    // own coordinates, not its placement), a Shape's faces, or the face of edges that join into one
    // wire; rotated by angle and placed at each selected location, as the other face elements are.
    const m = 'face';
    const method = `Sketch.${m}`;
    const b = bindArgs(m, ['b', 'angle=', 'mode=', 'tag=', 'ignore_selection='], a, k);
    let faces: Face[];
    if (b.b instanceof SketchObj) faces = b.b.faces;
    else if (b.b instanceof ShapeObj && b.b.shape instanceof Wire) faces = facesFromWires(method, [b.b.shape], LOCAL);
    else if (b.b instanceof ShapeObj && !(b.b.shape instanceof Edge)) faces = subShapes(b.b.shape, 'face') as Face[];
    else {
      const items = b.b instanceof ShapeObj ? [b.b] : sequenceItems(b.b!);
      if (!items?.every((v) => v instanceof ShapeObj)) {
        throw new CadError('runtime', `${method}(): expected a Wire, a Sketch, a Shape or edges, not ${typeName(b.b!)}`);
      }
      const edges = edgesOf(
        method,
        items.map((v) => (v as ShapeObj).shape),
      );
      faces = facesOfWires(method, [wireFromEdges(method, edges)]);
    }
    if (faces.length === 0) throw geometryError(method, 'there are no faces to add');
    const ignore = expectBool(method, 'ignore_selection', b.ignore_selection, false);
    return faceElement(
      s,
      m,
      modeOf(m, b.mode),
      angleOf(m, b.angle),
      (f) => (f === LOCAL ? faces : faces.map((face) => relocate(face, LOCAL, f))),
      b.tag,
      ignore,
    );
  },
  push: (s, a, k) => {
    const b = bindArgs('push', ['locs', 'tag='], a, k);
    const items = sequenceItems(b.locs);
    if (!items) throw new CadError('runtime', "Sketch.push(): 'locs' must be a list of points or Locations");
    s.selection = items.map((p) => locationOf('Sketch.push', p));
    if (b.tag !== undefined && b.tag !== null) s.tags.set(expectString('Sketch.push', 'tag', b.tag), [...s.selection]);
    return s;
  },
  rarray: (s, a, k) => {
    const m = 'Sketch.rarray';
    const b = bindArgs('rarray', ['xs', 'ys', 'nx', 'ny'], a, k);
    const xs = expectNumber(m, 'xs', b.xs);
    const ys = expectNumber(m, 'ys', b.ys);
    const nx = expectNumber(m, 'nx', b.nx);
    const ny = expectNumber(m, 'ny', b.ny);
    if (nx < 1 || ny < 1) throw geometryError(m, `at least 1 element required, requested ${nx}, ${ny}`);
    const locs: Frame[] = [];
    for (let i = 0; i < nx; i++)
      for (let j = 0; j < ny; j++) locs.push(LOCAL.withOrigin(new Vec3(i * xs - ((nx - 1) * xs) / 2, j * ys - ((ny - 1) * ys) / 2, 0)));
    s.selection = combineWithSelection(s, locs);
    return s;
  },
  parray: (s, a, k) => {
    const m = 'Sketch.parray';
    const b = bindArgs('parray', ['r', 'a1', 'da', 'n', 'rotate='], a, k);
    const r = expectNumber(m, 'r', b.r);
    const a1 = expectNumber(m, 'a1', b.a1);
    const da = expectNumber(m, 'da', b.da);
    const n = expectNumber(m, 'n', b.n);
    if (n < 1) throw geometryError(m, `at least 1 element required, requested ${n}`);
    const rotate = expectBool(m, 'rotate', b.rotate, true);
    // Python's math.remainder(da, 360) ≈ 0: a full circle, n steps; else n − 1 steps across da.
    const full = Math.abs(da - 360 * Math.round(da / 360)) < 1e-6;
    const step = full ? da / n : n > 1 ? da / (n - 1) : a1;
    const selected = s.selection?.length ? s.selection.map((el) => (el instanceof Frame ? el : LOCAL.withOrigin(centerOf(el)))) : [LOCAL];
    const out: Frame[] = [];
    for (let i = 0; i < n; i++) {
      const phi = a1 + step * i;
      const rad = (phi * Math.PI) / 180;
      const l = LOCAL.withOrigin(new Vec3(r * Math.cos(rad), r * Math.sin(rad), 0));
      for (const el of selected) out.push(composeFrames(composeFrames(l, el), LOCAL.rotatedAboutZ(rotate ? phi : 0)));
    }
    s.selection = out;
    return s;
  },
  reset: (s) => {
    s.selection = null;
    return s;
  },
  faces: (s, a, k) => selectIn(s, 'faces', 'face', a, k),
  wires: (s, a, k) => selectIn(s, 'wires', 'wire', a, k),
  edges: (s, a, k) => selectIn(s, 'edges', 'edge', a, k),
  vertices: (s, a, k) => selectIn(s, 'vertices', 'vertex', a, k),
  tag: (s, a, k) => {
    const name = expectString('Sketch.tag', 'tag', bindArgs('tag', ['tag'], a, k).tag);
    if (!s.selection?.length) throw new CadError('runtime', 'Sketch.tag(): a selection is needed to tag');
    s.tags.set(name, [...s.selection]);
    return s;
  },
  select: (s, a) => {
    s.selection = [];
    for (const t of a) {
      const tagged = s.tags.get(expectString('Sketch.select', 'tag', t));
      if (!tagged) throw new CadError('runtime', `Sketch.select(): no tag '${String(t)}'`);
      s.selection.push(...tagged);
    }
    return s;
  },
  delete: (s) => {
    if (!s.selection?.length) throw new CadError('runtime', 'Sketch.delete(): a selection is needed to delete');
    for (const el of s.selection) {
      if (el instanceof Face) s.faces = s.faces.filter((f) => !f.isSame(el));
      else if (el instanceof Edge) s.edges = s.edges.filter((e) => !e.isSame(el));
      else throw new CadError('runtime', 'Sketch.delete(): only faces and edges can be deleted');
    }
    s.selection = null;
    return s;
  },
  fillet: (s, a, k) => roundSelected(s, 'fillet', expectNumber('Sketch.fillet', 'd', bindArgs('fillet', ['d'], a, k).d)),
  chamfer: (s, a, k) => roundSelected(s, 'chamfer', expectNumber('Sketch.chamfer', 'd', bindArgs('chamfer', ['d'], a, k).d)),
  distribute: (s, a, k) => {
    const m = 'Sketch.distribute';
    const b = bindArgs('distribute', ['n', 'start=', 'stop=', 'rotate='], a, k);
    const n = expectNumber(m, 'n', b.n);
    if (!Number.isInteger(n) || n < 1) throw new CadError('runtime', `${m}(): at least 1 element required, requested ${n}`);
    const start = b.start === undefined || b.start === null ? 0 : expectNumber(m, 'start', b.start);
    const stop = b.stop === undefined || b.stop === null ? 1 : expectNumber(m, 'stop', b.stop);
    const rotate = expectBool(m, 'rotate', b.rotate, true);
    if (!s.selection?.length) throw new CadError('runtime', `${m}(): nothing selected to distribute over`);
    // sketch.py: a closed curve over its whole length gets n steps, else n − 1 from start to stop.
    const trimmed = !(1 - Math.abs(stop - start) < 1e-6);
    const range = [...Array(n).keys()];
    const closedParams = range.map((i) => start + (i * (stop - start)) / n);
    const openParams = range.map((i) => (n > 1 ? start + (i * (stop - start)) / (n - 1) : start));
    const locs: Frame[] = [];
    for (const el of s.selection) {
      if (!(el instanceof Wire || el instanceof Edge))
        throw new CadError('runtime', `${m}(): unsupported selection: ${el instanceof Frame ? 'a location' : 'a face or vertex'}`);
      const wire = el instanceof Wire ? el : wireFromEdges(m, [el]);
      locs.push(...curveFrames(m, wire, (ds) => (ds.closed && !trimmed ? closedParams : openParams), rotate));
    }
    s.selection = locs;
    return s;
  },
  // Sketch.export writes a file: skipped, as cq.exporters.export is, and the sketch returned.
  export: (s) => s,
  clean: (s) => {
    if (s.faces.length) s.faces = subShapes(cleanShape(makeCompound(s.faces)), 'face') as Face[];
    return s;
  },
  offset: (s, a, k) => {
    const m = 'offset';
    const b = bindArgs(m, ['d', 'mode=', 'tag='], a, k);
    const d = expectNumber(`Sketch.${m}`, 'd', b.d);
    if (!s.selection?.length) throw new CadError('runtime', 'Sketch.offset(): a selection is needed to offset');
    const mode = modeOf(m, b.mode);
    const wires = s.selection.filter((el): el is Wire => el instanceof Wire);
    for (const w of wires) {
      const r = offsetWires(`Sketch.${m}`, [w], d, 'arc');
      for (const ow of subShapes(r, 'wire') as Wire[]) faceElement(s, m, mode, 0, () => facesFromWires(`Sketch.${m}`, [ow], LOCAL), b.tag, true);
    }
    return s;
  },
  copy: (s) => {
    const c = new SketchObj(null);
    c.faces = s.faces;
    return c;
  },
  moved: (s, a, k) => {
    const c = new SketchObj(null);
    const { frames } = movedLocationsFor('Sketch.moved', a, k);
    c.faces = frames.flatMap((f) => s.faces.map((face) => relocate(face, LOCAL, f)));
    return c;
  },
  located: (s, a, k) => {
    const loc = bindArgs('located', ['loc'], a, k).loc;
    if (!(loc instanceof LocationObj)) throw new CadError('runtime', `Sketch.located(): expected a Location, not ${typeName(loc!)}`);
    const c = new SketchObj(null, [loc.frame]);
    c.faces = s.faces;
    return c;
  },
  segment: (s, a, k) => {
    const m = 'Sketch.segment';
    const b = bindArgs('segment', ['p1', 'p2=', 'tag=', 'forConstruction='], a, k);
    const edges = s.edges;
    let p1: Vec3;
    let p2: Vec3;
    if (b.p2 === undefined || b.p2 === null || typeof b.p2 === 'string') {
      if (edges.length === 0) throw geometryError(m, 'a one-point segment continues the previous edge, but there is none');
      p1 = edgeEndpoints(edges[edges.length - 1])[1];
      p2 = toVec3(m, 'p1', b.p1);
    } else {
      p1 = toVec3(m, 'p1', b.p1);
      p2 = toVec3(m, 'p2', b.p2);
    }
    edges.push(lineEdge(m, p1, p2));
    return s;
  },
  arc: (s, a, k) => {
    const m = 'Sketch.arc';
    const edges = (s as unknown as { edges: Edge[] }).edges;
    // arc(c, r, a, da): about a centre, from angle a through da degrees (a whole circle when |da| ≥ 360);
    // arc(p1, p2, p3): through three points; arc(p2, p3): on from the last edge's end.
    if (typeof a[1] === 'number' || 'r' in k) {
      const b = bindArgs(m, ['c', 'r', 'a', 'da', 'tag=', 'forConstruction='], a, k);
      const c = toVec3(m, 'c', b.c);
      const r = expectNumber(m, 'r', b.r);
      const a0 = expectNumber(m, 'a', b.a);
      const da = expectNumber(m, 'da', b.da);
      if (!(r > LENGTH_EPS)) throw geometryError(m, `radius must be positive (got ${r})`);
      if (Math.abs(da) >= 360) {
        // Edge.makeCircle(r, c, angle1=a, angle2=a, orientation=da > 0): the whole circle (seam on +x).
        edges.push(circleArcEdge(m, c, new Vec3(0, 0, 1), r, a0, a0, da > 0));
      } else {
        const at = (deg: number) => c.add(new Vec3(Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180), 0).scale(r));
        edges.push(threePointArcEdge(m, at(a0), at(a0 + da / 2), at(a0 + da)));
      }
      return s;
    }
    const pts = a.filter((v) => typeof v !== 'string' && typeof v !== 'boolean').map((p, i) => toVec3(m, `p${i + 1}`, p));
    if (pts.length === 3) edges.push(threePointArcEdge(m, pts[0], pts[1], pts[2]));
    else if (pts.length === 2) {
      if (edges.length === 0) throw geometryError(m, 'a two-point arc continues the previous edge, but there is none');
      edges.push(threePointArcEdge(m, edgeEndpoints(edges[edges.length - 1])[1], pts[0], pts[1]));
    } else throw new CadError('runtime', 'Sketch.arc(): expected (p1, p2, p3), (p2, p3) or (c, r, a, da)');
    return s;
  },
  close: (s) => {
    const m = 'Sketch.close';
    const edges = (s as unknown as { edges: Edge[] }).edges;
    if (edges.length === 0) throw geometryError(m, 'nothing to close: add segments or arcs first');
    const start = edgeEndpoints(edges[0])[0];
    const end = edgeEndpoints(edges[edges.length - 1])[1];
    if (start.distance(end) > 1e-6) edges.push(lineEdge(m, end, start));
    return s;
  },
  assemble: (s, a, k) => {
    const m = 'assemble';
    const b = bindArgs(m, ['mode=', 'tag='], a, k);
    const holder = s as unknown as { edges: Edge[] };
    if (holder.edges.length === 0) throw geometryError(`Sketch.${m}`, 'no edges to assemble: add segments or arcs first');
    const wire = wireFromEdges(`Sketch.${m}`, holder.edges);
    holder.edges = [];
    s.applyMode(m, facesFromWires(`Sketch.${m}`, [wire], LOCAL), modeOf(m, b.mode));
    return s;
  },
  hull: (s, a, k) => {
    // CadQuery's Sketch.hull: the convex hull of the selected edges, else of the faces' edges, else
    // of the drawn edges, added as a face at the sketch's origin (the selection only picks edges).
    const m = 'hull';
    const b = bindArgs(m, ['mode=', 'tag='], a, k);
    const selected = !!s.selection?.length;
    let edges: Edge[];
    if (selected) edges = s.selection!.filter((el): el is Edge => el instanceof Edge);
    else if (s.faces.length) edges = s.faces.flatMap((f) => subShapes(f, 'edge') as Edge[]);
    else if (s.edges.length) edges = s.edges;
    else throw new CadError('runtime', 'Sketch.hull(): no objects available for hull construction');
    const wire = findHull(`Sketch.${m}`, edges);
    return faceElement(
      s,
      m,
      modeOf(m, b.mode),
      0,
      (f) => facesFromWires(`Sketch.${m}`, [wire], LOCAL).map((face) => (f === LOCAL ? face : relocate(face, LOCAL, f))),
      b.tag,
      selected,
    );
  },
  finalize: (s) => {
    if (!s.parent) throw new CadError('runtime', 'Sketch.finalize(): this sketch was not started from a Workplane');
    return s.parent.newObject([s]);
  },
};

export { Frame };

/**
 * Mixin1D.locations(ds, planar=True) of a wire in the sketch's plane: the points at fractions `ds`
 * of its length (GCPnts_AbscissaPoint's arc length; this build lacks it: |C′| integrated on the
 * wire's curvilinear-knot parametrisation, exact for lines and circles), each a frame with x along
 * z × tangent (planar mode) or the sketch's own axes (`rotate` false: Location(position)).
 */
function curveFrames(method: string, wire: Wire, params: (c: { closed: boolean }) => number[], rotate: boolean): Frame[] {
  return occ(method, (oc, keep) => {
    const curve = keep(new oc.BRepAdaptor_CompCurve(wire.wrapped, true));
    const first = curve.FirstParameter();
    const last = curve.LastParameter();
    const steps = 4096;
    const speed = (u: number) => {
      const d = curve.EvalD1(u);
      const v = d.D1.Magnitude();
      d.Point.delete();
      d.D1.delete();
      return v;
    };
    // Cumulative length at each of steps + 1 parameters (Simpson on each step).
    const us: number[] = [first];
    const lengths: number[] = [0];
    for (let i = 1; i <= steps; i++) {
      const u0 = first + ((last - first) * (i - 1)) / steps;
      const u1 = first + ((last - first) * i) / steps;
      lengths.push(lengths[i - 1] + ((u1 - u0) / 6) * (speed(u0) + 4 * speed((u0 + u1) / 2) + speed(u1)));
      us.push(u1);
    }
    const total = lengths[steps];
    const paramAt = (d: number): number => {
      const target = d * total;
      if (target <= 0) return first;
      if (target >= total) return last;
      let lo = 0;
      let hi = steps;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (lengths[mid] < target) lo = mid;
        else hi = mid;
      }
      const t = (target - lengths[lo]) / (lengths[hi] - lengths[lo] || 1);
      return us[lo] + t * (us[hi] - us[lo]);
    };
    return params({ closed: curve.IsClosed() }).map((d) => {
      const r = curve.EvalD1(paramAt(d));
      const p = new Vec3(r.Point.X(), r.Point.Y(), r.Point.Z());
      const t = new Vec3(r.D1.X(), r.D1.Y(), r.D1.Z());
      r.Point.delete();
      r.D1.delete();
      if (!rotate) return LOCAL.withOrigin(p);
      const x = new Vec3(0, 0, 1).cross(t);
      if (x.length < 1e-12) throw geometryError(method, 'the curve runs along the sketch normal here: no direction to rotate to');
      return new Frame(p, x, new Vec3(0, 0, 1));
    });
  });
}
