/**
 * CadQuery's shape classes as programs call them: the class methods that build shapes directly
 * (occ_impl/shapes.py) — `cq.Vertex.makeVertex`, `cq.Edge.makeLine/makeCircle/makeThreePointArc/
 * makeTangentArc/makeSpline/makeSplineApprox/makeBezier/makeEllipse`, `cq.Face.makeFromWires/
 * makePlane/makeRuledSurface`, `cq.Shell.makeShell`, `cq.Solid.makeSolid/makeCone/makeTorus/
 * makeLoft/extrudeLinear/revolve` (beside makeBox/makeCylinder/makeSphere), and
 * `cq.Compound.makeCompound`. Each follows CadQuery 2.8's construction; the class's other names
 * fail as `unsupported`, naming them.
 */
import { cast, Edge, Face, type AnyShape, Shell, Vertex, Wire } from 'replicad';
import { CadError } from '../../errors';
import { bindArgs, builtin, expectBool, hostModule, sequenceItems, type HostObject, type Value } from '../values';
import { circleArcEdge, coneSolid, draftedPrism, geometryError, LENGTH_EPS, lineEdge, occ, prism, revolveFace, subShapes, threePointArcEdge } from './geom';
import { loftWires } from './loft';
import { approxSplineEdge, edgesOf, ellipseArcEdge, facesOfWires, makeCompound, sewFaces, shellOf, solidOf, splineEdge, wireOfEdges } from './shape-ops';
import { num } from './func';
import { shapeArg, ShapeObj } from './shapes';
import { toVec3, Vec3 } from './vec';

const wrap = (s: AnyShape) => new ShapeObj(s);

function vec(method: string, name: string, v: Value | undefined, fallback: Vec3): Vec3 {
  return v === undefined ? fallback : toVec3(method, name, v);
}

function list(method: string, name: string, v: Value | undefined): readonly Value[] {
  if (v === undefined || v === null) return [];
  const items = sequenceItems(v);
  if (!items) throw new CadError('runtime', `${method}(): '${name}' must be a list`);
  return items;
}

/** A wire from a Wire or an Edge argument (CadQuery's `_toWire`). */
function wireArg(method: string, name: string, v: Value | undefined): Wire {
  const s = shapeArg(method, v);
  if (s instanceof Wire) return s;
  if (s instanceof Edge) return wireOfEdges(method, [s]);
  throw new CadError('runtime', `${method}(): '${name}' must be a Wire or an Edge`);
}

const Z = new Vec3(0, 0, 1);

/** A class of static constructors; names CadQuery has but we lack fail as `unsupported`. */
function shapeClass(name: string, statics: Record<string, (a: Value[], k: Record<string, Value>) => Value>, missing: string[]): HostObject {
  const attrs: Record<string, Value> = {};
  for (const [n, fn] of Object.entries(statics)) attrs[n] = builtin(`${name}.${n}`, fn);
  return withMissing(name, hostModule('type', attrs), missing);
}

/** `cls` whose names in `missing` (CadQuery has them, we do not) fail as `unsupported` when called. */
export function withMissing(name: string, cls: HostObject, missing: string[]): HostObject {
  return {
    ...cls,
    getAttr: (n: string) => {
      const v = cls.getAttr(n);
      if (v !== undefined || !missing.includes(n)) return v;
      return builtin(`${name}.${n}`, () => {
        throw new CadError('unsupported', `cq.${name}.${n}() is not supported yet`);
      });
    },
  };
}

export function createVertexClass(): HostObject {
  return shapeClass(
    'Vertex',
    {
      makeVertex: (a, k) => {
        const m = 'Vertex.makeVertex';
        const b = bindArgs(m, ['x', 'y', 'z'], a, k);
        const p = new Vec3(num(m, 'x', b.x), num(m, 'y', b.y), num(m, 'z', b.z));
        return wrap(occ(m, (oc, keep) => new Vertex(keep(new oc.BRepBuilderAPI_MakeVertex(keep(new oc.gp_Pnt(p.x, p.y, p.z)))).Vertex())));
      },
    },
    [],
  );
}

