/**
 * Operations on whole shapes, as CadQuery's free functions (occ_impl/shapes.py, `cadquery.func`)
 * and Shape methods do them: a compound's children, `_compound_or_shape` normalisation, booleans
 * and splitting that keep faces and edges (not only solids), wires and faces from edges, sewing,
 * solids from faces, prisms/revolutions of any shape, lofts and 2D offsets.
 *
 * This OpenCascade build has no TopoDS_Iterator, so a compound's children are what we put in it
 * (recorded when we build it) or, for compounds OpenCascade made, its top-level solids, shells,
 * faces, wires, edges and vertices found by exploring each kind while avoiding the next one up.
 */
import { cast, Compound, Edge, Face, Shell, Solid, Wire, type AnyShape } from 'replicad';
import { CadError } from '../../errors';
import {
  type BooleanOptions,
  circleWire,
  facesFromWires,
  setBooleanOptions,
  geometryError,
  LENGTH_EPS,
  lineEdge,
  occ,
  shapeKind,
  subShapes,
  wireFromEdges,
  wireOutline,
} from './geom';
import { defaultXDir, Frame } from './plane';
import { Vec3 } from './vec';

// ---- children and normalisation ----------------------------------------------------------------

const compoundChildren = new WeakMap<object, AnyShape[]>();

/** A compound of exactly these shapes (also of one, or none), which remembers them as its children. */
export function makeCompound(shapes: AnyShape[]): Compound {
  const c = occ('compound', (oc, keep) => {
    const builder = keep(new oc.TopoDS_Builder());
    const comp = new oc.TopoDS_Compound();
    builder.MakeCompound(comp);
    for (const s of shapes) builder.Add(comp, s.wrapped);
    return new Compound(comp);
  });
  compoundChildren.set(c, shapes.slice());
  return c;
}

/** Records `children` as the children of compound `c` (a moved copy of a known compound). */
export function recordChildren(c: AnyShape, children: AnyShape[]): void {
  if (c instanceof Compound) compoundChildren.set(c, children);
}

export function knownChildren(c: AnyShape): AnyShape[] | undefined {
  return compoundChildren.get(c);
}

/** What iterating a shape gives in CadQuery (TopoDS_Iterator): its direct children. */
export function childrenOf(shape: AnyShape): AnyShape[] {
  if (shape instanceof Compound) return compoundChildren.get(shape) ?? exploredChildren(shape);
  if (shape instanceof Wire) return subShapes(shape, 'edge');
  if (shape instanceof Face) return subShapes(shape, 'wire');
  if (shape instanceof Shell) return subShapes(shape, 'face');
  if (shape instanceof Solid) return subShapes(shape, 'shell');
  if (shape instanceof Edge) return subShapes(shape, 'vertex');
  return [];
}

function exploredChildren(shape: AnyShape): AnyShape[] {
  return occ('children', (oc, keep) => {
    const e = oc.TopAbs_ShapeEnum;
    const levels: [unknown, unknown][] = [
      [e.TopAbs_SOLID, e.TopAbs_COMPSOLID],
      [e.TopAbs_SHELL, e.TopAbs_SOLID],
      [e.TopAbs_FACE, e.TopAbs_SHELL],
      [e.TopAbs_WIRE, e.TopAbs_FACE],
      [e.TopAbs_EDGE, e.TopAbs_WIRE],
      [e.TopAbs_VERTEX, e.TopAbs_EDGE],
    ];
    const out: AnyShape[] = [];
    for (const [kind, avoid] of levels) {
      const explorer = keep(new oc.TopExp_Explorer(shape.wrapped, kind, avoid));
      for (; explorer.More(); explorer.Next()) out.push(cast(explorer.Current()));
    }
    return out;
  });
}

/** CadQuery's `_normalize`: a one-face open shell is its face, a one-child compound its child. */
export function normalized(shape: AnyShape): AnyShape {
  if (shape instanceof Shell) {
    const faces = subShapes(shape, 'face');
    if (faces.length === 1 && !occ('normalize', (oc) => oc.BRep_Tool.IsClosed(shape.wrapped))) return faces[0];
    return shape;
  }
  if (shape instanceof Compound) {
    const children = childrenOf(shape);
    if (children.length === 1) return children[0];
  }
  return shape;
}

