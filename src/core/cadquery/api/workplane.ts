/**
 * CadQuery's `Workplane` (cq.py) on replicad/OCCT: a plane, a stack of objects, a parent link and a
 * context shared along the chain (pending edges and wires, the first point of the open sketch,
 * tags). Methods follow CadQuery's semantics, including the shared context: every loop drawn on a
 * workplane (and on workplanes derived from it) is pending until an extrude consumes them all.
 */
import { cast, Compound, Edge, Face, Shell, Solid, Vertex, Wire, type AnyShape, type Shape3D } from 'replicad';
import { CadError } from '../../errors';
import {
  bindArgs,
  builtin,
  expectBool,
  expectNumber,
  expectString,
  isCallable,
  isHost,
  PyList,
  sequenceItems,
  typeName,
  type BinaryOperator,
  type Callable,
  type HostObject,
  type Kwargs,
  type Value,
} from '../values';
import {
  arcPoints,
  as3D,
  booleanOp,
  boundsOf,
  boxSolid,
  centerOf,
  circleThrough,
  circleWire,
  cleanShape,
  compoundOf,
  coneSolid,
  cylinderSolid,
  draftedPrism,
  edgeEndpoints,
  faceGeomType,
  faceEdgeKinds,
  faceMayMerge,
  faceNormal,
  facesFromWires,
  fuseAll,
  geometryError,
  LENGTH_EPS,
  lineEdge,
  looseFaces,
  mirrorShape,
  occ,
  polygonWire,
  prism,
  volumeOf,
  gluedPrisms,
  recordOutline,
  revolveFace,
  rotateShape,
  shapeKind,
  sphereSolid,
  subShapes,
  threePointArcEdge,
  translateShape,
  wireFromEdges,
  type BooleanKind,
  type BooleanOptions,
  type TopoKind,
} from './geom';
import { composeFrames, IDENTITY, inverseFrame, LocationObj } from './location';
import { loftWires } from './loft';
import {
  approxSplineEdge,
  ellipseArcEdge,
  ellipseWire,
  booleanShapes,
  childrenOf,
  helixWire,
  makeCompound,
  offsetWires,
  pipeShell,
  polylineWire,
  splineEdge,
  sweepFace,
  wireOfEdges,
  type Transition,
} from './shape-ops';
import { iterate, pyLess, truthy } from '../pybuiltins';
import { defaultXDir, Frame, namedFrame, PlaneObj, rotateAbout } from './plane';
import { recordExport } from './exports';
import { selectorOf } from './selector-classes';
import type { Selector } from './selectors';
import { mirrorNormal, movedCopy, ShapeObj } from './shapes';
import { SketchObj } from './sketch';
import { asVec3, toVec3, Vec3, VectorObj } from './vec';

export type StackItem = Vec3 | LocationObj | AnyShape | SketchObj;

class Context {
  /** Methods a program added to `cq.Workplane` (CadQuery plugins), shared by every chain of the run. */
  constructor(readonly plugins: Map<string, Value> = new Map()) {}
  pendingWires: Wire[] = [];
  pendingEdges: Edge[] = [];
  /** Local coordinates of the first point of the open sketch. */
  firstPoint: Vec3 | null = null;
  tags = new Map<string, Workplane>();

  popPendingWires(method: string): Wire[] {
    if (this.pendingWires.length === 0) {
      throw geometryError(method, 'no pending wires: draw a closed sketch (e.g. rect, circle, or lines ending in close()) first');
    }
    const w = this.pendingWires;
    this.pendingWires = [];
    return w;
  }
}

/** Shapes whose booleans asked for CadQuery's clean(); cleaned lazily, before topology is explored. */
const needsClean = new WeakSet<object>();
/** Shapes that clean() would not change (the prism of one face with nothing to merge): not cleaned. */
const alreadyClean = new WeakSet<object>();

function isShape(o: unknown): o is AnyShape {
  return (
    o instanceof Solid ||
    o instanceof Compound ||
    o instanceof Face ||
    o instanceof Wire ||
    o instanceof Edge ||
    o instanceof Vertex ||
    o instanceof Shell ||
    (o !== null && typeof o === 'object' && o.constructor?.name === 'CompSolid')
  );
}

function isSolidLike(o: unknown): o is Shape3D {
  return o instanceof Solid || o instanceof Compound || (o !== null && typeof o === 'object' && o.constructor?.name === 'CompSolid');
}

/**
 * Edge kinds whose two glued half-prisms CadQuery's clean() leaves split at the sketch plane:
 * freeform sides, and circles (measured with CadQuery 2.8: `circle(2).extrude(5, both=True)` has 4
 * faces, 5 edges, 3 vertices, and a hole cut with it keeps two faces; planar sides do merge).
 */
const SPLIT_BOTH_EDGES = new Set(['CIRCLE', 'BSPLINE_CURVE', 'BEZIER_CURVE', 'OFFSET_CURVE', 'OTHER_CURVE']);

export class Workplane implements HostObject {
  readonly kind = 'host';
  readonly typeName = 'Workplane';
  parent: Workplane | null = null;
  ctx: Context;
  objects: StackItem[];

  constructor(
    public plane: Frame,
    objects: StackItem[] = [],
    ctx?: Context,
  ) {
    this.objects = objects;
    this.ctx = ctx ?? new Context();
  }

  newObject(objects: StackItem[]): Workplane {
    const w = new Workplane(this.plane, objects, this.ctx);
    w.parent = this;
    return w;
  }

  getAttr(name: string): Value | undefined {
    switch (name) {
      case 'plane':
        return new PlaneObj(this.plane);
      case 'objects':
        return new PyList(this.objects.map(toPy));
      case 'parent':
        return this.parent;
    }
    const plugin = this.ctx.plugins.get(name);
    if (plugin !== undefined) {
      // A function assigned to the class: a method, called with the workplane as `self`.
      if (!isCallable(plugin)) return plugin;
      return builtin(`Workplane.${name}`, (args, kwargs) => plugin.call([this, ...args], kwargs));
    }
    const m = METHODS[name];
    if (m) return builtin(`Workplane.${name}`, (args, kwargs) => m(this, args, kwargs));
    if (UNSUPPORTED.has(name)) {
      return builtin(`Workplane.${name}`, () => {
        throw new CadError('unsupported', `Workplane.${name}() is not supported yet`);
      });
    }
    return undefined;
  }

  /** `wp[a:b]`: a workplane with those objects. */
  sliceItems(pick: (length: number) => number[]): Value {
    return this.newObject(pick(this.objects.length).map((i) => this.objects[i]));
  }

  binaryOp(op: BinaryOperator, other: Value, reflected: boolean): Value | undefined {
    if (reflected) return undefined;
    if (op === '+' || op === '|') return this.union(op, other, true);
    if (op === '-') return this.boolean('cut', '-', other, true);
    if (op === '&') return this.boolean('intersect', '&', other, true);
    return undefined;
  }

  // ---- stack helpers ----

  /** Replaces shapes awaiting clean() by their cleaned versions (same geometry). */
  ensureClean(): void {
    this.objects = this.objects.map((o) => {
      if (isShape(o) && needsClean.has(o)) {
        const c = cleanShape(o);
        needsClean.delete(o);
        return c;
      }
      return o;
    });
  }

  /** CadQuery's _findType((Solid, Compound)): solids on this stack (as one), else up the chain. */
  findSolid(searchStack = true, searchParents = true): Shape3D | undefined {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    let w: Workplane | null = this;
    let first = true;
    while (w) {
      if (searchStack || !first) {
        const solids = w.objects.filter(isSolidLike);
        if (solids.length) {
          w.ensureClean();
          const cleaned = w.objects.filter(isSolidLike);
          return cleaned.length === 1 ? cleaned[0] : (compoundOf(cleaned) as Shape3D);
        }
      }
      if (!searchParents) break;
      first = false;
      w = w.parent;
    }
    return undefined;
  }

  requireSolid(method: string): Shape3D {
    const s = this.findSolid();
    if (!s) throw geometryError(method, 'no solid found on the stack or in the parent chain');
    return s;
  }

  /** CadQuery's _findFromPoint: the end of the last edge, or the last point, in world coordinates. */
  currentPoint(method: string): Vec3 {
    const obj = this.objects.length ? this.objects[this.objects.length - 1] : this.plane.origin;
    if (obj instanceof Vec3) return obj;
    if (obj instanceof Edge) return edgeEndpoints(obj)[1];
    throw geometryError(method, `no current point to draw from (the last object is a ${itemKind(obj)}): start with moveTo()`);
  }

  addPendingEdge(edge: Edge, start: Vec3): void {
    this.ctx.pendingEdges.push(edge);
    if (this.ctx.firstPoint === null) this.ctx.firstPoint = this.plane.toLocal(start);
  }

  /**
   * Locations for each stack item, as frames in world coordinates (CadQuery's eachpoint with
   * useLocalCoordinates: a Location on the stack, from polarArray or pushPoints, is in the plane's
   * coordinates).
   */
  locations(): Frame[] {
    if (this.objects.length === 0) return [this.plane];
    return this.objects.map((o) => {
      if (o instanceof LocationObj) return composeFrames(this.plane, o.frame);
      if (o instanceof Vec3) return this.plane.withOrigin(o);
      if (o instanceof SketchObj) return this.plane;
      return this.plane.withOrigin(centerOf(o));
    });
  }

  /**
   * CadQuery's _locs(): the plane at each point or shape centre on the stack, or each Location as
   * it is (unlike eachpoint, _locs does not put a Location on the plane); else the plane.
   */
  sketchLocations(): Frame[] {
    const locs: Frame[] = [];
    for (const o of this.objects) {
      if (o instanceof Vec3) locs.push(this.plane.withOrigin(o));
      else if (o instanceof LocationObj) locs.push(o.frame);
      else if (isShape(o)) locs.push(this.plane.withOrigin(centerOf(o)));
    }
    return locs.length ? locs : [this.plane];
  }

  /**
   * CadQuery's _getFaces(): the faces of sketches on the stack, faces on the stack, and the faces
   * that are direct children of compounds on the stack (not the faces of a solid: after hole() the
   * stack holds the boolean's result, and the profile is still the pending wires); else the pending
   * wires, nested into faces.
   */
  getFaces(method: string, mergeCollinear = false): Face[] {
    const faces: Face[] = [];
    for (const o of this.objects) {
      if (o instanceof SketchObj) faces.push(...o.locatedFaces());
      else if (o instanceof Face) faces.push(o);
      else if (o instanceof Compound) faces.push(...looseFaces(o));
    }
    if (faces.length) return faces;
    return facesFromWires(method, this.ctx.popPendingWires(method), this.plane, mergeCollinear);
  }

  // ---- solids ----

  /** `cleaned`: the result will be cleaned (so its profile may be too: mergedCollinearWire). */
  extrudeFaces(method: string, distance: number, both: boolean, cleaned = false): Shape3D {
    if (!Number.isFinite(distance)) throw geometryError(method, 'extrude distance must be a finite number');
    if (Math.abs(distance) < LENGTH_EPS) throw geometryError(method, 'extrude distance must not be zero');
    const faces = this.getFaces(method, cleaned);
    const dir = this.plane.zDir.scale(distance);
    // Glued halves need the clean when their sides are not all circular (planar sides merge across
    // the sketch plane) or when extruding against the plane's normal: CadQuery 2.8 keeps circular
    // halves split extruding along it and merges (some of) them against it, as our clean() does
    // there (measured on the differential suite's generated programs: annuli, discs, both signs).
    let mergesAcross = false;
    const solids = faces.map((f) => {
      if (!both) return prism(method, f, dir);
      // CadQuery extrudes both ways as two prisms glued together, then cleans: the same as one
      // prism where the halves' side faces merge (planes), but circular and freeform sides stay
      // split at the sketch plane — so they are made that way here too.
      const kinds = faceEdgeKinds(f);
      if (kinds.some((k) => SPLIT_BOTH_EDGES.has(k))) {
        // A disc against the normal: the clean merges its halves into one cylinder, as one prism makes it.
        if (distance < 0 && kinds.length === 1 && kinds[0] === 'CIRCLE') return prism(method, translateShape(f, dir.scale(-1)), dir.scale(2));
        if (distance < 0 || kinds.some((k) => k !== 'CIRCLE')) mergesAcross = true;
        return gluedPrisms(method, f, dir);
      }
      return prism(method, translateShape(f, dir.scale(-1)), dir.scale(2));
    });
    const r = fuseIfOverlapping(method, solids);
    if (solids.length === 1 && !mergesAcross && !faceMayMerge(faces[0])) alreadyClean.add(r);
    return r;
  }

