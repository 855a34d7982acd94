/**
 * CadQuery's `Sketch` (sketch.py), the subset CAD-Recode / cadrille programs use: face-based
 * rect / circle / polygon / regularPolygon / push with modes 'a' (add), 's' (subtract),
 * 'i' (intersect), 'r' (replace), 'c' (construction), and edge-based segment / arc / close /
 * assemble; finalize() returns to the workplane, which extrudes the sketch's faces.
 *
 * Geometry lives in the sketch's local XY; `locs` are where it goes (CadQuery's Sketch.locs): the
 * identity for `cq.Sketch()`, and for `Workplane.sketch()` / `placeSketch(s)` the workplane's
 * locations as cq.py's `_locs()` makes them (the plane at each pushed point or the centre of each
 * shape on the stack, else the plane itself). `locatedFaces()` is CadQuery's iteration over a sketch:
 * every face at every location.
 */
import type { Edge, Face } from 'replicad';
import { CadError } from '../../errors';
import { bindArgs, builtin, expectNumber, expectString, sequenceItems, type HostObject, type Kwargs, type Value } from '../values';
import {
  booleanOp,
  boundsOf,
  circleWire,
  cleanShape,
  compoundOf,
  edgeEndpoints,
  facesFromWires,
  geometryError,
  lineEdge,
  LENGTH_EPS,
  polygonWire,
  relocate,
  subShapes,
  threePointArcEdge,
  wireFromEdges,
} from './geom';
import { Frame, namedFrame } from './plane';
import { toVec3, Vec3 } from './vec';

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
  'trapezoid',
  'slot',
  'ellipse',
  'parray',
  'rarray',
  'distribute',
  'each',
  'hull',
  'offset',
  'fillet',
  'chamfer',
  'clean',
  'face',
  'importDXF',
  'tag',
  'select',
  'faces',
  'wires',
  'edges',
  'vertices',
  'delete',
  'spline',
  'bezier',
  'constrain',
  'solve',
  'located',
  'moved',
  'copy',
  'val',
  'vals',
  'add',
  'subtract',
  'replace',
]);

type Mode = 'a' | 's' | 'i' | 'r' | 'c';

export class SketchObj implements HostObject {
  readonly kind = 'host';
  readonly typeName = 'Sketch';
  faces: Face[] = [];
  /** Edges drawn with segment()/arc() so far (read by the builtins below). */
  edges: Edge[] = [];
  /** Local points the next face-based element is placed at (CadQuery's _selection of locations, set by push). */
  selection: Vec3[] = [Vec3.ZERO];

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
    this.faces = subShapes(cleanShape(result), 'face') as Face[];
  }

  pointsFor(): Vec3[] {
    return this.selection;
  }
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

function faceElement(s: SketchObj, method: string, mode: Mode, angle: number, build: (f: Frame) => Face[]): SketchObj {
  const faces = s.pointsFor().flatMap((p) => build(LOCAL.withOrigin(p).rotatedAboutZ(angle)));
  s.applyMode(method, faces, mode);
  return s;
}

const SKETCH_METHODS: Record<string, SketchMethod> = {
  rect: (s, a, k) => {
    const m = 'rect';
    const b = bindArgs(m, ['w', 'h', 'angle=', 'mode=', 'tag='], a, k);
    const w = expectNumber(m, 'w', b.w);
    const h = expectNumber(m, 'h', b.h);
    if (!(Math.abs(w) > LENGTH_EPS && Math.abs(h) > LENGTH_EPS)) throw geometryError(`Sketch.${m}`, 'width and height must not be zero');
    return faceElement(s, m, modeOf(m, b.mode), b.angle === undefined ? 0 : expectNumber(m, 'angle', b.angle), (f) =>
      facesFromWires(
        `Sketch.${m}`,
        [polygonWire(`Sketch.${m}`, [f.toWorld(-w / 2, -h / 2), f.toWorld(w / 2, -h / 2), f.toWorld(w / 2, h / 2), f.toWorld(-w / 2, h / 2)])],
        LOCAL,
      ),
    );
  },
  circle: (s, a, k) => {
    const m = 'circle';
    const b = bindArgs(m, ['r', 'mode=', 'tag='], a, k);
    const r = expectNumber(m, 'r', b.r);
    return faceElement(s, m, modeOf(m, b.mode), 0, (f) => facesFromWires(`Sketch.${m}`, [circleWire(`Sketch.${m}`, f.origin, f.zDir, f.xDir, r)], LOCAL));
  },
  regularPolygon: (s, a, k) => {
    const m = 'regularPolygon';
    const b = bindArgs(m, ['r', 'n', 'angle=', 'mode=', 'tag='], a, k);
    const r = expectNumber(m, 'r', b.r);
    const n = expectNumber(m, 'n', b.n);
    if (!Number.isInteger(n) || n < 3) throw geometryError(`Sketch.${m}`, 'n must be an integer >= 3');
    const pts = (f: Frame) => Array.from({ length: n }, (_, i) => f.toWorld(r * Math.cos((2 * Math.PI * i) / n), r * Math.sin((2 * Math.PI * i) / n)));
    return faceElement(s, m, modeOf(m, b.mode), b.angle === undefined ? 0 : expectNumber(m, 'angle', b.angle), (f) =>
      facesFromWires(`Sketch.${m}`, [polygonWire(`Sketch.${m}`, pts(f))], LOCAL),
    );
  },
  polygon: (s, a, k) => {
    const m = 'polygon';
    const b = bindArgs(m, ['pts', 'angle=', 'mode=', 'tag='], a, k);
    const items = sequenceItems(b.pts);
    if (!items) throw new CadError('runtime', `Sketch.polygon(): 'pts' must be a list of points`);
    let pts = items.map((p) => toVec3(`Sketch.${m}`, 'pts', p));
    if (pts.length > 1 && pts[0].distance(pts[pts.length - 1]) < LENGTH_EPS) pts = pts.slice(0, -1);
    return faceElement(s, m, modeOf(m, b.mode), b.angle === undefined ? 0 : expectNumber(m, 'angle', b.angle), (f) =>
      facesFromWires(
        `Sketch.${m}`,
        [
          polygonWire(
            `Sketch.${m}`,
            pts.map((p) => f.toWorld(p.x, p.y)),
          ),
        ],
        LOCAL,
      ),
    );
  },
  push: (s, a, k) => {
    const b = bindArgs('push', ['locs', 'tag='], a, k);
    const items = sequenceItems(b.locs);
    if (!items) throw new CadError('runtime', "Sketch.push(): 'locs' must be a list of points");
    s.selection = items.map((p) => toVec3('Sketch.push', 'locs', p));
    return s;
  },
  reset: (s) => {
    s.selection = [Vec3.ZERO];
    return s;
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
    const pts = a.filter((v) => typeof v !== 'string').map((p, i) => toVec3(m, `p${i + 1}`, p));
    void k;
    if (pts.length === 3) edges.push(threePointArcEdge(m, pts[0], pts[1], pts[2]));
    else if (pts.length === 2) {
      if (edges.length === 0) throw geometryError(m, 'a two-point arc continues the previous edge, but there is none');
      edges.push(threePointArcEdge(m, edgeEndpoints(edges[edges.length - 1])[1], pts[0], pts[1]));
    } else throw new CadError('unsupported', 'Sketch.arc(): only three-point arcs (p1, p2, p3) or (p2, p3) are supported');
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
  finalize: (s) => {
    if (!s.parent) throw new CadError('runtime', 'Sketch.finalize(): this sketch was not started from a Workplane');
    return s.parent.newObject([s]);
  },
};

export { Frame };
