/**
 * The Python face of OCCT shapes (`cq.Solid`, `cq.Face`, … as returned by `val()` or by the free
 * functions of `cadquery.func`): measurements, transforms, moved/located placement, selection of
 * sub-shapes (`faces(">Z")` returns a shape), iteration over a compound's children, the boolean
 * operators (+ fuse, - cut, * intersect, / split) and the selection set operators (& | %).
 */
import { Compound, Edge, Face, Shell, Solid, Vertex, Wire, type AnyShape } from 'replicad';
import { CadError } from '../../errors';
import {
  bindArgs,
  builtin,
  expectBool,
  expectNumber,
  PyList,
  PyTuple,
  sequenceItems,
  typeName,
  type BinaryOperator,
  type HostObject,
  type Kwargs,
  type Value,
} from '../values';
import {
  areaOf,
  boundsOf,
  centerOf,
  edgeEndpoints,
  cleanShape,
  edgeGeomType,
  faceGeomType,
  faceNormal,
  isValidShape,
  lengthOf,
  mirrorShape,
  occ,
  rotateShape,
  shapeKind,
  subShapes,
  translateShape,
  volumeOf,
  type TopoKind,
} from './geom';
import { asLocation, IDENTITY, locatedShape, locationFromArgs, movedShape, toLocation } from './location';
import type { Frame } from './plane';
import { recordExport } from './exports';
import { selectorOf } from './selector-classes';
import {
  booleanShapes,
  childrenOf,
  compoundOrShape,
  edgesOf,
  knownChildren,
  makeCompound,
  recordChildren,
  shellOf,
  wireOfEdges,
  type BoolKind,
} from './shape-ops';
import { toVec3, Vec3, VectorObj } from './vec';

export class ShapeObj implements HostObject {
  readonly kind = 'host';
  /** Mutable: CadQuery's move() and locate() change the shape they are called on. */
  constructor(public shape: AnyShape) {}

  get typeName(): string {
    return shapeKind(this.shape);
  }

  /** Vertices stand in for points (e.g. `moveTo(*v.toTuple())`, `Vector(v)`). */
  toVec3(): Vec3 {
    return centerOf(this.shape);
  }

  getAttr(name: string): Value | undefined {
    const m = SHAPE_METHODS[name];
    if (m) return builtin(`${this.typeName}.${name}`, (args, kwargs) => m(this, args, kwargs));
    if (this.shape instanceof Vertex && (name === 'X' || name === 'Y' || name === 'Z')) {
      const c = centerOf(this.shape);
      return name === 'X' ? c.x : name === 'Y' ? c.y : c.z;
    }
    if (SHAPE_UNSUPPORTED.has(name)) {
      return builtin(`${this.typeName}.${name}`, () => {
        throw new CadError('unsupported', `${this.typeName}.${name}() is not supported yet`);
      });
    }
    return undefined;
  }

  binaryOp(op: BinaryOperator, other: Value, reflected: boolean): Value | undefined {
    if (!(other instanceof ShapeObj)) return undefined;
    const [a, b] = reflected ? [other.shape, this.shape] : [this.shape, other.shape];
    const kind = BOOLEAN_OPERATORS[op];
    if (kind) return new ShapeObj(booleanShapes(kind, kind, a, [b]));
    if (op === '&' || op === '|' || op === '%') return new ShapeObj(setOperation(op, a, b));
    return undefined;
  }
}

const BOOLEAN_OPERATORS: Partial<Record<BinaryOperator, BoolKind>> = { '+': 'fuse', '-': 'cut', '*': 'intersect', '/': 'split' };

/** Shape's `&`, `|`, `%`: intersection, union and difference of the two selections (a compound's children, else the shape). */
function setOperation(op: '&' | '|' | '%', a: AnyShape, b: AnyShape): AnyShape {
  const members = (s: AnyShape) => (s instanceof Compound ? childrenOf(s) : [s]);
  const left = members(a);
  const right = members(b);
  const inRight = (s: AnyShape) => right.some((r) => r.isSame(s));
  let out: AnyShape[];
  if (op === '&') out = left.filter(inRight);
  else if (op === '%') out = left.filter((s) => !inRight(s));
  else out = [...left, ...right.filter((r) => !left.some((l) => l.isSame(r)))];
  return makeCompound(out);
}