  /**
   * extrude/cutBlind with `taper` (degrees; positive narrows along the extrusion): cq.py's
   * _extrude, each face drafted by Solid.extrudeLinear (LocOpe_DPrism, see draftedPrism), both
   * ways glued. Faces with holes are refused, as CadQuery refuses them.
   */
  taperedFaces(method: string, distance: number, both: boolean, taper: number): Shape3D {
    if (!Number.isFinite(distance)) throw geometryError(method, 'extrude distance must be a finite number');
    if (Math.abs(distance) < LENGTH_EPS) throw geometryError(method, 'extrude distance must not be zero');
    const faces = this.getFaces(method);
    checkTaper(method, faces, taper);
    const dir = this.plane.zDir.scale(distance);
    const solids = faces.map((f) => {
      const s = draftedPrism(method, f, dir, taper);
      return both ? (booleanOp(method, 'fuse', s, [draftedPrism(method, f, dir.scale(-1), taper)], { glue: true }) as Shape3D) : s;
    });
    return fuseIfOverlapping(method, solids);
  }

  /** CadQuery's _combineWithBase: fuse (or cut) with the context solid when there is one. */
  combineWithBase(method: string, result: Shape3D, mode: Value | undefined, clean: boolean): Workplane {
    const m = mode === undefined ? true : mode;
    // CadQuery cleans the result in every mode, also when there is no base and with combine=False.
    if (m === false || m === null) return this.newObject([markClean(result, clean)]);
    const base = this.findSolid();
    let r: Shape3D = result;
    if (m === 'cut' || m === 's') {
      if (base) r = booleanOp(method, 'cut', base, [result]);
    } else if (m === true || m === 'a') {
      if (base) r = booleanOp(method, 'fuse', base, [result]);
      // cq.py _fuseWithBase: with no base solid, a compound's solids are fused with each other
      // (skipped where no two boxes meet: the fuse would give them back as they are).
      else if (result instanceof Compound) {
        const parts = childrenOf(result);
        if (parts.length > 1 && boxesOverlap(parts)) r = fuseAll(method, parts);
      }
    } else {
      throw new CadError('runtime', `${method}(): combine must be True, False, 'a', 's' or 'cut', not ${describe(m)}`);
    }
    return this.newObject([markClean(r, clean)]);
  }

  union(method: string, other: Value | undefined, clean: boolean, options: BooleanOptions = {}): Workplane {
    const shapes = solidsOf(method, other, true);
    this.mergeTags(other);
    const base = this.findSolid();
    let r: Shape3D;
    if (base) r = markClean(booleanOp(method, 'fuse', base, shapes, options), clean);
    else if (shapes.length > 1) r = markClean(fuseAll(method, shapes, options), clean);
    else r = as3D(method, shapes[0]);
    return this.newObject([r]);
  }

  boolean(kind: BooleanKind, method: string, other: Value | undefined, clean: boolean, options: BooleanOptions = {}): Workplane {
    const base = this.requireSolid(method);
    const shapes = solidsOf(method, other);
    this.mergeTags(other);
    return this.newObject([markClean(booleanOp(method, kind, base, shapes, options), clean)]);
  }

  /** Primitives placed at each stack location, then unioned (or returned) as CadQuery does. */
  placePrimitives(method: string, make: (f: Frame) => Shape3D, combine: boolean, clean: boolean): Workplane {
    const shapes = this.locations().map(make);
    const placed = this.newObject(shapes);
    if (!combine) return placed;
    const base = this.findSolid();
    let r: Shape3D;
    if (base) r = markClean(booleanOp(method, 'fuse', base, shapes), clean);
    else r = shapes.length > 1 ? markClean(fuseAll(method, shapes), clean) : shapes[0];
    return this.newObject([r]);
  }

  /** Cuts shapes made at each stack location from the context solid (hole, cboreHole, cskHole). */
  cutEach(method: string, make: (f: Frame, depth: number) => AnyShape[], depth: number | undefined, clean: boolean): Workplane {
    const base = this.requireSolid(method);
    const d = depth ?? boundsDiagonal(base);
    const tools = this.locations().flatMap((f) => make(f, d));
    return this.newObject([markClean(booleanOp(method, 'cut', base, tools), clean)]);
  }

  selectObjects(method: string, kind: TopoKind, selector: Value | undefined, tag: Value | undefined): Workplane {
    const source = tag === undefined || tag === null ? this : this.tagged(method, expectString(method, 'tag', tag));
    source.ensureClean();
    const seen: AnyShape[] = [];
    for (const o of source.objects) {
      if (!isShape(o)) continue;
      for (const s of subShapes(o, kind)) if (!seen.some((x) => x.isSame(s))) seen.push(s);
    }
    let result = seen;
    if (selector !== undefined && selector !== null) result = toSelector(method, selector)(seen);
    return this.newObject(result);
  }

  tagged(method: string, name: string): Workplane {
    const w = this.ctx.tags.get(name);
    if (!w) throw new CadError('runtime', `${method}(): no object tagged '${name}' in the chain`);
    return w;
  }

  setTag(name: string): void {
    this.ctx.tags.set(name, this);
  }

  /** cq.py _mergeTags (booleans, split and add with a Workplane): the other chain's tags join this one's, this one's win. */
  mergeTags(other: Value | undefined): void {
    if (!(other instanceof Workplane) || other.ctx === this.ctx) return;
    for (const [name, w] of other.ctx.tags) if (!this.ctx.tags.has(name)) this.ctx.tags.set(name, w);
  }

  /** CadQuery's workplane(): a new plane on the selected face(s)/point, or offset from this one. */
  workplaneAt(offset: number, invert: boolean, centerOption: string, origin: Vec3 | undefined): Workplane {
    const method = 'workplane';
    if (!['CenterOfMass', 'ProjectedOrigin', 'CenterOfBoundBox'].includes(centerOption)) {
      throw new CadError('runtime', `workplane(): centerOption must be 'CenterOfMass', 'ProjectedOrigin' or 'CenterOfBoundBox', not '${centerOption}'`);
    }
    const computeXDir = (n: Vec3) => {
      const xd = new Vec3(0, 0, 1).cross(n);
      return xd.length < 0.0001 ? new Vec3(1, 0, 0) : xd;
    };
    let center: Vec3;
    let normal: Vec3;
    let xDir: Vec3;
    if (this.objects.length > 1) {
      const faces = this.objects.filter((o): o is Face => o instanceof Face);
      if (faces.length < this.objects.length || !faces.every((f) => faceGeomType(f) === 'PLANE')) {
        throw geometryError(method, 'if multiple objects are selected, they must all be planar faces');
      }
      const n0 = faceNormal(faces[0]);
      const c0 = centerOf(faces[0]);
      // cq.py's _isCoPlanar, as it is: the normals pass when ANY one coordinate agrees within the
      // tolerance (two faces tilted about a common axis count as coplanar), then the offset test.
      for (const f of faces.slice(1)) {
        const n1 = faceNormal(f);
        const normalsPass = Math.abs(n0.x - n1.x) < 0.0001 || Math.abs(n0.y - n1.y) < 0.0001 || Math.abs(n0.z - n1.z) < 0.0001;
        if (!normalsPass || Math.abs(n0.dot(c0.sub(centerOf(f)))) >= 0.0001) {
          throw geometryError(method, 'the selected faces must be coplanar');
        }
      }
      center = centerOfMany(faces, centerOption === 'CenterOfBoundBox');
      normal = n0;
      xDir = computeXDir(normal);
    } else {
      const obj = this.objects.length ? this.objects[0] : this.plane.origin;
      if (obj instanceof Face) {
        center = centerOption === 'CenterOfBoundBox' ? boundsCenter(obj) : centerOf(obj);
        normal = faceNormal(obj, center);
        xDir = computeXDir(normal);
      } else if (obj instanceof Vec3 || isShape(obj)) {
        center = obj instanceof Vec3 ? obj : centerOption === 'CenterOfBoundBox' ? boundsCenter(obj) : centerOf(obj);
        const parentVal = this.parent?.objects.length ? this.parent.objects[0] : undefined;
        if (parentVal instanceof Face) {
          normal = faceNormal(parentVal, center);
          xDir = computeXDir(normal);
        } else {
          normal = this.plane.zDir;
          xDir = this.plane.xDir;
        }
      } else {
        throw geometryError(method, 'needs a face, a vertex or a point on a workplane');
      }
    }
    if (centerOption === 'ProjectedOrigin') {
      const orig = origin ?? this.plane.origin;
      const n = normal.normalized();
      center = orig.sub(n.scale(orig.sub(center).dot(n)));
    }
    if (invert) normal = normal.scale(-1);
    const offsetCenter = center.add(normal.normalized().scale(offset));
    const w = new Workplane(new Frame(offsetCenter, xDir, normal), [], this.ctx);
    w.parent = this;
    return w;
  }
}

function markClean<T extends AnyShape>(s: T, clean: boolean): T {
  if (clean && !alreadyClean.has(s)) needsClean.add(s);
  return s;
}

function boundsDiagonal(s: AnyShape): number {
  const b = boundsOf(s);
  return b.max.sub(b.min).length;
}

function boundsCenter(s: AnyShape): Vec3 {
  const b = boundsOf(s);
  return b.min.add(b.max).scale(0.5);
}

function centerOfMany(faces: Face[], ofBoundBox: boolean): Vec3 {
  if (ofBoundBox) return boundsCenter(compoundOf(faces));
  let total = 0;
  let acc = Vec3.ZERO;
  for (const f of faces) {
    const a = occ('Area', (oc, keep) => {
      const p = keep(new oc.GProp_GProps());
      oc.BRepGProp.SurfaceProperties(f.wrapped, p, false, false);
      return p.Mass();
    });
    acc = acc.add(centerOf(f).scale(a));
    total += a;
  }
  return acc.scale(1 / total);
}

/** Several solids from one operation: fused when their boxes overlap (CadQuery fuses them). */
function fuseIfOverlapping(method: string, solids: Shape3D[]): Shape3D {
  if (solids.length === 1) return solids[0];
  return boxesOverlap(solids) ? fuseAll(method, solids) : (compoundOf(solids) as Shape3D);
}

/** Whether any two of the shapes' bounding boxes touch (else a fuse would change nothing). */
function boxesOverlap(shapes: AnyShape[]): boolean {
  const boxes = shapes.map(boundsOf);
  return boxes.some((a, i) =>
    boxes.some(
      (b, j) => j > i && a.min.x <= b.max.x && b.min.x <= a.max.x && a.min.y <= b.max.y && b.min.y <= a.max.y && a.min.z <= b.max.z && b.min.z <= a.max.z,
    ),
  );
}

/**
 * The shapes of another Workplane (or a Shape) to combine with: cut and intersect take what is on
 * its stack as it is (cq.py's _selectShapes(other.vals())), union its solids one by one
 * (other.solids().vals()): a compound of two solids as one tool lost the one that overlapped the
 * base in a fuse (this build), silently.
 */
function solidsOf(method: string, v: Value | undefined, eachSolid = false): AnyShape[] {
  if (v instanceof Workplane) {
    const shapes = v.objects
      .filter(isShape)
      .filter((s) => isSolidLike(s) || s instanceof Shell)
      .flatMap((s) => (eachSolid && s instanceof Compound && subShapes(s, 'solid').length > 1 ? subShapes(s, 'solid') : [s]));
    if (shapes.length === 0) throw geometryError(method, 'the other Workplane has no solid on its stack');
    return shapes;
  }
  if (v instanceof ShapeObj) return [v.shape];
  if (v instanceof SketchObj) throw geometryError(method, 'cannot combine a Sketch with a solid: extrude it first');
  throw new CadError('runtime', `${method}(): expected a Workplane or a Solid, not ${v === undefined ? 'nothing' : typeName(v)}`);
}

function toSelector(method: string, v: Value): Selector {
  return selectorOf(method, v);
}

function describe(v: Value): string {
  return typeof v === 'string' ? `'${v}'` : typeName(v);
}

function itemKind(o: StackItem): string {
  if (o instanceof Vec3) return 'point';
  if (o instanceof LocationObj) return 'Location';
  if (o instanceof SketchObj) return 'Sketch';
  return shapeKind(o);
}

export function toPy(o: StackItem): Value {
  if (o instanceof Vec3) return new VectorObj(o);
  if (o instanceof LocationObj || o instanceof SketchObj) return o;
  return new ShapeObj(o);
}

/** A Python value added to a stack: shapes, vectors, locations, sketches. */
function fromPy(method: string, v: Value): StackItem {
  if (v instanceof ShapeObj) return v.shape;
  if (v instanceof VectorObj) return v.v;
  if (v instanceof LocationObj || v instanceof SketchObj) return v;
  const p = asVec3(v);
  if (p) return p;
  throw new CadError('runtime', `${method}(): cannot put a ${typeName(v)} on the stack`);
}

function num(method: string, name: string, v: Value | undefined, fallback?: number): number {
  if (v === undefined && fallback !== undefined) return fallback;
  const n = expectNumber(method, name, v);
  if (!Number.isFinite(n)) throw geometryError(method, `'${name}' must be finite`);
  return n;
}