/** CadQuery's `_compound_or_shape`: one result normalised, several in a compound. */
export function compoundOrShape(shapes: AnyShape[]): AnyShape {
  if (shapes.length === 1) return normalized(shapes[0]);
  return makeCompound(shapes.map(normalized));
}

// ---- sub-shape gathering (CadQuery's _get_edges, _get_wires, _get) ------------------------------

/** Edges of edges, wires and compounds of them. */
export function edgesOf(method: string, shapes: AnyShape[]): Edge[] {
  const out: Edge[] = [];
  for (const s of shapes) {
    if (s instanceof Edge) out.push(s);
    else if (s instanceof Wire) out.push(...(subShapes(s, 'edge') as Edge[]));
    else if (s instanceof Compound) out.push(...edgesOf(method, childrenOf(s)));
    else throw new CadError('runtime', `${method}(): required type(s): Edge, Wire; encountered ${shapeKind(s)}`);
  }
  return out;
}

/** Wires of wires, edges (each its own wire) and compounds of them. */
export function wiresOf(method: string, shape: AnyShape): Wire[] {
  if (shape instanceof Wire) return [shape];
  if (shape instanceof Edge) return [wireFromEdges(method, [shape])];
  if (shape instanceof Compound) return childrenOf(shape).flatMap((c) => wiresOf(method, c));
  throw new CadError('runtime', `${method}(): required type(s): Edge, Wire; encountered ${shapeKind(shape)}`);
}

/** The shape itself when of one of `kinds`, else the children of a compound (which must all be). */
export function ofKinds(method: string, shape: AnyShape, kinds: string[]): AnyShape[] {
  const k = shapeKind(shape);
  if (kinds.includes(k)) return [shape];
  if (k === 'Compound') {
    return childrenOf(shape).map((c) => {
      if (!kinds.includes(shapeKind(c))) throw new CadError('runtime', `${method}(): required type(s): ${kinds.join(', ')}; encountered ${shapeKind(c)}`);
      return c;
    });
  }
  throw new CadError('runtime', `${method}(): required type(s): ${kinds.join(', ')}; encountered ${k}`);
}

// ---- booleans ----------------------------------------------------------------------------------

export type BoolKind = 'fuse' | 'cut' | 'intersect' | 'split';

/** A boolean of any shapes (solids, faces, edges), the result normalised as CadQuery's func does. */
/** Shape.fuse/cut/intersect/split; `glue` and `tol` as geom.ts `booleanOp` (CadQuery's keyword arguments). */
export function booleanShapes(method: string, kind: BoolKind, base: AnyShape, tools: AnyShape[], options: BooleanOptions = {}): AnyShape {
  return occ(method, (oc, keep) => {
    const algo = keep(
      kind === 'fuse'
        ? new oc.BRepAlgoAPI_Fuse()
        : kind === 'cut'
          ? new oc.BRepAlgoAPI_Cut()
          : kind === 'intersect'
            ? new oc.BRepAlgoAPI_Common()
            : new oc.BRepAlgoAPI_Splitter(),
    );
    const args = keep(new oc.NCollection_List_TopoDS_Shape());
    args.Append(base.wrapped);
    const toolList = keep(new oc.NCollection_List_TopoDS_Shape());
    for (const t of tools) toolList.Append(t.wrapped);
    setBooleanOptions(oc, algo, kind === 'fuse', options);
    algo.SetArguments(args);
    algo.SetTools(toolList);
    algo.Build();
    if (!algo.IsDone() || algo.HasErrors?.()) throw geometryError(method, `the ${kind} failed`);
    return normalized(cast(algo.Shape()));
  });
}

// ---- construction ------------------------------------------------------------------------------

