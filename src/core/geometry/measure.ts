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