/** CadQuery Shape methods not implemented here: `unsupported`, naming them. */
const SHAPE_UNSUPPORTED = new Set([
  'trim',
  'hasPCurve',
  'toLocs',
  'ancestors',
  'siblings',
  'fillet',
  'chamfer',
  'shell',
  'thicken',
  'project',
  'extend',
  'isoline',
  'toSplines',
  'toNURBS',
  'transformGeometry',
  'transformShape',
  'scale',
  'fillet2D',
  'chamfer2D',
  'offset2D',
  'hollow',
]);

type ShapeMethod = (o: ShapeObj, args: Value[], kwargs: Kwargs) => Value;

function exportShape(o: ShapeObj, fileName: Value | undefined, exportType: string | undefined): Value {
  recordExport(o, fileName, exportType);
  return null;
}

function asOneD(method: string, s: AnyShape): Edge | Wire {
  if (s instanceof Edge || s instanceof Wire) return s;
  throw new CadError('runtime', `${method}() is only defined for edges and wires, not a ${shapeKind(s)}`);
}

const listOf = (shapes: AnyShape[]) => new PyList(shapes.map((s) => new ShapeObj(s)));
const sub =
  (kind: TopoKind): ShapeMethod =>
  (o) =>
    listOf(subShapes(o.shape, kind));

/** Shape.vertices(selector) … solids(selector): one shape, or a compound of the selected ones. */
const select =
  (method: string, kind: TopoKind): ShapeMethod =>
  (o, a, k) => {
    const picked = selectSub(method, o.shape, kind, bindArgs(method, ['selector='], a, k).selector);
    return new ShapeObj(picked.length === 1 ? picked[0] : makeCompound(picked));
  };

/** Shape.vertex(selector) … solid(selector): the first selected. */
const selectOne =
  (method: string, kind: TopoKind): ShapeMethod =>
  (o, a, k) => {
    const picked = selectSub(method, o.shape, kind, bindArgs(method, ['selector='], a, k).selector);
    if (picked.length === 0) throw new CadError('runtime', `${method}(): no shape available for selection`);
    return new ShapeObj(picked[0]);
  };

function selectSub(method: string, shape: AnyShape, kind: TopoKind, selector: Value | undefined): AnyShape[] {
  const all = subShapes(shape, kind);
  if (selector === undefined || selector === null || selector === '') return all;
  return selectorOf(method, selector)(all);
}

/** The placements a moved()/move() call asks for, as CadQuery's multimethod dispatches them. */
function movedLocations(method: string, args: Value[], kwargs: Kwargs): { frames: Frame[]; many: boolean } {
  if (args.every((a) => typeof a === 'number' || typeof a === 'boolean')) return { frames: [locationFromArgs(method, args, kwargs)], many: false };
  if (Object.keys(kwargs).length) throw new CadError('runtime', `${method}(): keyword arguments only go with numbers (x, y, z, rx, ry, rz)`);
  if (args.length === 1) {
    const a = args[0];
    if (a instanceof ShapeObj) return { frames: shapeLocations(method, a.shape), many: true };
    const single = asLocation(a);
    if (single) return { frames: [single], many: false };
    const items = sequenceItems(a);
    if (items) return { frames: items.map((i) => toLocation(method, 'loc', i)), many: true };
    throw new CadError('runtime', `${method}(): expected a Location, a vector or a list of them, not ${typeName(a)}`);
  }
  return { frames: args.map((i) => toLocation(method, 'loc', i)), many: true };
}

/** Shape.toLocs(): a location at the centre of each vertex, solid … (faces and edges are not supported). */
function shapeLocations(method: string, shape: AnyShape): Frame[] {
  if (shape instanceof Compound) return childrenOf(shape).flatMap((c) => shapeLocations(method, c));
  if (shape instanceof Face || shape instanceof Edge) {
    throw new CadError('unsupported', `${method}(): moving to the locations of a ${shapeKind(shape)} is not supported yet`);
  }
  return [IDENTITY.withOrigin(centerOf(shape))];
}

/** A copy moved by `f`; a compound we built keeps knowing its (moved) children. */
export function movedCopy(shape: AnyShape, f: Frame): AnyShape {
  const moved = movedShape(shape, f);
  const children = knownChildren(shape);
  if (children)
    recordChildren(
      moved,
      children.map((c) => movedShape(c, f)),
    );
  return moved;
}

function movedBy(o: ShapeObj, method: string, args: Value[], kwargs: Kwargs): AnyShape {
  const { frames, many } = movedLocations(method, args, kwargs);
  if (!many) return movedCopy(o.shape, frames[0]);
  return compoundOrShape(frames.map((f) => movedCopy(o.shape, f)));
}

