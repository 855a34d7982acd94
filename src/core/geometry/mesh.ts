/**
 * Tessellation of a B-rep shape for display and rendering: triangles tagged with their B-rep face,
 * and the B-rep edges (not the triangle edges) as line segments tagged with their B-rep edge.
 *
 * Uses replicad's native extractors (one WASM call each) and copies straight out of the WASM heap,
 * which is far faster than walking the triangulation through the JS bindings.
 */
import { getOC, type AnyShape } from 'replicad';
import { geometryError } from '../errors';

export interface MeshData {
  /** xyz per vertex. */
  positions: Float32Array;
  /** xyz per vertex (unit, pointing out of the solid). */
  normals: Float32Array;
  /** Three vertex indices per triangle. */
  indices: Uint32Array;
  /** Per triangle: the B-rep face index (order of `shape.faces`). */
  faceGroups: Uint32Array;
  /** B-rep edges as line segments: x0,y0,z0,x1,y1,z1, … */
  edges: Float32Array;
  /** Per segment: the B-rep edge index (order of `shape.edges`). */
  edgeGroups: Uint32Array;
  /** xmin, ymin, zmin, xmax, ymax, zmax over triangles and edges; zeros when empty. */
  bbox: [number, number, number, number, number, number];
}

export interface MeshOptions {
  /** Maximal chordal deviation in model units. Default: 1e-3 × the bounding-box diagonal. */
  tolerance?: number;
  /** Maximal angle between neighbouring segments, radians. Default 0.2. */
  angularTolerance?: number;
  /**
   * Keep seam edges (where a closed surface such as a cylinder meets itself) among the edges.
   * Default true: the GenCAD images draw them (checked on the test images); a viewer may drop them.
   */
  seams?: boolean;
  /** Extract the B-rep edges at all (default true); false leaves `edges` empty and saves time (STL, sampling). */
  edges?: boolean;
}

const HASH_CODE_MAX = 2147483647;
const DEFAULT_RELATIVE_TOLERANCE = 1e-3;
const DEFAULT_ANGULAR_TOLERANCE = 0.2;

type Wrapped = { wrapped: any } | any;

function unwrap(shape: Wrapped): any {
  return shape && typeof shape === 'object' && 'wrapped' in shape ? shape.wrapped : shape;
}

/** Bounding-box diagonal of a shape, from OCCT's fast (non-optimal) box. */
export function shapeDiagonal(shape: AnyShape | Wrapped): number {
  const oc = getOC();
  const box = new oc.Bnd_Box();
  try {
    oc.BRepBndLib.Add(unwrap(shape), box, true);
    if (box.IsVoid()) return 0;
    const min = box.CornerMin();
    const max = box.CornerMax();
    const d = Math.hypot(max.X() - min.X(), max.Y() - min.Y(), max.Z() - min.Z());
    min.delete();
    max.delete();
    return d;
  } finally {
    box.delete();
  }
}

/** Maps each sub-shape (face or edge) hash to its index in replicad's order (explorer order, deduplicated). */
function subShapeIndex(oc: any, shape: any, topAbsKind: any): Map<number, number> {
  const index = new Map<number, number>();
  const explorer = new oc.TopExp_Explorer(shape, topAbsKind, oc.TopAbs_ShapeEnum.TopAbs_SHAPE);
  try {
    while (explorer.More()) {
      const hash = oc.ReplicadShapeHasher.HashCode(explorer.Current(), HASH_CODE_MAX);
      if (!index.has(hash)) index.set(hash, index.size);
      explorer.Next();
    }
  } finally {
    explorer.delete();
  }
  return index;
}

/** Hashes of the seam edges: edges that bound the same face on both sides. */
function seamEdgeHashes(oc: any, shape: any): Set<number> {
  const seams = new Set<number>();
  const faces = new oc.TopExp_Explorer(shape, oc.TopAbs_ShapeEnum.TopAbs_FACE, oc.TopAbs_ShapeEnum.TopAbs_SHAPE);
  try {
    while (faces.More()) {
      const face = oc.TopoDS.Face(faces.Current());
      const edges = new oc.TopExp_Explorer(face, oc.TopAbs_ShapeEnum.TopAbs_EDGE, oc.TopAbs_ShapeEnum.TopAbs_SHAPE);
      try {
        while (edges.More()) {
          const edge = oc.TopoDS.Edge(edges.Current());
          if (oc.BRep_Tool.IsClosed(edge, face)) seams.add(oc.ReplicadShapeHasher.HashCode(edge, HASH_CODE_MAX));
          edge.delete();
          edges.Next();
        }
      } finally {
        edges.delete();
      }
      face.delete();
      faces.Next();
    }
  } finally {
    faces.delete();
  }
  return seams;
}

function copyF32(oc: any, ptr: number, size: number): Float32Array {
  const start = (ptr >>> 0) / 4;
  return new Float32Array(oc.wasmMemory.buffer, 0).slice(start, start + size);
}
function copyU32(oc: any, ptr: number, size: number): Uint32Array {
  const start = (ptr >>> 0) / 4;
  return new Uint32Array(oc.wasmMemory.buffer, 0).slice(start, start + size);
}
function copyI32(oc: any, ptr: number, size: number): Int32Array {
  const start = (ptr >>> 0) / 4;
  return new Int32Array(oc.wasmMemory.buffer, 0).slice(start, start + size);
}