export function createEdgeClass(): HostObject {
  return shapeClass(
    'Edge',
    {
      makeLine: (a, k) => {
        const m = 'Edge.makeLine';
        const b = bindArgs(m, ['v1', 'v2'], a, k);
        return wrap(lineEdge(m, toVec3(m, 'v1', b.v1), toVec3(m, 'v2', b.v2)));
      },
      makeCircle: (a, k) => {
        const m = 'Edge.makeCircle';
        const b = bindArgs(m, ['radius', 'pnt=', 'dir=', 'angle1=', 'angle2=', 'orientation='], a, k);
        const p = vec(m, 'pnt', b.pnt, Vec3.ZERO);
        const d = vec(m, 'dir', b.dir, Z);
        const a1 = num(m, 'angle1', b.angle1, 360);
        const a2 = num(m, 'angle2', b.angle2, 360);
        return wrap(circleArcEdge(m, p, d, num(m, 'radius', b.radius), a1, a2, expectBool(m, 'orientation', b.orientation, true)));
      },
      makeEllipse: (a, k) => {
        const m = 'Edge.makeEllipse';
        const b = bindArgs(m, ['x_radius', 'y_radius', 'pnt=', 'dir=', 'xdir=', 'angle1=', 'angle2=', 'sense='], a, k);
        const rx = num(m, 'x_radius', b.x_radius);
        const ry = num(m, 'y_radius', b.y_radius);
        const a1 = num(m, 'angle1', b.angle1, 360);
        const a2 = num(m, 'angle2', b.angle2, 360);
        const p = vec(m, 'pnt', b.pnt, Vec3.ZERO);
        const d = vec(m, 'dir', b.dir, Z);
        const x = vec(m, 'xdir', b.xdir, new Vec3(1, 0, 0));
        return wrap(ellipseArcEdge(m, rx, ry, p, d, x, a1, a2, num(m, 'sense', b.sense, 1)));
      },
      makeThreePointArc: (a, k) => {
        const m = 'Edge.makeThreePointArc';
        const b = bindArgs(m, ['v1', 'v2', 'v3'], a, k);
        return wrap(threePointArcEdge(m, toVec3(m, 'v1', b.v1), toVec3(m, 'v2', b.v2), toVec3(m, 'v3', b.v3)));
      },
      makeTangentArc: (a, k) => {
        const m = 'Edge.makeTangentArc';
        const b = bindArgs(m, ['v1', 'v2', 'v3'], a, k);
        const [p1, t, p2] = [toVec3(m, 'v1', b.v1), toVec3(m, 'v2', b.v2), toVec3(m, 'v3', b.v3)];
        if (p1.distance(p2) < LENGTH_EPS) throw geometryError(m, 'the arc start and end coincide');
        return wrap(
          occ(m, (oc, keep) => {
            const maker = keep(
              new oc.GC_MakeArcOfCircle(keep(new oc.gp_Pnt(p1.x, p1.y, p1.z)), keep(new oc.gp_Vec(t.x, t.y, t.z)), keep(new oc.gp_Pnt(p2.x, p2.y, p2.z))),
            );
            if (!maker.IsDone()) throw geometryError(m, 'could not build the tangent arc');
            return new Edge(keep(new oc.BRepBuilderAPI_MakeEdge(keep(maker.Value()))).Edge());
          }),
        );
      },
      makeSpline: (a, k) => {
        const m = 'Edge.makeSpline';
        const b = bindArgs(m, ['listOfVector', 'tangents=', 'periodic=', 'parameters=', 'scale=', 'tol='], a, k);
        const pts = list(m, 'listOfVector', b.listOfVector).map((p) => toVec3(m, 'listOfVector', p));
        const tgts = b.tangents === undefined || b.tangents === null ? undefined : list(m, 'tangents', b.tangents).map((p) => toVec3(m, 'tangents', p));
        const params =
          b.parameters === undefined || b.parameters === null ? undefined : list(m, 'parameters', b.parameters).map((v) => num(m, 'parameters', v));
        // Edge.makeSpline: two tangents are the end tangents, one per point constrains each.
        const ends = tgts && tgts.length === 2 && pts.length !== 2;
        if (tgts && !ends && tgts.length !== pts.length) throw new CadError('runtime', `${m}(): give two end tangents or one tangent per point`);
        return wrap(
          splineEdge(m, pts, {
            endTangents: ends ? [tgts[0], tgts[1]] : undefined,
            tangents: ends ? undefined : tgts,
            params,
            tol: num(m, 'tol', b.tol, 1e-6),
            periodic: expectBool(m, 'periodic', b.periodic, false),
            scale: expectBool(m, 'scale', b.scale, true),
          }),
        );
      },
      makeSplineApprox: (a, k) => {
        const m = 'Edge.makeSplineApprox';
        const b = bindArgs(m, ['listOfVector', 'tol=', 'smoothing=', 'minDeg=', 'maxDeg='], a, k);
        const pts = list(m, 'listOfVector', b.listOfVector).map((p) => toVec3(m, 'listOfVector', p));
        const sm = b.smoothing === undefined || b.smoothing === null ? undefined : list(m, 'smoothing', b.smoothing).map((v) => num(m, 'smoothing', v));
        if (sm && sm.length !== 3) throw new CadError('runtime', `${m}(): smoothing must be three weights`);
        return wrap(
          approxSplineEdge(m, pts, {
            tol: num(m, 'tol', b.tol, 1e-3),
            smoothing: sm as [number, number, number] | undefined,
            minDeg: num(m, 'minDeg', b.minDeg, 1),
            maxDeg: num(m, 'maxDeg', b.maxDeg, 6),
          }),
        );
      },
      makeBezier: (a, k) => {
        const m = 'Edge.makeBezier';
        const b = bindArgs(m, ['points'], a, k);
        const pts = list(m, 'points', b.points).map((p) => toVec3(m, 'points', p));
        if (pts.length < 2) throw geometryError(m, 'a Bézier curve needs at least two points');
        return wrap(
          occ(m, (oc, keep) => {
            const poles = keep(new oc.NCollection_Array1_gp_Pnt(1, pts.length));
            pts.forEach((p, i) => {
              poles.SetValue(i + 1, keep(new oc.gp_Pnt(p.x, p.y, p.z)));
            });
            return new Edge(keep(new oc.BRepBuilderAPI_MakeEdge(keep(new oc.Geom_BezierCurve(poles)))).Edge());
          }),
        );
      },
    },
    [],
  );
}