const SHAPE_METHODS: Record<string, ShapeMethod> = {
  Volume: (o) => volumeOf(o.shape),
  Area: (o) => areaOf(o.shape),
  Length: (o) => lengthOf(o.shape),
  Center: (o) => new VectorObj(centerOf(o.shape)),
  CenterOfBoundBox: (o) => {
    const b = boundsOf(o.shape);
    return new VectorObj(b.min.add(b.max).scale(0.5));
  },
  BoundingBox: (o) => new BoundBoxObj(boundsOf(o.shape)),
  isValid: (o) => isValidShape(o.shape),
  isSame: (o, a, k) => {
    const other = bindArgs('isSame', ['other'], a, k).other;
    return other instanceof ShapeObj && o.shape.isSame(other.shape);
  },
  Closed: (o) => occ('Closed', (oc) => oc.BRep_Tool.IsClosed(o.shape.wrapped)),
  IsClosed: (o) => occ('IsClosed', (oc) => oc.BRep_Tool.IsClosed(o.shape.wrapped)),
  Vertices: sub('vertex'),
  Edges: sub('edge'),
  Wires: sub('wire'),
  Faces: sub('face'),
  Shells: sub('shell'),
  Solids: sub('solid'),
  Compounds: sub('compound'),
  vertices: select('vertices', 'vertex'),
  edges: select('edges', 'edge'),
  wires: select('wires', 'wire'),
  faces: select('faces', 'face'),
  shells: select('shells', 'shell'),
  solids: select('solids', 'solid'),
  vertex: selectOne('vertex', 'vertex'),
  edge: selectOne('edge', 'edge'),
  wire: selectOne('wire', 'wire'),
  face: selectOne('face', 'face'),
  shell: selectOne('shell', 'shell'),
  solid: selectOne('solid', 'solid'),
  ShapeType: (o) => shapeKind(o.shape),
  geomType: (o) => {
    const s = o.shape;
    return s instanceof Face ? faceGeomType(s) : s instanceof Edge ? edgeGeomType(s) : shapeKind(s).toUpperCase();
  },
  normalAt: (o, a, k) => {
    const s = o.shape;
    if (!(s instanceof Face)) throw new CadError('runtime', 'normalAt() is only defined for faces');
    const b = bindArgs('normalAt', ['locationVector='], a, k);
    const at = b.locationVector === undefined || b.locationVector === null ? undefined : toVec3('normalAt', 'locationVector', b.locationVector);
    return new VectorObj(faceNormal(s, at));
  },
  // Shape.exportStl / exportStep / exportBrep / export: recorded (exports.ts), nothing written.
  exportStl: (o, a) => exportShape(o, a[0], 'STL'),
  exportStep: (o, a) => exportShape(o, a[0], 'STEP'),
  exportBrep: (o, a) => exportShape(o, a[0], 'BREP'),
  export: (o, a) => exportShape(o, a[0], undefined),
  // Mixin1D.startPoint / endPoint: the ends of an edge or wire.
  startPoint: (o) => new VectorObj(edgeEndpoints(asOneD('startPoint', o.shape))[0]),
  endPoint: (o) => new VectorObj(edgeEndpoints(asOneD('endPoint', o.shape))[1]),
  toTuple: (o) => {
    const c = centerOf(o.shape);
    return new PyTuple([c.x, c.y, c.z]);
  },
  translate: (o, a, k) => new ShapeObj(translateShape(o.shape, toVec3('translate', 'vector', bindArgs('translate', ['vector'], a, k).vector))),
  rotate: (o, a, k) => {
    const b = bindArgs('rotate', ['startVector', 'endVector', 'angleDegrees'], a, k);
    return new ShapeObj(
      rotateShape(
        o.shape,
        toVec3('rotate', 'startVector', b.startVector),
        toVec3('rotate', 'endVector', b.endVector),
        expectNumber('rotate', 'angleDegrees', b.angleDegrees),
      ),
    );
  },
  mirror: (o, a, k) => {
    const b = bindArgs('mirror', ['mirrorPlane=', 'basePointVector='], a, k);
    const normal = mirrorNormal(b.mirrorPlane ?? 'XY');
    const base = b.basePointVector === undefined ? Vec3.ZERO : toVec3('mirror', 'basePointVector', b.basePointVector);
    return new ShapeObj(mirrorShape(o.shape, normal, base));
  },
  moved: (o, a, k) => new ShapeObj(movedBy(o, 'moved', a, k)),
  move: (o, a, k) => {
    const { frames, many } = movedLocations('move', a, k);
    if (many) throw new CadError('runtime', 'move(): takes one location (moved() takes several)');
    o.shape = movedCopy(o.shape, frames[0]);
    return o;
  },
  located: (o, a, k) => new ShapeObj(locatedShape(o.shape, toLocation('located', 'loc', bindArgs('located', ['loc'], a, k).loc))),
  locate: (o, a, k) => {
    o.shape = locatedShape(o.shape, toLocation('locate', 'loc', bindArgs('locate', ['loc'], a, k).loc));
    return o;
  },
  copy: (o) => new ShapeObj(o.shape),
  clean: (o) => new ShapeObj(cleanShape(o.shape)),
  outerWire: (o) => new ShapeObj(outerWire(asFace('outerWire', o.shape))),
  innerWires: (o) => {
    const f = asFace('innerWires', o.shape);
    const outer = outerWire(f);
    return listOf(subShapes(f, 'wire').filter((w) => !w.isSame(outer)));
  },
  addHole: (o, a) =>
    new ShapeObj(
      addHoles(
        asFace('addHole', o.shape),
        a.map((w) => shapeArg('addHole', w)),
      ),
    ),
  replace: (o, a) => {
    if (a.length < 1) throw new CadError('runtime', 'replace() needs the sub-shape to replace');
    const news = a.slice(1).flatMap((v) => {
      const n = shapeArg('replace', v);
      return n instanceof Compound ? childrenOf(n) : [n];
    });
    return new ShapeObj(replaceFaces('replace', o.shape, shapeArg('replace', a[0]), news));
  },
  remove: (o, a) =>
    new ShapeObj(
      removeSubShapes(
        'remove',
        o.shape,
        a.map((s) => shapeArg('remove', s)),
      ),
    ),
  fuse: (o, a, k) => new ShapeObj(booleanShapes('fuse', 'fuse', o.shape, booleanTools('fuse', a, k), booleanKwargs('fuse', k))),
  cut: (o, a, k) => new ShapeObj(booleanShapes('cut', 'cut', o.shape, booleanTools('cut', a, k), booleanKwargs('cut', k))),
  intersect: (o, a, k) => new ShapeObj(booleanShapes('intersect', 'intersect', o.shape, booleanTools('intersect', a, k), booleanKwargs('intersect', k))),
  split: (o, a, k) => new ShapeObj(booleanShapes('split', 'split', o.shape, booleanTools('split', a, k))),
  __iter__: (o) => listOf(childrenOf(o.shape)),
  __getitem__: (o, a) => {
    const children = childrenOf(o.shape);
    const i = expectNumber('__getitem__', 'index', a[0]);
    const idx = i < 0 ? children.length + i : i;
    if (!Number.isInteger(idx) || idx < 0 || idx >= children.length) throw new CadError('runtime', 'IndexError: list index out of range');
    return new ShapeObj(children[idx]);
  },
  size: (o) => childrenOf(o.shape).length,
};

