/**
 * CadQuery's `Location` (occ_impl/geom.py): a rigid placement, here a `Frame` (the local frame's
 * origin and axes in world coordinates), so a point p of a located shape lies at frame.toWorld(p).
 * `Location(x, y, z, rx, ry, rz)` rotates as gp_Quaternion's extrinsic XYZ Euler angles do
 * (about the fixed X, then Y, then Z axis: R = Rz·Ry·Rx); `a * b` is TopLoc_Location's product
 * (b applied first); shapes are moved with a TopLoc_Location, as CadQuery's moved()/located() do.
 */
import { cast, type AnyShape } from 'replicad';
import { CadError } from '../../errors';
import { bindArgs, builtin, expectNumber, PyTuple, sequenceItems, typeName, type BinaryOperator, type HostObject, type Kwargs, type Value } from '../values';
import { occ } from './geom';
import { Frame, PlaneObj } from './plane';
import { asVec3, toVec3, Vec3 } from './vec';

export const IDENTITY = new Frame(Vec3.ZERO, new Vec3(1, 0, 0), new Vec3(0, 0, 1));

export class LocationObj implements HostObject {
  readonly kind = 'host';
  readonly typeName = 'Location';
  constructor(readonly frame: Frame) {}

  getAttr(name: string): Value | undefined {
    switch (name) {
      case 'toTuple':
        return builtin('Location.toTuple', () => {
          const o = this.frame.origin;
          const [rx, ry, rz] = eulerAngles(this.frame);
          return new PyTuple([new PyTuple([o.x, o.y, o.z]), new PyTuple([rx, ry, rz])]);
        });
      case 'inverse':
        return new LocationObj(inverseFrame(this.frame));
      case 'plane':
        return new PlaneObj(this.frame);
    }
    return undefined;
  }

  binaryOp(op: BinaryOperator, other: Value, reflected: boolean): Value | undefined {
    if (op !== '*' || !(other instanceof LocationObj)) return undefined;
    return new LocationObj(reflected ? composeFrames(other.frame, this.frame) : composeFrames(this.frame, other.frame));
  }
}

/** `a * b`: the placement that applies b, then a. */
export function composeFrames(a: Frame, b: Frame): Frame {
  return new Frame(a.toWorldVec(b.origin), a.dirToWorld(b.xDir), a.dirToWorld(b.zDir));
}

export function inverseFrame(f: Frame): Frame {
  // The inverse rotation is the transpose: its columns are the rows of f's.
  const x = new Vec3(f.xDir.x, f.yDir.x, f.zDir.x);
  const z = new Vec3(f.xDir.z, f.yDir.z, f.zDir.z);
  const o = f.origin;
  const t = new Vec3(-o.dot(f.xDir), -o.dot(f.yDir), -o.dot(f.zDir));
  return new Frame(t, x, z);
}

/** Location(x, y, z, rx, ry, rz): degrees, extrinsic X then Y then Z (gp_Extrinsic_XYZ). */
export function eulerFrame(x: number, y: number, z: number, rx: number, ry: number, rz: number): Frame {
  const rad = Math.PI / 180;
  const [ca, sa] = [Math.cos(rx * rad), Math.sin(rx * rad)];
  const [cb, sb] = [Math.cos(ry * rad), Math.sin(ry * rad)];
  const [cc, sc] = [Math.cos(rz * rad), Math.sin(rz * rad)];
  // Columns of R = Rz(c)·Ry(b)·Rx(a): the images of the x and z axes.
  const xDir = new Vec3(cb * cc, cb * sc, -sb);
  const zDir = new Vec3(ca * sb * cc + sa * sc, ca * sb * sc - sa * cc, ca * cb);
  return new Frame(new Vec3(x, y, z), xDir, zDir);
}

/** The extrinsic XYZ angles of a frame's rotation, in degrees (Location.toTuple()). */
export function eulerAngles(f: Frame): [number, number, number] {
  const deg = 180 / Math.PI;
  const r20 = f.xDir.z;
  const b = Math.asin(Math.max(-1, Math.min(1, -r20)));
  if (Math.abs(r20) > 1 - 1e-12) {
    // Gimbal lock: put everything into the rotation about z.
    return [0, b * deg, Math.atan2(-f.yDir.x, f.yDir.y) * deg];
  }
  const a = Math.atan2(f.yDir.z, f.zDir.z);
  const c = Math.atan2(f.xDir.y, f.xDir.x);
  return [a * deg, b * deg, c * deg];
}

