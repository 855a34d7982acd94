/**
 * Half-turn symmetries of a solid about its own principal axes, read off its B-rep.
 *
 * Why: the `aligned` protocol tries four rotations of the candidate that differ by half-turns about
 * the principal axes (iou.ts). When the candidate — or the reference — is unchanged by such a
 * half-turn, two of the rotations place the same solid against the same solid and must give the
 * same IoU, so its boolean need not be computed twice. On test100 pairs about half the
 * candidates/references are symmetric (square or rectangular plates with centred holes).
 *
 * The test: every face (surface type, area, centroid) and every edge except seams (curve type,
 * length, centroid) must map onto one of the same kind under the half-turn, within a relative
 * tolerance. These are intrinsic quantities — they do not depend on how faces are parametrised or
 * where a closed surface's seam lies. Any doubt (a feature without a partner, nearly equal
 * principal moments that leave the axes to rounding noise) answers "not symmetric", which only
 * costs the boolean that would otherwise be saved.
 */
import { getOC } from 'replicad';
import type { Mat3, Vec3 } from './linalg';
import { unwrapShape, type ShapeLike } from './measure';

/** Relative tolerance on positions (to the shape's size) and on lengths and areas (to the largest). */
const TOLERANCE = 1e-6;
/** Past this many faces and edges the test is skipped (answers "not symmetric"). */
const MAX_FEATURES = 4000;

/** Where the shape's principal axes are: iou.ts's InertiaFrame has these fields. */
export interface PrincipalFrame {
  centre: Vec3;
  /** Principal directions as columns. */
  axes: Mat3;
  /** A length of the shape's size (the radius of gyration): positions are compared to it. */
  scale: number;
}

interface Feature {
  /** 'face:' + surface type, or 'edge:' + curve type (OCCT's GeomAbs enum names). */
  kind: string;
  /** Area or length. */
  size: number;
  /** Centroid in principal coordinates (about the centre of mass, along the axes). */
  q: Vec3;
}

/**
 * For each principal axis k (the columns of `frame.axes`), whether the half-turn about the axis
 * through `frame.centre` maps the shape onto itself. Axes not `wanted` are not checked (false).
 * Faces are compared first; edges only for the axes the faces leave open.
 */
export function halfTurnSymmetries(shape: ShapeLike, frame: PrincipalFrame, wanted: readonly boolean[] = [true, true, true]): [boolean, boolean, boolean] {
  const none: [boolean, boolean, boolean] = [false, false, false];
  if (!wanted.some(Boolean)) return none;
  const at = TOLERANCE * frame.scale;
  const faces = faceFeatures(shape, frame);
  if (!faces) return none;
  const open = [0, 1, 2].map((k) => wanted[k] && mapsOntoItself(faces, k, at)) as [boolean, boolean, boolean];
  if (!open.some(Boolean)) return open;
  const edges = edgeFeatures(shape, frame, MAX_FEATURES - faces.length);
  if (!edges) return none;
  return open.map((ok, k) => ok && mapsOntoItself(edges, k, at)) as [boolean, boolean, boolean];
}

/** Whether negating the two coordinates other than k permutes the features. */
function mapsOntoItself(features: Feature[], k: number, at: number): boolean {
  let largest = 0;
  for (const f of features) largest = Math.max(largest, f.size);
  const sized = TOLERANCE * largest;
  // The k-th coordinate is unchanged by the half-turn: sort on it, and look for partners in a window.
  const order = features.map((_, i) => i).sort((a, b) => features[a].q[k] - features[b].q[k]);
  const used = new Uint8Array(features.length);
  const o1 = (k + 1) % 3,
    o2 = (k + 2) % 3;
  for (let n = 0; n < order.length; n++) {
    const f = features[order[n]];
    let found = -1;
    // Scan down to the window's start, then up to its end.
    let m = n;
    while (m > 0 && features[order[m - 1]].q[k] >= f.q[k] - at) m--;
    for (; m < order.length && features[order[m]].q[k] <= f.q[k] + at; m++) {
      const g = features[order[m]];
      if (used[m] || g.kind !== f.kind || Math.abs(g.size - f.size) > sized) continue;
      if (Math.abs(g.q[o1] + f.q[o1]) <= at && Math.abs(g.q[o2] + f.q[o2]) <= at) {
        found = m;
        break;
      }
    }
    if (found < 0) return false;
    used[found] = 1;
  }
  return true;
}