function centeredFlags(method: string, v: Value | undefined, n: 2 | 3): boolean[] {
  if (v === undefined) return Array(n).fill(true);
  const items = sequenceItems(v);
  if (items) {
    if (items.length !== n) throw new CadError('runtime', `${method}(): 'centered' must be a bool or a tuple of ${n} bools`);
    return items.map((i) => expectBool(method, 'centered', i, true));
  }
  return Array(n).fill(expectBool(method, 'centered', v, true));
}

function points2D(method: string, name: string, v: Value | undefined): Vec3[] {
  const items = sequenceItems(v);
  if (!items) throw new CadError('runtime', `${method}(): '${name}' must be a list of points`);
  return items.map((p) => toVec3(method, name, p));
}

// ---- the method table ---------------------------------------------------------------------

type Method = (w: Workplane, args: Value[], kwargs: Kwargs) => Value;

function lineToImpl(w: Workplane, method: string, x: number, y: number, forConstruction: boolean): Workplane {
  const start = w.currentPoint(method);
  const end = w.plane.toWorld(x, y);
  const edge = lineEdge(method, start, end);
  if (!forConstruction) w.addPendingEdge(edge, start);
  return w.newObject([edge]);
}

function arcImpl(w: Workplane, method: string, mid: Vec3, end: Vec3, forConstruction: boolean): Workplane {
  const start = w.currentPoint(method);
  const edge = threePointArcEdge(method, start, mid, end);
  if (!forConstruction) w.addPendingEdge(edge, start);
  return w.newObject([edge]);
}

/** Places a wire built in local coordinates (around the local origin) at every stack location. */
function eachWire(w: Workplane, _method: string, build: (f: Frame) => Wire, forConstruction: boolean): Workplane {
  const wires = w.locations().map(build);
  if (!forConstruction) w.ctx.pendingWires.push(...wires);
  return w.newObject(wires);
}

function polygonAt(method: string, f: Frame, local: [number, number][]): Wire {
  return polygonWire(
    method,
    local.map(([x, y]) => f.toWorld(x, y)),
  );
}

function closeImpl(w: Workplane): Workplane {
  const method = 'close';
  const first = w.ctx.firstPoint;
  if (first === null) throw geometryError(method, 'nothing to close: draw at least one segment (e.g. moveTo().lineTo()) first');
  const end = w.plane.toLocal(w.currentPoint(method));
  let cur = w;
  if (end.sub(first).length > 1e-6) cur = lineToImpl(w, method, first.x, first.y, false);
  w.ctx.firstPoint = null;
  return wireImpl(cur, false);
}

function wireImpl(w: Workplane, forConstruction: boolean): Workplane {
  if (w.ctx.pendingEdges.length === 0) return w;
  const edges = w.ctx.pendingEdges;
  w.ctx.pendingEdges = [];
  const wire = wireFromEdges('wire', edges);
  if (!forConstruction) w.ctx.pendingWires.push(wire);
  const others = w.objects.filter((o) => !(o instanceof Edge));
  return w.newObject([...others, wire]);
}

