/**
 * CadQuery's `Plane`: an origin and an orthonormal frame (xDir, yDir = zDir × xDir, zDir).
 * Like CadQuery (which builds a gp_Ax3), an xDir that is not quite perpendicular to the normal is
 * projected onto the plane.
 */
import { CadError } from '../../errors';
import { bindArgs, builtin, expectNumber, expectString, type HostObject, type Value } from '../values';
import { toVec3, Vec3, VectorObj } from './vec';

export class Frame {
  readonly xDir: Vec3;
  readonly yDir: Vec3;
  readonly zDir: Vec3;

  constructor(
    readonly origin: Vec3,
    xDir: Vec3,
    normal: Vec3,
  ) {
    if (normal.length === 0) throw new CadError('geometry', 'Plane(): normal must not be a zero vector');
    if (xDir.length === 0) throw new CadError('geometry', 'Plane(): xDir must not be a zero vector');
    const z = normal.normalized();
    const projected = xDir.sub(z.scale(xDir.dot(z)));
    if (projected.length < 1e-9 * xDir.length) throw new CadError('geometry', 'Plane(): xDir must not be parallel to the normal');
    this.zDir = z;
    this.xDir = projected.normalized();
    this.yDir = z.cross(this.xDir).normalized();
  }

  /** Local (x, y, z) → world. */
  toWorld(x: number, y: number, z = 0): Vec3 {
    const o = this.origin;
    const a = this.xDir;
    const b = this.yDir;
    const c = this.zDir;
    return new Vec3(o.x + a.x * x + b.x * y + c.x * z, o.y + a.y * x + b.y * y + c.y * z, o.z + a.z * x + b.z * y + c.z * z);
  }
  toWorldVec(p: Vec3): Vec3 {
    return this.toWorld(p.x, p.y, p.z);
  }
  /** A direction in local coordinates → world direction. */
  dirToWorld(d: Vec3): Vec3 {
    return this.xDir.scale(d.x).add(this.yDir.scale(d.y)).add(this.zDir.scale(d.z));
  }
  /** World point → local coordinates. */
  toLocal(p: Vec3): Vec3 {
    const d = p.sub(this.origin);
    return new Vec3(d.dot(this.xDir), d.dot(this.yDir), d.dot(this.zDir));
  }
  withOrigin(origin: Vec3): Frame {
    return new Frame(origin, this.xDir, this.zDir);
  }
  /** Rotates the frame about its own z axis by `degrees`. */
  rotatedAboutZ(degrees: number): Frame {
    if (degrees === 0) return this;
    const r = (degrees * Math.PI) / 180;
    const x = this.xDir.scale(Math.cos(r)).add(this.yDir.scale(Math.sin(r)));
    return new Frame(this.origin, x, this.zDir);
  }
  /** CadQuery's Plane.rotated((rx, ry, rz)): T = Rx·Ry·Rz about this plane's own (fixed) axes. */
  rotated(rx: number, ry: number, rz: number): Frame {
    const apply = (v: Vec3) => {
      let r = v;
      if (rz) r = rotateAbout(r, this.zDir, (rz * Math.PI) / 180);
      if (ry) r = rotateAbout(r, this.yDir, (ry * Math.PI) / 180);
      if (rx) r = rotateAbout(r, this.xDir, (rx * Math.PI) / 180);
      return r;
    };
    return new Frame(this.origin, apply(this.xDir), apply(this.zDir));
  }
}

/** Rodrigues rotation of `v` about the unit `axis` by `radians`. */
export function rotateAbout(v: Vec3, axis: Vec3, radians: number): Vec3 {
  const k = axis.normalized();
  const c = Math.cos(radians);
  const s = Math.sin(radians);
  return v
    .scale(c)
    .add(k.cross(v).scale(s))
    .add(k.scale(k.dot(v) * (1 - c)));
}

const NAMED: Record<string, [Vec3, Vec3]> = {
  XY: [new Vec3(1, 0, 0), new Vec3(0, 0, 1)],
  YZ: [new Vec3(0, 1, 0), new Vec3(1, 0, 0)],
  ZX: [new Vec3(0, 0, 1), new Vec3(0, 1, 0)],
  XZ: [new Vec3(1, 0, 0), new Vec3(0, -1, 0)],
  YX: [new Vec3(0, 1, 0), new Vec3(0, 0, -1)],
  ZY: [new Vec3(0, 0, 1), new Vec3(-1, 0, 0)],
  front: [new Vec3(1, 0, 0), new Vec3(0, 0, 1)],
  back: [new Vec3(-1, 0, 0), new Vec3(0, 0, -1)],
  left: [new Vec3(0, 0, 1), new Vec3(-1, 0, 0)],
  right: [new Vec3(0, 0, -1), new Vec3(1, 0, 0)],
  top: [new Vec3(1, 0, 0), new Vec3(0, 1, 0)],
  bottom: [new Vec3(1, 0, 0), new Vec3(0, -1, 0)],
};

