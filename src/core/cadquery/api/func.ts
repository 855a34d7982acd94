/**
 * `cadquery.func` (and `cadquery.occ_impl.shapes`): CadQuery's free functions (occ_impl/shapes.py),
 * which build and combine Shapes directly — primitives at the origin (`box(w, l, h)` standing on XY,
 * `cylinder(d, h)`, `sphere(d)` …), edges and wires (`segment`, `polyline`, `rect`, `circle`,
 * `spline`), `wire`/`face`/`shell`/`solid`/`compound` assembly, booleans, `extrude`, `revolve`,
 * `loft`, `offset2D`, `fillet`, `chamfer`, `clean`. Results are normalised as CadQuery's
 * `_compound_or_shape` does. Names this module has in CadQuery but we lack fail as `unsupported`,
 * naming them.
 */
import { cast, type Edge, type Face, type AnyShape, type Solid, Vertex, Wire } from 'replicad';
import { CadError } from '../../errors';
import { bindArgs, builtin, expectBool, expectNumber, expectString, hostModule, sequenceItems, type HostObject, type Kwargs, type Value } from '../values';
import { as3D, boxSolid, circleWire, cleanShape, cylinderSolid, geometryError, LENGTH_EPS, lineEdge, occ, sphereSolid, subShapes } from './geom';
import { locationConstructor } from './location';
import { type LoftParametrization, loftWires } from './loft';
import { defaultXDir, namedFrame } from './plane';
import {
  booleanShapes,
  circleEdge,
  compoundOrShape,
  edgesOf,
  ellipseEdge,
  extrudeShape,
  helixWire,
  facesOfWires,
  makeCompound,
  normalized,
  offsetWires,
  pipeShell,
  sweepFace,
  type Transition,
  ofKinds,
  planeFace,
  polylineWire,
  revolveShape,
  splineEdge,
  sewFaces,
  solidOf,
  wireOfEdges,
  wiresOf,
  type BoolKind,
} from './shape-ops';
import { shapeArg, ShapeObj } from './shapes';
import { toVec3, Vec3, vectorConstructor } from './vec';

type Fn = (args: Value[], kwargs: Kwargs) => Value;

const wrap = (s: AnyShape) => new ShapeObj(s);

/** `f(*shapes)` or `f([shapes])`: CadQuery's multimethod accepts either. */
function shapesOf(method: string, args: Value[]): AnyShape[] {
  const items = args.length === 1 && !(args[0] instanceof ShapeObj) ? sequenceItems(args[0]) : undefined;
  return (items ?? args).map((v) => shapeArg(method, v));
}

function noKwargsBut(method: string, kwargs: Kwargs, allowed: string[]): void {
  for (const k of Object.keys(kwargs)) {
    if (!allowed.includes(k)) throw new CadError('runtime', `${method}() got an unexpected keyword argument '${k}'`);
  }
}

/** A finite number argument (or `fallback` when absent). */
export function num(method: string, name: string, v: Value | undefined, fallback?: number): number {
  if (v === undefined && fallback !== undefined) return fallback;
  const n = expectNumber(method, name, v);
  if (!Number.isFinite(n)) throw geometryError(method, `'${name}' must be finite`);
  return n;
}

function points(method: string, values: readonly Value[]): Vec3[] {
  return values.map((p) => toVec3(method, 'pts', p));
}

const XY = namedFrame('XY');

