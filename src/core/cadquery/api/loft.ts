/**
 * Lofts as CadQuery makes them: BRepOffsetAPI_ThruSections set up as `cadquery.func.loft` sets it
 * up, and CadQuery's default parametrisation of the sections along the loft, 'uniform'
 * (Approx_IsoParametric), which this OpenCascade build cannot ask for (its SetParType takes an
 * Approx_ParametrizationType, a type the build does not bind).
 *
 * Along the loft ThruSections interpolates the compatible sections' poles, n rows, with a B-spline
 * of n poles (one Bézier span of degree n − 1 up to degree + 1 sections), at parameters the
 * parametrisation chooses and with knots placed from them (knotsFor). So the uniform loft is the
 * chord-length one re-interpolated: section k lies on the chord-length surface at v = t_k (found on
 * its plane), and the uniform surface interpolates the same section rows at v = k / (n − 1), in
 * homogeneous coordinates. The side faces are rebuilt on those surfaces and sewn with the untouched
 * end caps. Checked against CadQuery 2.8 (3 to 12 sections; circles, rectangles, ellipses, slots,
 * tilted planes): the same poles to 1e-15, volumes and counts agree.
 */
import { cast, Vertex, Wire, type AnyShape } from 'replicad';
import { CadError } from '../../errors';
import { geometryError, occ } from './geom';

export type LoftParametrization = 'uniform' | 'chordal' | 'centripetal';

export interface LoftOptions {
  /** SetMaxDegree (cadquery.func.loft: 3; OpenCascade's default: 8). */
  maxDegree?: number;
  parametrization?: LoftParametrization;
  /** GeomAbs continuity name: 'C1', 'C2' (default), 'C3'. */
  continuity?: string;
  smoothing?: boolean;
  compat?: boolean;
  weights?: [number, number, number];
}

/**
 * BRepOffsetAPI_ThruSections through wires (and a vertex at either end): a solid when `solid`,
 * set up as cadquery.func.loft sets it up.
 */
export function loftWires(method: string, sections: (Wire | Vertex)[], solid: boolean, ruled: boolean, o: LoftOptions = {}): AnyShape {
  if (sections.length < 2) throw geometryError(method, 'more than one wire is required');
  const parametrization = o.parametrization ?? 'uniform';
  const smoothing = o.smoothing ?? false;
  // Only the smoothing-free approximation uses the parametrisation; two sections or ruled faces do not depend on it.
  const reparametrise = parametrization !== 'chordal' && !ruled && !smoothing && sections.length > 2;
  if (reparametrise && parametrization === 'centripetal')
    throw new CadError('unsupported', `${method}(): parametrization='centripetal' through more than two sections is not supported yet`);
  return occ(method, (oc, keep) => {
    const builder = keep(new oc.BRepOffsetAPI_ThruSections(solid, ruled, 1e-6));
    builder.SetMaxDegree(o.maxDegree ?? 3);
    builder.CheckCompatibility(o.compat ?? true);
    builder.SetContinuity(oc.GeomAbs_Shape[`GeomAbs_${o.continuity ?? 'C2'}`]);
    builder.SetSmoothing(smoothing);
    builder.SetCriteriumWeight(...(o.weights ?? [1, 1, 1]));
    for (const s of sections) {
      if (s instanceof Vertex) builder.AddVertex(s.wrapped);
      else builder.AddWire(s.wrapped);
    }
    builder.Build(keep(new oc.Message_ProgressRange()));
    if (!builder.IsDone()) throw geometryError(method, 'could not loft through the sections');
    const shape = builder.Shape();
    if (!reparametrise) return cast(shape);
    const uniform = uniformLoft(oc, keep, shape, sections, solid, builder);
    if (!uniform)
      throw new CadError('unsupported', `${method}(): this loft cannot be parametrised uniformly here (CadQuery's default); pass parametrization='chordal'`);
    return cast(uniform);
  });
}

// biome-ignore lint/suspicious/noExplicitAny: the OpenCascade module is untyped here
type OC = any;