export function createFaceClass(): HostObject {
  return shapeClass(
    'Face',
    {
      makeFromWires: (a, k) => {
        const m = 'Face.makeFromWires';
        const b = bindArgs(m, ['outerWire', 'innerWires='], a, k);
        return wrap(faceOf(m, b.outerWire, b.innerWires));
      },
      makePlane: (a, k) => {
        const m = 'Face.makePlane';
        const b = bindArgs(m, ['length=', 'width=', 'basePnt=', 'dir='], a, k);
        const p = vec(m, 'basePnt', b.basePnt, Vec3.ZERO);
        const d = vec(m, 'dir', b.dir, Z);
        const length = b.length === undefined || b.length === null ? 0 : num(m, 'length', b.length);
        const width = b.width === undefined || b.width === null ? 0 : num(m, 'width', b.width);
        if (!(length && width)) throw new CadError('unsupported', `${m}(): an unbounded plane (no length and width) is not supported`);
        return wrap(
          occ(m, (oc, keep) => {
            const pln = keep(new oc.gp_Pln(keep(new oc.gp_Pnt(p.x, p.y, p.z)), keep(new oc.gp_Dir(d.x, d.y, d.z))));
            return new Face(keep(new oc.BRepBuilderAPI_MakeFace(pln, -width / 2, width / 2, -length / 2, length / 2)).Face());
          }),
        );
      },
      makeRuledSurface: (a, k) => {
        const m = 'Face.makeRuledSurface';
        const b = bindArgs(m, ['edgeOrWire1', 'edgeOrWire2'], a, k);
        const s1 = shapeArg(m, b.edgeOrWire1);
        const s2 = shapeArg(m, b.edgeOrWire2);
        for (const s of [s1, s2]) if (!(s instanceof Edge || s instanceof Wire)) throw new CadError('runtime', `${m}(): expected two edges or two wires`);
        if (s1 instanceof Wire !== s2 instanceof Wire) throw new CadError('runtime', `${m}(): give two edges or two wires, not one of each`);
        const w1 = s1 instanceof Wire ? s1 : wireOfEdges(m, [s1 as Edge]);
        const w2 = s2 instanceof Wire ? s2 : wireOfEdges(m, [s2 as Edge]);
        if (edgesOf(m, [w1]).length !== edgesOf(m, [w2]).length) throw geometryError(m, 'the two wires must have the same number of edges');
        // BRepFill::Face / BRepFill::Shell rule each pair of edges; a ruled ThruSections of the
        // two sections builds the same ruled surfaces (this build has no BRepFill).
        const ruled = loftWires(m, [w1, w2], false, true);
        const faces = (subShapes(ruled, 'face') as Face[]).map(degenerateEnds);
        if (s1 instanceof Edge && faces.length !== 1) throw geometryError(m, 'could not rule the two edges');
        // BRepFill::Face for two edges, BRepFill::Shell (a shell, even of one face) for two wires.
        return wrap(s1 instanceof Edge ? faces[0] : shellOf(faces));
      },
    },
    ['makeNSidedSurface', 'makeSplineApprox', 'constructOn'],
  );
}