const FUNCTIONS: Record<string, Fn> = {
  // ---- primitives ----
  vertex: (a, k) => {
    let p: Vec3;
    if (a.length === 1) p = toVec3('vertex', 'p', a[0]);
    else {
      const b = bindArgs('vertex', ['x', 'y', 'z'], a, k);
      p = new Vec3(num('vertex', 'x', b.x), num('vertex', 'y', b.y), num('vertex', 'z', b.z));
    }
    return wrap(occ('vertex', (oc, keep) => new Vertex(keep(new oc.BRepBuilderAPI_MakeVertex(keep(new oc.gp_Pnt(p.x, p.y, p.z)))).Vertex())));
  },
  segment: (a, k) => {
    const b = bindArgs('segment', ['p1', 'p2'], a, k);
    return wrap(lineEdge('segment', toVec3('segment', 'p1', b.p1), toVec3('segment', 'p2', b.p2)));
  },
  polyline: (a, k) => {
    noKwargsBut('polyline', k, []);
    return wrap(polylineWire('polyline', points('polyline', a), false));
  },
  polygon: (a, k) => {
    noKwargsBut('polygon', k, []);
    return wrap(polylineWire('polygon', points('polygon', a), true));
  },
  rect: (a, k) => {
    const b = bindArgs('rect', ['w', 'h'], a, k);
    const w = num('rect', 'w', b.w);
    const h = num('rect', 'h', b.h);
    const pts = [new Vec3(-w / 2, -h / 2, 0), new Vec3(w / 2, -h / 2, 0), new Vec3(w / 2, h / 2, 0), new Vec3(-w / 2, h / 2, 0)];
    return wrap(polylineWire('rect', pts, true));
  },
  spline: (a, k) => {
    // spline(*pts, tol, periodic) or spline(pts, tgts=None, params=None, tol, periodic, scale)
    const first = sequenceItems(a[0]);
    if (first !== undefined && first.length > 0 && typeof first[0] !== 'number') {
      const b = bindArgs('spline', ['pts', 'tgts=', 'params=', 'tol=', 'periodic=', 'scale='], a, k);
      const tgts = b.tgts === undefined || b.tgts === null ? undefined : points('spline', sequenceItems(b.tgts) ?? []);
      const params = b.params === undefined || b.params === null ? undefined : (sequenceItems(b.params) ?? []).map((v) => num('spline', 'params', v));
      const pts = points('spline', sequenceItems(b.pts)!);
      // func.spline: tangents at the ends unless there is one per point.
      const ends = tgts && tgts.length !== pts.length;
      return wrap(
        splineEdge('spline', pts, {
          endTangents: ends ? [tgts[0], tgts[1]] : undefined,
          tangents: ends ? undefined : tgts,
          params,
          tol: num('spline', 'tol', b.tol, 1e-6),
          periodic: expectBool('spline', 'periodic', b.periodic, false),
          scale: expectBool('spline', 'scale', b.scale, true),
        }),
      );
    }
    noKwargsBut('spline', k, ['tol', 'periodic']);
    return wrap(
      splineEdge('spline', points('spline', a), {
        tol: num('spline', 'tol', k.tol, 1e-6),
        periodic: expectBool('spline', 'periodic', k.periodic, false),
        scale: true,
      }),
    );
  },
  circle: (a, k) => wrap(circleEdge('circle', num('circle', 'r', bindArgs('circle', ['r'], a, k).r))),
  ellipse: (a, k) => {
    const b = bindArgs('ellipse', ['r1', 'r2'], a, k);
    return wrap(ellipseEdge('ellipse', num('ellipse', 'r1', b.r1), num('ellipse', 'r2', b.r2)));
  },
  plane: (a, k) => {
    if (a.length === 0 && Object.keys(k).length === 0) return wrap(planeFace('plane'));
    const b = bindArgs('plane', ['w', 'l'], a, k);
    return wrap(planeFace('plane', num('plane', 'w', b.w), num('plane', 'l', b.l)));
  },
  box: (a, k) => {
    const b = bindArgs('box', ['w', 'l', 'h'], a, k);
    const w = num('box', 'w', b.w);
    const l = num('box', 'l', b.l);
    const h = num('box', 'h', b.h);
    return wrap(boxSolid('box', new Vec3(-w / 2, -l / 2, 0), XY, w, l, h));
  },
  cylinder: (a, k) => {
    const b = bindArgs('cylinder', ['d', 'h'], a, k);
    return wrap(cylinderSolid('cylinder', Vec3.ZERO, new Vec3(0, 0, 1), new Vec3(1, 0, 0), num('cylinder', 'd', b.d) / 2, num('cylinder', 'h', b.h)));
  },
  sphere: (a, k) => {
    const b = bindArgs('sphere', ['d'], a, k);
    return wrap(sphereSolid('sphere', Vec3.ZERO, new Vec3(0, 0, 1), new Vec3(1, 0, 0), num('sphere', 'd', b.d) / 2, -90, 90, 360));
  },
  torus: (a, k) => {
    const b = bindArgs('torus', ['d1', 'd2'], a, k);
    const r1 = num('torus', 'd1', b.d1) / 2;
    const r2 = num('torus', 'd2', b.d2) / 2;
    if (!(r1 > LENGTH_EPS && r2 > LENGTH_EPS)) throw geometryError('torus', 'diameters must be positive');
    return wrap(
      occ('torus', (oc, keep) => {
        const ax = keep(new oc.gp_Ax2(keep(new oc.gp_Pnt(0, 0, 0)), keep(new oc.gp_Dir(0, 0, 1))));
        return cast(keep(new oc.BRepPrimAPI_MakeTorus(ax, r1, r2, 0, 2 * Math.PI)).Shape());
      }),
    );
  },
  cone: (a, k) => {
    const b = a.length >= 3 || 'd2' in k || 'd1' in k ? bindArgs('cone', ['d1', 'd2', 'h'], a, k) : bindArgs('cone', ['d', 'h'], a, k);
    const d1 = num('cone', 'd1', b.d1 ?? b.d);
    const d2 = b.d2 === undefined ? 0 : num('cone', 'd2', b.d2);
    return wrap(revolutionCone('cone', d1 / 2, d2 / 2, num('cone', 'h', b.h)));
  },

  // ---- assembly ----
  wire: (a, k) => {
    noKwargsBut('wire', k, []);
    return wrap(wireOfEdges('wire', edgesOf('wire', shapesOf('wire', a))));
  },
  face: (a, k) => {
    noKwargsBut('face', k, []);
    const wires = shapesOf('face', a).flatMap((s) => wiresOf('face', s));
    const faces = facesOfWires('face', wires);
    if (faces.length === 0) throw geometryError('face', 'face construction failed');
    return wrap(faces[0]);
  },
  shell: (a, k) => {
    noKwargsBut('shell', k, ['tol', 'manifold', 'ctx', 'history', 'name']);
    const faces = shapesOf('shell', a).flatMap((s) => ofKinds('shell', s, ['Face'])) as Face[];
    // ctx: local sewing — the context is loaded into the sewing and comes out sewn with the faces.
    const ctx = k.ctx === undefined || k.ctx === null ? [] : k.ctx instanceof ShapeObj ? [k.ctx.shape] : [makeCompound(shapesOf('shell', [k.ctx]))];
    return wrap(sewFaces('shell', faces, num('shell', 'tol', k.tol, 1e-6), expectBool('shell', 'manifold', k.manifold, true), ctx));
  },
  solid: (a, k) => {
    noKwargsBut('solid', k, ['tol', 'inner', 'history', 'name']);
    if (k.inner !== undefined && k.inner !== null) throw new CadError('unsupported', 'solid(): inner shells (inner=) are not supported yet');
    return wrap(solidOf('solid', shapesOf('solid', a), num('solid', 'tol', k.tol, 1e-6)));
  },
  compound: (a, k) => {
    noKwargsBut('compound', k, []);
    return wrap(makeCompound(shapesOf('compound', a)));
  },

  // ---- operations ----
  fuse: (a, k) => {
    noKwargsBut('fuse', k, ['tol', 'glue', 'history', 'name']);
    const shapes = a.map((s) => shapeArg('fuse', s));
    if (shapes.length < 2) throw new CadError('runtime', 'fuse() needs at least two shapes');
    return wrap(booleanShapes('fuse', 'fuse', shapes[0], shapes.slice(1)));
  },
  cut: (a, k) => binary('cut', 'cut', a, k),
  intersect: (a, k) => binary('intersect', 'intersect', a, k),
  split: (a, k) => binary('split', 'split', a, k),
  clean: (a, k) => wrap(normalized(cleanShape(shapeArg('clean', bindArgs('clean', ['s'], a, k).s)))),
  extrude: (a, k) => {
    const b = bindArgs('extrude', ['s', 'd', 'both=', 'history=', 'name='], a, k);
    return wrap(extrudeShape('extrude', shapeArg('extrude', b.s), toVec3('extrude', 'd', b.d), expectBool('extrude', 'both', b.both, false)));
  },
  revolve: (a, k) => {
    const b = bindArgs('revolve', ['s', 'p', 'd', 'a=', 'history=', 'name='], a, k);
    return wrap(revolveShape('revolve', shapeArg('revolve', b.s), toVec3('revolve', 'p', b.p), toVec3('revolve', 'd', b.d), num('revolve', 'a', b.a, 360)));
  },
  loft: (a, k) => {
    noKwargsBut('loft', k, ['cap', 'ruled', 'continuity', 'parametrization', 'degree', 'compat', 'smoothing', 'weights', 'history', 'name']);
    const shapes = shapesOf('loft', a);
    if (shapes.some((s) => subShapes(s, 'face').length > 0)) throw new CadError('unsupported', 'loft(): lofting faces is not supported yet (loft their wires)');
    const lists = wireLists('loft', shapes);
    const cap = expectBool('loft', 'cap', k.cap, false);
    const ruled = expectBool('loft', 'ruled', k.ruled, false);
    const oneOf = <T extends string>(name: string, v: Value | undefined, allowed: readonly T[], dflt: T): T => {
      if (v === undefined) return dflt;
      const s = expectString('loft', name, v);
      if (!(allowed as readonly string[]).includes(s))
        throw new CadError('runtime', `loft(): ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, not '${s}'`);
      return s as T;
    };
    const weights = k.weights === undefined ? [1, 1, 1] : (sequenceItems(k.weights) ?? []).map((w) => expectNumber('loft', 'weights', w));
    if (weights.length !== 3) throw new CadError('runtime', 'loft(): weights must be three numbers');
    const options = {
      maxDegree: num('loft', 'degree', k.degree, 3),
      continuity: oneOf('continuity', k.continuity, ['C1', 'C2', 'C3'] as const, 'C2'),
      parametrization: oneOf<LoftParametrization>('parametrization', k.parametrization, ['uniform', 'chordal', 'centripetal'] as const, 'uniform'),
      compat: expectBool('loft', 'compat', k.compat, true),
      smoothing: expectBool('loft', 'smoothing', k.smoothing, false),
      weights: weights as [number, number, number],
    };
    return wrap(compoundOrShape(lists.map((l) => loftWires('loft', l, cap, ruled, options))));
  },
  offset2D: (a, k) => {
    const b = bindArgs('offset2D', ['s', 't', 'ctx=', 'kind=', 'closed='], a, k);
    if (b.ctx !== undefined && b.ctx !== null) throw new CadError('unsupported', 'offset2D(): a context face (ctx=) is not supported yet');
    const s = shapeArg('offset2D', b.s);
    return wrap(
      offsetWires(
        'offset2D',
        wiresOf('offset2D', s),
        num('offset2D', 't', b.t),
        b.kind === undefined ? 'arc' : expectString('offset2D', 'kind', b.kind),
        expectBool('offset2D', 'closed', b.closed, true),
      ),
    );
  },
  fill: (a, k) => {
    const b = bindArgs('fill', ['s', 'constraints='], a, k);
    const edges = edgesOf('fill', [shapeArg('fill', b.s)]);
    const constraints = b.constraints === undefined || b.constraints === null ? [] : (sequenceItems(b.constraints) ?? []);
    return wrap(
      occ('fill', (oc, keep) => {
        const builder = keep(new oc.BRepOffsetAPI_MakeFilling(3, 15, 2, false, 1e-5, 1e-4, 1e-2, 0.1, 8, 9));
        const C0 = oc.GeomAbs_Shape.GeomAbs_C0;
        for (const e of edges) builder.Add(e.wrapped, C0, true);
        for (const c of constraints) {
          if (c instanceof ShapeObj) for (const e of edgesOf('fill', [c.shape])) builder.Add(e.wrapped, C0, false);
          else {
            const p = toVec3('fill', 'constraints', c);
            builder.Add(keep(new oc.gp_Pnt(p.x, p.y, p.z)));
          }
        }
        builder.Build(keep(new oc.Message_ProgressRange()));
        if (!builder.IsDone()) throw geometryError('fill', 'could not fill the edges');
        return normalized(cast(builder.Shape()));
      }),
    );
  },
  cap: (a, k) => {
    const b = bindArgs('cap', ['s', 'ctx', 'constraints='], a, k);
    const edges = edgesOf('cap', [shapeArg('cap', b.s)]);
    const ctxFaces = subShapes(shapeArg('cap', b.ctx), 'face') as Face[];
    const constraints = b.constraints === undefined || b.constraints === null ? [] : (sequenceItems(b.constraints) ?? []);
    return wrap(
      occ('cap', (oc, keep) => {
        const builder = keep(new oc.BRepOffsetAPI_MakeFilling(3, 15, 2, false, 1e-5, 1e-4, 1e-2, 0.1, 8, 9));
        builder.SetResolParam(2, 15, 5, false);
        for (const e of edges) {
          // The face of the context the edge bounds (Shape.ancestors), joined tangentially (G1).
          const f = ctxFaces.find((face) => subShapes(face, 'edge').some((fe) => fe.isSame(e)));
          if (!f) throw geometryError('cap', 'an edge does not bound a face of the context shape');
          builder.Add(e.wrapped, f.wrapped, oc.GeomAbs_Shape.GeomAbs_G1, true);
        }
        for (const c of constraints) {
          if (c instanceof ShapeObj) for (const e of edgesOf('cap', [c.shape])) builder.Add(e.wrapped, oc.GeomAbs_Shape.GeomAbs_C0, false);
          else {
            const p = toVec3('cap', 'constraints', c);
            builder.Add(keep(new oc.gp_Pnt(p.x, p.y, p.z)));
          }
        }
        builder.Build(keep(new oc.Message_ProgressRange()));
        if (!builder.IsDone()) throw geometryError('cap', 'could not fill the edges');
        return normalized(cast(builder.Shape()));
      }),
    );
  },
  sweep: (a, k) => {
    const b = bindArgs('sweep', ['s', 'path', 'aux=', 'cap=', 'transition=', 'history=', 'name='], a, k);
    if (b.s !== undefined && !(b.s instanceof ShapeObj)) throw new CadError('unsupported', 'sweep(): sweeping several sections (a list) is not supported yet');
    const s = shapeArg('sweep', b.s);
    const path = ofKinds('sweep', shapeArg('sweep', b.path), ['Wire', 'Edge'])[0];
    const spine = path instanceof Wire ? path : wireOfEdges('sweep', [path as Edge]);
    let auxSpine: Wire | undefined;
    if (b.aux !== undefined && b.aux !== null) {
      const aux = ofKinds('sweep', shapeArg('sweep', b.aux), ['Wire', 'Edge'])[0];
      auxSpine = aux instanceof Wire ? aux : wireOfEdges('sweep', [aux as Edge]);
    }
    const transition = b.transition === undefined ? 'transformed' : expectString('sweep', 'transition', b.transition);
    if (!['right', 'round', 'transformed'].includes(transition)) throw new CadError('runtime', "sweep(): transition must be 'transformed', 'round' or 'right'");
    const faces = subShapes(s, 'face') as Face[];
    const o = { makeSolid: true, isFrenet: false, transition: transition as Transition, auxSpine };
    // Faces: each made a solid (outer sweep less the inner ones); else each wire swept, capped when asked.
    if (faces.length) return wrap(compoundOrShape(faces.map((f) => sweepFace('sweep', f, spine, o))));
    const cap = expectBool('sweep', 'cap', b.cap, false);
    return wrap(compoundOrShape(wiresOf('sweep', s).map((w) => pipeShell('sweep', [w], spine, { ...o, makeSolid: cap }))));
  },
  fillet: (a, k) => edgeFeature('fillet', a, k),
  chamfer: (a, k) => edgeFeature('chamfer', a, k),
};