function booleanTools(method: string, args: Value[], kwargs: Kwargs): AnyShape[] {
  for (const key of Object.keys(kwargs)) {
    if (key !== 'tol' && key !== 'glue') throw new CadError('runtime', `${method}() got an unexpected keyword argument '${key}'`);
  }
  if (args.length === 0) throw new CadError('runtime', `${method}() needs at least one shape`);
  return args.map((s) => shapeArg(method, s));
}

/** glue= (fuse) and tol= of Shape's booleans; None leaves them unset. */
function booleanKwargs(method: string, kwargs: Kwargs): { glue?: boolean; tol?: number } {
  const tol = kwargs.tol === undefined || kwargs.tol === null ? undefined : expectNumber(method, 'tol', kwargs.tol);
  return { glue: expectBool(method, 'glue', kwargs.glue, false), ...(tol ? { tol } : {}) };
}

export function shapeArg(method: string, v: Value | undefined): AnyShape {
  if (v instanceof ShapeObj) return v.shape;
  throw new CadError('runtime', `${method}(): expected a Shape, not ${v === undefined ? 'nothing' : typeName(v)}`);
}

function asFace(method: string, s: AnyShape): Face {
  if (s instanceof Face) return s;
  throw new CadError('runtime', `'${shapeKind(s)}' object has no attribute '${method}'`);
}

function outerWire(f: Face): Wire {
  return occ('outerWire', (oc) => new Wire(oc.BRepTools.OuterWire(f.wrapped)));
}