/** Centroid of a GProp_GProps in principal coordinates: q = axesᵀ · (g − centre). */
function principalCentroid(props: any, { centre, axes }: PrincipalFrame): Vec3 {
  const g = props.CentreOfMass();
  const d = [g.X() - centre[0], g.Y() - centre[1], g.Z() - centre[2]];
  g.delete();
  return [0, 1, 2].map((c) => axes[c] * d[0] + axes[3 + c] * d[1] + axes[6 + c] * d[2]) as Vec3;
}

function faceFeatures(shapeInput: ShapeLike, frame: PrincipalFrame): Feature[] | null {
  const oc = getOC();
  const features: Feature[] = [];
  const explorer = new oc.TopExp_Explorer(unwrapShape(shapeInput), oc.TopAbs_ShapeEnum.TopAbs_FACE, oc.TopAbs_ShapeEnum.TopAbs_SHAPE);
  try {
    for (; explorer.More(); explorer.Next()) {
      if (features.length >= MAX_FEATURES) return null;
      const face = oc.TopoDS.Face(explorer.Current());
      const adaptor = new oc.BRepAdaptor_Surface(face, false);
      const props = new oc.GProp_GProps();
      try {
        oc.BRepGProp.SurfaceProperties(face, props, false, false);
        features.push({ kind: `face:${adaptor.GetType()}`, size: props.Mass(), q: principalCentroid(props, frame) });
      } finally {
        props.delete();
        adaptor.delete();
        face.delete();
      }
    }
  } finally {
    explorer.delete();
  }
  return features.length > 0 ? features : null;
}

/** Every edge once, but not seams (an edge closed on a face that holds it), nor degenerate ones. */
function edgeFeatures(shapeInput: ShapeLike, frame: PrincipalFrame, limit: number): Feature[] | null {
  const oc = getOC();
  // Hashes only bucket the edges: IsSame decides, so a hash collision cannot drop an edge.
  const buckets = new Map<number, { edge: any; seam: boolean }[]>();
  const edges: { edge: any; seam: boolean }[] = [];
  const faces = new oc.TopExp_Explorer(unwrapShape(shapeInput), oc.TopAbs_ShapeEnum.TopAbs_FACE, oc.TopAbs_ShapeEnum.TopAbs_SHAPE);
  try {
    for (; faces.More(); faces.Next()) {
      const face = oc.TopoDS.Face(faces.Current());
      const explorer = new oc.TopExp_Explorer(face, oc.TopAbs_ShapeEnum.TopAbs_EDGE, oc.TopAbs_ShapeEnum.TopAbs_SHAPE);
      for (; explorer.More(); explorer.Next()) {
        const edge = oc.TopoDS.Edge(explorer.Current());
        const seam = oc.BRep_Tool.IsClosed(edge, face);
        const hash = oc.ReplicadShapeHasher.HashCode(edge, 2147483647);
        const bucket = buckets.get(hash) ?? [];
        const known = bucket.find((e) => e.edge.IsSame(edge));
        if (known) {
          known.seam ||= seam;
          edge.delete();
        } else {
          const entry = { edge, seam };
          bucket.push(entry);
          buckets.set(hash, bucket);
          edges.push(entry);
        }
      }
      explorer.delete();
      face.delete();
    }
  } finally {
    faces.delete();
  }
  try {
    if (edges.length > limit) return null;
    const features: Feature[] = [];
    for (const { edge, seam } of edges) {
      if (seam || oc.BRep_Tool.Degenerated(edge)) continue;
      const adaptor = new oc.BRepAdaptor_Curve(edge);
      const props = new oc.GProp_GProps();
      try {
        oc.BRepGProp.LinearProperties(edge, props, false, false);
        features.push({ kind: `edge:${adaptor.GetType()}`, size: props.Mass(), q: principalCentroid(props, frame) });
      } finally {
        props.delete();
        adaptor.delete();
      }
    }
    return features;
  } finally {
    for (const { edge } of edges) edge.delete();
  }
}
