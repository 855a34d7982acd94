/**
 * The `cadquery` module for the interpreter, and the way back from a program's globals to one
 * replicad shape.
 */
import { Compound, Solid, type AnyShape, type Shape3D } from 'replicad';
import { CadError } from '../../errors';
import { bindArgs, builtin, expectNumber, hostModule, isHost, PyList, PyTuple, type HostObject, type Value } from '../values';
import { as3D, boxSolid, compoundOf, cylinderSolid, shapeKind, sphereSolid, subShapes } from './geom';
import { namedPlaneFunction, PLANE_NAMES, planeConstructor, planeNamedFunction, PlaneObj } from './plane';
import { ShapeObj } from './shapes';
import { recordExport, type RecordedExport } from './exports';
export { recordingExports, type RecordedExport } from './exports';
import { SketchObj } from './sketch';
import { locationConstructor } from './location';
import { createFuncModule, createWireClass } from './func';
import { createCompoundClass, createEdgeClass, createFaceClass, createShellClass, createVertexClass, solidConstructors, withMissing } from './shape-classes';
import { createSelectorsModule } from './selector-classes';
import { toVec3, Vec3, vectorConstructor, VectorObj } from './vec';
import { LocationObj, Workplane, createWorkplaneClass } from './workplane';
import { namedFrame } from './plane';

export { Workplane, LocationObj } from './workplane';
export { SketchObj } from './sketch';
export { ShapeObj } from './shapes';
export { VectorObj, Vec3 } from './vec';
export { PlaneObj, Frame } from './plane';
export { parseSelector } from './selectors';

/** The value `make` returns, made on the first call. */
function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/**
 * The module's stateless parts (cq.Plane and its named planes, Solid's static constructors,
 * exporters), made once per thread: the preview and the evaluators make the module for every run.
 */
const staticParts = once(() => {
  const planeStatics: Record<string, Value> = { named: planeNamedFunction() };
  for (const n of PLANE_NAMES) planeStatics[n] = namedPlaneFunction(n);
  // cq.Plane is callable and also carries Plane.named / Plane.XY(): a callable with attributes.
  const plane = Object.assign(Object.create(null), planeConstructor, {
    getAttr: (name: string) => planeStatics[name],
  });

  const solidStatics: Record<string, Value> = {
    makeBox: builtin('Solid.makeBox', (a, k) => {
      const b = bindArgs('Solid.makeBox', ['length', 'width', 'height', 'pnt=', 'dir='], a, k);
      const pnt = b.pnt === undefined ? Vec3.ZERO : toVec3('Solid.makeBox', 'pnt', b.pnt);
      const f = namedFrame('XY', pnt);
      return new ShapeObj(
        boxSolid(
          'Solid.makeBox',
          pnt,
          f,
          expectNumber('Solid.makeBox', 'length', b.length),
          expectNumber('Solid.makeBox', 'width', b.width),
          expectNumber('Solid.makeBox', 'height', b.height),
        ),
      );
    }),
    makeCylinder: builtin('Solid.makeCylinder', (a, k) => {
      const b = bindArgs('Solid.makeCylinder', ['radius', 'height', 'pnt=', 'dir=', 'angleDegrees='], a, k);
      const pnt = b.pnt === undefined ? Vec3.ZERO : toVec3('Solid.makeCylinder', 'pnt', b.pnt);
      const dir = b.dir === undefined ? new Vec3(0, 0, 1) : toVec3('Solid.makeCylinder', 'dir', b.dir);
      return new ShapeObj(
        cylinderSolid(
          'Solid.makeCylinder',
          pnt,
          dir,
          new Vec3(1, 0, 0),
          expectNumber('Solid.makeCylinder', 'radius', b.radius),
          expectNumber('Solid.makeCylinder', 'height', b.height),
          b.angleDegrees === undefined ? 360 : expectNumber('Solid.makeCylinder', 'angleDegrees', b.angleDegrees),
        ),
      );
    }),
    makeSphere: builtin('Solid.makeSphere', (a, k) => {
      const b = bindArgs('Solid.makeSphere', ['radius', 'pnt=', 'dir=', 'angleDegrees1=', 'angleDegrees2=', 'angleDegrees3='], a, k);
      const pnt = b.pnt === undefined ? Vec3.ZERO : toVec3('Solid.makeSphere', 'pnt', b.pnt);
      const dir = b.dir === undefined ? new Vec3(0, 0, 1) : toVec3('Solid.makeSphere', 'dir', b.dir);
      const n = (v: Value | undefined, d: number, name: string) => (v === undefined ? d : expectNumber('Solid.makeSphere', name, v));
      return new ShapeObj(
        sphereSolid(
          'Solid.makeSphere',
          pnt,
          dir,
          new Vec3(1, 0, 0),
          expectNumber('Solid.makeSphere', 'radius', b.radius),
          n(b.angleDegrees1, 0, 'angleDegrees1'),
          n(b.angleDegrees2, 90, 'angleDegrees2'),
          n(b.angleDegrees3, 360, 'angleDegrees3'),
        ),
      );
    }),
    ...solidConstructors(),
  };

  // cq.exporters: recorded (the result of a program that only exports its part), not written here;
  // `gift run` writes the recorded STEP/STL files (src/core/jobs/execute.ts, src/cli/commands/run.ts).
  const exporters = hostModule('module', {
    export: builtin('exporters.export', (a, k) => {
      const b = bindArgs('exporters.export', ['w', 'fname', 'exportType=', 'tolerance=', 'angularTolerance=', 'unit=', 'outputUnit=', 'opt='], a, k);
      recordExport(b.w!, b.fname, b.exportType);
      return null;
    }),
    exportShape: builtin('exporters.exportShape', (a, k) => {
      const b = bindArgs('exporters.exportShape', ['w', 'exportType', 'fileLike', 'tolerance=', 'angularTolerance=', 'opt='], a, k);
      recordExport(b.w!, undefined, b.exportType);
      return null;
    }),
  });
  return { plane, solidStatics, exporters };
});