/** BRepBuilderAPI_MakeWire over a list of edges (in any order, as long as they connect). */
export function wireOfEdges(method: string, edges: Edge[]): Wire {
  if (edges.length === 0) throw geometryError(method, 'no edges to make a wire from');
  return occ(method, (oc, keep) => {
    const list = keep(new oc.NCollection_List_TopoDS_Shape());
    for (const e of edges) list.Append(e.wrapped);
    const builder = keep(new oc.BRepBuilderAPI_MakeWire());
    builder.Add(list);
    if (!builder.IsDone()) throw geometryError(method, 'the edges do not connect into a wire');
    return new Wire(builder.Wire());
  });
}

/** A polyline through the points (closed: back to the first), as BRepBuilderAPI_MakePolygon. */
export function polylineWire(method: string, points: Vec3[], closed: boolean): Wire {
  const pts = points.filter((p, i) => i === 0 || p.distance(points[i - 1]) > LENGTH_EPS);
  if (closed && pts.length > 1 && pts[0].distance(pts[pts.length - 1]) <= LENGTH_EPS) pts.pop();
  if (pts.length < 2) throw geometryError(method, 'needs at least two distinct points');
  const edges: Edge[] = [];
  for (let i = 0; i + 1 < pts.length; i++) edges.push(lineEdge(method, pts[i], pts[i + 1]));
  if (closed) edges.push(lineEdge(method, pts[pts.length - 1], pts[0]));
  return wireFromEdges(method, edges);
}

/** A circle edge of radius r about the z axis through the origin (func.circle). */
export function circleEdge(method: string, r: number): Edge {
  const w = circleWire(method, Vec3.ZERO, new Vec3(0, 0, 1), new Vec3(1, 0, 0), r);
  return subShapes(w, 'edge')[0] as Edge;
}

export function ellipseEdge(method: string, r1: number, r2: number): Edge {
  if (!(r1 > LENGTH_EPS && r2 > LENGTH_EPS)) throw geometryError(method, 'radii must be positive');
  // gp_Elips: the first radius is the major one (CadQuery fails the same way otherwise).
  if (r1 < r2) throw geometryError(method, `the first radius must not be smaller than the second (${r1} < ${r2})`);
  return occ(method, (oc, keep) => {
    const ax = keep(new oc.gp_Ax2(keep(new oc.gp_Pnt(0, 0, 0)), keep(new oc.gp_Dir(0, 0, 1))));
    return new Edge(keep(new oc.BRepBuilderAPI_MakeEdge(keep(new oc.gp_Elips(ax, r1, r2)))).Edge());
  });
}

/**
 * CadQuery's Edge.makeEllipse(x_radius, y_radius, pnt, dir, xdir, angle1, angle2, sense): the whole
 * ellipse when angle1 = angle2 (degrees), else the arc from angle1 to angle2 (GC_MakeArcOfEllipse,
 * counter-clockwise when sense = 1). With y_radius > x_radius the major axis is turned 90° onto y
 * and the angles corrected by it, as CadQuery does (gp_Elips needs major ≥ minor).
 */
export function ellipseArcEdge(method: string, rx: number, ry: number, p: Vec3, d: Vec3, x: Vec3, a1 = 360, a2 = 360, sense = 1): Edge {
  if (!(rx > LENGTH_EPS && ry > LENGTH_EPS)) throw geometryError(method, 'radii must be positive');
  return occ(method, (oc, keep) => {
    const pnt = keep(new oc.gp_Pnt(p.x, p.y, p.z));
    const dir = keep(new oc.gp_Dir(d.x, d.y, d.z));
    const ax = keep(new oc.gp_Ax2(pnt, dir, keep(new oc.gp_Dir(x.x, x.y, x.z))));
    const swap = ry > rx;
    if (swap) ax.Rotate(keep(new oc.gp_Ax1(pnt, dir)), Math.PI / 2);
    const elips = keep(new oc.gp_Elips(ax, Math.max(rx, ry), Math.min(rx, ry)));
    if (a1 === a2) return new Edge(keep(new oc.BRepBuilderAPI_MakeEdge(elips)).Edge());
    const corr = swap ? Math.PI / 2 : 0;
    const arc = keep(new oc.GC_MakeArcOfEllipse(elips, (a1 * Math.PI) / 180 - corr, (a2 * Math.PI) / 180 - corr, sense === 1));
    if (!arc.IsDone()) throw geometryError(method, 'could not make the elliptical arc');
    return new Edge(keep(new oc.BRepBuilderAPI_MakeEdge(keep(arc.Value()))).Edge());
  });
}