function binary(method: string, kind: BoolKind, a: Value[], k: Kwargs): Value {
  const b = bindArgs(method, ['s1', 's2', 'tol=', 'glue=', 'history=', 'name='], a, k);
  return wrap(booleanShapes(method, kind, shapeArg(method, b.s1), [shapeArg(method, b.s2)]));
}

/** func.fillet / func.chamfer(s, edges, r): on the one shell or solid of `s`. */
function edgeFeature(method: 'fillet' | 'chamfer', a: Value[], k: Kwargs): Value {
  const b = bindArgs(method, ['s', 'edges', method === 'fillet' ? 'r' : 'd', 'history=', 'name='], a, k);
  const target = ofKinds(method, shapeArg(method, b.s), ['Shell', 'Solid'])[0];
  const edges = subShapes(shapeArg(method, b.edges), 'edge');
  const r = num(method, method === 'fillet' ? 'r' : 'd', method === 'fillet' ? b.r : b.d);
  return wrap(
    occ(method, (oc, keep) => {
      const maker = keep(
        method === 'fillet'
          ? new oc.BRepFilletAPI_MakeFillet(target.wrapped, oc.ChFi3d_FilletShape.ChFi3d_Rational)
          : new oc.BRepFilletAPI_MakeChamfer(target.wrapped),
      );
      for (const e of edges) maker.Add(r, e.wrapped);
      maker.Build();
      if (!maker.IsDone()) throw geometryError(method, `could not ${method} with ${r}`);
      return normalized(cast(maker.Shape()));
    }),
  );
}