/** Face.addHole(*wires): the wires added as holes, their orientation fixed (CadQuery's fix()). */
function addHoles(f: Face, holes: AnyShape[]): Face {
  const wires = holes.map((h) => (h instanceof Wire ? h : wireOfEdges('addHole', edgesOf('addHole', [h]))));
  return occ('addHole', (oc, keep) => {
    const maker = keep(new oc.BRepBuilderAPI_MakeFace(f.wrapped));
    for (const w of wires) maker.Add(w.wrapped);
    const fix = keep(new oc.ShapeFix_Face(maker.Face()));
    fix.FixOrientation();
    return new Face(oc.TopoDS.Face(fix.Face()));
  });
}

/** Shape.replace(old, *new) of a face of a solid or shell: its shells rebuilt with the new faces in its place (BRepTools_ReShape's result). */
function replaceFaces(method: string, shape: AnyShape, old: AnyShape, news: AnyShape[]): AnyShape {
  if (!(old instanceof Face) || !news.every((n) => n instanceof Face))
    throw new CadError('unsupported', `${method}(): only replacing faces by faces is supported yet`);
  const rebuild = (sh: AnyShape) => shellOf((subShapes(sh, 'face') as Face[]).flatMap((f) => (f.isSame(old) ? (news as Face[]) : [f])));
  if (shape instanceof Shell) return rebuild(shape);
  if (!(shape instanceof Solid)) throw new CadError('unsupported', `${method}(): replacing in a ${shapeKind(shape)} is not supported yet`);
  return occ(method, (oc, keep) => {
    const builder = keep(new oc.TopoDS_Builder());
    const solid = new oc.TopoDS_Solid();
    builder.MakeSolid(solid);
    for (const sh of subShapes(shape, 'shell')) builder.Add(solid, rebuild(sh).wrapped);
    return new Solid(solid);
  });
}

/** Shape.remove(*faces) on a solid or shell: the shells rebuilt without those faces (BRepTools_ReShape's result). */
function removeSubShapes(method: string, shape: AnyShape, removed: AnyShape[]): AnyShape {
  const gone = (s: AnyShape) => removed.some((r) => r.isSame(s));
  const rebuildShell = (sh: AnyShape) => shellOf(subShapes(sh, 'face').filter((f) => !gone(f)) as Face[]);
  if (!removed.every((r) => r instanceof Face)) throw new CadError('unsupported', `${method}(): only removing faces is supported yet`);
  if (shape instanceof Shell) return rebuildShell(shape);
  if (!(shape instanceof Solid)) throw new CadError('unsupported', `${method}(): removing from a ${shapeKind(shape)} is not supported yet`);
  return occ(method, (oc, keep) => {
    const builder = keep(new oc.TopoDS_Builder());
    const solid = new oc.TopoDS_Solid();
    builder.MakeSolid(solid);
    for (const sh of subShapes(shape, 'shell')) builder.Add(solid, rebuildShell(sh).wrapped);
    return new Solid(solid);
  });
}

/** CadQuery's mirror plane names → normals. */
export function mirrorNormal(plane: Value): Vec3 {
  if (typeof plane === 'string') {
    const n: Record<string, Vec3> = {
      XY: new Vec3(0, 0, 1),
      YX: new Vec3(0, 0, 1),
      XZ: new Vec3(0, 1, 0),
      ZX: new Vec3(0, 1, 0),
      YZ: new Vec3(1, 0, 0),
      ZY: new Vec3(1, 0, 0),
    };
    const v = n[plane.toUpperCase()];
    if (!v) throw new CadError('runtime', `mirror(): unknown mirror plane '${plane}': use XY, YZ, XZ, YX, ZY, ZX or a normal vector`);
    return v;
  }
  return toVec3('mirror', 'mirrorPlane', plane);
}

export class BoundBoxObj implements HostObject {
  readonly kind = 'host';
  readonly typeName = 'BoundBox';
  constructor(readonly b: { min: Vec3; max: Vec3 }) {}
  getAttr(name: string): Value | undefined {
    const { min, max } = this.b;
    switch (name) {
      case 'xmin':
        return min.x;
      case 'ymin':
        return min.y;
      case 'zmin':
        return min.z;
      case 'xmax':
        return max.x;
      case 'ymax':
        return max.y;
      case 'zmax':
        return max.z;
      case 'xlen':
        return max.x - min.x;
      case 'ylen':
        return max.y - min.y;
      case 'zlen':
        return max.z - min.z;
      case 'center':
        return new VectorObj(min.add(max).scale(0.5));
      case 'DiagonalLength':
        return max.sub(min).length;
    }
    return undefined;
  }
}

export { Wire, Face, Edge, Vertex, Solid, Compound };