const METHODS: Record<string, Method> = {
  // ---- 2D drawing ----
  moveTo: (w, a, k) => {
    const b = bindArgs('moveTo', ['x=', 'y='], a, k);
    return w.newObject([w.plane.toWorld(num('moveTo', 'x', b.x, 0), num('moveTo', 'y', b.y, 0))]);
  },
  move: (w, a, k) => {
    const b = bindArgs('move', ['xDist=', 'yDist='], a, k);
    const p = w.plane.toLocal(w.currentPoint('move'));
    return w.newObject([w.plane.toWorld(p.x + num('move', 'xDist', b.xDist, 0), p.y + num('move', 'yDist', b.yDist, 0))]);
  },
  lineTo: (w, a, k) => {
    const b = bindArgs('lineTo', ['x', 'y', 'forConstruction='], a, k);
    return lineToImpl(w, 'lineTo', num('lineTo', 'x', b.x), num('lineTo', 'y', b.y), expectBool('lineTo', 'forConstruction', b.forConstruction, false));
  },
  line: (w, a, k) => {
    const b = bindArgs('line', ['xDist', 'yDist', 'forConstruction='], a, k);
    const p = w.plane.toLocal(w.currentPoint('line'));
    return lineToImpl(
      w,
      'line',
      p.x + num('line', 'xDist', b.xDist),
      p.y + num('line', 'yDist', b.yDist),
      expectBool('line', 'forConstruction', b.forConstruction, false),
    );
  },
  hLine: (w, a, k) => {
    const b = bindArgs('hLine', ['distance', 'forConstruction='], a, k);
    const p = w.plane.toLocal(w.currentPoint('hLine'));
    return lineToImpl(w, 'hLine', p.x + num('hLine', 'distance', b.distance), p.y, expectBool('hLine', 'forConstruction', b.forConstruction, false));
  },
  vLine: (w, a, k) => {
    const b = bindArgs('vLine', ['distance', 'forConstruction='], a, k);
    const p = w.plane.toLocal(w.currentPoint('vLine'));
    return lineToImpl(w, 'vLine', p.x, p.y + num('vLine', 'distance', b.distance), expectBool('vLine', 'forConstruction', b.forConstruction, false));
  },
  hLineTo: (w, a, k) => {
    const b = bindArgs('hLineTo', ['xCoord', 'forConstruction='], a, k);
    const p = w.plane.toLocal(w.currentPoint('hLineTo'));
    return lineToImpl(w, 'hLineTo', num('hLineTo', 'xCoord', b.xCoord), p.y, expectBool('hLineTo', 'forConstruction', b.forConstruction, false));
  },
  vLineTo: (w, a, k) => {
    const b = bindArgs('vLineTo', ['yCoord', 'forConstruction='], a, k);
    const p = w.plane.toLocal(w.currentPoint('vLineTo'));
    return lineToImpl(w, 'vLineTo', p.x, num('vLineTo', 'yCoord', b.yCoord), expectBool('vLineTo', 'forConstruction', b.forConstruction, false));
  },
  polarLine: (w, a, k) => {
    const b = bindArgs('polarLine', ['distance', 'angle', 'forConstruction='], a, k);
    const d = num('polarLine', 'distance', b.distance);
    const t = (num('polarLine', 'angle', b.angle) * Math.PI) / 180;
    const p = w.plane.toLocal(w.currentPoint('polarLine'));
    return lineToImpl(w, 'polarLine', p.x + d * Math.cos(t), p.y + d * Math.sin(t), expectBool('polarLine', 'forConstruction', b.forConstruction, false));
  },
  polarLineTo: (w, a, k) => {
    const b = bindArgs('polarLineTo', ['distance', 'angle', 'forConstruction='], a, k);
    const d = num('polarLineTo', 'distance', b.distance);
    const t = (num('polarLineTo', 'angle', b.angle) * Math.PI) / 180;
    return lineToImpl(w, 'polarLineTo', d * Math.cos(t), d * Math.sin(t), expectBool('polarLineTo', 'forConstruction', b.forConstruction, false));
  },
  threePointArc: (w, a, k) => {
    const b = bindArgs('threePointArc', ['point1', 'point2', 'forConstruction='], a, k);
    const p1 = toVec3('threePointArc', 'point1', b.point1);
    const p2 = toVec3('threePointArc', 'point2', b.point2);
    return arcImpl(
      w,
      'threePointArc',
      w.plane.toWorldVec(p1),
      w.plane.toWorldVec(p2),
      expectBool('threePointArc', 'forConstruction', b.forConstruction, false),
    );
  },
  ellipseArc: (w, a, k) => {
    // cq.py ellipseArc: an elliptical arc (Edge.makeEllipse) about the current point, turned by
    // rotation_angle about the plane's normal there; with startAtCurrent (the default) moved so it
    // starts at the current point. A pending edge, or with makeWire a pending wire.
    const m = 'ellipseArc';
    const b = bindArgs(
      m,
      ['x_radius', 'y_radius', 'angle1=', 'angle2=', 'rotation_angle=', 'sense=', 'forConstruction=', 'startAtCurrent=', 'makeWire='],
      a,
      k,
    );
    const sense = num(m, 'sense', b.sense, 1);
    if (sense !== 1 && sense !== -1) throw new CadError('runtime', `${m}(): sense must be 1 or -1, not ${sense}`);
    const center = w.currentPoint(m);
    let e = ellipseArcEdge(
      m,
      num(m, 'x_radius', b.x_radius),
      num(m, 'y_radius', b.y_radius),
      center,
      w.plane.zDir,
      w.plane.xDir,
      num(m, 'angle1', b.angle1, 360),
      num(m, 'angle2', b.angle2, 360),
      sense,
    );
    const rotation = num(m, 'rotation_angle', b.rotation_angle, 0);
    if (rotation !== 0) e = rotateShape(e, center, center.add(w.plane.zDir), rotation);
    if (expectBool(m, 'startAtCurrent', b.startAtCurrent, true)) e = translateShape(e, center.sub(edgeEndpoints(e)[0]));
    const construction = expectBool(m, 'forConstruction', b.forConstruction, false);
    if (expectBool(m, 'makeWire', b.makeWire, false)) {
      const wire = wireFromEdges(m, [e]);
      if (!construction) w.ctx.pendingWires.push(wire);
      return w.newObject([wire]);
    }
    if (!construction) w.addPendingEdge(e, edgeEndpoints(e)[0]);
    return w.newObject([e]);
  },
  sagittaArc: (w, a, k) => {
    const b = bindArgs('sagittaArc', ['endPoint', 'sag', 'forConstruction='], a, k);
    return sagittaArc(
      w,
      'sagittaArc',
      toVec3('sagittaArc', 'endPoint', b.endPoint),
      num('sagittaArc', 'sag', b.sag),
      expectBool('sagittaArc', 'forConstruction', b.forConstruction, false),
    );
  },
  radiusArc: (w, a, k) => {
    const b = bindArgs('radiusArc', ['endPoint', 'radius', 'forConstruction='], a, k);
    const end = toVec3('radiusArc', 'endPoint', b.endPoint);
    const r = num('radiusArc', 'radius', b.radius);
    const start = w.plane.toLocal(w.currentPoint('radiusArc'));
    const half = end.sub(start).length / 2;
    if (Math.abs(r) < half) throw geometryError('radiusArc', 'the arc radius is too small to reach the end point');
    const sag = Math.abs(r) - Math.sqrt(r * r - half * half);
    return sagittaArc(w, 'radiusArc', end, r > 0 ? sag : -sag, expectBool('radiusArc', 'forConstruction', b.forConstruction, false));
  },
  tangentArcPoint: (w, a, k) => {
    const method = 'tangentArcPoint';
    const b = bindArgs(method, ['endpoint', 'forConstruction=', 'relative='], a, k);
    let end = toVec3(method, 'endpoint', b.endpoint);
    const last = w.objects[w.objects.length - 1];
    if (!(last instanceof Edge)) throw geometryError(method, 'needs a previous edge to be tangent to');
    const [, startW] = edgeEndpoints(last);
    if (expectBool(method, 'relative', b.relative, true)) end = end.add(w.plane.toLocal(startW));
    const endW = w.plane.toWorldVec(end);
    const t = last.tangentAt(1);
    const tangent = new Vec3(t.x, t.y, t.z);
    t.delete();
    // Circle tangent to `tangent` at start through end: centre on the normal line.
    const chord = endW.sub(startW);
    const n = w.plane.zDir.cross(tangent).normalized();
    const denom = 2 * chord.dot(n);
    if (Math.abs(denom) < LENGTH_EPS) throw geometryError(method, 'the end point lies on the tangent line');
    const radiusSigned = chord.dot(chord) / denom;
    const center = startW.add(n.scale(radiusSigned));
    const u = startW.sub(center).normalized();
    const v = w.plane.zDir.scale(Math.sign(radiusSigned)).cross(u);
    const endDir = endW.sub(center);
    let ang = Math.atan2(endDir.dot(v), endDir.dot(u));
    if (ang <= 0) ang += 2 * Math.PI;
    const mid = center.add(u.scale(Math.abs(radiusSigned) * Math.cos(ang / 2))).add(v.scale(Math.abs(radiusSigned) * Math.sin(ang / 2)));
    return arcImpl(w, method, mid, endW, expectBool(method, 'forConstruction', b.forConstruction, false));
  },
  polyline: (w, a, k) => {
    const method = 'polyline';
    const b = bindArgs(method, ['listOfXYTuple', 'forConstruction=', 'includeCurrent='], a, k);
    const pts = points2D(method, 'listOfXYTuple', b.listOfXYTuple).map((p) => w.plane.toWorldVec(p));
    const fc = expectBool(method, 'forConstruction', b.forConstruction, false);
    let start: Vec3;
    let rest: Vec3[];
    if (expectBool(method, 'includeCurrent', b.includeCurrent, false)) {
      start = w.currentPoint(method);
      rest = pts;
    } else {
      if (pts.length === 0) throw geometryError(method, 'needs at least one point');
      start = pts[0];
      rest = pts.slice(1);
    }
    const edges: Edge[] = [];
    for (const p of rest) {
      const e = lineEdge(method, start, p);
      if (!fc) w.addPendingEdge(e, start);
      edges.push(e);
      start = p;
    }
    return w.newObject(edges);
  },
  close: (w) => closeImpl(w),
  wire: (w, a, k) => wireImpl(w, expectBool('wire', 'forConstruction', bindArgs('wire', ['forConstruction='], a, k).forConstruction, false)),
  rect: (w, a, k) => {
    const method = 'rect';
    const b = bindArgs(method, ['xLen', 'yLen', 'centered=', 'forConstruction='], a, k);
    const xl = num(method, 'xLen', b.xLen);
    const yl = num(method, 'yLen', b.yLen);
    // A zero width (or height) makes CadQuery's polygon a segment there and back: its two vertices are still useful for construction.
    if (Math.abs(xl) < LENGTH_EPS && Math.abs(yl) < LENGTH_EPS) throw geometryError(method, 'width and height must not both be zero');
    const [cx, cy] = centeredFlags(method, b.centered, 2);
    const ox = cx ? 0 : xl / 2;
    const oy = cy ? 0 : yl / 2;
    const pts: [number, number][] = [
      [-xl / 2 + ox, -yl / 2 + oy],
      [xl / 2 + ox, -yl / 2 + oy],
      [xl / 2 + ox, yl / 2 + oy],
      [-xl / 2 + ox, yl / 2 + oy],
    ];
    const degenerate = Math.abs(xl) < LENGTH_EPS || Math.abs(yl) < LENGTH_EPS;
    return eachWire(
      w,
      method,
      (f) =>
        degenerate
          ? polylineWire(
              method,
              pts.map(([x, y]) => f.toWorld(x, y)),
              true,
            )
          : polygonAt(method, f, pts),
      expectBool(method, 'forConstruction', b.forConstruction, false),
    );
  },
  circle: (w, a, k) => {
    const b = bindArgs('circle', ['radius', 'forConstruction='], a, k);
    const r = num('circle', 'radius', b.radius);
    return eachWire(w, 'circle', (f) => circleWire('circle', f.origin, f.zDir, f.xDir, r), expectBool('circle', 'forConstruction', b.forConstruction, false));
  },
  ellipse: (w, a, k) => {
    const method = 'ellipse';
    const b = bindArgs(method, ['x_radius', 'y_radius', 'rotation_angle=', 'forConstruction='], a, k);
    const rx = num(method, 'x_radius', b.x_radius);
    const ry = num(method, 'y_radius', b.y_radius);
    const angle = num(method, 'rotation_angle', b.rotation_angle, 0);
    return eachWire(w, method, (f) => ellipseWire(method, f.rotatedAboutZ(angle), rx, ry), expectBool(method, 'forConstruction', b.forConstruction, false));
  },
  polygon: (w, a, k) => {
    const method = 'polygon';
    const b = bindArgs(method, ['nSides', 'diameter', 'forConstruction=', 'circumscribed='], a, k);
    const n = num(method, 'nSides', b.nSides);
    if (!Number.isInteger(n) || n < 3) throw geometryError(method, `nSides must be an integer >= 3 (got ${n})`);
    let d = num(method, 'diameter', b.diameter);
    if (!(d > LENGTH_EPS)) throw geometryError(method, `diameter must be positive (got ${d})`);
    const angle = (2 * Math.PI) / n;
    // Circumscribed: about the circle, turned by half a side so an edge's midpoint lies on +x.
    const circumscribed = expectBool(method, 'circumscribed', b.circumscribed, false);
    if (circumscribed) d /= Math.cos(angle / 2);
    const start = circumscribed ? angle / 2 : 0;
    const pts: [number, number][] = [];
    for (let i = 0; i < n; i++) pts.push([(d / 2) * Math.cos(start + angle * i), (d / 2) * Math.sin(start + angle * i)]);
    return eachWire(w, method, (f) => polygonAt(method, f, pts), expectBool(method, 'forConstruction', b.forConstruction, false));
  },
  slot2D: (w, a, k) => {
    const method = 'slot2D';
    const b = bindArgs(method, ['length', 'diameter', 'angle='], a, k);
    const length = num(method, 'length', b.length);
    const diameter = num(method, 'diameter', b.diameter);
    if (!(diameter > LENGTH_EPS) || !(length > diameter)) throw geometryError(method, 'needs diameter > 0 and length > diameter');
    const ang = num(method, 'angle', b.angle, 0);
    const r = diameter / 2;
    return eachWire(
      w,
      method,
      (f0) => {
        const f = f0.rotatedAboutZ(ang);
        const p = (x: number, y: number) => f.toWorld(x, y);
        const half = length / 2 - r;
        const e1 = lineEdge(method, p(-half, r), p(half, r));
        const a1 = threePointArcEdge(method, p(half, r), p(half + r, 0), p(half, -r));
        const e2 = lineEdge(method, p(half, -r), p(-half, -r));
        const a2 = threePointArcEdge(method, p(-half, -r), p(-half - r, 0), p(-half, r));
        return wireFromEdges(method, [e1, a1, e2, a2]);
      },
      false,
    );
  },
  pushPoints: (w, a, k) => {
    const b = bindArgs('pushPoints', ['pntList'], a, k);
    const items = sequenceItems(b.pntList);
    if (!items) throw new CadError('runtime', "pushPoints(): 'pntList' must be a list of points");
    return w.newObject(items.map((p) => (p instanceof LocationObj ? p : w.plane.toWorldVec(toVec3('pushPoints', 'pntList', p)))));
  },
  rarray: (w, a, k) => {
    const method = 'rarray';
    const b = bindArgs(method, ['xSpacing', 'ySpacing', 'xCount', 'yCount', 'center='], a, k);
    const xs = num(method, 'xSpacing', b.xSpacing);
    const ys = num(method, 'ySpacing', b.ySpacing);
    const xc = num(method, 'xCount', b.xCount);
    const yc = num(method, 'yCount', b.yCount);
    if (xc < 1 || yc < 1 || !Number.isInteger(xc) || !Number.isInteger(yc)) throw geometryError(method, 'counts must be integers >= 1');
    if (xc * yc > 10000) throw new CadError('limit', `${method}(): too many points (${xc * yc})`);
    const [cx, cy] = centeredFlags(method, b.center, 2);
    const ox = cx ? (-xs * (xc - 1)) / 2 : 0;
    const oy = cy ? (-ys * (yc - 1)) / 2 : 0;
    const pts: StackItem[] = [];
    for (let i = 0; i < xc; i++) for (let j = 0; j < yc; j++) pts.push(w.plane.toWorld(xs * i + ox, ys * j + oy));
    return w.newObject(pts);
  },
  polarArray: (w, a, k) => {
    const method = 'polarArray';
    const b = bindArgs(method, ['radius', 'startAngle', 'angle', 'count', 'fill=', 'rotate='], a, k);
    const r = num(method, 'radius', b.radius);
    const start = num(method, 'startAngle', b.startAngle);
    let angle = num(method, 'angle', b.angle);
    const count = num(method, 'count', b.count);
    if (!(count >= 1) || !Number.isInteger(count)) throw geometryError(method, 'count must be an integer >= 1');
    const rotate = expectBool(method, 'rotate', b.rotate, true);
    if (expectBool(method, 'fill', b.fill, true)) {
      if (angle % 360 === 0) angle = angle / count;
      else if (count > 1) angle = angle / (count - 1);
    }
    const locs: StackItem[] = [];
    for (let i = 0; i < count; i++) {
      const phi = start + angle * i;
      const rad = (phi * Math.PI) / 180;
      // CadQuery's polarArray measures angles from the local x axis (cos for x, sin for y) and
      // pushes Locations in the plane's coordinates (eachpoint puts them on the plane).
      const f = IDENTITY.withOrigin(new Vec3(r * Math.cos(rad), r * Math.sin(rad), 0));
      locs.push(new LocationObj(rotate ? f.rotatedAboutZ(phi) : f));
    }
    return w.newObject(locs);
  },
  center: (w, a, k) => {
    const b = bindArgs('center', ['x', 'y'], a, k);
    const o = w.plane.toWorld(num('center', 'x', b.x), num('center', 'y', b.y));
    const n = w.newObject([o]);
    n.plane = w.plane.withOrigin(o);
    return n;
  },
  workplane: (w, a, k) => {
    const b = bindArgs('workplane', ['offset=', 'invert=', 'centerOption=', 'origin='], a, k);
    const origin = b.origin === undefined || b.origin === null ? undefined : toVec3('workplane', 'origin', b.origin);
    return w.workplaneAt(
      num('workplane', 'offset', b.offset, 0),
      expectBool('workplane', 'invert', b.invert, false),
      b.centerOption === undefined ? 'ProjectedOrigin' : expectString('workplane', 'centerOption', b.centerOption),
      origin,
    );
  },
  transformed: (w, a, k) => {
    const b = bindArgs('transformed', ['rotate=', 'offset='], a, k);
    const r = b.rotate === undefined ? Vec3.ZERO : toVec3('transformed', 'rotate', b.rotate);
    const o = b.offset === undefined ? Vec3.ZERO : toVec3('transformed', 'offset', b.offset);
    const p = w.plane.rotated(r.x, r.y, r.z).withOrigin(w.plane.toWorldVec(o));
    const n = w.newObject([p.origin]);
    n.plane = p;
    return n;
  },
  mirrorY: (w) => mirrorInPlane(w, 'Y'),
  mirrorX: (w) => mirrorInPlane(w, 'X'),

  spline: (w, a, k) => {
    const method = 'spline';
    const b = bindArgs(
      method,
      ['listOfXYTuple', 'tangents=', 'periodic=', 'parameters=', 'scale=', 'tol=', 'forConstruction=', 'includeCurrent=', 'makeWire='],
      a,
      k,
    );
    let pts = points2D(method, 'listOfXYTuple', b.listOfXYTuple).map((p) => w.plane.toWorldVec(p));
    if (expectBool(method, 'includeCurrent', b.includeCurrent, false)) pts = [w.currentPoint(method), ...pts];
    const tangentItems = b.tangents === undefined || b.tangents === null ? undefined : sequenceItems(b.tangents);
    // Tangents are directions in the plane: toWorldCoords(t) - origin.
    const tangents = tangentItems?.map((t) => (t === null ? null : w.plane.dirToWorld(toVec3(method, 'tangents', t))));
    const ends = tangents && tangents.length === 2 && pts.length !== 2;
    const params =
      b.parameters === undefined || b.parameters === null ? undefined : (sequenceItems(b.parameters) ?? []).map((v) => num(method, 'parameters', v));
    const edge = splineEdge(method, pts, {
      endTangents: ends ? [tangents[0] ?? Vec3.ZERO, tangents[1] ?? Vec3.ZERO] : undefined,
      tangents: ends || !tangents?.length ? undefined : tangents,
      params,
      periodic: expectBool(method, 'periodic', b.periodic, false),
      scale: expectBool(method, 'scale', b.scale, true),
      tol: b.tol === undefined || b.tol === null || b.tol === 0 ? undefined : num(method, 'tol', b.tol),
    });
    const fc = expectBool(method, 'forConstruction', b.forConstruction, false);
    if (expectBool(method, 'makeWire', b.makeWire, false)) {
      const wire = wireFromEdges(method, [edge]);
      if (!fc) w.ctx.pendingWires.push(wire);
      return w.newObject([wire]);
    }
    if (!fc) w.addPendingEdge(edge, pts[0]);
    return w.newObject([edge]);
  },
  parametricCurve: (w, a, k) => {
    const method = 'parametricCurve';
    const b = bindArgs(method, ['func', 'N=', 'start=', 'stop=', 'tol=', 'minDeg=', 'maxDeg=', 'smoothing=', 'makeWire='], a, k);
    const f = b.func!;
    if (!isCallable(f)) throw new CadError('runtime', `${method}(): func must be callable`);
    const n = num(method, 'N', b.N, 400);
    if (!Number.isInteger(n) || n < 1) throw geometryError(method, 'N must be a positive integer');
    const start = num(method, 'start', b.start, 0);
    const stop = num(method, 'stop', b.stop, 1);
    const pts: Vec3[] = [];
    for (let t = 0; t <= n; t++) pts.push(w.plane.toWorldVec(toVec3(method, 'func', f.call([start + ((stop - start) * t) / n], {}))));
    let smoothing: [number, number, number] | undefined = [1, 1, 1];
    if (b.smoothing === null) smoothing = undefined;
    else if (b.smoothing !== undefined) {
      const items = sequenceItems(b.smoothing);
      if (items?.length !== 3) throw new CadError('runtime', `${method}(): smoothing must be 3 weights or None`);
      smoothing = items.map((v) => num(method, 'smoothing', v)) as [number, number, number];
    }
    const edge = approxSplineEdge(method, pts, {
      tol: num(method, 'tol', b.tol, 1e-6),
      smoothing,
      minDeg: num(method, 'minDeg', b.minDeg, 1),
      maxDeg: num(method, 'maxDeg', b.maxDeg, 6),
    });
    if (expectBool(method, 'makeWire', b.makeWire, true)) {
      const wire = wireFromEdges(method, [edge]);
      w.ctx.pendingWires.push(wire);
      return w.newObject([wire]);
    }
    w.addPendingEdge(edge, pts[0]);
    return w.newObject([edge]);
  },
  twistExtrude: (w, a, k) => {
    const method = 'twistExtrude';
    const b = bindArgs(method, ['distance', 'angleDegrees', 'combine=', 'clean='], a, k);
    const distance = num(method, 'distance', b.distance);
    const angle = num(method, 'angleDegrees', b.angleDegrees);
    if (Math.abs(distance) < LENGTH_EPS) throw geometryError(method, 'distance must not be zero');
    if (Math.abs(angle) < 1e-9) throw geometryError(method, 'angleDegrees must not be zero (use extrude)');
    const dir = w.plane.zDir.scale(distance);
    const center = w.plane.origin;
    // Solid.extrudeLinearWithRotation: each wire swept along the axis, its binormal following a helix of radius 1.
    const spine = wireFromEdges(method, [lineEdge(method, center, center.add(dir))]);
    const aux = helixWire(method, (360 / angle) * dir.length, dir.length, 1, center, dir, false);
    const sweep = (wire: Wire) =>
      occ(method, (oc, keep) => {
        const builder = keep(new oc.BRepOffsetAPI_MakePipeShell(spine.wrapped));
        builder.SetMode(aux.wrapped, false, oc.BRepFill_TypeOfContact.BRepFill_NoContact);
        builder.Add(wire.wrapped, false, false);
        builder.Build(keep(new oc.Message_ProgressRange()));
        if (!builder.IsDone()) throw geometryError(method, 'could not twist the profile along the axis');
        builder.MakeSolid();
        return castShape(builder.Shape());
      });
    const shapes = w.getFaces(method).map((f) => {
      const outer = outerWireOf(f);
      const inner = subShapes(f, 'wire').filter((x) => !x.isSame(outer)) as Wire[];
      const solid = sweep(outer);
      return inner.length ? booleanOp(method, 'cut', solid, inner.map(sweep)) : as3D(method, solid);
    });
    const r = shapes.length === 1 ? shapes[0] : fuseAll(method, shapes);
    return w.combineWithBase(method, r, b.combine, expectBool(method, 'clean', b.clean, true));
  },
  offset2D: (w, a, k) => {
    const method = 'offset2D';
    const b = bindArgs(method, ['d', 'kind=', 'forConstruction='], a, k);
    const d = num(method, 'd', b.d);
    const kind = b.kind === undefined ? 'arc' : expectString(method, 'kind', b.kind);
    // cq.py's _consolidateWires: the pending wires, and the pending edges joined into wires.
    const wires = [...w.ctx.pendingWires];
    if (w.ctx.pendingEdges.length) wires.push(wireOfEdges(method, w.ctx.pendingEdges));
    const rv = wires.flatMap((wire) => {
      const r = offsetWires(method, [wire], d, kind);
      return r instanceof Compound ? childrenOf(r) : [r];
    }) as Wire[];
    w.ctx.pendingEdges = [];
    w.ctx.pendingWires = expectBool(method, 'forConstruction', b.forConstruction, false) ? [] : rv;
    return w.newObject(rv);
  },

  // ---- 3D ----
  extrude: (w, a, k) => {
    const method = 'extrude';
    const b = bindArgs(method, ['until', 'combine=', 'clean=', 'both=', 'taper='], a, k);
    const taper = b.taper === undefined || b.taper === null ? 0 : num(method, 'taper', b.taper, 0);
    const clean = expectBool(method, 'clean', b.clean, true);
    const both = expectBool(method, 'both', b.both, false);
    const until = untilArg(method, b.until);
    if (taper !== 0 && typeof until === 'number') return w.combineWithBase(method, w.taperedFaces(method, until, both, taper), b.combine, clean);
    if (typeof until !== 'number') {
      const mode = b.combine ?? true;
      if (mode === 'cut' || mode === 's') return cutUntil(w, method, until, both, clean, taper);
      if (mode === false || mode === null) throw new CadError('runtime', `${method}(): combine can't be False when extruding until a face`);
      if (mode !== true && mode !== 'a') throw new CadError('runtime', `${method}(): combine must be True, False, 'a', 's' or 'cut'`);
      // cq.py fuses the feature (which holds the context solid already) with the context solid again.
      return w.combineWithBase(method, extrudeUntil(w, method, until, both, true, taper), mode, clean);
    }
    const r = w.extrudeFaces(method, until, both, clean);
    return w.combineWithBase(method, r, b.combine, clean);
  },
  cutBlind: (w, a, k) => {
    const method = 'cutBlind';
    const b = bindArgs(method, ['until', 'clean=', 'both=', 'taper='], a, k);
    const until = untilArg(method, b.until);
    const clean = expectBool(method, 'clean', b.clean, true);
    const both = expectBool(method, 'both', b.both, false);
    const taper = b.taper === undefined || b.taper === null ? 0 : num(method, 'taper', b.taper, 0);
    if (typeof until !== 'number') return cutUntil(w, method, until, both, clean, taper);
    const r = taper !== 0 ? w.taperedFaces(method, until, both, taper) : w.extrudeFaces(method, until, both, clean);
    const base = w.requireSolid(method);
    return w.newObject([markClean(booleanOp(method, 'cut', base, [r]), clean)]);
  },
  cutThruAll: (w, a, k) => {
    const method = 'cutThruAll';
    const b = bindArgs(method, ['clean=', 'taper='], a, k);
    const taper = b.taper === undefined || b.taper === null ? 0 : num(method, 'taper', b.taper, 0);
    // cq.py: a BRepFeat_MakeDPrism through all of the context solid per profile face, drafted by −taper.
    let s: Shape3D = w.requireSolid(method);
    // (cq.py checks no holes here: cutThruAll drafts faces with holes too.)
    const faces = w.getFaces(method);
    for (const f of faces) {
      s = occ(method, (oc, keep) => {
        const feat = keep(new oc.BRepFeat_MakeDPrism(s.wrapped, f.wrapped, keep(new oc.TopoDS_Face()), (-taper * Math.PI) / 180, 0, false));
        feat.PerformThruAll();
        if (!feat.IsDone()) throw geometryError(method, 'could not cut through the solid');
        return as3D(method, castShape(feat.Shape()));
      });
    }
    return w.newObject([markClean(s, expectBool(method, 'clean', b.clean, true))]);
  },
  revolve: (w, a, k) => {
    const method = 'revolve';
    const b = bindArgs(method, ['angleDegrees=', 'axisStart=', 'axisEnd=', 'combine=', 'clean='], a, k);
    let angle = num(method, 'angleDegrees', b.angleDegrees, 360) % 360;
    if (angle === 0) angle = 360;
    const startLocal = b.axisStart === undefined || b.axisStart === null ? Vec3.ZERO : toVec3(method, 'axisStart', b.axisStart);
    let endLocal: Vec3;
    if (b.axisEnd === undefined || b.axisEnd === null) endLocal = startLocal.y !== 0 ? new Vec3(0, startLocal.y, 0) : new Vec3(0, 1, 0);
    else endLocal = toVec3(method, 'axisEnd', b.axisEnd);
    const s = w.plane.toWorldVec(startLocal);
    const e = w.plane.toWorldVec(endLocal);
    const faces = w.getFaces(method);
    const solids = faces.map((f) => revolveFace(method, f, s, e.sub(s), angle));
    const r = solids.length === 1 ? solids[0] : fuseAll(method, solids);
    return w.combineWithBase(method, r, b.combine, expectBool(method, 'clean', b.clean, true));
  },
  box: (w, a, k) => {
    const method = 'box';
    const b = bindArgs(method, ['length', 'width', 'height', 'centered=', 'combine=', 'clean='], a, k);
    const l = num(method, 'length', b.length);
    const wd = num(method, 'width', b.width);
    const h = num(method, 'height', b.height);
    const [cx, cy, cz] = centeredFlags(method, b.centered, 3);
    return w.placePrimitives(
      method,
      (f) => boxSolid(method, f.toWorld(cx ? -l / 2 : 0, cy ? -wd / 2 : 0, cz ? -h / 2 : 0), f, l, wd, h),
      expectBool(method, 'combine', b.combine, true),
      expectBool(method, 'clean', b.clean, true),
    );
  },
  cylinder: (w, a, k) => {
    const method = 'cylinder';
    const b = bindArgs(method, ['height', 'radius', 'direct=', 'angle=', 'centered=', 'combine=', 'clean='], a, k);
    const h = num(method, 'height', b.height);
    const r = num(method, 'radius', b.radius);
    const direct = b.direct === undefined ? new Vec3(0, 0, 1) : toVec3(method, 'direct', b.direct);
    const angle = num(method, 'angle', b.angle, 360);
    const [cx, cy, cz] = centeredFlags(method, b.centered, 3);
    return w.placePrimitives(
      method,
      (f) => {
        // cq.py: the cylinder along Z, offset for `centered`, then moved by Plane(normal=direct):
        // the offset turns with it (the X of gp_Ax3 for that normal), so it stays centred along `direct`.
        const dz = direct.normalized();
        const dx = defaultXDir(dz).normalized();
        const dy = dz.cross(dx);
        const offset = dx
          .scale(cx ? 0 : r)
          .add(dy.scale(cy ? 0 : r))
          .add(dz.scale(cz ? -h / 2 : 0));
        return cylinderSolid(method, f.toWorldVec(offset), f.dirToWorld(dz).normalized(), f.dirToWorld(dx), r, h, angle);
      },
      expectBool(method, 'combine', b.combine, true),
      expectBool(method, 'clean', b.clean, true),
    );
  },
  sphere: (w, a, k) => {
    const method = 'sphere';
    const b = bindArgs(method, ['radius', 'direct=', 'angle1=', 'angle2=', 'angle3=', 'centered=', 'combine=', 'clean='], a, k);
    const r = num(method, 'radius', b.radius);
    const direct = b.direct === undefined ? new Vec3(0, 0, 1) : toVec3(method, 'direct', b.direct);
    const [cx, cy, cz] = centeredFlags(method, b.centered, 3);
    return w.placePrimitives(
      method,
      (f) =>
        sphereSolid(
          method,
          f.toWorld(cx ? 0 : r, cy ? 0 : r, cz ? 0 : r),
          f.dirToWorld(direct),
          f.xDir,
          r,
          num(method, 'angle1', b.angle1, -90),
          num(method, 'angle2', b.angle2, 90),
          num(method, 'angle3', b.angle3, 360),
        ),
      expectBool(method, 'combine', b.combine, true),
      expectBool(method, 'clean', b.clean, true),
    );
  },
  hole: (w, a, k) => {
    const method = 'hole';
    const b = bindArgs(method, ['diameter', 'depth=', 'clean='], a, k);
    const d = num(method, 'diameter', b.diameter);
    const depth = b.depth === undefined || b.depth === null ? undefined : num(method, 'depth', b.depth);
    return w.cutEach(
      method,
      // cq.py: the cylinder made along local -Z (gp_Ax2's own X: local -X), then moved to each point.
      (f, dp) => [cylinderSolid(method, f.origin, f.zDir.scale(-1), f.xDir.scale(-1), d / 2, dp)],
      depth,
      expectBool(method, 'clean', b.clean, true),
    );
  },
  cboreHole: (w, a, k) => {
    const method = 'cboreHole';
    const b = bindArgs(method, ['diameter', 'cboreDiameter', 'cboreDepth', 'depth=', 'clean='], a, k);
    const d = num(method, 'diameter', b.diameter);
    const cd = num(method, 'cboreDiameter', b.cboreDiameter);
    const cdepth = num(method, 'cboreDepth', b.cboreDepth);
    const depth = b.depth === undefined || b.depth === null ? undefined : num(method, 'depth', b.depth);
    return w.cutEach(
      method,
      // cq.py: hole.fuse(cbore) made once along local -Z (gp_Ax2's own X: local -X), then moved to each point.
      (f, dp) => [
        booleanOp(method, 'fuse', cylinderSolid(method, f.origin, f.zDir.scale(-1), f.xDir.scale(-1), d / 2, dp), [
          cylinderSolid(method, f.origin, f.zDir.scale(-1), f.xDir.scale(-1), cd / 2, cdepth),
        ]),
      ],
      depth,
      expectBool(method, 'clean', b.clean, true),
    );
  },
  cskHole: (w, a, k) => {
    const method = 'cskHole';
    const b = bindArgs(method, ['diameter', 'cskDiameter', 'cskAngle', 'depth=', 'clean='], a, k);
    const d = num(method, 'diameter', b.diameter);
    const cd = num(method, 'cskDiameter', b.cskDiameter);
    const angle = num(method, 'cskAngle', b.cskAngle);
    if (!(angle > 0 && angle < 180)) throw geometryError(method, 'cskAngle must be between 0 and 180 degrees');
    const depth = b.depth === undefined || b.depth === null ? undefined : num(method, 'depth', b.depth);
    const r = cd / 2;
    const h = r / Math.tan(((angle / 2) * Math.PI) / 180);
    return w.cutEach(
      method,
      // cq.py: hole.fuse(csk) made once along local -Z (gp_Ax2's own X: local -X), then moved to each point.
      (f, dp) => [
        booleanOp(method, 'fuse', cylinderSolid(method, f.origin, f.zDir.scale(-1), f.xDir.scale(-1), d / 2, dp), [
          coneSolid(method, f.origin, f.zDir.scale(-1), r, 0, h, f.xDir.scale(-1)),
        ]),
      ],
      depth,
      expectBool(method, 'clean', b.clean, true),
    );
  },
  loft: (w, a, k) => {
    const method = 'loft';
    const b = bindArgs(method, ['ruled=', 'combine=', 'clean='], a, k);
    let sections: (Wire | Vertex)[];
    if (w.ctx.pendingWires.length) sections = w.ctx.popPendingWires(method);
    else {
      sections = [];
      for (const o of w.objects) {
        const items = o instanceof SketchObj ? o.locatedFaces() : o instanceof Compound ? childrenOf(o) : isShape(o) ? [o] : [];
        for (const i of items) {
          if (i instanceof Vertex) sections.push(i);
          else if (i instanceof Face) sections.push(outerWireOf(i));
        }
      }
    }
    if (sections.length === 0) throw geometryError(method, 'nothing to loft');
    if (sections.length === 1) throw geometryError(method, 'more than one wire or face is required');
    const r = as3D(method, loftWires(method, sections, true, expectBool(method, 'ruled', b.ruled, false)));
    return w.combineWithBase(method, r, b.combine, expectBool(method, 'clean', b.clean, true));
  },
  sweep: (w, a, k) => {
    const method = 'sweep';
    const b = bindArgs(
      method,
      ['path', 'multisection=', 'sweepAlongWires=', 'makeSolid=', 'isFrenet=', 'combine=', 'clean=', 'transition=', 'normal=', 'auxSpine='],
      a,
      k,
    );
    if (b.normal !== undefined && b.normal !== null) throw new CadError('unsupported', `${method}(): a fixed normal (normal=) is not supported yet`);
    let path: Value | undefined = b.path;
    if (path instanceof Workplane) path = METHODS.wire(path, [], {}) as Workplane;
    const p = path instanceof Workplane ? path.objects[0] : path instanceof ShapeObj ? path.shape : undefined;
    if (!(p instanceof Wire || p instanceof Edge)) throw geometryError(method, 'the path must be a Wire or an Edge');
    const spine = p instanceof Wire ? p : wireFromEdges(method, [p]);
    let auxSpine: Wire | undefined;
    if (b.auxSpine !== undefined && b.auxSpine !== null) {
      const aux = b.auxSpine instanceof Workplane ? b.auxSpine.objects[0] : undefined;
      if (!(aux instanceof Wire || aux instanceof Edge)) throw geometryError(method, 'auxSpine must hold a Wire or an Edge');
      auxSpine = aux instanceof Wire ? aux : wireFromEdges(method, [aux]);
    }
    const transition = b.transition === undefined ? 'right' : expectString(method, 'transition', b.transition);
    if (!['right', 'round', 'transformed'].includes(transition))
      throw new CadError('runtime', `${method}(): transition must be 'right', 'round' or 'transformed'`);
    const o = {
      makeSolid: expectBool(method, 'makeSolid', b.makeSolid, true),
      isFrenet: expectBool(method, 'isFrenet', b.isFrenet, false),
      transition: transition as Transition,
      auxSpine,
    };
    const multi = expectBool(method, 'multisection', b.multisection ?? b.sweepAlongWires, false);
    let results: AnyShape[];
    if (!multi) results = w.getFaces(method).map((f) => sweepFace(method, f, spine, o));
    else {
      const sections = w.ctx.pendingWires.length ? w.ctx.popPendingWires(method) : w.getFaces(method).map(outerWireOf);
      results = [pipeShell(method, sections, spine, o)];
    }
    return w.combineWithBase(method, makeCompound(results) as Shape3D, b.combine, expectBool(method, 'clean', b.clean, true));
  },
  split: (w, a, k) => {
    const method = 'split';
    const solid = w.requireSolid(method);
    if (a.length === 1 && (a[0] instanceof Workplane || a[0] instanceof ShapeObj) && Object.keys(k).length === 0) {
      const arg = a[0];
      const tools = arg instanceof ShapeObj ? [arg.shape] : arg.objects.filter(isShape);
      w.mergeTags(arg);
      return w.newObject([booleanShapes(method, 'split', solid, tools)]);
    }
    const b = bindArgs(method, ['keepTop=', 'keepBottom='], a, k);
    const keepTop = expectBool(method, 'keepTop', b.keepTop, false);
    const keepBottom = expectBool(method, 'keepBottom', b.keepBottom, false);
    if (!keepTop && !keepBottom) throw new CadError('runtime', `${method}(): you have to keep at least one half`);
    // cq.py: boxes 10× the solid's diagonal on either side of the workplane, each cut away.
    const maxDim = boundsDiagonal(solid) * 10;
    const box = (sign: number) =>
      w.locations().map((f) => {
        const wire = polygonAt(method, f, [
          [-maxDim / 2, -maxDim / 2],
          [maxDim / 2, -maxDim / 2],
          [maxDim / 2, maxDim / 2],
          [-maxDim / 2, maxDim / 2],
        ]);
        return prism(method, facesFromWires(method, [wire], w.plane)[0], w.plane.zDir.scale(sign * maxDim));
      });
    const top = keepTop ? booleanOp(method, 'cut', solid, box(-1)) : undefined;
    const bottom = keepBottom ? booleanOp(method, 'cut', solid, box(1)) : undefined;
    return w.newObject([top, bottom].filter((x): x is Shape3D => x !== undefined));
  },
  union: (w, a, k) => {
    const b = bindArgs('union', ['toUnion=', 'clean=', 'glue=', 'tol='], a, k);
    return w.union('union', b.toUnion, expectBool('union', 'clean', b.clean, true), booleanOptions('union', b));
  },
  cut: (w, a, k) => {
    const b = bindArgs('cut', ['toCut', 'clean=', 'tol='], a, k);
    return w.boolean('cut', 'cut', b.toCut, expectBool('cut', 'clean', b.clean, true), booleanOptions('cut', b));
  },
  intersect: (w, a, k) => {
    const b = bindArgs('intersect', ['toIntersect', 'clean=', 'tol='], a, k);
    return w.boolean('intersect', 'intersect', b.toIntersect, expectBool('intersect', 'clean', b.clean, true), booleanOptions('intersect', b));
  },
  combine: (w, a, k) => {
    const b = bindArgs('combine', ['clean=', 'glue=', 'tol='], a, k);
    const shapes = w.objects.filter(isShape);
    if (shapes.length === 0) throw geometryError('combine', 'nothing on the stack to combine');
    const r =
      shapes.length > 1 ? markClean(fuseAll('combine', shapes, booleanOptions('combine', b)), expectBool('combine', 'clean', b.clean, true)) : shapes[0];
    return w.newObject([r]);
  },
  clean: (w) => w.newObject(w.objects.map((o) => (isShape(o) ? cleanShape(o) : o))),
  fillet: (w, a, k) => {
    const method = 'fillet';
    const b = bindArgs(method, ['radius'], a, k);
    const r = num(method, 'radius', b.radius);
    if (!(r > LENGTH_EPS)) throw geometryError(method, `radius must be positive (got ${r})`);
    const solid = w.requireSolid(method);
    const edges = edgesOnStack(w);
    if (edges.length === 0) throw geometryError(method, 'select the edges to fillet first (e.g. .edges("|Z"))');
    const result = occ(method, (oc, keep) => {
      const maker = keep(new oc.BRepFilletAPI_MakeFillet(solid.wrapped, oc.ChFi3d_FilletShape.ChFi3d_Rational));
      for (const e of edges) maker.Add(r, e.wrapped);
      maker.Build();
      if (!maker.IsDone()) throw geometryError(method, `could not fillet with radius ${r}: the radius is probably too large for the selected edges`);
      return as3D(method, castShape(maker.Shape()));
    });
    // cq.py: solid.fillet(radius, edgeList).clean() (chamfer is not cleaned).
    return w.newObject([markClean(checkSolidResult(method, result, `could not fillet with radius ${r}`), true)]);
  },
  chamfer: (w, a, k) => {
    const method = 'chamfer';
    const b = bindArgs(method, ['length', 'length2='], a, k);
    const l1 = num(method, 'length', b.length);
    const l2 = b.length2 === undefined || b.length2 === null ? l1 : num(method, 'length2', b.length2);
    if (!(l1 > LENGTH_EPS) || !(l2 > LENGTH_EPS)) throw geometryError(method, 'chamfer lengths must be positive');
    const solid = w.requireSolid(method);
    const edges = edgesOnStack(w);
    if (edges.length === 0) throw geometryError(method, 'select the edges to chamfer first (e.g. .edges("|Z"))');
    const faceEdges = (subShapes(solid, 'face') as Face[]).map((f) => [f, subShapes(f, 'edge')] as const);
    const result = occ(method, (oc, keep) => {
      const maker = keep(new oc.BRepFilletAPI_MakeChamfer(solid.wrapped));
      // cq.py's Solid.chamfer: always the two-distance form with the edge's first ancestor face, as
      // CadQuery calls it also when both lengths are equal.
      for (const e of edges) {
        const face = faceEdges.find(([, fe]) => fe.some((x) => x.isSame(e)))?.[0];
        if (!face) throw geometryError(method, 'a selected edge does not belong to the solid');
        maker.Add(l1, l2, e.wrapped, face.wrapped);
      }
      maker.Build();
      if (!maker.IsDone()) throw geometryError(method, `could not chamfer with length ${l1}: it is probably too large for the selected edges`);
      return as3D(method, castShape(maker.Shape()));
    });
    return w.newObject([checkSolidResult(method, result, `could not chamfer with length ${l1}`)]);
  },
  shell: (w, a, k) => {
    const method = 'shell';
    const b = bindArgs(method, ['thickness', 'kind='], a, k);
    const t = num(method, 'thickness', b.thickness);
    if (Math.abs(t) < LENGTH_EPS) throw geometryError(method, 'thickness must not be zero');
    const kind = b.kind === undefined ? 'arc' : expectString(method, 'kind', b.kind);
    if (kind !== 'arc' && kind !== 'intersection') throw new CadError('runtime', `${method}(): kind must be 'arc' or 'intersection'`);
    const solid = w.requireSolid(method);
    const faces = w.objects.filter((o): o is Face => o instanceof Face);
    const result = occ(method, (oc, keep) => {
      const list = keep(new oc.NCollection_List_TopoDS_Shape());
      for (const f of faces) list.Append(f.wrapped);
      const maker = keep(new oc.BRepOffsetAPI_MakeThickSolid());
      const join = kind === 'arc' ? oc.GeomAbs_JoinType.GeomAbs_Arc : oc.GeomAbs_JoinType.GeomAbs_Intersection;
      if (faces.length) {
        maker.MakeThickSolidByJoin(solid.wrapped, list, t, 1e-4, oc.BRepOffset_Mode.BRepOffset_Skin, true, false, join, false);
        maker.Build();
        if (!maker.IsDone()) throw geometryError(method, `could not shell with thickness ${t}`);
        const shelled = as3D(method, castShape(maker.Shape()));
        // OpenCascade's offset can report success and give the solid back as it was (measured:
        // an ellipse split with boxes on top, a loft with a pocket; CadQuery 2.8 then shows the
        // unshelled part, or fails, from run to run): refuse it rather than show a wrong part.
        const before = volumeOf(solid);
        if (Math.abs(volumeOf(shelled) - before) <= 1e-9 * Math.abs(before))
          throw geometryError(method, `could not shell with thickness ${t} (OpenCascade gave the solid back unchanged)`);
        return shelled;
      }
      // No faces selected: CadQuery makes a hollow solid (offset shell inside/outside).
      const offset = keep(new oc.BRepOffsetAPI_MakeOffsetShape());
      offset.PerformByJoin(solid.wrapped, t, 1e-4, oc.BRepOffset_Mode.BRepOffset_Skin, true, false, join, false);
      const inner = castShape(offset.Shape());
      return as3D(method, t < 0 ? booleanOp(method, 'cut', solid, [inner]) : booleanOp(method, 'cut', inner, [solid]));
    });
    return w.newObject([checkSolidResult(method, result, `could not shell with thickness ${t}`)]);
  },

  // ---- transforms ----
  translate: (w, a, k) => {
    // A transformed copy is a new shape: clean what awaits CadQuery's clean() first, or it never is.
    w.ensureClean();
    const v = toVec3('translate', 'vec', bindArgs('translate', ['vec'], a, k).vec);
    return w.newObject(w.objects.map((o) => (isShape(o) ? translateShape(o, v) : o)));
  },
  rotate: (w, a, k) => {
    w.ensureClean();
    const b = bindArgs('rotate', ['axisStartPoint', 'axisEndPoint', 'angleDegrees'], a, k);
    const s = toVec3('rotate', 'axisStartPoint', b.axisStartPoint);
    const e = toVec3('rotate', 'axisEndPoint', b.axisEndPoint);
    const deg = num('rotate', 'angleDegrees', b.angleDegrees);
    return w.newObject(w.objects.map((o) => (isShape(o) ? rotateShape(o, s, e, deg) : o)));
  },
  rotateAboutCenter: (w, a, k) => {
    w.ensureClean();
    const b = bindArgs('rotateAboutCenter', ['axisEndPoint', 'angleDegrees'], a, k);
    const e = toVec3('rotateAboutCenter', 'axisEndPoint', b.axisEndPoint);
    const deg = num('rotateAboutCenter', 'angleDegrees', b.angleDegrees);
    return w.newObject(
      w.objects.map((o) => {
        if (!isShape(o)) return o;
        const c = centerOf(o);
        return rotateShape(o, c, c.add(e), deg);
      }),
    );
  },
  mirror: (w, a, k) => {
    w.ensureClean();
    const method = 'mirror';
    const b = bindArgs(method, ['mirrorPlane=', 'basePointVector=', 'union='], a, k);
    let normal: Vec3;
    let base: Vec3 | undefined;
    const mp = b.mirrorPlane ?? 'XY';
    const face = mp instanceof Workplane ? mp.objects[0] : mp instanceof ShapeObj ? mp.shape : undefined;
    if (face !== undefined) {
      if (!(face instanceof Face)) throw geometryError(method, 'the mirror plane must be a face');
      normal = faceNormal(face);
      base = centerOf(face);
    } else normal = mirrorNormal(mp);
    if (b.basePointVector !== undefined && b.basePointVector !== null) base = toVec3(method, 'basePointVector', b.basePointVector);
    const mirrored = w.newObject(w.objects.filter(isShape).map((o) => mirrorShape(o, normal, base ?? Vec3.ZERO)));
    if (expectBool(method, 'union', b.union, false)) return w.union(method, mirrored, true);
    return mirrored;
  },

  // ---- selection and the stack ----
  faces: (w, a, k) => select(w, 'faces', 'face', a, k),
  edges: (w, a, k) => select(w, 'edges', 'edge', a, k),
  vertices: (w, a, k) => select(w, 'vertices', 'vertex', a, k),
  wires: (w, a, k) => select(w, 'wires', 'wire', a, k),
  solids: (w, a, k) => select(w, 'solids', 'solid', a, k),
  shells: (w, a, k) => select(w, 'shells', 'shell', a, k),
  compounds: (w, a, k) => select(w, 'compounds', 'compound', a, k),
  val: (w) => {
    w.ensureClean();
    return toPy(w.objects.length ? w.objects[0] : w.plane.origin);
  },
  vals: (w) => {
    w.ensureClean();
    return new PyList(w.objects.map(toPy));
  },
  first: (w) => w.newObject(w.objects.slice(0, 1)),
  last: (w) => w.newObject(w.objects.slice(-1)),
  item: (w, a, k) => {
    const i = num('item', 'i', bindArgs('item', ['i'], a, k).i);
    const idx = i < 0 ? w.objects.length + i : i;
    if (!Number.isInteger(idx) || idx < 0 || idx >= w.objects.length) throw new CadError('runtime', `item(): index ${i} out of range`);
    return w.newObject([w.objects[idx]]);
  },
  end: (w, a, k) => {
    const n = num('end', 'n', bindArgs('end', ['n='], a, k).n, 1);
    let r: Workplane = w;
    for (let i = 0; i < n; i++) {
      if (!r.parent) throw new CadError('runtime', 'end(): cannot end the chain: no more parents');
      r = r.parent;
    }
    return r;
  },
  size: (w) => w.objects.length,
  all: (w) => new PyList(w.objects.map((o) => w.newObject([o]))),
  add: (w, a, k) => {
    const obj = bindArgs('add', ['obj'], a, k).obj!;
    if (obj instanceof Workplane) {
      w.objects.push(...obj.objects);
      w.mergeTags(obj);
    } else if (obj instanceof PyList) w.objects.push(...obj.items.map((o) => fromPy('add', o)));
    else w.objects.push(fromPy('add', obj));
    return w;
  },
  // Workplane.export: recorded as cq.exporters.export is (exports.ts), and the workplane returned; SVG is not written.
  export: (w, a, k) => {
    const b = bindArgs('export', ['fname', 'tolerance=', 'angularTolerance=', 'opt='], a, k);
    recordExport(w, b.fname, undefined);
    return w;
  },
  exportSvg: (w) => w,
  newObject: (w, a, k) => {
    // CadQuery's newObject(objlist): a workplane on this one's plane whose stack is the list.
    const list = bindArgs('newObject', ['objlist'], a, k).objlist!;
    return w.newObject(Array.from(iterate(list), (o) => fromPy('newObject', o)));
  },
  tag: (w, a, k) => {
    w.setTag(expectString('tag', 'name', bindArgs('tag', ['name'], a, k).name));
    return w;
  },
  workplaneFromTagged: (w, a, k) => {
    const t = w.tagged('workplaneFromTagged', expectString('workplaneFromTagged', 'name', bindArgs('workplaneFromTagged', ['name'], a, k).name));
    // CadQuery 2.8's copyWorkplane is copy(obj): the tagged workplane's stack comes along, so a
    // following box() or extrude() combines with the solid tagged, not with the chain's latest one.
    const out = new Workplane(t.plane, [...t.objects], w.ctx);
    out.parent = w;
    return out;
  },
  copyWorkplane: (w, a, k) => {
    const o = bindArgs('copyWorkplane', ['obj'], a, k).obj;
    if (!(o instanceof Workplane)) throw new CadError('runtime', 'copyWorkplane(): expected a Workplane');
    const out = new Workplane(o.plane, [...o.objects], w.ctx);
    out.parent = w;
    return out;
  },
  toPending: (w) => {
    for (const o of w.objects) {
      if (o instanceof Wire) w.ctx.pendingWires.push(o);
      else if (o instanceof Edge) w.ctx.pendingEdges.push(o);
    }
    return w;
  },
  findSolid: (w) => new ShapeObj(w.requireSolid('findSolid')),
  largestDimension: (w) => boundsDiagonal(w.requireSolid('largestDimension')),
  each: (w, a, k) => {
    // cq.py each(callback, useLocalCoordinates=False, combine=True, clean=True): the callback's
    // results (with local coordinates: the object given in the plane's coordinates, the result
    // taken back to world ones) are fused with the context solid (combine=True, 'a') or cut from
    // it ('cut', 's') and cleaned, as _combineWithBase does; wires become pending wires.
    const method = 'each';
    const b = bindArgs(method, ['callback', 'useLocalCoordinates=', 'combine=', 'clean='], a, k);
    const cb = b.callback!;
    if (!isCallable(cb)) throw new CadError('runtime', 'each(): callback must be callable');
    const local = expectBool(method, 'useLocalCoordinates', b.useLocalCoordinates, false);
    const toLocal = inverseFrame(w.plane);
    const results: StackItem[] = [];
    for (const o of w.objects) {
      const given = !local ? o : o instanceof Vec3 ? w.plane.toLocal(o) : isShape(o) ? movedCopy(o, toLocal) : o;
      const r = cb.call([toPy(given)], {});
      if (r === null) continue; // nothing added for None
      let item = fromPy(method, r);
      if (local && isShape(item)) item = movedCopy(item, w.plane);
      if (item instanceof Wire) w.ctx.pendingWires.push(item);
      results.push(item);
    }
    const mode = b.combine === undefined ? true : b.combine;
    if (mode !== false && mode !== null && results.length > 0 && results.every(isSolidLike)) {
      const clean = expectBool(method, 'clean', b.clean, true);
      return w.combineWithBase(method, results.length === 1 ? results[0] : (makeCompound(results) as Shape3D), mode, clean);
    }
    return w.newObject(results);
  },
  eachpoint: (w, a, k) => {
    const method = 'eachpoint';
    const b = bindArgs(method, ['arg', 'useLocalCoordinates=', 'combine=', 'clean='], a, k);
    const local = expectBool(method, 'useLocalCoordinates', b.useLocalCoordinates, false);
    const loc = w.plane;
    const toLocal = inverseFrame(loc);
    // cq.py: the plane's location inverted times the plane at each object's centre; Locations as they are.
    const pnts: Frame[] = w.objects.length
      ? w.objects.map((o) => {
          if (o instanceof LocationObj) return o.frame;
          const c = o instanceof Vec3 ? o : o instanceof SketchObj ? centerOf(compoundOf(o.locatedFaces())) : centerOf(o);
          return composeFrames(toLocal, loc.withOrigin(c));
        })
      : [IDENTITY];
    const arg = b.arg!;
    let res: AnyShape[];
    const place = (shape: AnyShape, p: Frame) => movedCopy(shape, local ? composeFrames(loc, p) : composeFrames(p, loc));
    if (arg instanceof Workplane) {
      const shapes = arg.objects.filter(isShape);
      res = shapes.flatMap((v) => pnts.map((p) => place(v, p)));
    } else if (arg instanceof ShapeObj) {
      res = pnts.map((p) => place(arg.shape, p));
    } else if (isCallable(arg)) {
      res = [];
      for (const p of pnts) {
        const r = arg.call([new LocationObj(local ? p : composeFrames(p, loc))], {});
        if (r === null) continue; // nothing to add, as each() does for None
        const item = fromPy(method, r);
        if (!isShape(item)) throw new CadError('runtime', `${method}(): the callback must return a Shape, not ${typeName(r)}`);
        res.push(local ? movedCopy(item, loc) : item);
      }
    } else throw new CadError('runtime', `${method}(): ${typeName(arg)} is not supported: pass a Shape, a Workplane or a callable`);
    for (const r of res) if (r instanceof Wire) w.ctx.pendingWires.push(r);
    const clean = expectBool(method, 'clean', b.clean, true);
    const mode = b.combine ?? false;
    if (mode === false || mode === null || res.length === 0) return w.newObject(res.map((r) => (isSolidLike(r) ? markClean(r, clean) : r)));
    return w.combineWithBase(method, as3D(method, res.length === 1 ? res[0] : makeCompound(res)), mode, clean);
  },
  invoke: (w, a, k) => {
    const f = bindArgs('invoke', ['f'], a, k).f!;
    if (!isCallable(f)) throw new CadError('runtime', `invoke(): ${typeName(f)} is not callable`);
    const arity = f.arity ?? 1;
    if (arity === 0) {
      f.call([], {});
      return w;
    }
    if (arity > 1) throw new CadError('runtime', `invoke(): ${f.name} accepts too many arguments`);
    const r = f.call([w], {});
    return r === null || r === undefined ? w : r;
  },
  filter: (w, a, k) => {
    const f = bindArgs('filter', ['f'], a, k).f!;
    if (!isCallable(f)) throw new CadError('runtime', `filter(): ${typeName(f)} is not callable`);
    return w.newObject(w.objects.filter((o) => truthy(f.call([toPy(o)], {}))));
  },
  map: (w, a, k) => {
    const f = bindArgs('map', ['f'], a, k).f!;
    if (!isCallable(f)) throw new CadError('runtime', `map(): ${typeName(f)} is not callable`);
    return w.newObject(w.objects.map((o) => fromPy('map', f.call([toPy(o)], {}))));
  },
  sort: (w, a, k) => {
    const key = bindArgs('sort', ['key'], a, k).key!;
    if (!isCallable(key)) throw new CadError('runtime', `sort(): ${typeName(key)} is not callable`);
    const keyed = w.objects.map((o) => ({ o, key: key.call([toPy(o)], {}) }));
    // A stable sort, as Python's sorted().
    keyed.sort((x, y) => (pyLess(x.key, y.key) ? -1 : pyLess(y.key, x.key) ? 1 : 0));
    return w.newObject(keyed.map((x) => x.o));
  },
  __getitem__: (w, a) => {
    const i = a[0];
    const items = sequenceItems(i);
    if (items) return w.newObject(items.map((j) => w.objects[stackIndex(w, expectNumber('__getitem__', 'item', j))]));
    return w.newObject([w.objects[stackIndex(w, expectNumber('__getitem__', 'item', i))]]);
  },
  __iter__: (w) => {
    w.ensureClean();
    const out: Value[] = [];
    for (const o of w.objects) {
      if (o instanceof Compound) out.push(...childrenOf(o).map((c) => new ShapeObj(c)));
      else if (o instanceof SketchObj) out.push(...o.locatedFaces().map((f) => new ShapeObj(f)));
      else if (isShape(o)) out.push(new ShapeObj(o));
    }
    return new PyList(out);
  },
  sketch: (w) => new SketchObj(w, w.sketchLocations()),
  placeSketch: (w, a) => {
    const locs = w.sketchLocations();
    return w.newObject(
      a.map((s) => {
        if (!(s instanceof SketchObj)) throw new CadError('runtime', `placeSketch(): expected a Sketch, not ${typeName(s)}`);
        return s.placedAt(locs);
      }),
    );
  },
};

