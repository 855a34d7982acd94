/**
 * CadQuery's `Vector`: a plain immutable 3-vector for the geometry code (`Vec3`) and its Python face
 * (`VectorObj`), plus the coercions CadQuery accepts wherever it takes a "VectorLike".
 */
import { CadError } from '../../errors';
import {
  builtin,
  bindArgs,
  expectNumber,
  isHost,
  PyTuple,
  sequenceItems,
  typeName,
  type BinaryOperator,
  type HostObject,
  type Kwargs,
  type Value,
} from '../values';

export class Vec3 {
  constructor(
    readonly x: number,
    readonly y: number,
    readonly z: number,
  ) {}
  static readonly ZERO = new Vec3(0, 0, 0);
  add(o: Vec3): Vec3 {
    return new Vec3(this.x + o.x, this.y + o.y, this.z + o.z);
  }
  sub(o: Vec3): Vec3 {
    return new Vec3(this.x - o.x, this.y - o.y, this.z - o.z);
  }
  scale(k: number): Vec3 {
    return new Vec3(this.x * k, this.y * k, this.z * k);
  }
  dot(o: Vec3): number {
    return this.x * o.x + this.y * o.y + this.z * o.z;
  }
  cross(o: Vec3): Vec3 {
    return new Vec3(this.y * o.z - this.z * o.y, this.z * o.x - this.x * o.z, this.x * o.y - this.y * o.x);
  }
  get length(): number {
    return Math.hypot(this.x, this.y, this.z);
  }
  normalized(): Vec3 {
    const l = this.length;
    if (l === 0) throw new CadError('geometry', 'cannot normalize a zero-length vector');
    return this.scale(1 / l);
  }
  /** Angle in radians between this and `o`. */
  angle(o: Vec3): number {
    const d = this.length * o.length;
    if (d === 0) return 0;
    return Math.acos(Math.max(-1, Math.min(1, this.dot(o) / d)));
  }
  distance(o: Vec3): number {
    return Math.hypot(this.x - o.x, this.y - o.y, this.z - o.z);
  }
  toArray(): [number, number, number] {
    return [this.x, this.y, this.z];
  }
  toString(): string {
    return `Vector: (${fmt(this.x)}, ${fmt(this.y)}, ${fmt(this.z)})`;
  }
}

function fmt(n: number): string {
  return Number.isInteger(n) ? `${n}.0` : String(n);
}

/** The Python `cq.Vector`. */
export class VectorObj implements HostObject {
  readonly kind = 'host';
  readonly typeName = 'Vector';
  constructor(readonly v: Vec3) {}

  getAttr(name: string): Value | undefined {
    const v = this.v;
    switch (name) {
      case 'x':
        return v.x;
      case 'y':
        return v.y;
      case 'z':
        return v.z;
      case 'Length':
        return v.length;
      case 'wrapped':
        return this;
    }
    const method = VECTOR_METHODS[name];
    return method ? builtin(`Vector.${name}`, (args, kwargs) => method(this.v, args, kwargs)) : undefined;
  }

  binaryOp(op: BinaryOperator, other: Value, reflected: boolean): Value | undefined {
    if (op === '+' || op === '-') {
      const o = asVec3(other);
      if (!o) return undefined;
      if (op === '+') return new VectorObj(this.v.add(o));
      return new VectorObj(reflected ? o.sub(this.v) : this.v.sub(o));
    }
    if (op === '*' && typeof other === 'number') return new VectorObj(this.v.scale(other));
    if (op === '/' && typeof other === 'number' && !reflected) {
      if (other === 0) throw new CadError('runtime', 'Vector division by zero');
      return new VectorObj(this.v.scale(1 / other));
    }
    return undefined;
  }

  toString(): string {
    return this.v.toString();
  }
}

type VectorMethod = (v: Vec3, args: Value[], kwargs: Kwargs) => Value;

const VECTOR_METHODS: Record<string, VectorMethod> = {
  add: (v, a, k) => new VectorObj(v.add(toVec3('Vector.add', 'v', bindArgs('Vector.add', ['v'], a, k).v))),
  sub: (v, a, k) => new VectorObj(v.sub(toVec3('Vector.sub', 'v', bindArgs('Vector.sub', ['v'], a, k).v))),
  multiply: (v, a, k) => new VectorObj(v.scale(expectNumber('Vector.multiply', 'scale', bindArgs('Vector.multiply', ['scale'], a, k).scale))),
  normalized: (v) => new VectorObj(v.normalized()),
  dot: (v, a, k) => v.dot(toVec3('Vector.dot', 'v', bindArgs('Vector.dot', ['v'], a, k).v)),
  cross: (v, a, k) => new VectorObj(v.cross(toVec3('Vector.cross', 'v', bindArgs('Vector.cross', ['v'], a, k).v))),
  getAngle: (v, a, k) => v.angle(toVec3('Vector.getAngle', 'v', bindArgs('Vector.getAngle', ['v'], a, k).v)),
  toTuple: (v) => new PyTuple([v.x, v.y, v.z]),
  Center: (v) => new VectorObj(v),
};

/** A Vec3 from a Vector, a 2- or 3-tuple/list of numbers; undefined when `value` is none of these. */
export function asVec3(value: Value | undefined): Vec3 | undefined {
  if (value instanceof VectorObj) return value.v;
  const items = sequenceItems(value);
  if (items && (items.length === 2 || items.length === 3) && items.every((i) => typeof i === 'number')) {
    const [x, y, z = 0] = items as number[];
    return new Vec3(x, y, z);
  }
  if (value !== undefined && isHost(value)) {
    // Vertices (and anything else exposing a point) can stand in for a vector.
    const toPoint = (value as { toVec3?: () => Vec3 }).toVec3;
    if (typeof toPoint === 'function') return toPoint.call(value);
  }
  return undefined;
}

export function toVec3(fname: string, arg: string, value: Value | undefined): Vec3 {
  const v = asVec3(value);
  if (v) checkFinite(fname, arg, v);
  if (v) return v;
  throw new CadError('runtime', `${fname}(): '${arg}' must be a Vector or a tuple of 2 or 3 numbers, not ${value === undefined ? 'missing' : typeName(value)}`);
}

function checkFinite(fname: string, arg: string, v: Vec3): void {
  if (!Number.isFinite(v.x) || !Number.isFinite(v.y) || !Number.isFinite(v.z)) {
    throw new CadError('geometry', `${fname}(): '${arg}' has a non-finite coordinate`);
  }
}

/** `cq.Vector(x, y, z)`, `cq.Vector((x, y, z))`, `cq.Vector(x, y)`, `cq.Vector()`. */
export const vectorConstructor = builtin('Vector', (args, kwargs) => {
  if (Object.keys(kwargs).length) {
    const b = bindArgs('Vector', ['x=', 'y=', 'z='], args, kwargs);
    return new VectorObj(new Vec3(expectNumber('Vector', 'x', b.x ?? 0), expectNumber('Vector', 'y', b.y ?? 0), expectNumber('Vector', 'z', b.z ?? 0)));
  }
  if (args.length === 0) return new VectorObj(Vec3.ZERO);
  if (args.length === 1) return new VectorObj(toVec3('Vector', 'v', args[0]));
  if (args.length > 3) throw new CadError('runtime', `Vector() takes at most 3 arguments (${args.length} given)`);
  const [x, y, z = 0] = args.map((a, i) => expectNumber('Vector', 'xyz'[i], a));
  const v = new Vec3(x, y, z);
  checkFinite('Vector', 'xyz', v);
  return new VectorObj(v);
});