/** CadQuery's _get_wire_lists: one list per wire of the first shape, a vertex allowed at either end. */
function wireLists(method: string, shapes: AnyShape[]): (Wire | Vertex)[][] {
  const sections = (s: AnyShape, end: boolean): (Wire | Vertex)[] => {
    try {
      return wiresOf(method, s);
    } catch (e) {
      if (!end) throw e;
      return subShapes(s, 'vertex') as Vertex[];
    }
  };
  let lists: (Wire | Vertex)[][] = [];
  shapes.forEach((s, i) => {
    const items = sections(s, i === 0 || i === shapes.length - 1);
    if (i === 0) lists = items.map((w) => [w]);
    else
      lists.forEach((l, j) => {
        if (items[j]) l.push(items[j]);
      });
  });
  return lists;
}

/**
 * A cone (or frustum) of radii r1 at z = 0 and r2 at z = h. This OpenCascade build lacks
 * BRepPrimAPI_MakeCone; BRepPrimAPI_MakeRevolution of the straight meridian builds the same
 * faces, edges and vertices (both are BRepPrim_OneAxis), on a surface of revolution.
 */
function revolutionCone(method: string, r1: number, r2: number, h: number): Solid {
  if (!(h > LENGTH_EPS)) throw geometryError(method, `height must be positive (got ${h})`);
  if (r1 < 0 || r2 < 0 || (r1 < LENGTH_EPS && r2 < LENGTH_EPS)) throw geometryError(method, 'the diameters must not both be zero');
  return occ(method, (oc, keep) => {
    const edge = lineEdge(method, new Vec3(r1, 0, 0), new Vec3(r2, 0, h));
    const { returnValue: line, First: first, Last: last } = oc.BRep_Tool.Curve(edge.wrapped, 0, 0);
    const ax = keep(new oc.gp_Ax2(keep(new oc.gp_Pnt(0, 0, 0)), keep(new oc.gp_Dir(0, 0, 1)), keep(new oc.gp_Dir(1, 0, 0))));
    return as3D(method, cast(keep(new oc.BRepPrimAPI_MakeRevolution(ax, line, first, last, 2 * Math.PI)).Shape())) as Solid;
  });
}