/** union/cut/intersect/combine's glue= and tol= (None: not set). */
function booleanOptions(method: string, b: Record<string, Value | undefined>): BooleanOptions {
  const tol = b.tol === undefined || b.tol === null ? undefined : num(method, 'tol', b.tol);
  return { glue: expectBool(method, 'glue', b.glue, false), ...(tol ? { tol } : {}) };
}

const UNSUPPORTED = new Set([
  'splineApprox',
  'text',
  'interpPlate',
  'parametricSurface',
  'cutEach',
  'wedge',
  // The rest of CadQuery 2.8's public Workplane API (dir(cq.Workplane)): unsupported, not "no attribute".
  'ancestors',
  'apply',
  'bezier',
  'consolidateWires',
  'section',
  'siblings',
  'toOCC',
  'toSvg',
]);

function outerWireOf(f: Face): Wire {
  return occ('outerWire', (oc) => new Wire(oc.BRepTools.OuterWire(f.wrapped)));
}

/** extrude/cutBlind's `until`: a distance, 'next', 'last' or a Face. */
function untilArg(method: string, v: Value | undefined): number | 'next' | 'last' | Face {
  if (typeof v === 'number') return num(method, 'until', v);
  if (v === 'next' || v === 'last') return v;
  if (v instanceof ShapeObj && v.shape instanceof Face) return v.shape;
  if (v instanceof Workplane && v.objects[0] instanceof Face) return v.objects[0];
  throw new CadError('runtime', `${method}(): until must be a distance, 'next', 'last' or a Face, not ${describe(v ?? null)}`);
}