/** Triangulates a shape and polygonises its edges. Throws a `geometry` CadError for a null or empty shape. */
export function meshShape(shapeInput: AnyShape | Wrapped, opts: MeshOptions = {}): MeshData {
  const oc = getOC();
  const shape = unwrap(shapeInput);
  if (!shape || (typeof shape.IsNull === 'function' && shape.IsNull())) throw geometryError('cannot mesh a null shape');
  let tolerance = opts.tolerance;
  if (tolerance === undefined) {
    const diagonal = shapeDiagonal(shape);
    if (!(diagonal > 0) || !Number.isFinite(diagonal)) throw geometryError('cannot mesh an empty shape (its bounding box is void)');
    tolerance = diagonal * DEFAULT_RELATIVE_TOLERANCE;
  }
  if (!(tolerance > 0)) throw geometryError(`mesh tolerance must be positive, got ${tolerance}`);
  const angularTolerance = opts.angularTolerance ?? DEFAULT_ANGULAR_TOLERANCE;
  if (!(angularTolerance > 0)) throw geometryError(`mesh angular tolerance must be positive, got ${angularTolerance}`);

  // ---- faces ----
  const faceRaw = oc.ReplicadMeshExtractor.extract(shape, tolerance, angularTolerance, false);
  let positions: Float32Array, normals: Float32Array, indices: Uint32Array, faceGroupRaw: Int32Array;
  try {
    positions = copyF32(oc, faceRaw.getVerticesPtr(), faceRaw.getVerticesSize());
    normals = copyF32(oc, faceRaw.getNormalsPtr(), faceRaw.getNormalsSize());
    indices = copyU32(oc, faceRaw.getTrianglesPtr(), faceRaw.getTrianglesSize());
    faceGroupRaw = copyI32(oc, faceRaw.getFaceGroupsPtr(), faceRaw.getFaceGroupsSize());
  } finally {
    faceRaw.delete();
  }
  const faceIndex = subShapeIndex(oc, shape, oc.TopAbs_ShapeEnum.TopAbs_FACE);
  const faceGroups = new Uint32Array(indices.length / 3);
  // Groups are (start, count, hash) in index units; unknown hashes (should not happen) get a fresh index.
  for (let g = 0; g < faceGroupRaw.length; g += 3) {
    const start = faceGroupRaw[g] / 3;
    const count = faceGroupRaw[g + 1] / 3;
    const hash = faceGroupRaw[g + 2];
    let id = faceIndex.get(hash);
    if (id === undefined) faceIndex.set(hash, (id = faceIndex.size));
    faceGroups.fill(id, start, start + count);
  }

  if (opts.edges === false) {
    return { positions, normals, indices, faceGroups, edges: new Float32Array(0), edgeGroups: new Uint32Array(0), bbox: boundsOf(positions) };
  }

  // ---- edges: the extractor gives one polyline per B-rep edge; we split it into segments ----
  const edgeRaw = oc.ReplicadEdgeMeshExtractor.extract(shape, tolerance, angularTolerance);
  let lines: Float32Array, edgeGroupRaw: Int32Array;
  try {
    lines = copyF32(oc, edgeRaw.getLinesPtr(), edgeRaw.getLinesSize());
    edgeGroupRaw = copyI32(oc, edgeRaw.getEdgeGroupsPtr(), edgeRaw.getEdgeGroupsSize());
  } finally {
    edgeRaw.delete();
  }
  const edgeIndex = subShapeIndex(oc, shape, oc.TopAbs_ShapeEnum.TopAbs_EDGE);
  const skip = opts.seams === false ? seamEdgeHashes(oc, shape) : new Set<number>();
  let segmentCount = 0;
  for (let g = 0; g < edgeGroupRaw.length; g += 3) if (!skip.has(edgeGroupRaw[g + 2])) segmentCount += Math.max(0, edgeGroupRaw[g + 1] - 1);
  const edges = new Float32Array(segmentCount * 6);
  const edgeGroups = new Uint32Array(segmentCount);
  let s = 0;
  for (let g = 0; g < edgeGroupRaw.length; g += 3) {
    const start = edgeGroupRaw[g];
    const count = edgeGroupRaw[g + 1];
    const hash = edgeGroupRaw[g + 2];
    if (skip.has(hash)) continue;
    let id = edgeIndex.get(hash);
    if (id === undefined) edgeIndex.set(hash, (id = edgeIndex.size));
    for (let p = start; p < start + count - 1; p++, s++) {
      edges.set(lines.subarray(p * 3, p * 3 + 6), s * 6);
      edgeGroups[s] = id;
    }
  }

  return { positions, normals, indices, faceGroups, edges, edgeGroups, bbox: boundsOf(positions, edges) };
}

function boundsOf(...arrays: Float32Array[]): [number, number, number, number, number, number] {
  const b: [number, number, number, number, number, number] = [Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity];
  for (const a of arrays) {
    for (let i = 0; i < a.length; i += 3) {
      for (let k = 0; k < 3; k++) {
        const v = a[i + k];
        if (v < b[k]) b[k] = v;
        if (v > b[k + 3]) b[k + 3] = v;
      }
    }
  }
  return b[0] === Infinity ? [0, 0, 0, 0, 0, 0] : b;
}

/** The buffers to transfer when posting a MeshData between threads. */
export function meshTransferables(m: MeshData): ArrayBuffer[] {
  const buffers = [m.positions, m.normals, m.indices, m.faceGroups, m.edges, m.edgeGroups].map((a) => a.buffer as ArrayBuffer);
  return [...new Set(buffers)];
}