export function createShellClass(): HostObject {
  return shapeClass(
    'Shell',
    {
      makeShell: (a, k) => {
        const m = 'Shell.makeShell';
        const b = bindArgs(m, ['listOfFaces'], a, k);
        // BRepBuilderAPI_Sewing takes the faces of whatever it is given (a ruled surface of wires is a shell).
        const faces = list(m, 'listOfFaces', b.listOfFaces).flatMap((f) => subShapes(shapeArg(m, f), 'face')) as Face[];
        if (faces.length === 0) throw geometryError(m, 'no faces to make a shell of');
        return wrap(sewFaces(m, faces));
      },
    },
    [],
  );
}

/** cq.Solid's constructors beyond makeBox/makeCylinder/makeSphere (index.ts). */
export function solidConstructors(): Record<string, Value> {
  const fns: Record<string, (a: Value[], k: Record<string, Value>) => Value> = {
    makeSolid: (a, k) => {
      const m = 'Solid.makeSolid';
      const b = bindArgs(m, ['shell'], a, k);
      const s = shapeArg(m, b.shell);
      if (!(s instanceof Shell)) throw new CadError('runtime', `${m}(): expected a Shell`);
      return wrap(solidOf(m, [s]));
    },
    makeCone: (a, k) => {
      const m = 'Solid.makeCone';
      const b = bindArgs(m, ['radius1', 'radius2', 'height', 'pnt=', 'dir=', 'angleDegrees='], a, k);
      if (num(m, 'angleDegrees', b.angleDegrees, 360) !== 360) throw new CadError('unsupported', `${m}(): partial cones (angleDegrees) are not supported yet`);
      const r1 = num(m, 'radius1', b.radius1);
      const r2 = num(m, 'radius2', b.radius2);
      if (r1 < 0 || r2 < 0 || (r1 < LENGTH_EPS && r2 < LENGTH_EPS)) throw geometryError(m, 'radii must not be negative, nor both zero');
      return wrap(coneSolid(m, vec(m, 'pnt', b.pnt, Vec3.ZERO), vec(m, 'dir', b.dir, Z), r1, r2, num(m, 'height', b.height)));
    },
    makeTorus: (a, k) => {
      const m = 'Solid.makeTorus';
      const b = bindArgs(m, ['radius1', 'radius2', 'pnt=', 'dir=', 'angleDegrees1=', 'angleDegrees2='], a, k);
      const r1 = num(m, 'radius1', b.radius1);
      const r2 = num(m, 'radius2', b.radius2);
      if (!(r1 > LENGTH_EPS && r2 > LENGTH_EPS)) throw geometryError(m, 'radii must be positive');
      const p = vec(m, 'pnt', b.pnt, Vec3.ZERO);
      const d = vec(m, 'dir', b.dir, Z);
      // CadQuery passes its angles as BRepPrimAPI_MakeTorus's (angle1, angle2): the minor circle's span.
      const a1 = (num(m, 'angleDegrees1', b.angleDegrees1, 0) * Math.PI) / 180;
      const a2 = (num(m, 'angleDegrees2', b.angleDegrees2, 360) * Math.PI) / 180;
      return wrap(
        occ(m, (oc, keep) => {
          const ax = keep(new oc.gp_Ax2(keep(new oc.gp_Pnt(p.x, p.y, p.z)), keep(new oc.gp_Dir(d.x, d.y, d.z))));
          return cast(keep(new oc.BRepPrimAPI_MakeTorus(ax, r1, r2, a1, a2)).Shape());
        }),
      );
    },
    makeLoft: (a, k) => {
      const m = 'Solid.makeLoft';
      const b = bindArgs(m, ['listOfWire', 'ruled='], a, k);
      const wires = list(m, 'listOfWire', b.listOfWire).map((w) => wireArg(m, 'listOfWire', w));
      if (wires.length < 2) throw geometryError(m, 'more than one wire is required');
      return wrap(loftSolid(m, wires, expectBool(m, 'ruled', b.ruled, false)));
    },
    extrudeLinear: (a, k) => {
      const m = 'Solid.extrudeLinear';
      // extrudeLinear(face, vecNormal, taper=0) or extrudeLinear(outerWire, innerWires, vecNormal, taper=0)
      const first = a[0] ?? k.outerWire ?? k.face;
      const isFace = first instanceof ShapeObj && first.shape instanceof Face;
      const b = isFace ? bindArgs(m, ['face', 'vecNormal', 'taper='], a, k) : bindArgs(m, ['outerWire', 'innerWires', 'vecNormal', 'taper='], a, k);
      const taper = num(m, 'taper', b.taper, 0);
      const vec = toVec3(m, 'vecNormal', b.vecNormal);
      // With a taper CadQuery drafts the outer wire's face only (LocOpe_DPrism); a face is drafted whole.
      if (taper !== 0) return wrap(draftedPrism(m, isFace ? (shapeArg(m, b.face) as Face) : faceOf(m, b.outerWire, undefined), vec, taper));
      const face = isFace ? (shapeArg(m, b.face) as Face) : faceOf(m, b.outerWire, b.innerWires);
      return wrap(prism(m, face, vec));
    },
    revolve: (a, k) => {
      const m = 'Solid.revolve';
      // revolve(face, angleDegrees, axisStart, axisEnd) or revolve(outerWire, innerWires, angleDegrees, axisStart, axisEnd)
      const first = a[0] ?? k.outerWire ?? k.face;
      const isFace = first instanceof ShapeObj && first.shape instanceof Face;
      const b = isFace
        ? bindArgs(m, ['face', 'angleDegrees', 'axisStart', 'axisEnd'], a, k)
        : bindArgs(m, ['outerWire', 'innerWires', 'angleDegrees', 'axisStart', 'axisEnd'], a, k);
      const face = isFace ? (shapeArg(m, b.face) as Face) : faceOf(m, b.outerWire, b.innerWires);
      const start = toVec3(m, 'axisStart', b.axisStart);
      const dir = toVec3(m, 'axisEnd', b.axisEnd).sub(start);
      if (dir.length < LENGTH_EPS) throw geometryError(m, 'the axis start and end coincide');
      return wrap(revolveFace(m, face, start, dir, num(m, 'angleDegrees', b.angleDegrees)));
    },
  };
  const out: Record<string, Value> = {};
  for (const [n, fn] of Object.entries(fns)) out[n] = builtin(`Solid.${n}`, fn);
  return out;
}

