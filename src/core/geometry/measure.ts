/**
 * Measurements of a B-rep shape: volume, bounding box, validity, centre of mass and inertia.
 * All run on the calling thread's OpenCascade (a kernel worker, or a test after loadOpenCascade).
 */
import { getOC, type AnyShape } from 'replicad';
import { geometryError } from '../errors';
import type { Mat3, Vec3 } from './linalg';

/** [xmin, ymin, zmin, xmax, ymax, zmax] */
export type BBox = [number, number, number, number, number, number];

export interface ShapeMeasurements {
  volume: number;
  bbox: BBox;
  /** BRepCheck_Analyzer's verdict (topology and geometry). */
  valid: boolean;
}

export interface MassProperties {
  /** Volume (unit density), as GProp_GProps.Mass() gives it. */
  volume: number;
  centre: Vec3;
  /**
   * Matrix of inertia about the centre of mass (row-major), as GProp_GProps.MatrixOfInertia — and
   * so CadQuery's Shape.matrixOfInertia — gives it: diagonal = moments, off-diagonal = −products.
   */
  inertia: Mat3;
}

/** A replicad shape or a raw TopoDS_Shape. */
export type ShapeLike = AnyShape | { wrapped: unknown } | any;

export function unwrapShape(shape: ShapeLike): any {
  const raw = shape && typeof shape === 'object' && 'wrapped' in shape ? shape.wrapped : shape;
  if (!raw || typeof raw.IsNull !== 'function') throw geometryError('expected a shape');
  if (raw.IsNull()) throw geometryError('the shape is null (empty)');
  return raw;
}

/** Volume of the solids in a shape (0 for faces, shells without solids, or an empty compound). */
export function shapeVolume(shape: ShapeLike): number {
  const oc = getOC();
  const props = new oc.GProp_GProps();
  try {
    oc.BRepGProp.VolumeProperties(unwrapShape(shape), props, false, false, false);
    return props.Mass();
  } finally {
    props.delete();
  }
}

/**
 * Tight axis-aligned bounding box (BRepBndLib::AddOptimal on the exact geometry, without
 * tolerances): the plain Add pads by tolerances and uses B-spline control polygons.
 */
export function boundingBox(shape: ShapeLike): BBox {
  const oc = getOC();
  const box = new oc.Bnd_Box();
  try {
    oc.BRepBndLib.AddOptimal(unwrapShape(shape), box, false, false);
    if (box.IsVoid()) throw geometryError('the shape has no geometry (its bounding box is void)');
    return [box.GetXMin(), box.GetYMin(), box.GetZMin(), box.GetXMax(), box.GetYMax(), box.GetZMax()];
  } finally {
    box.delete();
  }
}

/**
 * The bounding box from the shape's extreme points: for each of ±x, ±y, ±z the distance
 * (BRepExtrema_DistShapeShape) from the shape to a plane face beyond it. AddOptimal bounds each
 * face over the rectangle of its UV bounds, so a trimmed face (a torus cut by a plane, a sweep cut
 * by a boolean) can widen its box well past the part, and its optimiser can stop short of a curved
 * extreme; the extremes here are the part's own (face domains respected), at the cost of six
 * distance computations (milliseconds to seconds: for checking, not for every preview). `rough`:
 * the AddOptimal box when the caller has it already. The distance is to the shape's faces: the
 * planes lie outside it, so its nearest point is on its boundary, and a solid would bring in
 * BRepExtrema's inside test, which took a far plane for inside one valid part (a torus cut, then a
 * cylinder extruded both ways fused on: 65 too far out on two sides).
 */
export function extremaBoundingBox(shape: ShapeLike, rough: BBox = boundingBox(shape)): BBox {
  const oc = getOC();
  const raw = facesCompound(oc, unwrapShape(shape));
  const diagonal = Math.hypot(rough[3] - rough[0], rough[4] - rough[1], rough[5] - rough[2]);
  const margin = diagonal + 1;
  const half = 3 * diagonal + 10;
  const centre = [(rough[0] + rough[3]) / 2, (rough[1] + rough[4]) / 2, (rough[2] + rough[5]) / 2];
  const out = rough.slice() as BBox;
  const owned: any[] = [];
  try {
    for (let k = 0; k < 3; k++) {
      for (const side of [0, 1]) {
        const at = side ? rough[k + 3] + margin : rough[k] - margin;
        const p = centre.slice();
        p[k] = at;
        const n = [0, 0, 0];
        n[k] = side ? 1 : -1;
        const origin = new oc.gp_Pnt(p[0], p[1], p[2]);
        const dir = new oc.gp_Dir(n[0], n[1], n[2]);
        const plane = new oc.gp_Pln(origin, dir);
        const maker = new oc.BRepBuilderAPI_MakeFace(plane, -half, half, -half, half);
        const distance = new oc.BRepExtrema_DistShapeShape();
        const progress = new oc.Message_ProgressRange();
        owned.push(origin, dir, plane, maker, distance, progress);
        distance.LoadS1(raw);
        distance.LoadS2(maker.Face());
        if (!distance.Perform(progress) || !distance.IsDone()) throw geometryError('could not find the extremes of the shape');
        out[k + 3 * side] = side ? at - distance.Value() : at + distance.Value();
      }
    }
    return out;
  } finally {
    for (const o of owned) o.delete();
    raw.delete();
  }
}