/** The values of the n B-spline basis functions of degree p over the clamped knot sequence at t. */
function basis(knots: number[], p: number, n: number, t: number): number[] {
  const last = knots[knots.length - 1];
  // Degree 0: the span holding t (the last non-empty one at the end).
  let span = p;
  while (span < n - 1 && !(t < knots[span + 1])) span++;
  if (t >= last) span = n - 1;
  const values = new Array<number>(n).fill(0);
  values[span] = 1;
  for (let d = 1; d <= p; d++) {
    for (let j = Math.max(0, span - d); j <= span; j++) {
      const left = knots[j + d] - knots[j];
      const right = knots[j + d + 1] - knots[j + 1];
      const a = left > 0 ? ((t - knots[j]) / left) * values[j] : 0;
      const b = right > 0 && j + 1 < n ? ((knots[j + d + 1] - t) / right) * values[j + 1] : 0;
      values[j] = a + b;
    }
  }
  return values;
}

/**
 * The knot sequence AppDef gives n interpolated parameters at degree p: clamped, and each of the
 * n − p − 1 inner knots at the parameters interpolated linearly at index i·(n − 1)/(k + 1)
 * (measured on CadQuery 2.8: 5 to 12 sections).
 */
function knotsFor(params: number[], p: number): number[] {
  const n = params.length;
  const k = n - p - 1;
  const inner = Array.from({ length: k }, (_, i) => {
    const x = ((i + 1) * (n - 1)) / (k + 1);
    const j = Math.floor(x);
    return params[j] + (x - j) * ((params[j + 1] ?? params[j]) - params[j]);
  });
  return [...new Array(p + 1).fill(params[0]), ...inner, ...new Array(p + 1).fill(params[n - 1])];
}

/** Solves A x = b (small dense, partial pivoting). */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c] / m[c][c];
      for (let q = c; q <= n; q++) m[r][q] -= f * m[c][q];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}

/** The first root of f in (lo, 1] after a sign change (scan, then bisection); NaN if none. */
function firstRoot(f: (t: number) => number, lo: number): number {
  const steps = 256;
  let a = lo;
  let fa = f(a);
  for (let s = 1; s <= steps; s++) {
    const b = lo + ((1 - lo) * s) / steps;
    const fb = f(b);
    if (fa === 0) return a;
    if (fa * fb <= 0) {
      let x = a;
      let y = b;
      for (let it = 0; it < 100; it++) {
        const mid = (x + y) / 2;
        if (f(x) * f(mid) <= 0) y = mid;
        else x = mid;
      }
      return (x + y) / 2;
    }
    a = b;
    fa = fb;
  }
  return Number.NaN;
}

/**
 * The chord-length loft `shape` re-interpolated uniformly, or null where it is not of the form
 * described above (then nothing is changed).
 */