function faceOf(method: string, outer: Value | undefined, inner: Value | undefined): Face {
  const wires = [wireArg(method, 'outerWire', outer), ...list(method, 'innerWires', inner).map((w) => wireArg(method, 'innerWires', w))];
  const faces = facesOfWires(method, wires);
  if (faces.length !== 1) throw geometryError(method, 'cannot build one face from these wires');
  return faces[0];
}

/** Solid.makeLoft: BRepOffsetAPI_ThruSections(True, ruled) with OpenCascade's defaults. */
function loftSolid(method: string, wires: Wire[], ruled: boolean): AnyShape {
  return occ(method, (oc, keep) => {
    const builder = keep(new oc.BRepOffsetAPI_ThruSections(true, ruled, 1e-6));
    for (const w of wires) builder.AddWire(w.wrapped);
    builder.Build(keep(new oc.Message_ProgressRange()));
    if (!builder.IsDone()) throw geometryError(method, 'could not loft through the wires');
    return cast(builder.Shape());
  });
}

export function createCompoundClass(): HostObject {
  return shapeClass(
    'Compound',
    {
      makeCompound: (a, k) => {
        const m = 'Compound.makeCompound';
        const b = bindArgs(m, ['listOfShapes'], a, k);
        return wrap(makeCompound(list(m, 'listOfShapes', b.listOfShapes).map((s) => shapeArg(m, s))));
      },
    },
    ['makeText'],
  );
}

/**
 * BRepFill::Face makes the edge joining two ends that coincide a degenerated edge (between the two
 * edges' own vertices); ThruSections leaves a zero-length edge there, which leaves a shell of such
 * faces open (BRepCheck) and confuses sewing. ShapeFix_Face marks those edges degenerated and keeps
 * the ruled edges themselves, so faces ruled from the same edge still share it.
 */
function degenerateEnds(face: Face): Face {
  return occ('makeRuledSurface', (oc, keep) => {
    const fix = keep(new oc.ShapeFix_Face(face.wrapped));
    fix.Perform(keep(new oc.Message_ProgressRange()));
    return new Face(fix.Face());
  });
}