/** A finite rectangle face w × l on the XY plane centred at the origin, or (no size) a huge one. */
export function planeFace(method: string, w?: number, l?: number): Face {
  const INF = 1e60;
  const [u, v] = w === undefined || l === undefined ? [INF, INF] : [w / 2, l / 2];
  return occ(method, (oc, keep) => {
    const pln = keep(new oc.gp_Pln(keep(new oc.gp_Pnt(0, 0, 0)), keep(new oc.gp_Dir(0, 0, 1))));
    return new Face(keep(new oc.BRepBuilderAPI_MakeFace(pln, -u, u, -v, v)).Face());
  });
}

/** The plane of planar wires: normal by Newell's method on the largest one, in its running direction. */
function wiresFrame(method: string, wires: Wire[]): Frame {
  let best: { n: Vec3; area: number; p: Vec3 } | undefined;
  for (const w of wires) {
    const pts = wireOutline(w);
    let n = Vec3.ZERO;
    for (let i = 0; i < pts.length; i++) {
      const a = pts[i];
      const b = pts[(i + 1) % pts.length];
      n = n.add(new Vec3((a.y - b.y) * (a.z + b.z), (a.z - b.z) * (a.x + b.x), (a.x - b.x) * (a.y + b.y)));
    }
    if (!best || n.length > best.area) best = { n, area: n.length, p: pts[0] };
  }
  if (!best || best.area < 1e-14) throw geometryError(method, 'the wires do not enclose an area (or are not planar)');
  const n = best.n.normalized();
  return new Frame(best.p, defaultXDir(n), n);
}

/** Faces from closed planar wires (BOPAlgo_Tools::WiresToFaces): the normal follows the outer wire's direction. */
export function facesOfWires(method: string, wires: Wire[]): Face[] {
  return facesFromWires(method, wires, wiresFrame(method, wires));
}

/** BRepBuilderAPI_Sewing of faces into shells (func.shell); a closed single face becomes a shell too. */
export function sewFaces(method: string, faces: Face[], tol = 1e-6, manifold = true, context: AnyShape[] = []): AnyShape {
  const joined = context.length === 0 ? alreadyJoined(faces) : null;
  if (joined) return compoundOrShape(joined.map(shellOf));
  return occ(method, (oc, keep) => {
    const sewing = keep(new oc.BRepBuilderAPI_Sewing(tol, true, true, true, !manifold));
    for (const c of context) sewing.Load(c.wrapped);
    for (const f of faces) sewing.Add(f.wrapped);
    sewing.Perform(keep(new oc.Message_ProgressRange()));
    const sewed = cast(sewing.SewedShape());
    const parts = sewed instanceof Compound ? childrenOf(sewed) : [sewed];
    const shells: AnyShape[] = [];
    for (const p of parts) {
      if (p instanceof Shell) shells.push(p);
      else if (p instanceof Face) shells.push(shellOf([p]));
      else throw geometryError(method, `sewing gave a ${shapeKind(p)}`);
    }
    return compoundOrShape(shells);
  });
}

interface OcEdge {
  IsSame(other: OcEdge): boolean;
  Orientation(): unknown;
}

/**
 * Faces that already share every edge they have but degenerated ones, each with exactly one other
 * face (faces ruled from the same edges, Face.makeRuledSurface): then sewing has nothing to join, and
 * CadQuery's sewing only orients them; this build's sewing merges the vertices of degenerated edges
 * and leaves a broken face instead (cadquery-contrib's Thread). So: the faces grouped into connected
 * shells, each face turned where needed so that a shared edge runs opposite ways in its two faces.
 * Null when any edge is free or shared by more than two faces (then sewing decides).
 */
