/**
 * A solid as the verifier sees it: an OCCT B-rep or a closed triangle mesh (an STL, OBJ or PLY
 * reference or candidate), with what the IoU protocols, the Chamfer distance and the consistency
 * check need from it, each computed once and kept (mass properties, bounding box, tessellations,
 * the point classifier).
 *
 * Two tessellations of a B-rep:
 * - `surface()`: 1e-3 of the largest extent, 0.1 rad (the Chamfer distance's and cadrille's), for
 *   sampling and for the point-membership check;
 * - `booleanMesh()`: for mesh booleans against a mesh, finer (2e-4 of the extent, 0.05 rad); its
 *   volume error against the exact B-rep is measured and reported (`tessellationError`).
 * A mesh is its own surface and boolean mesh.
 */
import { CadError } from '../errors';
import { boundingBox, massProperties, shapeVolume, type BBox, type MassProperties, type ShapeLike } from './measure';
import { MeshClassifier } from './membership';
import { meshBoundingBox, meshMassProperties, tessellate, type TriangleMesh } from './triangle-mesh';

export const SURFACE_TESSELLATION = { relativeTolerance: 1e-3, angularTolerance: 0.1 };
export const BOOLEAN_TESSELLATION = { relativeTolerance: 2e-4, angularTolerance: 0.05 };

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
    this.surfaceMesh ??= this.mesh ?? tessellate(this.shape, this.extent(), SURFACE_TESSELLATION);
    return this.surfaceMesh;
  }

  /** The mesh that mesh booleans use (see the top of this file). */
  booleanMesh(): TriangleMesh {
    this.fineMesh ??= this.mesh ?? tessellate(this.shape, this.extent(), BOOLEAN_TESSELLATION);
    return this.fineMesh;
  }

  /** |V(booleanMesh) − V(B-rep)| / V(B-rep): 0 for a mesh. */
  tessellationError(): number {
    if (this.mesh) return 0;
    const exact = this.volume();
    return Math.abs(meshMassProperties(this.booleanMesh()).volume - exact) / Math.abs(exact);
  }

  classifier(): MeshClassifier {
    this.classifierCache ??= new MeshClassifier(this.surface());
    return this.classifierCache;
  }
}