function cutUntil(w: Workplane, method: string, until: 'next' | 'last' | Face, both: boolean, clean: boolean, taper: number): Workplane {
  return w.newObject([markClean(extrudeUntil(w, method, until, both, false, taper), clean)]);
}

/**
 * cq.py's _extrude up to a face: each profile face a BRepFeat_MakeDPrism on the context solid,
 * until the given face, or the next / last face the line from the face's centre along the plane
 * normal crosses ("next" from a profile inside the solid: the one after).
 */
function extrudeUntil(w: Workplane, method: string, until: 'next' | 'last' | Face, both: boolean, additive: boolean, taper: number): Shape3D {
  let res: Shape3D = w.requireSolid(method);
  const faces = w.getFaces(method);
  if (taper !== 0) checkTaper(method, faces, taper);
  const axis = w.plane.zDir;
  const facesAlong = (f: Face, dir: Vec3): Face[] => {
    let list = facesCrossedByLine(method, w.findSolid()!, centerOf(f), dir, additive ? 'along' : 'opposite');
    if (list.length === 0 && both) throw geometryError(method, "couldn't find a face to extrude/cut to in one of the two directions");
    if (list.length === 0) list = facesCrossedByLine(method, w.findSolid()!, centerOf(f), dir.scale(-1), additive ? 'along' : 'opposite');
    if (list.length === 0) throw geometryError(method, "couldn't find a face to extrude/cut to: check the workplane's orientation");
    return list;
  };
  let index = until === 'next' ? 0 : -1;
  for (const f of faces) {
    let limit: Face;
    if (until instanceof Face) limit = until;
    else {
      const list = facesAlong(f, axis);
      const outer = occ(method, (oc) => new Wire(oc.BRepTools.OuterWire(f.wrapped)));
      if (additive && index === 0 && pointInside(method, w.findSolid()!, centerOf(outer))) index = 1;
      limit = list.at(index) ?? throwNoFace(method);
    }
    res = dprism(method, res, f, limit, additive, taper);
    if (both) {
      const list2 = until instanceof Face ? [until] : facesAlong(f, axis.scale(-1));
      res = dprism(method, res, f, until instanceof Face ? until : (list2.at(index) ?? throwNoFace(method)), additive, taper);
    }
  }
  return res;
}