export const PLANE_NAMES = Object.keys(NAMED);

export function namedFrame(name: string, origin: Vec3 = Vec3.ZERO): Frame {
  const dirs = NAMED[name];
  if (!dirs) throw new CadError('runtime', `unknown plane name '${name}': use one of ${PLANE_NAMES.join(', ')}`);
  return new Frame(origin, dirs[0], dirs[1]);
}

/** The Python `cq.Plane`. */
export class PlaneObj implements HostObject {
  readonly kind = 'host';
  readonly typeName = 'Plane';
  constructor(readonly frame: Frame) {}

  getAttr(name: string): Value | undefined {
    const f = this.frame;
    switch (name) {
      case 'origin':
        return new VectorObj(f.origin);
      case 'xDir':
        return new VectorObj(f.xDir);
      case 'yDir':
        return new VectorObj(f.yDir);
      case 'zDir':
        return new VectorObj(f.zDir);
      case 'toWorldCoords':
        return builtin('Plane.toWorldCoords', (a, k) => {
          const p = toVec3('Plane.toWorldCoords', 'point', bindArgs('Plane.toWorldCoords', ['point'], a, k).point);
          return new VectorObj(f.toWorldVec(p));
        });
      case 'toLocalCoords':
        return builtin('Plane.toLocalCoords', (a, k) => {
          const p = toVec3('Plane.toLocalCoords', 'point', bindArgs('Plane.toLocalCoords', ['point'], a, k).point);
          return new VectorObj(f.toLocal(p));
        });
      case 'rotated':
        return builtin('Plane.rotated', (a, k) => {
          const r = toVec3('Plane.rotated', 'rotate', bindArgs('Plane.rotated', ['rotate='], a, k).rotate ?? new VectorObj(Vec3.ZERO));
          return new PlaneObj(f.rotated(r.x, r.y, r.z));
        });
      case 'setOrigin2d':
        return undefined;
    }
    return undefined;
  }
}

/** `cq.Plane(origin, xDir=None, normal=(0,0,1))`. */
export const planeConstructor = builtin('Plane', (args, kwargs) => {
  const b = bindArgs('Plane', ['origin', 'xDir=', 'normal='], args, kwargs);
  const origin = toVec3('Plane', 'origin', b.origin);
  const normal = b.normal === undefined ? new Vec3(0, 0, 1) : toVec3('Plane', 'normal', b.normal);
  let xDir: Vec3;
  if (b.xDir === undefined || b.xDir === null) {
    // OCCT's gp_Ax3(P, N) default X direction.
    xDir = defaultXDir(normal);
  } else xDir = toVec3('Plane', 'xDir', b.xDir);
  return new PlaneObj(new Frame(origin, xDir, normal));
});

/** gp_Ax3(P, N)'s choice of X direction for a normal N (as in gp_Ax2's constructor). */
export function defaultXDir(n: Vec3): Vec3 {
  const a = Math.abs(n.x);
  const b = Math.abs(n.y);
  const c = Math.abs(n.z);
  if (b <= a && b <= c) return a > c ? new Vec3(-n.z, 0, n.x) : new Vec3(n.z, 0, -n.x);
  if (a <= b && a <= c) return b > c ? new Vec3(0, -n.z, n.y) : new Vec3(0, n.z, -n.y);
  return a > b ? new Vec3(-n.y, n.x, 0) : new Vec3(n.y, -n.x, 0);
}

/** `cq.Plane.named(name, origin)` and friends, exposed as plain functions on the module. */
export function namedPlaneFunction(name: string) {
  return builtin(`Plane.${name}`, (args, kwargs) => {
    const b = bindArgs(`Plane.${name}`, ['origin=', 'xDir='], args, kwargs);
    const origin = b.origin === undefined ? Vec3.ZERO : toVec3(`Plane.${name}`, 'origin', b.origin);
    return new PlaneObj(namedFrame(name, origin));
  });
}

export function planeNamedFunction() {
  return builtin('Plane.named', (args, kwargs) => {
    const b = bindArgs('Plane.named', ['stdName', 'origin='], args, kwargs);
    const origin = b.origin === undefined ? Vec3.ZERO : toVec3('Plane.named', 'origin', b.origin);
    return new PlaneObj(namedFrame(expectString('Plane.named', 'stdName', b.stdName), origin));
  });
}

export { expectNumber };
