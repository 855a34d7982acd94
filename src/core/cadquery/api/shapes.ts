/**
 * The Python face of OCCT shapes (`cq.Solid`, `cq.Face`, … as returned by `val()`), with the
 * measurement and transform methods programs commonly call on them.
 */
import { Compound, Edge, Face, Solid, Vertex, Wire, type AnyShape } from 'replicad';
import { CadError } from '../../errors';
import { bindArgs, builtin, expectNumber, PyList, PyTuple, type HostObject, type Kwargs, type Value } from '../values';
import {
  areaOf,
  boundsOf,
  centerOf,
  edgeGeomType,
  faceGeomType,
  faceNormal,
  isValidShape,
  lengthOf,
  mirrorShape,
  rotateShape,
  shapeKind,
  subShapes,
  translateShape,
  volumeOf,
  type TopoKind,
} from './geom';
import { toVec3, Vec3, VectorObj } from './vec';

export class ShapeObj implements HostObject {
  readonly kind = 'host';
  constructor(readonly shape: AnyShape) {}

  get typeName(): string {
    return shapeKind(this.shape);
  }

  /** Vertices stand in for points (e.g. `moveTo(*v.toTuple())`, `Vector(v)`). */
  toVec3(): Vec3 {
    return centerOf(this.shape);
  }

  getAttr(name: string): Value | undefined {
    const m = SHAPE_METHODS[name];
    if (m) return builtin(`${this.typeName}.${name}`, (args, kwargs) => m(this.shape, args, kwargs));
    if (this.shape instanceof Vertex && (name === 'X' || name === 'Y' || name === 'Z')) {
      const c = centerOf(this.shape);
      return name === 'X' ? c.x : name === 'Y' ? c.y : c.z;
    }
    return undefined;
  }
}

type ShapeMethod = (s: AnyShape, args: Value[], kwargs: Kwargs) => Value;

const listOf = (shapes: AnyShape[]) => new PyList(shapes.map((s) => new ShapeObj(s)));
const sub =
  (kind: TopoKind): ShapeMethod =>
  (s) =>
    listOf(subShapes(s, kind));

const SHAPE_METHODS: Record<string, ShapeMethod> = {
  Volume: (s) => volumeOf(s),
  Area: (s) => areaOf(s),
  Length: (s) => lengthOf(s),
  Center: (s) => new VectorObj(centerOf(s)),
  CenterOfBoundBox: (s) => {
    const b = boundsOf(s);
    return new VectorObj(b.min.add(b.max).scale(0.5));
  },
  BoundingBox: (s) => new BoundBoxObj(boundsOf(s)),
  isValid: (s) => isValidShape(s),
  Vertices: sub('vertex'),
  Edges: sub('edge'),
  Wires: sub('wire'),
  Faces: sub('face'),
  Shells: sub('shell'),
  Solids: sub('solid'),
  ShapeType: (s) => shapeKind(s),
  geomType: (s) => (s instanceof Face ? faceGeomType(s) : s instanceof Edge ? edgeGeomType(s) : shapeKind(s).toUpperCase()),
  normalAt: (s, a, k) => {
    if (!(s instanceof Face)) throw new CadError('runtime', 'normalAt() is only defined for faces');
    const b = bindArgs('normalAt', ['locationVector='], a, k);
    const at = b.locationVector === undefined || b.locationVector === null ? undefined : toVec3('normalAt', 'locationVector', b.locationVector);
    return new VectorObj(faceNormal(s, at));
  },
  toTuple: (s) => {
    const c = centerOf(s);
    return new PyTuple([c.x, c.y, c.z]);
  },
  translate: (s, a, k) => new ShapeObj(translateShape(s, toVec3('translate', 'vector', bindArgs('translate', ['vector'], a, k).vector))),
  rotate: (s, a, k) => {
    const b = bindArgs('rotate', ['startVector', 'endVector', 'angleDegrees'], a, k);
    return new ShapeObj(
      rotateShape(
        s,
        toVec3('rotate', 'startVector', b.startVector),
        toVec3('rotate', 'endVector', b.endVector),
        expectNumber('rotate', 'angleDegrees', b.angleDegrees),
      ),
    );
  },
  mirror: (s, a, k) => {
    const b = bindArgs('mirror', ['mirrorPlane=', 'basePointVector='], a, k);
    const normal = mirrorNormal(b.mirrorPlane ?? 'XY');
    const base = b.basePointVector === undefined ? Vec3.ZERO : toVec3('mirror', 'basePointVector', b.basePointVector);
    return new ShapeObj(mirrorShape(s, normal, base));
  },
};

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