/** A copy of `shape` moved by `f` relative to where it is (Shape.moved(loc)). */
export function movedShape<T extends AnyShape>(shape: T, f: Frame): T {
  return occ('moved', (oc, keep) => {
    const loc = keep(new oc.TopLoc_Location(keep(frameTrsf(oc, f))));
    return cast(shape.wrapped.Moved(loc, false)) as T;
  });
}

/** A copy of `shape` placed at `f` absolutely, its own location replaced (Shape.located(loc)). */
export function locatedShape<T extends AnyShape>(shape: T, f: Frame): T {
  return occ('located', (oc, keep) => {
    const loc = keep(new oc.TopLoc_Location(keep(frameTrsf(oc, f))));
    return cast(shape.wrapped.Located(loc, false)) as T;
  });
}

// biome-ignore lint/suspicious/noExplicitAny: the OpenCascade module is typed loosely on purpose
function frameTrsf(oc: any, f: Frame) {
  const t = new oc.gp_Trsf();
  const { xDir: a, yDir: b, zDir: c, origin: o } = f;
  t.SetValues(a.x, b.x, c.x, o.x, a.y, b.y, c.y, o.y, a.z, b.z, c.z, o.z);
  return t;
}

/**
 * A Python value as a Location: a Location, a Plane (its placement), or a vector-like (a
 * translation). Undefined for anything else.
 */
export function asLocation(v: Value | undefined): Frame | undefined {
  if (v instanceof LocationObj) return v.frame;
  if (v instanceof PlaneObj) return v.frame;
  const p = asVec3(v);
  return p ? IDENTITY.withOrigin(p) : undefined;
}

export function toLocation(method: string, arg: string, v: Value | undefined): Frame {
  const f = asLocation(v);
  if (f) return f;
  throw new CadError('runtime', `${method}(): '${arg}' must be a Location or a vector, not ${v === undefined ? 'missing' : typeName(v)}`);
}

/**
 * `Location(...)` as CadQuery dispatches it: (), (t), (x, y, z, rx, ry, rz) and keywords,
 * (Plane), (Plane, t), (t, axis, angle), (t, (rx, ry, rz)).
 */
export function locationFromArgs(method: string, args: Value[], kwargs: Kwargs): Frame {
  const numeric = args.every((a) => typeof a === 'number' || typeof a === 'boolean');
  if (numeric) {
    const b = bindArgs(method, ['x=', 'y=', 'z=', 'rx=', 'ry=', 'rz='], args, kwargs);
    const n = (k: string) => (b[k] === undefined ? 0 : expectNumber(method, k, b[k]));
    return eulerFrame(n('x'), n('y'), n('z'), n('rx'), n('ry'), n('rz'));
  }
  if (Object.keys(kwargs).length) throw new CadError('runtime', `${method}(): keyword arguments only go with numbers (x, y, z, rx, ry, rz)`);
  if (args.length === 1) {
    if (args[0] instanceof LocationObj) return args[0].frame;
    return toLocation(method, 't', args[0]);
  }
  if (args.length === 2 && args[0] instanceof PlaneObj) {
    return args[0].frame.withOrigin(toVec3(method, 'v', args[1]));
  }
  if (args.length === 2) {
    const angles = sequenceItems(args[1]);
    if (angles?.length !== 3) throw new CadError('runtime', `${method}(): the second argument must be 3 rotation angles`);
    const t = toVec3(method, 't', args[0]);
    const [rx, ry, rz] = angles.map((a, i) => expectNumber(method, 'xyz'[i], a));
    return eulerFrame(t.x, t.y, t.z, rx, ry, rz);
  }
  if (args.length === 3) {
    const t = toVec3(method, 't', args[0]);
    const axis = toVec3(method, 'ax', args[1]);
    if (axis.length === 0) throw new CadError('geometry', `${method}(): the rotation axis must not be zero`);
    const angle = (expectNumber(method, 'angle', args[2]) * Math.PI) / 180;
    const k = axis.normalized();
    const rot = (v: Vec3) =>
      v
        .scale(Math.cos(angle))
        .add(k.cross(v).scale(Math.sin(angle)))
        .add(k.scale(k.dot(v) * (1 - Math.cos(angle))));
    return new Frame(t, rot(new Vec3(1, 0, 0)), rot(new Vec3(0, 0, 1)));
  }
  throw new CadError('runtime', `${method}(): unsupported arguments`);
}

export const locationConstructor = builtin('Location', (a, k) => new LocationObj(locationFromArgs('Location', a, k)));