/** cq.py's _extrude refuses a tapered face with holes; an angle of 90° or more makes no draft. */
function checkTaper(method: string, faces: Face[], taper: number): void {
  if (!Number.isFinite(taper) || Math.abs(taper) >= 90)
    throw new CadError('runtime', `${method}(): taper must be an angle in degrees between -90 and 90, got ${taper}`);
  for (const f of faces) if (subShapes(f, 'wire').length !== 1) throw new CadError('runtime', `${method}(): Inner wires not allowed with tapered extrusion`);
}

function throwNoFace(method: string): never {
  throw geometryError(method, "couldn't find a face to extrude/cut to");
}

/** cq.py's Solid.dprism up to a face: BRepFeat_MakeDPrism with the draft angle `taper` (degrees). */
function dprism(method: string, base: Shape3D, face: Face, until: Face, additive: boolean, taper: number): Shape3D {
  return occ(method, (oc, keep) => {
    const feat = keep(new oc.BRepFeat_MakeDPrism(base.wrapped, face.wrapped, keep(new oc.TopoDS_Face()), (taper * Math.PI) / 180, additive ? 1 : 0, false));
    feat.Perform(until.wrapped);
    if (!feat.IsDone()) throw geometryError(method, 'could not extrude up to the face');
    return as3D(method, castShape(feat.Shape()));
  });
}