function alreadyJoined(faces: Face[]): Face[][] | null {
  if (faces.length < 2) return null;
  return occ('sewing', (oc, keep) => {
    // Every (face, non-degenerated edge use); an edge is identified by IsSame within its hash bucket.
    const uses: { face: number; edge: OcEdge }[][] = [];
    const buckets = new Map<number, number[]>();
    const edgeId = (e: OcEdge): number => {
      const h = oc.ReplicadShapeHasher.HashCode(e, 2147483647);
      const bucket = buckets.get(h) ?? [];
      for (const id of bucket) if (uses[id][0].edge.IsSame(e)) return id;
      uses.push([]);
      bucket.push(uses.length - 1);
      buckets.set(h, bucket);
      return uses.length - 1;
    };
    faces.forEach((f, i) => {
      const explorer = keep(new oc.TopExp_Explorer(f.wrapped, oc.TopAbs_ShapeEnum.TopAbs_EDGE, oc.TopAbs_ShapeEnum.TopAbs_SHAPE));
      for (; explorer.More(); explorer.Next()) {
        const e = keep(explorer.Current());
        if (oc.BRep_Tool.Degenerated(keep(oc.TopoDS.Edge(e)))) continue;
        uses[edgeId(e)].push({ face: i, edge: e });
      }
    });
    if (uses.length === 0 || uses.some((u) => u.length !== 2 || u[0].face === u[1].face)) return null;
    // Breadth first over shared edges: a neighbour whose use runs the same way is reversed.
    const reversed = new Array<boolean | undefined>(faces.length);
    const byFace = faces.map(() => [] as number[]);
    uses.forEach((u, id) => {
      byFace[u[0].face].push(id);
      byFace[u[1].face].push(id);
    });
    const groups: Face[][] = [];
    for (let start = 0; start < faces.length; start++) {
      if (reversed[start] !== undefined) continue;
      reversed[start] = false;
      const group = [start];
      for (let q = 0; q < group.length; q++) {
        const i = group[q];
        for (const id of byFace[i]) {
          const [a, b] = uses[id][0].face === i ? uses[id] : [uses[id][1], uses[id][0]];
          // Orientations as explored in the unturned faces; turning a face flips its uses.
          const same = a.edge.Orientation() === b.edge.Orientation();
          if (reversed[b.face] === undefined) {
            reversed[b.face] = same !== reversed[i];
            group.push(b.face);
          }
        }
      }
      groups.push(group.map((i) => (reversed[i] ? new Face(faces[i].wrapped.Reversed()) : faces[i])));
    }
    return groups;
  });
}

/** A shell holding exactly these faces, unsewn. */
export function shellOf(faces: Face[]): Shell {
  return occ('shell', (oc, keep) => {
    const builder = keep(new oc.TopoDS_Builder());
    const shell = new oc.TopoDS_Shell();
    builder.MakeShell(shell);
    for (const f of faces) builder.Add(shell, f.wrapped);
    return new Shell(shell);
  });
}

/** func.solid(s1, *sn): the shells given, or the faces sewn into one, each made a solid by ShapeFix_Solid. */
export function solidOf(method: string, parts: AnyShape[], tol = 1e-6): AnyShape {
  const items = parts.flatMap((p) => ofKinds(method, p, ['Shell', 'Face']));
  let shells = items.filter((s): s is Shell => s instanceof Shell);
  if (shells.length === 0) {
    const sewn = sewFaces(method, items as Face[], tol);
    shells = ofKinds(method, sewn, ['Shell']) as Shell[];
  }
  return occ(method, (oc, keep) => {
    const fix = keep(new oc.ShapeFix_Solid());
    return compoundOrShape(shells.map((s) => cast(fix.SolidFromShell(s.wrapped))));
  });
}

