/**
 * A solid as the verifier sees it: an OCCT B-rep or a closed triangle mesh (an STL, OBJ or PLY
 * reference or candidate), with what the IoU protocols, the Chamfer distance and the consistency
 * check need from it, each computed once and kept (mass properties, bounding box, tessellations,
 * the point classifier).
 *
 * Two tessellations of a B-rep:
 * - `surface()`: 1e-3 of the largest extent, 0.1 rad (the Chamfer distance's and cadrille's), for
 *   sampling;
 * - `booleanMesh()`: for mesh booleans against a mesh: the surface itself when its volume lies
 *   within 1e-3 of the exact B-rep's (most parts: meshing is the slowest step of a B-rep-vs-mesh
 *   verification, 6 s for a plate with 81 holes at the finer setting), else a finer one (2e-4 of
 *   the extent, 0.05 rad); its volume error against the exact B-rep is reported (`tessellationError`).
 * The point-membership check classifies against the surface when it is already made (Chamfer,
 * mesh booleans), else against a coarser one of its own (`CLASSIFIER_TESSELLATION`, 2e-3 and
 * 0.2 rad: 2.3 × faster to make, volume within 4e-3 of the B-rep's on test100; one whose volume
 * error exceeds `CLASSIFIER_MAX_ERROR` falls back to the surface). Its error is a small part of the
 * check's tessellation slack (membership.ts `MESH_SLACK`, 0.02 of the IoU).
 * A mesh is its own surface, boolean mesh and classified mesh. A tessellation that is not closed (an invalid B-rep:
 * overlapping solids, a sliver face) goes through the mesh repair (mesh-repair.ts); the boolean
 * mesh of a B-rep that stays open is an error naming the shape.
 */
import { CadError } from '../errors';
import { boundingBox, massProperties, shapeVolume, type BBox, type MassProperties, type ShapeLike } from './measure';
import { MeshClassifier } from './membership';
import { repairMesh } from './mesh-repair';
import { meshBoundingBox, meshMassProperties, tessellate, type TriangleMesh } from './triangle-mesh';

export const SURFACE_TESSELLATION = { relativeTolerance: 1e-3, angularTolerance: 0.1 };
export const CLASSIFIER_TESSELLATION = { relativeTolerance: 2e-3, angularTolerance: 0.2 };
/** The classifier's coarser tessellation is used when its relative volume error is at most this. */
export const CLASSIFIER_MAX_ERROR = 5e-3;
export const BOOLEAN_TESSELLATION = { relativeTolerance: 2e-4, angularTolerance: 0.05 };
/** The surface tessellation serves the mesh booleans too when its relative volume error is at most this. */
export const SURFACE_AS_BOOLEAN_MAX_ERROR = 1e-3;

export class PreparedSolid {
  private mass?: MassProperties;
  private box?: BBox;
  private vol?: number;
  private surfaceMesh?: TriangleMesh;
  private fineMesh?: TriangleMesh;
  private classifierCache?: MeshClassifier;

  private constructor(
    /** The B-rep, when this is one. */
    readonly shape: ShapeLike | undefined,
    /** The mesh, when this is one. */
    readonly mesh: TriangleMesh | undefined,
    /** For errors: the file name or role. */
    readonly name: string,
  ) {}

  static brep(shape: ShapeLike, name = 'shape'): PreparedSolid {
    return new PreparedSolid(shape, undefined, name);
  }

  static mesh(mesh: TriangleMesh, name: string): PreparedSolid {
    return new PreparedSolid(undefined, mesh, name);
  }

  /** A PreparedSolid as is, anything else as a B-rep. */
  static of(x: ShapeLike | PreparedSolid, name?: string): PreparedSolid {
    return x instanceof PreparedSolid ? x : PreparedSolid.brep(x, name);
  }

  get isMesh(): boolean {
    return this.mesh !== undefined;
  }

  massProperties(): MassProperties {
    this.mass ??= this.mesh ? meshMassProperties(this.mesh) : massProperties(this.shape);
    return this.mass;
  }

  boundingBox(): BBox {
    this.box ??= this.mesh ? meshBoundingBox(this.mesh) : boundingBox(this.shape);
    return this.box;
  }

  volume(): number {
    this.vol ??= this.mesh ? this.massProperties().volume : shapeVolume(this.shape);
    return this.vol;
  }

  extent(): number {
    const b = this.boundingBox();
    const e = Math.max(b[3] - b[0], b[4] - b[1], b[5] - b[2]);
    if (!(e > 0) || !Number.isFinite(e)) throw new CadError('geometry', `${this.name} has no extent`);
    return e;
  }

  /** The surface for sampling and classification (see the top of this file). */
  surface(): TriangleMesh {
    if (!this.surfaceMesh) {
      const raw = this.mesh ?? tessellate(this.shape, this.extent(), SURFACE_TESSELLATION);
      this.surfaceMesh = raw;
      if (!this.mesh && !isClosed(raw)) {
        try {
          this.surfaceMesh = repairMesh(raw, this.name).mesh;
        } catch {
          // Sampling and classification still work on an open surface, a little less well.
        }
      }
    }
    return this.surfaceMesh;
  }

  /** The mesh that mesh booleans use (see the top of this file). */
  booleanMesh(): TriangleMesh {
    if (!this.fineMesh && !this.mesh) {
      const surface = this.surface();
      if (isClosed(surface) && Math.abs(meshMassProperties(surface).volume - this.volume()) <= SURFACE_AS_BOOLEAN_MAX_ERROR * Math.abs(this.volume()))
        this.fineMesh = surface;
    }
    if (!this.fineMesh) {
      const raw = this.mesh ?? tessellate(this.shape, this.extent(), BOOLEAN_TESSELLATION);
      this.fineMesh = this.mesh || isClosed(raw) ? raw : repairMesh(raw, `${this.name} (its tessellation: the B-rep is not a closed solid)`).mesh;
    }
    return this.fineMesh;
  }

  /** |V(booleanMesh) − V(B-rep)| / V(B-rep): 0 for a mesh. */
  tessellationError(): number {
    if (this.mesh) return 0;
    const exact = this.volume();
    return Math.abs(meshMassProperties(this.booleanMesh()).volume - exact) / Math.abs(exact);
  }

  classifier(): MeshClassifier {
    this.classifierCache ??= new MeshClassifier(this.mesh ?? this.surfaceMesh ?? this.coarseSurface() ?? this.surface());
    return this.classifierCache;
  }

  /** The classifier's own tessellation of a B-rep (see the top of this file); undefined where it is too coarse or open. */
  private coarseSurface(): TriangleMesh | undefined {
    if (!this.shape) return undefined;
    const mesh = tessellate(this.shape, this.extent(), CLASSIFIER_TESSELLATION);
    if (!isClosed(mesh)) return undefined;
    const exact = this.volume();
    return Math.abs(meshMassProperties(mesh).volume - exact) <= CLASSIFIER_MAX_ERROR * Math.abs(exact) ? mesh : undefined;
  }
}

/** Whether every edge of the mesh has two triangles (one each way is checked by manifold itself). */
function isClosed(mesh: TriangleMesh): boolean {
  const n = mesh.positions.length / 3;
  const count = new Map<number, number>();
  const t = mesh.indices;
  for (let i = 0; i < t.length; i += 3) {
    for (let k = 0; k < 3; k++) {
      const a = t[i + k];
      const b = t[i + ((k + 1) % 3)];
      const key = a < b ? a * n + b : b * n + a;
      count.set(key, (count.get(key) ?? 0) + 1);
    }
  }
  for (const c of count.values()) if (c !== 2) return false;
  return true;
}