function uniformLoft(oc: OC, keep: <T>(x: T) => T, shape: OC, sections: (Wire | Vertex)[], solid: boolean, builder: OC): OC | null {
  const n = sections.length;
  // The planes of the inner sections (the ends may be vertices).
  const planes: { normal: number[]; d: number }[] = [];
  for (let k = 1; k < n - 1; k++) {
    const s = sections[k];
    if (!(s instanceof Wire)) return null;
    const maker = keep(new oc.BRepBuilderAPI_MakeFace(s.wrapped, true));
    if (!maker.IsDone()) return null;
    const pln = keep(keep(new oc.BRepAdaptor_Surface(maker.Face(), true)).Plane());
    const axis = keep(pln.Axis());
    const dir = keep(axis.Direction());
    const loc = keep(axis.Location());
    const normal = [dir.X(), dir.Y(), dir.Z()];
    planes.push({ normal, d: normal[0] * loc.X() + normal[1] * loc.Y() + normal[2] * loc.Z() });
  }
  const ends = solid ? [keep(builder.FirstShape()), keep(builder.LastShape())] : [];
  const sewing = keep(new oc.BRepBuilderAPI_Sewing(1e-6, true, true, true, false));
  const explorer = keep(new oc.TopExp_Explorer(shape, oc.TopAbs_ShapeEnum.TopAbs_FACE, oc.TopAbs_ShapeEnum.TopAbs_SHAPE));
  let faces = 0;
  for (; explorer.More(); explorer.Next()) {
    const face = keep(oc.TopoDS.Face(explorer.Current()));
    faces++;
    if (ends.some((e) => !e.IsNull() && e.IsSame(face))) {
      sewing.Add(face);
      continue;
    }
    const adaptor = keep(new oc.BRepAdaptor_Surface(face, true));
    if (adaptor.GetType() !== oc.GeomAbs_SurfaceType.GeomAbs_BSplineSurface) return null;
    const surface = new oc.Geom_BSplineSurface(adaptor.BSpline());
    const p = surface.VDegree();
    if (surface.NbVPoles() !== n) return null;
    const knots: number[] = [];
    for (let i = 1; i <= surface.NbVKnots(); i++) for (let m = surface.VMultiplicity(i); m > 0; m--) knots.push(surface.VKnot(i));
    if (knots.length !== n + p + 1 || knots[0] !== 0 || knots[knots.length - 1] !== 1) return null;
    const nu = surface.NbUPoles();
    // Homogeneous poles [w·x, w·y, w·z, w] of each u row.
    const rows: number[][][] = [];
    for (let i = 1; i <= nu; i++) {
      const row: number[][] = [];
      for (let j = 1; j <= n; j++) {
        const pole = keep(surface.Pole(i, j));
        const w = surface.Weight(i, j);
        row.push([w * pole.X(), w * pole.Y(), w * pole.Z(), w]);
      }
      rows.push(row);
    }
    // t_k of each inner section, the same on every u row.
    const params = [0];
    for (let k = 1; k < n - 1; k++) {
      const { normal, d } = planes[k - 1];
      const onRow = (row: number[][]) => (t: number) => {
        const b = basis(knots, p, n, t);
        let v = 0;
        for (let j = 0; j < n; j++) v += b[j] * (normal[0] * row[j][0] + normal[1] * row[j][1] + normal[2] * row[j][2] - d * row[j][3]);
        return v;
      };
      const ts = [0, Math.floor(nu / 2), nu - 1].map((i) => firstRoot(onRow(rows[i]), params[k - 1]));
      if (ts.some((t) => !(Math.abs(t - ts[0]) < 1e-7))) return null;
      params.push(ts[0]);
    }
    params.push(1);
    // The chord-length surface must be the interpolation described above, or nothing is changed.
    if (knotsFor(params, p).some((k, i) => Math.abs(k - knots[i]) > 1e-7)) return null;
    const uniform = params.map((_, k) => k / (n - 1));
    const newKnots = knotsFor(uniform, p);
    const collocation = uniform.map((s) => basis(newKnots, p, n, s));
    const at = params.map((t) => basis(knots, p, n, t));
    for (let i = 0; i < nu; i++) {
      const q = at.map((b) => [0, 1, 2, 3].map((c) => b.reduce((sum, bj, j) => sum + bj * rows[i][j][c], 0)));
      const x = [0, 1, 2, 3].map((c) =>
        solve(
          collocation,
          q.map((qk) => qk[c]),
        ),
      );
      for (let j = 1; j < n - 1; j++) {
        const w = x[3][j];
        const pole = keep(new oc.gp_Pnt(x[0][j] / w, x[1][j] / w, x[2][j] / w));
        if (surface.IsURational() || surface.IsVRational()) surface.SetPole(i + 1, j + 1, pole, w);
        else surface.SetPole(i + 1, j + 1, pole);
      }
    }
    setInnerKnots(surface, newKnots.slice(p + 1, n));
    const b = surface.Bounds(0, 0, 0, 0);
    const maker = keep(new oc.BRepBuilderAPI_MakeFace(surface, b.U1, b.U2, b.V1, b.V2, 1e-6));
    if (!maker.IsDone()) return null;
    sewing.Add(maker.Face());
  }
  sewing.Perform(keep(new oc.Message_ProgressRange()));
  const sewed = sewing.SewedShape();
  if (!solid && sewed.ShapeType() === oc.TopAbs_ShapeEnum.TopAbs_FACE) return sewed;
  const shells = keep(new oc.TopExp_Explorer(sewed, oc.TopAbs_ShapeEnum.TopAbs_SHELL, oc.TopAbs_ShapeEnum.TopAbs_SHAPE));
  if (!shells.More()) return null;
  const shell = oc.TopoDS.Shell(shells.Current());
  shells.Next();
  if (shells.More() || faces === 0 || (solid && sewing.NbFreeEdges() > 0)) return null;
  if (!solid) return shell;
  return keep(new oc.ShapeFix_Solid()).SolidFromShell(shell);
}

/** Sets the surface's inner v knots (index 2…) to `inner`, each when it fits between its neighbours. */
function setInnerKnots(surface: OC, inner: number[]): void {
  const pending = new Set(inner.map((_, i) => i));
  for (let pass = 0; pass <= inner.length && pending.size > 0; pass++) {
    for (const i of [...pending]) {
      const index = i + 2;
      if (inner[i] > surface.VKnot(index - 1) && inner[i] < surface.VKnot(index + 1)) {
        surface.SetVKnot(index, inner[i]);
        pending.delete(i);
      }
    }
  }
}