/** func.extrude: a prism of each vertex, edge, wire or face along `d` (both: from −d to +d). */
export function extrudeShape(method: string, shape: AnyShape, d: Vec3, both: boolean): AnyShape {
  if (d.length < LENGTH_EPS) throw geometryError(method, 'the extrusion vector must not be zero');
  const parts = ofKinds(method, shape, ['Vertex', 'Edge', 'Wire', 'Face']);
  return occ(method, (oc, keep) => {
    const results = parts.map((p) => {
      let src = p.wrapped;
      let v = d;
      if (both) {
        const t = keep(new oc.gp_Trsf());
        t.SetTranslation(keep(new oc.gp_Vec(-d.x, -d.y, -d.z)));
        src = keep(new oc.BRepBuilderAPI_Transform(p.wrapped, t, true, false)).Shape();
        v = d.scale(2);
      }
      const maker = keep(new oc.BRepPrimAPI_MakePrism(src, keep(new oc.gp_Vec(v.x, v.y, v.z)), false, true));
      return cast(maker.Shape());
    });
    return compoundOrShape(results);
  });
}

/** func.revolve: each vertex, edge, wire or face about the axis through p along d, by `degrees`. */
export function revolveShape(method: string, shape: AnyShape, p: Vec3, d: Vec3, degrees: number): AnyShape {
  if (d.length < LENGTH_EPS) throw geometryError(method, 'the axis direction must not be zero');
  const parts = ofKinds(method, shape, ['Vertex', 'Edge', 'Wire', 'Face']);
  return occ(method, (oc, keep) => {
    const axis = keep(new oc.gp_Ax1(keep(new oc.gp_Pnt(p.x, p.y, p.z)), keep(new oc.gp_Dir(d.x, d.y, d.z))));
    return compoundOrShape(parts.map((s) => cast(keep(new oc.BRepPrimAPI_MakeRevol(s.wrapped, axis, (degrees * Math.PI) / 180, false)).Shape())));
  });
}

/** BRepOffsetAPI_MakeOffset of planar wires: `kind` arc / intersection / tangent joins. */
export function offsetWires(method: string, wires: Wire[], d: number, kind: string, closed = true): AnyShape {
  const joins: Record<string, string> = { arc: 'GeomAbs_Arc', intersection: 'GeomAbs_Intersection', tangent: 'GeomAbs_Tangent' };
  const join = joins[kind];
  if (!join) throw new CadError('runtime', `${method}(): kind must be 'arc', 'intersection' or 'tangent', not '${kind}'`);
  return occ(method, (oc, keep) => {
    const builder = keep(new oc.BRepOffsetAPI_MakeOffset());
    builder.Init(oc.GeomAbs_JoinType[join], !closed);
    for (const w of wires) builder.AddWire(w.wrapped);
    builder.Perform(d, 0);
    if (!builder.IsDone()) throw geometryError(method, `could not offset by ${d}`);
    return normalized(cast(builder.Shape()));
  });
}

// ---- splines and sweeps ------------------------------------------------------------------------

/**
 * GeomAPI_Interpolate through the points: with start and end tangents (`endTangents`), a tangent
 * per point (null: unconstrained there), and/or a parameter per point.
 */