/** A compound of the shape's faces (their boundary, without the solids around them). */
function facesCompound(oc: any, shape: any): any {
  const builder = new oc.TopoDS_Builder();
  const compound = new oc.TopoDS_Compound();
  builder.MakeCompound(compound);
  const explorer = new oc.TopExp_Explorer(shape, oc.TopAbs_ShapeEnum.TopAbs_FACE, oc.TopAbs_ShapeEnum.TopAbs_SHAPE);
  for (; explorer.More(); explorer.Next()) builder.Add(compound, explorer.Current());
  explorer.delete();
  builder.delete();
  return compound;
}

export function isValidShape(shape: ShapeLike): boolean {
  const oc = getOC();
  const analyzer = new oc.BRepCheck_Analyzer(unwrapShape(shape), true, false, false);
  try {
    return analyzer.IsValid();
  } finally {
    analyzer.delete();
  }
}

/** What `gift run` reports for a shape. */
export function measureShape(shape: ShapeLike): ShapeMeasurements {
  return { volume: shapeVolume(shape), bbox: boundingBox(shape), valid: isValidShape(shape) };
}

/** How many distinct solids, faces, edges and vertices a shape has (CadQuery's Solids()/Faces()/…). */
export interface TopologyCounts {
  solids: number;
  faces: number;
  edges: number;
  vertices: number;
}

export function topologyCounts(shape: ShapeLike): TopologyCounts {
  const oc = getOC();
  const raw = unwrapShape(shape);
  const count = (kind: any): number => {
    // TopExp_Explorer visits a shared sub-shape once per use; keep the distinct ones (IsSame), by hash bucket.
    const explorer = new oc.TopExp_Explorer(raw, kind, oc.TopAbs_ShapeEnum.TopAbs_SHAPE);
    const buckets = new Map<number, any[]>();
    let n = 0;
    try {
      for (; explorer.More(); explorer.Next()) {
        const s = explorer.Current();
        const h = oc.ReplicadShapeHasher.HashCode(s, 2147483647);
        const bucket = buckets.get(h);
        if (bucket?.some((o) => o.IsSame(s))) continue;
        if (bucket) bucket.push(s);
        else buckets.set(h, [s]);
        n++;
      }
      return n;
    } finally {
      explorer.delete();
    }
  };
  const e = oc.TopAbs_ShapeEnum;
  return { solids: count(e.TopAbs_SOLID), faces: count(e.TopAbs_FACE), edges: count(e.TopAbs_EDGE), vertices: count(e.TopAbs_VERTEX) };
}

/**
 * Volume, centre of mass and the matrix of inertia about the centre of mass (BRepGProp
 * VolumeProperties, like CadQuery's computeMass / centerOfMass / matrixOfInertia).
 *
 * This OpenCascade build has no binding for gp_Mat, so MatrixOfInertia() can't be read directly;
 * the matrix is recovered from moments about six axes through the centre of mass instead:
 * nᵀ·I·n for n = x, y, z gives the diagonal and for n = (x+y)/√2 … gives I_xy = nᵀIn − (I_xx+I_yy)/2.
 * MomentOfInertia uses that same matrix, so this is exact up to rounding (≈1e-16 relative).
 */
export function massProperties(shape: ShapeLike): MassProperties {
  const oc = getOC();
  const props = new oc.GProp_GProps();
  const owned: any[] = [props];
  try {
    oc.BRepGProp.VolumeProperties(unwrapShape(shape), props, false, false, false);
    const volume = props.Mass();
    const g = props.CentreOfMass();
    owned.push(g);
    const centre: Vec3 = [g.X(), g.Y(), g.Z()];
    const moment = (x: number, y: number, z: number): number => {
      const dir = new oc.gp_Dir(x, y, z);
      const axis = new oc.gp_Ax1(g, dir);
      try {
        return props.MomentOfInertia(axis);
      } finally {
        axis.delete();
        dir.delete();
      }
    };
    const ixx = moment(1, 0, 0);
    const iyy = moment(0, 1, 0);
    const izz = moment(0, 0, 1);
    const ixy = moment(1, 1, 0) - (ixx + iyy) / 2;
    const ixz = moment(1, 0, 1) - (ixx + izz) / 2;
    const iyz = moment(0, 1, 1) - (iyy + izz) / 2;
    return { volume, centre, inertia: [ixx, ixy, ixz, ixy, iyy, iyz, ixz, iyz, izz] };
  } finally {
    for (const o of owned) o.delete();
  }
}