/**
 * Solid.facesIntersectedByLine(point, axis, direction): the faces the line crosses on the given
 * side of the point (more than 0.01 away, as its squared-distance tolerance makes it), nearest
 * first. This build has no BRepIntCurveSurface_Inter: each face is sectioned with a long segment.
 */
function facesCrossedByLine(method: string, solid: Shape3D, point: Vec3, axis: Vec3, side: 'along' | 'opposite'): Face[] {
  const hits = lineHits(method, solid, point, axis)
    .filter(([, t]) => t * t > 1e-4 && (side === 'along' ? t > 0 : t < 0))
    .sort((a, b) => a[1] * a[1] - b[1] * b[1]);
  return hits.map(([f]) => f);
}

/** Where the line through `point` along `axis` crosses each face: (face, signed distance along the unit axis). */
function lineHits(method: string, solid: Shape3D, point: Vec3, axis: Vec3): [Face, number][] {
  const dir = axis.normalized();
  const reach = boundsDiagonal(solid) + boundsCenter(solid).distance(point) + 1;
  const line = lineEdge(method, point.sub(dir.scale(reach)), point.add(dir.scale(reach)));
  const hits: [Face, number][] = [];
  for (const f of subShapes(solid, 'face') as Face[]) {
    const points = occ(method, (oc, keep) => {
      const section = keep(new oc.BRepAlgoAPI_Section(f.wrapped, line.wrapped, false));
      section.Build();
      if (!section.IsDone()) return [];
      return subShapes(castShape(section.Shape()), 'vertex').map((v) => centerOf(v));
    });
    for (const p of points) hits.push([f, p.sub(point).dot(dir)]);
  }
  return hits;
}

/**
 * Whether a point is inside the solid or on its boundary (BRepClass3d_SolidClassifier, which this
 * build lacks): on a face, or an odd number of crossings of a ray in a direction unlikely to graze an edge.
 */
function pointInside(method: string, solid: Shape3D, p: Vec3): boolean {
  const hits = lineHits(method, solid, p, new Vec3(0.5773, 0.5774, 0.5775));
  if (hits.some(([, t]) => Math.abs(t) < 1e-6)) return true;
  return hits.filter(([, t]) => t > 0).length % 2 === 1;
}

function stackIndex(w: Workplane, i: number): number {
  const idx = i < 0 ? w.objects.length + i : i;
  if (!Number.isInteger(idx) || idx < 0 || idx >= w.objects.length) throw new CadError('runtime', 'IndexError: list index out of range');
  return idx;
}

function select(w: Workplane, method: string, kind: TopoKind, a: Value[], k: Kwargs): Workplane {
  const b = bindArgs(method, ['selector=', 'tag='], a, k);
  return w.selectObjects(method, kind, b.selector, b.tag);
}

function edgesOnStack(w: Workplane): Edge[] {
  const out: Edge[] = [];
  for (const o of w.objects) {
    if (!isShape(o)) continue;
    for (const e of subShapes(o, 'edge')) if (!out.some((x) => x.isSame(e))) out.push(e as Edge);
  }
  return out;
}

function castShape(s: unknown): AnyShape {
  return cast(s as never);
}

function checkSolidResult(method: string, s: Shape3D, why: string): Shape3D {
  if (subShapes(s, 'solid').length === 0) throw geometryError(method, why);
  return s;
}

function sagittaArc(w: Workplane, method: string, endLocal: Vec3, sag: number, fc: boolean): Workplane {
  const start = w.plane.toLocal(w.currentPoint(method));
  const end = new Vec3(endLocal.x, endLocal.y, 0);
  const mid = end.add(new Vec3(start.x, start.y, 0)).scale(0.5);
  const chord = end.sub(new Vec3(start.x, start.y, 0));
  if (chord.length < LENGTH_EPS) throw geometryError(method, 'the arc end point coincides with its start');
  const d = chord.normalized().scale(Math.abs(sag));
  const sagV = sag > 0 ? new Vec3(-d.y, d.x, 0) : new Vec3(d.y, -d.x, 0);
  const p = mid.add(sagV);
  return arcImpl(w, method, w.plane.toWorld(p.x, p.y), w.plane.toWorld(end.x, end.y), fc);
}

/** mirrorX / mirrorY: closes the pending edges into a wire mirrored about the plane's X or Y axis. */
function mirrorInPlane(w: Workplane, axis: 'X' | 'Y'): Workplane {
  const method = axis === 'X' ? 'mirrorX' : 'mirrorY';
  const edges = w.ctx.pendingEdges;
  if (edges.length === 0) throw geometryError(method, 'no pending edges to mirror');
  w.ctx.pendingEdges = [];
  const normal = axis === 'X' ? w.plane.yDir : w.plane.xDir;
  const mirrored = edges.map((e) => {
    const m = mirrorShape(e, normal, w.plane.origin);
    const [s, en] = edgeEndpoints(e);
    const reflect = (p: Vec3) => p.sub(normal.scale(2 * p.sub(w.plane.origin).dot(normal)));
    recordOutline(m, [reflect(s), reflect(en)]);
    return m;
  });
  // Edges mirrored in reverse order close the loop: e1…en, mirror(en)…mirror(e1).
  const all = [...edges, ...mirrored.reverse()];
  const wire = occ(method, (oc, keep) => {
    const builder = keep(new oc.BRepBuilderAPI_MakeWire());
    for (const e of all) builder.Add(e.wrapped);
    if (!builder.IsDone()) throw geometryError(method, 'the mirrored edges do not connect into a wire');
    return new Wire(builder.Wire());
  });
  // Outline for nesting: sample from OCCT (the mirrored edges run backwards).
  w.ctx.pendingWires.push(wire);
  w.ctx.firstPoint = null;
  return w.newObject([wire]);
}

// ---- construction from Python -------------------------------------------------------------

/**
 * The `cq.Workplane` class of one program run: `cq.Workplane(inPlane='XY', origin=(0,0,0), obj=None)`,
 * and `cq.Workplane.name = function` to add a plugin method (cq.py's documented extension point).
 */
export function createWorkplaneClass(): Callable {
  const plugins = new Map<string, Value>();
  const construct = builtin('Workplane', (args, kwargs) => {
    const b = bindArgs('Workplane', ['inPlane=', 'origin=', 'obj='], args, kwargs);
    const origin = b.origin === undefined || b.origin === null ? Vec3.ZERO : toVec3('Workplane', 'origin', b.origin);
    let plane: Frame;
    let obj: StackItem | undefined;
    const p = b.inPlane;
    if (p === undefined) plane = namedFrame('XY', origin);
    else if (p instanceof PlaneObj) plane = p.frame;
    else if (typeof p === 'string') plane = namedFrame(p, origin);
    else if (p instanceof ShapeObj || p instanceof VectorObj || p instanceof LocationObj) {
      plane = namedFrame('XY', origin);
      obj = fromPy('Workplane', p);
    } else throw new CadError('runtime', `Workplane(): ${typeName(p)} is not a valid work plane: use a Plane or one of 'XY', 'YZ', 'XZ', …`);
    if (b.obj !== undefined && b.obj !== null) obj = fromPy('Workplane', b.obj);
    return new Workplane(plane, obj ? [obj] : [], new Context(plugins));
  });
  return {
    ...construct,
    getAttr: (name: string) => plugins.get(name),
    setAttr: (name: string, value: Value) => {
      if (Object.hasOwn(METHODS, name)) throw new CadError('unsupported', `replacing Workplane.${name} is not supported`);
      plugins.set(name, value);
    },
  };
}

export { rotateAbout, arcPoints, circleThrough, isHost, LocationObj };