export function splineEdge(
  method: string,
  pts: Vec3[],
  o: { endTangents?: [Vec3, Vec3]; tangents?: (Vec3 | null)[]; params?: number[]; tol?: number; periodic?: boolean; scale?: boolean },
): Edge {
  if (pts.length < 2) throw geometryError(method, 'a spline needs at least two points');
  const periodic = o.periodic ?? false;
  if (o.params && o.params.length !== pts.length + (periodic ? 1 : 0)) {
    throw new CadError('runtime', `${method}(): there must be one parameter for each point (plus one if periodic)`);
  }
  if (o.tangents && o.tangents.length !== pts.length)
    throw new CadError('runtime', `${method}(): there must be one tangent for each point, or just two end tangents`);
  return occ(method, (oc, keep) => {
    // The H(andle)Arrays of this build have no SetValue: fill an Array1 and copy it.
    const plain = keep(new oc.NCollection_Array1_gp_Pnt(1, pts.length));
    pts.forEach((p, i) => {
      plain.SetValue(i + 1, keep(new oc.gp_Pnt(p.x, p.y, p.z)));
    });
    const arr = keep(new oc.NCollection_HArray1_gp_Pnt(plain));
    const tol = o.tol ?? 1e-6;
    // biome-ignore lint/suspicious/noExplicitAny: the OpenCascade module is typed loosely on purpose
    let builder: any;
    if (o.params) {
      const plainParams = keep(new oc.NCollection_Array1_double(1, o.params.length));
      o.params.forEach((v, i) => {
        plainParams.SetValue(i + 1, v);
      });
      builder = keep(new oc.GeomAPI_Interpolate(arr, keep(new oc.NCollection_HArray1_double(plainParams)), periodic, tol));
    } else builder = keep(new oc.GeomAPI_Interpolate(arr, periodic, tol));
    const vec = (v: Vec3) => keep(new oc.gp_Vec(v.x, v.y, v.z));
    const scale = o.scale ?? true;
    if (o.endTangents) builder.Load(vec(o.endTangents[0]), vec(o.endTangents[1]), scale);
    else if (o.tangents) {
      const vecs = keep(new oc.NCollection_Array1_gp_Vec(1, o.tangents.length));
      const flags = keep(new oc.NCollection_Array1_bool(1, o.tangents.length));
      o.tangents.forEach((v, i) => {
        vecs.SetValue(i + 1, vec(v ?? Vec3.ZERO));
        flags.SetValue(i + 1, v !== null);
      });
      builder.Load(vecs, keep(new oc.NCollection_HArray1_bool(flags)), scale);
    }
    builder.Perform();
    if (!builder.IsDone()) throw geometryError(method, 'could not interpolate a spline through the points');
    return new Edge(keep(new oc.BRepBuilderAPI_MakeEdge(builder.Curve())).Edge());
  });
}

export type Transition = 'transformed' | 'round' | 'right';

export interface SweepOptions {
  makeSolid: boolean;
  isFrenet: boolean;
  transition: Transition;
  /** A wire the binormal follows (Workplane.sweep's auxSpine). */
  auxSpine?: Wire;
}

/** BRepOffsetAPI_MakePipeShell of each profile (one builder, several sections when `profiles` > 1). */
export function pipeShell(method: string, profiles: Wire[], path: Wire, o: SweepOptions): AnyShape {
  const modes: Record<Transition, string> = {
    transformed: 'BRepBuilderAPI_Transformed',
    round: 'BRepBuilderAPI_RoundCorner',
    right: 'BRepBuilderAPI_RightCorner',
  };
  return occ(method, (oc, keep) => {
    const builder = keep(new oc.BRepOffsetAPI_MakePipeShell(path.wrapped));
    if (o.auxSpine) builder.SetMode(o.auxSpine.wrapped, true, oc.BRepFill_TypeOfContact.BRepFill_NoContact);
    else builder.SetMode(o.isFrenet);
    builder.SetTransitionMode(oc.BRepBuilderAPI_TransitionMode[modes[o.transition]]);
    for (const p of profiles) builder.Add(p.wrapped, false, false);
    builder.Build(keep(new oc.Message_ProgressRange()));
    if (!builder.IsDone()) throw geometryError(method, 'could not sweep the profile along the path');
    if (o.makeSolid) builder.MakeSolid();
    return cast(builder.Shape());
  });
}