/** The `cq` module: `cq.Workplane`, `cq.Plane`, `cq.Vector`, `cq.Sketch`, `cq.Solid.make*`, … */
export function createCadQueryModule(): HostObject {
  const { plane, solidStatics, exporters } = staticParts();
  // Built on first use: a program touches few of them, and the preview makes this module per run.
  const shapeClasses = once(
    (): Record<string, Value> => ({
      Solid: withMissing('Solid', hostModule('type', solidStatics), ['makeWedge', 'extrudeLinearWithRotation', 'sweep', 'sweep_multi']),
      Wire: withMissing('Wire', createWireClass(), ['combine', 'makeEllipse']),
      Edge: createEdgeClass(),
      Face: createFaceClass(),
      Shell: createShellClass(),
      Vertex: createVertexClass(),
      Compound: createCompoundClass(),
    }),
  );
  const func = once(() => createFuncModule({ Plane: plane as Value, ...shapeClasses() }));
  const selectors = once(createSelectorsModule);
  const attrs: Record<string, Value> = {
    exporters,
    Plane: plane as Value,
    Vector: vectorConstructor,
    Sketch: builtin('Sketch', () => new SketchObj(null)),
    Location: locationConstructor,
  };
  const lazy: Record<string, () => Value> = {
    selectors,
    func,
    occ_impl: once(() => hostModule('module', { shapes: func() })),
    Workplane: once(createWorkplaneClass),
  };
  for (const n of [
    'NearestToPointSelector',
    'ParallelDirSelector',
    'DirectionSelector',
    'PerpendicularDirSelector',
    'TypeSelector',
    'DirectionMinMaxSelector',
    'StringSyntaxSelector',
  ]) {
    lazy[n] = () => selectors().getAttr(n)!;
  }
  for (const n of ['Solid', 'Wire', 'Edge', 'Face', 'Shell', 'Vertex', 'Compound']) lazy[n] = () => shapeClasses()[n];
  for (const [n, get] of Object.entries(lazy)) Object.defineProperty(attrs, n, { get, enumerable: true });
  const module = hostModule('module', attrs);
  // CadQuery's names that are not implemented: an `unsupported` error naming them, not a missing attribute.
  return {
    ...module,
    getAttr: (name: string) => module.getAttr(name) ?? (CQ_UNSUPPORTED.has(name) ? unsupportedName(`cq.${name}`) : undefined),
  };
}