/** `cq.Wire`: the class methods programs use to make wires. */
export function createWireClass(): HostObject {
  return hostModule('type', {
    makeHelix: builtin('Wire.makeHelix', (a, k) => {
      const m = 'Wire.makeHelix';
      const b = bindArgs(m, ['pitch', 'height', 'radius', 'center=', 'dir=', 'angle=', 'lefthand='], a, k);
      if (b.angle !== undefined && b.angle !== 360) throw new CadError('unsupported', `${m}(): conical helices (angle=) are not supported yet`);
      return wrap(
        helixWire(
          m,
          num(m, 'pitch', b.pitch),
          num(m, 'height', b.height),
          num(m, 'radius', b.radius),
          b.center === undefined ? Vec3.ZERO : toVec3(m, 'center', b.center),
          b.dir === undefined ? new Vec3(0, 0, 1) : toVec3(m, 'dir', b.dir),
          expectBool(m, 'lefthand', b.lefthand, false),
        ),
      );
    }),
    assembleEdges: builtin('Wire.assembleEdges', (a, k) => {
      const b = bindArgs('Wire.assembleEdges', ['listOfEdges'], a, k);
      return wrap(wireOfEdges('Wire.assembleEdges', edgesOf('Wire.assembleEdges', shapesOf('Wire.assembleEdges', [b.listOfEdges!]))));
    }),
    makePolygon: builtin('Wire.makePolygon', (a, k) => {
      const b = bindArgs('Wire.makePolygon', ['listOfVertices', 'forConstruction=', 'close='], a, k);
      return wrap(
        polylineWire(
          'Wire.makePolygon',
          points('Wire.makePolygon', sequenceItems(b.listOfVertices) ?? []),
          expectBool('Wire.makePolygon', 'close', b.close, false),
        ),
      );
    }),
    makeCircle: builtin('Wire.makeCircle', (a, k) => {
      const b = bindArgs('Wire.makeCircle', ['radius', 'center', 'normal'], a, k);
      const n = toVec3('Wire.makeCircle', 'normal', b.normal);
      return wrap(circleWire('Wire.makeCircle', toVec3('Wire.makeCircle', 'center', b.center), n, defaultXDir(n), num('Wire.makeCircle', 'radius', b.radius)));
    }),
  });
}

/** Names of cadquery.func that are not implemented: calling them fails as `unsupported`. */
const FUNC_UNSUPPORTED = [
  'edgeOn',
  'wireOn',
  'faceOn',
  'text',
  'imprint',
  'offset',
  'check',
  'closest',
  'setThreads',
  'project',
  'isSubshape',
  'prism',
  'hollow',
  'fillet2D',
  'chamfer2D',
  'draft',
  'History',
  'Shape',
  'CompSolid',
];

function unsupportedCallable(name: string): Value {
  const fail = () => {
    throw new CadError('unsupported', `cadquery.func.${name} is not supported yet`);
  };
  return Object.assign(builtin(name, fail), { getAttr: fail });
}

/** The `cadquery.func` module (also `cadquery.occ_impl.shapes`). */
export function createFuncModule(classes: Record<string, Value>): HostObject {
  const attrs: Record<string, Value> = { Vector: vectorConstructor, Location: locationConstructor, ...classes };
  for (const [name, fn] of Object.entries(FUNCTIONS)) attrs[name] = builtin(name, fn);
  for (const name of FUNC_UNSUPPORTED) attrs[name] ??= unsupportedCallable(name);
  return hostModule('module', attrs);
}