/** Solid.sweep(face, path): the outer wire swept, less each inner wire swept. */
export function sweepFace(method: string, face: Face, path: Wire, o: SweepOptions): AnyShape {
  const outer = occ(method, (oc) => new Wire(oc.BRepTools.OuterWire(face.wrapped)));
  const inner = subShapes(face, 'wire').filter((w) => !w.isSame(outer)) as Wire[];
  const shell = pipeShell(method, [outer], path, o);
  if (inner.length === 0) return shell;
  const holes = inner.map((w) => pipeShell(method, [w], path, o));
  return occ(method, (oc, keep) => {
    const algo = keep(new oc.BRepAlgoAPI_Cut());
    const args = keep(new oc.NCollection_List_TopoDS_Shape());
    args.Append(shell.wrapped);
    const tools = keep(new oc.NCollection_List_TopoDS_Shape());
    for (const h of holes) tools.Append(h.wrapped);
    algo.SetArguments(args);
    algo.SetTools(tools);
    algo.Build();
    if (!algo.IsDone()) throw geometryError(method, 'could not cut the swept holes');
    return cast(algo.Shape());
  });
}

/** Edge.makeSplineApprox: GeomAPI_PointsToBSpline (with smoothing weights: the variational form). */
export function approxSplineEdge(method: string, pts: Vec3[], o: { tol: number; smoothing?: [number, number, number]; minDeg: number; maxDeg: number }): Edge {
  if (pts.length < 2) throw geometryError(method, 'needs at least two points');
  return occ(method, (oc, keep) => {
    const arr = keep(new oc.NCollection_Array1_gp_Pnt(1, pts.length));
    pts.forEach((p, i) => {
      arr.SetValue(i + 1, keep(new oc.gp_Pnt(p.x, p.y, p.z)));
    });
    const C2 = oc.GeomAbs_Shape.GeomAbs_C2;
    const builder = keep(
      o.smoothing
        ? new oc.GeomAPI_PointsToBSpline(arr, o.smoothing[0], o.smoothing[1], o.smoothing[2], o.maxDeg, C2, o.tol)
        : new oc.GeomAPI_PointsToBSpline(arr, o.minDeg, o.maxDeg, C2, o.tol),
    );
    if (!builder.IsDone()) throw geometryError(method, 'B-spline approximation failed');
    return new Edge(keep(new oc.BRepBuilderAPI_MakeEdge(builder.Curve())).Edge());
  });
}

/** Wire.makeHelix: a line in the (u, v) space of a cylinder, its 3D curve built as CadQuery does. */
export function helixWire(method: string, pitch: number, height: number, radius: number, center: Vec3, dir: Vec3, lefthand: boolean): Wire {
  if (!(Math.abs(pitch) > LENGTH_EPS && height > LENGTH_EPS && radius > LENGTH_EPS))
    throw geometryError(method, 'pitch must not be zero, height and radius must be positive');
  return occ(method, (oc, keep) => {
    const line = keep(new oc.Geom2d_Line(keep(new oc.gp_Pnt2d(0, 0)), keep(new oc.gp_Dir2d(lefthand ? -2 * Math.PI : 2 * Math.PI, pitch))));
    const turns = height / pitch;
    const start = keep(line.Value(0));
    const stop = keep(line.Value(turns * Math.sqrt((2 * Math.PI) ** 2 + pitch ** 2)));
    const seg = keep(new oc.GC_MakeSegment2d(start, stop));
    const ax = keep(new oc.gp_Ax3(keep(new oc.gp_Pnt(center.x, center.y, center.z)), keep(new oc.gp_Dir(dir.x, dir.y, dir.z))));
    const surface = new oc.Geom_CylindricalSurface(ax, radius);
    const edge = keep(new oc.BRepBuilderAPI_MakeEdge(seg.Value(), surface)).Edge();
    const wire = keep(new oc.BRepBuilderAPI_MakeWire(edge)).Wire();
    oc.BRepLib.BuildCurves3d(wire, 1e-6, oc.GeomAbs_Shape.GeomAbs_C1, 14, 2000);
    return new Wire(wire);
  });
}

/**
 * Wire.makeEllipse in a frame: x radius along its x axis; when the y radius is the larger one the
 * ellipse is made with its major axis along y (gp_Elips wants major ≥ minor), as CadQuery rotates it.
 */
export function ellipseWire(method: string, f: Frame, rx: number, ry: number): Wire {
  return wireFromEdges(method, [ellipseArcEdge(method, rx, ry, f.origin, f.zDir, f.xDir)]);
}