const CQ_UNSUPPORTED = new Set(['Assembly', 'Color', 'importers', 'Matrix', 'BoundBox', 'Selector', 'Workplane2D']);

function unsupportedName(name: string): Value {
  const fail = () => {
    throw new CadError('unsupported', `${name} is not supported yet`);
  };
  return Object.assign(builtin(name, fail), { getAttr: fail });
}

/** Whether a Python value is (or wraps) geometry: a Workplane, a shape or a sketch. */
export function isGeometryValue(v: Value | undefined): boolean {
  return v instanceof Workplane || v instanceof ShapeObj || v instanceof SketchObj;
}

/**
 * The replicad shape a Python value stands for: a Workplane's solids (fused into one when there
 * are several), a shape, or a finalized sketch's faces. Undefined when it holds no geometry.
 */
export function valueToShape(v: Value | undefined): AnyShape | undefined {
  if (v instanceof ShapeObj) return v.shape;
  if (v instanceof SketchObj) return v.faces.length ? compoundOf(v.locatedFaces()) : undefined;
  if (!(v instanceof Workplane)) return undefined;
  v.ensureClean();
  const shapes: AnyShape[] = [];
  for (const o of v.objects) {
    if (o instanceof SketchObj) shapes.push(...o.locatedFaces());
    else if (o instanceof Solid || o instanceof Compound || (isHostless(o) && o.constructor?.name)) {
      if (!(o instanceof Vec3) && !(o instanceof LocationObj)) shapes.push(o as AnyShape);
    }
  }
  if (shapes.length === 0) {
    // CadQuery's show_object of a workplane without a solid on its stack shows the chain's solid.
    const s = v.findSolid();
    return s;
  }
  return shapes.length === 1 ? shapes[0] : compoundOf(shapes);
}

function isHostless(o: unknown): o is object {
  return typeof o === 'object' && o !== null;
}

/** A Python value as a replicad 3D shape (solids fused), or a CadError naming what it was. */
export function valueToShape3D(v: Value | undefined, what = 'the result'): Shape3D {
  const s = valueToShape(v);
  if (!s) throw new CadError('runtime', `${what} holds no solid geometry`);
  const solids = subShapes(s, 'solid');
  if (solids.length === 0) throw new CadError('geometry', `${what} is not a solid (it is a ${shapeKind(s)})`);
  if (s instanceof Solid) return s;
  if (solids.length === 1) return solids[0] as Solid;
  return as3D('result', s);
}

const RESULT_NAMES = ['result', 'solid', 'r'];

/**
 * Picks the program's result: variable `result`, `solid` or `r` (first found), else the first
 * show_object argument; unwraps Workplane → its solid(s) as one replicad Shape3D.
 */
export function resultShape(globals: Map<string, Value>, shown: Value[], exported: RecordedExport[] = []): Shape3D {
  for (const name of RESULT_NAMES) {
    const v = globals.get(name);
    if (v !== undefined && isGeometryValue(v)) return valueToShape3D(v, `\`${name}\``);
  }
  for (const v of shown) if (isGeometryValue(v)) return valueToShape3D(v, 'the shown object');
  for (const e of exported) if (isGeometryValue(e.value)) return valueToShape3D(e.value, 'the exported object');
  throw new CadError('runtime', 'no result: assign the final shape to `result` (or `solid`), call show_object(shape), or export it');
}

export { isHost, PyList, PyTuple, PlaneObj as Plane, VectorObj as Vector };
