/**
 * Volumetric IoU between a candidate solid (e.g. a generated program's result) and a reference
 * (e.g. the ground-truth STEP), with exact B-rep booleans.
 *
 * ## Protocols
 *
 * - `aligned` — the protocol of the GIFT / CAD-Coder papers (CAD-Coder's scripts/compute_iou.py,
 *   reused by GIFT). Each solid is translated by its centre of mass and divided by
 *   s = sqrt(Σ|eig(I)| / V) (I = matrix of inertia about the centre of mass, V = volume; Σeig = trace
 *   = 2∫r²dV, so s is a radius of gyration). Then the candidate is rotated by
 *   R = Vt · (Vs · diag(a))ᵀ for a ∈ {(1,1,1), (1,−1,−1), (−1,1,−1), (−1,−1,1)} (in that order:
 *   R0 = Vt·Vsᵀ, then a_i = 1 − 2·[i>0, (i+1)%2, i%3≤1] for i = 0..2), where Vs and Vt are the
 *   eigenvectors (columns) of the candidate's and the reference's inertia matrices from
 *   numpy.linalg.eigh (eigenvalues ascending). IoU = V(A∩B) / V(A∪B) for each of the four, and the
 *   best is kept. Details checked against the original code:
 *   · candidate = `source` = the prediction (rotated), reference = `target` = the ground truth:
 *     `compute_iou(pred_step, gt_step)`. Only the candidate is rotated.
 *   · eigh's eigenvector signs are arbitrary, and all four sign patterns have det(diag(a)) = +1, so
 *     when det(Vt)·det(Vs) = −1 all four candidates are reflections (a mirror image can score 1).
 *     The outcome therefore depends on the signs LAPACK happens to return; `eigh3` (linalg.ts)
 *     reproduces LAPACK's dsyevd path so the four candidates are the ones numpy would give (checked
 *     against numpy on 3,000 matrices: same signs). The inertia matrix comes from OCCT's GProp as in
 *     CadQuery's matrixOfInertia (measure.ts), about the centre of mass.
 *   · The original applies R with CadQuery's transformGeometry (a gp_GTrsf, which converts the
 *     surfaces to B-splines) or, in the pythonocc variant, gp_Trsf.SetValues. We use
 *     gp_Trsf.SetValues too: it stores an orthogonal matrix with det −1 as scale −1 times a proper
 *     rotation, so reflections stay exact analytic geometry (and booleans stay fast).
 *   · Repeated principal moments (square plates, cylinders: 11 of the 100 test100 parts) leave the
 *     eigenvectors inside that eigenspace to rounding noise, so even an exactly scaled and shifted
 *     copy of such a part can score well below 1 (0.52–0.9999 on test100; bench/iou.ts). This is
 *     the protocol's own weakness, reproduced rather than fixed; a copy with the identical inertia
 *     matrix (a part against itself) always scores 1.
 *   · Rotations that place the same solid: when the candidate, or the reference, is unchanged by a
 *     half-turn about one of its principal axes (a rectangular plate with centred holes is, about
 *     all three), two of the four rotations differ by exactly that half-turn and give the same IoU
 *     in exact arithmetic: R_i·S = R_j for the candidate's symmetry S = Vs·diag(c)·Vsᵀ when
 *     a_i⊙c = a_j, and likewise T·R_i = R_j for the reference's T = Vt·diag(b)·Vtᵀ. Such a
 *     rotation is computed once and the other reports `sameAs` (symmetry.ts checks the B-rep).
 *     The original computes all four booleans; OCCT's results for the two congruent placements
 *     agree to rounding almost always, and the best IoU moved by at most 0.0042 (mean 5e-6) on 896
 *     test100 pairs (ground truth and model samples against the gt STEP), while 1.7 of the 4
 *     booleans per pair were saved.
 *   · Placements that cannot win: with the consistency check on, each placement's IoU is first
 *     bounded from 1,024 points (its point estimate plus the check's tolerance); the placements
 *     are intersected in the order of their estimates, and one whose bound lies below the best IoU
 *     so far is not (`bound`). On 302 pairs (34 test100 ground truths, 268 `models/compact` samples,
 *     against the STEP) no ok result moved; 1.95 instead of 2.09 booleans per pair, and
 *     ground truth against its own STEP (IoU ≈ 1) mostly needs one.
 *     `allRotations` computes all four, as the original does.
 *   · The original computes the union with a fuse; we use V(A∪B) = V(A) + V(B) − V(A∩B), equal in
 *     exact arithmetic and one boolean cheaper; the moved copies' volumes are V·|det M| of
 *     the measured ones (a similarity), not measured again. A candidate rotation whose boolean throws counts as
 *     IoU 0 there (`except: IOU = 0.0`); here it is recorded as failed, and only when all four fail
 *     is the result an error.
 * - `aligned-proper` — the same, but with the four sign patterns that give proper rotations
 *   (det R = +1): identical to `aligned` when det(Vt)·det(Vs) = +1, otherwise diag(a) is negated.
 *   A mirror image does not reach 1.
 * - `aligned-robust` — proper rotations only, and where the axes are decided by noise (below), a
 *   search over the rotations that degeneracy allows (rotation-search.ts), best IoU kept: the same
 *   shape from two sources scores ≈1 (a square tube against its own STL: 0.18 aligned, 0.997
 *   here). What buckets and ranking use by default (protocols.ts DEFAULT_BUCKET_PROTOCOL).
 * - `unit-cube` — cadrille / CAD-Recode: each shape's bounding box is centred at the origin and
 *   scaled by 1 / (its largest extent); no rotation. (They shift by +0.5 into [0,1]³ afterwards,
 *   which does not change IoU, and compute it on meshes; we use the B-rep.)
 * - `centred` — each shape translated by its centre of mass, nothing else: the raw IoU after
 *   centring, so size counts and pose does not move anything but the centre. The preview shows it
 *   beside the configured protocol's IoU, with `sizeRatio`, so "same shape, wrong size" shows at a
 *   glance (a copy at half the size: aligned ≈ 1, centred 1/8, size ×0.5). Centres of mass rather
 *   than bounding-box centres: they do not move when a shape is rotated, and the aligned protocols
 *   use them too.
 * - `raw` — the shapes where they are.
 *
 * ## Size and frame
 * Every result says `sizeRatio` = (V_candidate / V_reference)^(1/3), of the shapes as given (the
 * cube root of the volumes rather than the bounding boxes' diagonals: it does not change with a
 * rotation), and `referenceInCandidate`: the map that puts the reference where this protocol
 * compared it, in the candidate's own coordinates (T_candidate⁻¹ ∘ T_reference for the best
 * placement): the preview draws its ghost with it.
 *
 * ## Axes
 * Aligned results say `axes: degenerate` when two principal moments of either shape are closer
 * than DEGENERATE_GAP (1e-3 of their sum): then rounding, not the shape, picks the principal axes
 * and `aligned` compares at an arbitrary twist (on test100 against each program's own STL, the 7
 * aligned pairs below 0.98 all are), else `distinct`.
 *
 * ## Meshes (#16)
 * When either side is a mesh (an STL, OBJ or PLY), the booleans are manifold-3d's (manifold.ts)
 * on the meshes themselves, the B-rep side tessellated (solid.ts `booleanMesh`: its surface
 * tessellation when that is within 1e-3 in volume, else the finer `BOOLEAN_TESSELLATION`; the
 * volume error is reported in `tessellation`). The protocols are the same: the
 * normalisation comes from the mesh's exact mass properties and bounding box, and each rotation
 * moves the one tessellation (nothing is meshed twice). A placement is intersected only when its
 * point estimate (1,024 points) plus the check's tolerance could beat the best IoU so far, taking
 * them in the order of their estimates, and none once the best is within 1e-3 of 1 (a mesh
 * against itself, or a symmetric part's congruent placements): a mesh boolean costs ≈ 1 s per
 * 100 k triangles here, more when the two surfaces coincide. OCCT booleans of a faceted solid against
 * the analytic B-rep it came from fail silently (IoU 0 for 10 of the 100 test100 programs against
 * their own STL), which is why meshes never go through them.
 *
 * ## The consistency check
 * Every intersected placement's numbers are checked against an independent point-membership
 * estimate (membership.ts `checkIou`) before the IoU is reported: `status` is `ok` only when all
 * agree, else `inconsistent`, with the boolean's IoU in `iou` and the estimate in `check`.
 *
 * Memory: OCCT's boolean leaks a few hundred KiB of WASM heap per intersection of two nearly
 * coincident solids (measured: none for identical or clearly different inputs), which is exactly
 * what `aligned` does on a good match; long-running workers should be recycled on heap size.
 *
 * Failures — a shape with no volume, a degenerate normalisation, an OCCT exception in every
 * placement — are CadErrors of kind `geometry`; a boolean that gives an impossible or disagreeing
 * volume is a result with status `inconsistent`.
 */
import { getOC } from 'replicad';
import { CadError } from '../errors';
import { occtErrorMessage } from '../occt/occt';
import { apply3, composeAffine, det3, eigh3, identity3, invertAffine, multiply3, scaleColumns3, transpose3, type Affine, type Mat3, type Vec3 } from './linalg';
import { deleteAll, forBooleans, manifoldIntersectionVolume, toManifold, transformManifold, type ManifoldSolid } from './manifold';
import { shapeVolume, unwrapShape, type ShapeLike } from './measure';
import { checkIou, iouUpperBound, type ConsistencyCheck } from './membership';
import { IOU_PROTOCOLS, isIouProtocol, type IouProtocol } from './protocols';
import { degeneratePairs, searchRotations } from './rotation-search';
import { PreparedSolid } from './solid';
import { halfTurnSymmetries } from './symmetry';

export { IOU_PROTOCOLS, isIouProtocol, type IouProtocol } from './protocols';
export type { Affine } from './linalg';
export { PreparedSolid } from './solid';

export interface Normalisation {
  protocol: IouProtocol;
  /** Maps the reference into the common frame. */
  reference: Affine;
  /** Maps the candidate into the common frame: one per rotation tried (one for unit-cube / raw). */
  candidates: Affine[];
  /** Volumes of the untransformed shapes, when the protocol measured them (aligned ones do). */
  volumes?: { candidate: number; reference: number };
  /**
   * Per candidate transform, the first one that places the candidate identically against the
   * reference (by a half-turn symmetry of either shape): its own index when none does.
   */
  representatives: number[];
  /** Aligned protocols: whether two principal moments of either shape are nearly equal (rotation-search.ts). */
  axes?: 'degenerate' | 'distinct';
  /** Every placement is intersected, none skipped by symmetry or by its point estimate (the original script's way). */
  allRotations?: boolean;
}

export interface NormalisationOptions {
  /** Treat all four aligned rotations as distinct, as the original script does (no symmetry check). */
  allRotations?: boolean;
}

export interface IouCandidate {
  /** null when this rotation's boolean failed. */
  iou: number | null;
  /** Whether this candidate transform is a reflection (det < 0). */
  reflection: boolean;
  /** Not intersected: this transform places the candidate exactly as candidate `sameAs` does. */
  sameAs?: number;
  /**
   * Not intersected: the point estimate's upper bound on this placement's IoU lies below the
   * reported IoU, so it could not be the best (mesh booleans: or the reported IoU is within 1e-3 of 1).
   */
  bound?: number;
  error?: string;
  /** The consistency check of this placement (absent when not intersected or not checked). */
  check?: ConsistencyCheck;
}

export type IouStatus = 'ok' | 'inconsistent';

export interface IouResult {
  iou: number;
  protocol: IouProtocol;
  /** `ok`, or `inconsistent`: a boolean's numbers disagree with the point estimate (`check`). */
  status: IouStatus;
  /** The best placement's check, or the first failing one's when the status is inconsistent. */
  check?: ConsistencyCheck & { rotation: number };
  /**
   * Aligned protocols: `degenerate` when two principal moments of either shape are so close that
   * rounding, not the shape, picks the principal axes (see "Axes" above), else `distinct`.
   */
  axes?: 'degenerate' | 'distinct';
  /** Whose booleans: OCCT's on the B-reps, or manifold's on meshes (either side a mesh). */
  method: 'brep' | 'mesh';
  /**
   * When OCCT's booleans failed the check and manifold's on the two B-reps' tessellations passed
   * (`meshFallback`): the B-rep result's failing check, kept beside the mesh result reported.
   */
  fallbackFrom?: { method: 'brep'; iou: number; check?: ConsistencyCheck & { rotation: number } };
  /**
   * For `mesh`: each side's relative volume error from its tessellation (a B-rep side) plus the
   * simplification before the booleans (manifold.ts `forBooleans`), an upper bound.
   */
  tessellation?: { candidate: number; reference: number };
  /** Volumes in the common (normalised) frame, for the best candidate. */
  volumes: { candidate: number; reference: number; intersection: number; union: number };
  /** Index into `candidates` of the best one. */
  best: number;
  candidates: IouCandidate[];
  /** The best candidate's transform into the common frame. */
  transform: Affine;
  /** The reference placed as this protocol compared it, in the candidate's coordinates: transform⁻¹ ∘ the reference's frame. */
  referenceInCandidate: Affine;
  /** (V_candidate / V_reference)^(1/3) of the shapes as given: 0.5 for a copy at half the size. */
  sizeRatio: number;
  ms: number;
}

export interface IouOptions {
  /** Run the consistency check (default true). */
  check?: boolean;
  /** Points for the check (default 4,096). */
  checkPoints?: number;
  /**
   * Replaces the boolean's intersection volume of placement `rotation`: for tests that the check
   * catches a wrong boolean. Never set outside tests.
   */
  corruptIntersection?: (volume: number, rotation: number) => number;
}

/** Points of the consistency check for the reported placement (membership.ts). */
export const CHECK_POINTS = 4096;
/** Points per placement for the upper bound that lets mesh booleans skip a placement. */
const PRUNE_POINTS = 1024;
/** Mesh booleans stop once the best IoU is within this of 1 (no placement can add more). */
const NEGLIGIBLE_GAIN = 1e-3;

/** The authors' four sign patterns, in their order. */
const SIGN_PATTERNS: Vec3[] = [[1, 1, 1], ...[0, 1, 2].map((i) => [i > 0, (i + 1) % 2 === 1, i % 3 <= 1].map((b) => (b ? -1 : 1)) as Vec3)];

function requireProtocol(protocol: unknown): IouProtocol {
  if (!isIouProtocol(protocol)) throw new CadError('geometry', `unknown IoU protocol '${String(protocol)}': expected one of ${IOU_PROTOCOLS.join(', ')}`);
  return protocol;
}

const IDENTITY: Affine = { matrix: identity3(), translation: [0, 0, 0] };

/** p ↦ (p − centre) / scale, then rotated. */
function centredScaled(centre: Vec3, scale: number, rotation: Mat3 = identity3()): Affine {
  const matrix = rotation.map((v) => v / scale);
  const t = apply3(matrix, centre);
  return { matrix, translation: [-t[0], -t[1], -t[2]] };
}

/**
 * The inertia normalisation of one shape: centre of mass, scale s, and eigenvectors.
 * Exposed for tests and for callers that compare one reference against many candidates.
 */
export interface InertiaFrame {
  centre: Vec3;
  scale: number;
  /** Principal directions as columns, eigenvalues ascending (numpy's eigh). */
  axes: Mat3;
  /** The principal moments, ascending. */
  moments: Vec3;
  volume: number;
}

export function inertiaFrame(shape: ShapeLike | PreparedSolid, role: string): InertiaFrame {
  const { volume, centre, inertia } = PreparedSolid.of(shape, role).massProperties();
  if (!(volume > 0) || !Number.isFinite(volume)) throw new CadError('geometry', `the ${role} has no volume (${volume}); IoU needs a solid`);
  const { values, vectors } = eigh3(inertia);
  const scale = Math.sqrt((Math.abs(values[0]) + Math.abs(values[1]) + Math.abs(values[2])) / volume);
  if (!(scale > 0) || !Number.isFinite(scale)) throw new CadError('geometry', `the ${role} is degenerate: its inertia gives scale ${scale}`);
  return { centre, scale, axes: vectors, moments: [values[0], values[1], values[2]], volume };
}

function unitCubeFrame(solid: PreparedSolid, role: string): Affine {
  const b = solid.boundingBox();
  const extent = Math.max(b[3] - b[0], b[4] - b[1], b[5] - b[2]);
  if (!(extent > 0) || !Number.isFinite(extent)) throw new CadError('geometry', `the ${role} is degenerate: its bounding box has extent ${extent}`);
  return centredScaled([(b[0] + b[3]) / 2, (b[1] + b[4]) / 2, (b[2] + b[5]) / 2], extent);
}

/** The transforms a protocol applies, without any boolean. */
export function normalisation(
  candidateInput: ShapeLike | PreparedSolid,
  referenceInput: ShapeLike | PreparedSolid,
  protocolInput: IouProtocol,
  options: NormalisationOptions = {},
): Normalisation {
  const protocol = requireProtocol(protocolInput);
  const candidate = PreparedSolid.of(candidateInput, 'candidate');
  const reference = PreparedSolid.of(referenceInput, 'reference');
  if (protocol === 'raw') return { protocol, reference: IDENTITY, candidates: [IDENTITY], representatives: [0] };
  if (protocol === 'unit-cube') {
    return { protocol, reference: unitCubeFrame(reference, 'reference'), candidates: [unitCubeFrame(candidate, 'candidate')], representatives: [0] };
  }
  if (protocol === 'centred') {
    const frame = (solid: PreparedSolid, role: string) => {
      const { volume, centre } = solid.massProperties();
      if (!(volume > 0) || !Number.isFinite(volume)) throw new CadError('geometry', `the ${role} has no volume (${volume}); IoU needs a solid`);
      return { volume, affine: centredScaled(centre, 1) };
    };
    const c = frame(candidate, 'candidate');
    const r = frame(reference, 'reference');
    return { protocol, reference: r.affine, candidates: [c.affine], volumes: { candidate: c.volume, reference: r.volume }, representatives: [0] };
  }
  const source = inertiaFrame(candidate, 'candidate');
  const target = inertiaFrame(reference, 'reference');
  let patterns = SIGN_PATTERNS;
  if (protocol !== 'aligned' && det3(target.axes) * det3(source.axes) < 0) {
    patterns = SIGN_PATTERNS.map((a) => a.map((x) => -x) as Vec3);
  }
  const candidates = patterns.map((a) => {
    const rotation = multiply3(target.axes, transpose3(scaleColumns3(source.axes, a)));
    return centredScaled(source.centre, source.scale, rotation);
  });
  // The symmetry check reads B-rep faces; mesh booleans skip placements by their point estimate
  // instead (iou(): a placement whose upper bound cannot beat the best so far).
  const representatives =
    options.allRotations || candidate.isMesh || reference.isMesh
      ? patterns.map((_, i) => i)
      : congruentRotations(patterns, candidate.shape, source, reference.shape, target);
  const axes = degeneratePairs(source.moments).length > 0 || degeneratePairs(target.moments).length > 0 ? 'degenerate' : 'distinct';
  if (protocol === 'aligned-robust' && axes === 'degenerate') {
    for (const rotation of searchRotations(candidate, reference, source, target)) {
      representatives.push(candidates.length);
      candidates.push(centredScaled(source.centre, source.scale, rotation));
    }
  }
  return {
    protocol,
    reference: centredScaled(target.centre, target.scale),
    candidates,
    volumes: { candidate: source.volume, reference: target.volume },
    representatives,
    axes,
    ...(options.allRotations ? { allRotations: true } : {}),
  };
}

/**
 * For each sign pattern, the first one that gives the same placement (see "Rotations that place
 * the same solid" at the top of this file). Patterns i and j differ by the half-turn about the
 * principal axis k where a_i⊙a_j is +1; the half-turns that leave either shape unchanged form a
 * subgroup of the four, and i, j are congruent when a_i⊙a_j lies in it.
 */
function congruentRotations(patterns: Vec3[], candidate: ShapeLike, source: InertiaFrame, reference: ShapeLike, target: InertiaFrame): number[] {
  const ofCandidate = halfTurnSymmetries(candidate, source);
  // Two symmetries already make all four congruent; with one, any other from the reference does.
  const found = ofCandidate.filter(Boolean).length;
  const ofReference =
    found >= 2
      ? [false, false, false]
      : halfTurnSymmetries(
          reference,
          target,
          ofCandidate.map((c) => !c),
        );
  const axes = [0, 1, 2].filter((k) => ofCandidate[k] || ofReference[k]);
  const representatives: number[] = [];
  patterns.forEach((a, i) => {
    const j = representatives.findIndex((_, j) => {
      const axis = [0, 1, 2].find((k) => a[k] * patterns[j][k] > 0);
      // Two distinct half-turns generate all of them.
      return axes.length >= 2 || (axis !== undefined && axes.includes(axis));
    });
    representatives.push(j < 0 ? i : representatives[j]);
  });
  return representatives;
}

/** Applies an affine map that is a similarity (orthogonal × scale, reflections allowed) to a shape. */
export function transformShape(shape: ShapeLike, affine: Affine): any {
  const oc = getOC();
  const raw = unwrapShape(shape);
  const m = affine.matrix;
  const t = affine.translation;
  const trsf = new oc.gp_Trsf();
  try {
    trsf.SetValues(m[0], m[1], m[2], t[0], m[3], m[4], m[5], t[1], m[6], m[7], m[8], t[2]);
    const builder = new oc.BRepBuilderAPI_Transform(raw, trsf, true, false);
    try {
      return builder.Shape();
    } finally {
      builder.delete();
    }
  } finally {
    trsf.delete();
  }
}

function isIdentity(a: Affine): boolean {
  return a.matrix.every((v, i) => v === identity3()[i]) && a.translation.every((v) => v === 0);
}

/** Volume of A∩B with a raw BRepAlgoAPI_Common (replicad's intersect is several times slower). */
export function intersectionVolume(a: ShapeLike, b: ShapeLike): number {
  const oc = getOC();
  const progress = new oc.Message_ProgressRange();
  const common = new oc.BRepAlgoAPI_Common(unwrapShape(a), unwrapShape(b), progress);
  try {
    if (!common.IsDone() || common.HasErrors()) throw new Error('the boolean intersection failed');
    const result = common.Shape();
    try {
      return shapeVolume(result);
    } finally {
      result.delete();
    }
  } finally {
    common.delete();
    progress.delete();
  }
}

/**
 * One engine's booleans for a pair: the volumes of the untransformed shapes as the engine sees
 * them, and V(A∩B) for a placement of each.
 */
interface BooleanEngine {
  method: 'brep' | 'mesh';
  volumes: { candidate: number; reference: number };
  /** Mesh booleans: each side's relative volume change from simplifying it (manifold.ts `forBooleans`). */
  simplified?: { candidate: number; reference: number };
  intersection(candidate: Affine, reference: Affine): number;
  dispose(): void;
}

function brepEngine(candidate: PreparedSolid, reference: PreparedSolid, frames: Normalisation): BooleanEngine {
  const volumes = frames.volumes ?? { candidate: candidate.volume(), reference: reference.volume() };
  const owned: any[] = [];
  let referenceAt: { affine: Affine; shape: any } | undefined;
  return {
    method: 'brep',
    volumes,
    intersection(cAffine, rAffine) {
      if (!referenceAt || referenceAt.affine !== rAffine) {
        const moved = isIdentity(rAffine) ? unwrapShape(reference.shape) : transformShape(reference.shape, rAffine);
        if (moved !== unwrapShape(reference.shape)) owned.push(moved);
        referenceAt = { affine: rAffine, shape: moved };
      }
      const moved = isIdentity(cAffine) ? unwrapShape(candidate.shape) : transformShape(candidate.shape, cAffine);
      try {
        return intersectionVolume(moved, referenceAt.shape);
      } finally {
        if (moved !== unwrapShape(candidate.shape)) moved.delete();
      }
    },
    dispose() {
      for (const o of owned) o.delete();
    },
  };
}

function meshEngine(candidate: PreparedSolid, reference: PreparedSolid): BooleanEngine {
  const owned: ManifoldSolid[] = [];
  try {
    const build = (solid: PreparedSolid) => {
      const whole = toManifold(solid.booleanMesh(), solid.name);
      owned.push(whole);
      const simplified = forBooleans(whole, solid.extent());
      if (simplified.solid !== whole) owned.push(simplified.solid);
      return simplified;
    };
    const sa = build(candidate);
    const sb = build(reference);
    const a = sa.solid;
    const b = sb.solid;
    const volumes = { candidate: a.volume(), reference: b.volume() };
    return {
      method: 'mesh',
      volumes,
      simplified: { candidate: sa.volumeChange, reference: sb.volumeChange },
      intersection(cAffine, rAffine) {
        const moved: ManifoldSolid[] = [];
        try {
          const ma = isIdentity(cAffine) ? a : transformManifold(a, cAffine);
          if (ma !== a) moved.push(ma);
          const mb = isIdentity(rAffine) ? b : transformManifold(b, rAffine);
          if (mb !== b) moved.push(mb);
          return manifoldIntersectionVolume(ma, mb);
        } finally {
          deleteAll(moved);
        }
      },
      dispose() {
        deleteAll(owned);
      },
    };
  } catch (e) {
    deleteAll(owned);
    throw e;
  }
}

/**
 * A B-rep pair whose OCCT booleans failed the consistency check (`inconsistent`), measured again
 * with manifold's booleans on the two B-reps' tessellations in the same frames (manifold must be
 * loaded in this thread). Returns that result when it passes the check, with the B-rep result's
 * failing check in `fallbackFrom` and the tessellations' volume errors in `tessellation`; else
 * undefined (the inconsistent result stands).
 */
export function meshFallback(
  candidateInput: ShapeLike | PreparedSolid,
  referenceInput: ShapeLike | PreparedSolid,
  failed: IouResult,
  frames: Normalisation,
  options: IouOptions = {},
): IouResult | undefined {
  if (failed.status !== 'inconsistent' || failed.method !== 'brep') return undefined;
  const candidate = PreparedSolid.of(candidateInput, 'candidate');
  const reference = PreparedSolid.of(referenceInput, 'reference');
  try {
    const result = iou(
      PreparedSolid.mesh(candidate.booleanMesh(), `${candidate.name} (tessellated)`),
      PreparedSolid.mesh(reference.booleanMesh(), `${reference.name} (tessellated)`),
      frames.protocol,
      frames,
      options,
    );
    if (result.status !== 'ok') return undefined;
    const simplified = result.tessellation ?? { candidate: 0, reference: 0 };
    result.tessellation = {
      candidate: simplified.candidate + candidate.tessellationError(),
      reference: simplified.reference + reference.tessellationError(),
    };
    result.fallbackFrom = { method: 'brep', iou: failed.iou, check: failed.check };
    return result;
  } catch {
    return undefined;
  }
}

/**
 * IoU of `candidate` against `reference` under `protocol` (see the comment at the top of this
 * file). Either may be a B-rep or a PreparedSolid (a mesh: then manifold-3d must be loaded in this
 * thread, manifold.ts `loadManifold`).
 */
export function iou(
  candidateInput: ShapeLike | PreparedSolid,
  referenceInput: ShapeLike | PreparedSolid,
  protocol: IouProtocol = 'aligned',
  framesInput?: Normalisation,
  options: IouOptions = {},
): IouResult {
  const oc = getOC();
  const started = performance.now();
  const candidate = PreparedSolid.of(candidateInput, 'candidate');
  const reference = PreparedSolid.of(referenceInput, 'reference');
  const frames = framesInput ?? normalisation(candidate, reference, protocol);
  if (frames.protocol !== protocol) throw new CadError('geometry', `IoU: frames are for ${frames.protocol}, not ${protocol}`);
  const meshes = candidate.isMesh || reference.isMesh;
  const engine = meshes ? meshEngine(candidate, reference) : brepEngine(candidate, reference, frames);
  try {
    const volumes = engine.volumes;
    for (const role of ['candidate', 'reference'] as const) {
      const v = volumes[role];
      if (!(v > 0) || !Number.isFinite(v)) throw new CadError('geometry', `the ${role} has no volume (${v}); IoU needs a solid`);
    }
    // A similarity scales volume by |det|: no need to measure the moved copies again.
    const movedVolume = (volume: number, affine: Affine) => volume * Math.abs(det3(affine.matrix));
    const vRef = movedVolume(volumes.reference, frames.reference);
    let best = -1;
    let bestIou = -Infinity;
    let bestVolumes = { candidate: 0, reference: vRef, intersection: 0, union: 0 };
    const tried: IouCandidate[] = [];
    const placed: { index: number; volumes: { candidate: number; reference: number; intersection: number }; value: number }[] = [];
    const attempt = (affine: Affine, index: number): IouCandidate => {
      const reflection = det3(affine.matrix) < 0;
      const same = frames.representatives[index];
      if (same !== index) return { ...tried[same], reflection, sameAs: same };
      try {
        const vCand = movedVolume(volumes.candidate, affine);
        let vInter = engine.intersection(affine, frames.reference);
        if (options.corruptIntersection) vInter = options.corruptIntersection(vInter, index);
        const vUnion = vCand + vRef - vInter;
        const value = vInter / vUnion;
        if (!Number.isFinite(value)) throw new Error(`the boolean gave no usable volume (intersection ${vInter}, union ${vUnion})`);
        const clamped = Math.min(1, Math.max(0, value));
        placed.push({ index, volumes: { candidate: vCand, reference: vRef, intersection: vInter }, value });
        if (clamped > bestIou) {
          bestIou = clamped;
          best = index;
          bestVolumes = { candidate: vCand, reference: vRef, intersection: vInter, union: vUnion };
        }
        return { iou: clamped, reflection };
      } catch (e) {
        if (e instanceof CadError) throw e;
        return { iou: null, reflection, error: meshes ? String((e as Error)?.message ?? e) : occtErrorMessage(oc, e) };
      }
    };
    if (options.check !== false && frames.candidates.length > 1 && !frames.allRotations) {
      // Booleans are most of a verification's time (a mesh boolean ≈ 1 s per 100 k triangles): the
      // placements in the order of their point estimates, and one whose upper bound cannot beat the
      // best IoU so far is not intersected. Mesh booleans also stop once the best is within 1e-3 of 1;
      // B-rep booleans go on (the paper's number is the exact best).
      const bounds = frames.candidates.map((affine, index) =>
        frames.representatives[index] === index
          ? iouUpperBound(
              { classifier: candidate.classifier(), toCommon: affine },
              { classifier: reference.classifier(), toCommon: frames.reference },
              PRUNE_POINTS,
            )
          : undefined,
      );
      const order = frames.candidates.map((_, i) => i).sort((i, j) => (bounds[j]?.estimate ?? -1) - (bounds[i]?.estimate ?? -1));
      for (const index of order) {
        const affine = frames.candidates[index];
        const bound = bounds[index];
        if (bound && best >= 0 && (bound.bound < bestIou || (meshes && bestIou >= 1 - NEGLIGIBLE_GAIN)))
          tried[index] = { iou: null, reflection: det3(affine.matrix) < 0, bound: bound.bound };
        else if (bound) tried[index] = attempt(affine, index);
      }
      // Congruent placements last, once their representative is known.
      for (const index of order) if (!bounds[index]) tried[index] = attempt(frames.candidates[index], index);
    } else {
      for (const [index, affine] of frames.candidates.entries()) tried.push(attempt(affine, index));
    }
    if (best < 0) {
      const reasons = [...new Set(tried.map((c) => c?.error))].join('; ');
      throw new CadError('geometry', `IoU (${frames.protocol}) failed: ${reasons}`);
    }
    // The reported placement gets the full check; the others a quarter of the points, enough to
    // see a boolean that lost a placement scoring higher (a silent zero there would lower the IoU).
    // A lower placement whose boolean is wrong but whose estimate stays below the reported IoU
    // cannot change the result: its check is recorded on it, and the status stays ok.
    let failedCheck: (ConsistencyCheck & { rotation: number }) | undefined;
    if (options.check !== false) {
      const points = options.checkPoints ?? CHECK_POINTS;
      for (const p of placed) {
        const check = checkIou({
          iou: p.value,
          volumes: p.volumes,
          candidate: { classifier: candidate.classifier(), toCommon: frames.candidates[p.index] },
          reference: { classifier: reference.classifier(), toCommon: frames.reference },
          points: p.index === best ? points : Math.ceil(points / 4),
        });
        tried[p.index].check = check;
        for (const [i, c] of tried.entries()) if (c.sameAs === p.index) tried[i].check = check;
        // A placement below the reported one matters only if its true IoU could beat it.
        const matters = p.index === best || check.iou + check.tolerance >= bestIou;
        if (!check.ok && matters && !failedCheck) failedCheck = { ...check, rotation: p.index };
      }
    }
    const bestCheck = tried[best].check;
    const result: IouResult = {
      iou: bestIou,
      protocol: frames.protocol,
      status: failedCheck ? 'inconsistent' : 'ok',
      method: engine.method,
      volumes: bestVolumes,
      best,
      candidates: tried,
      transform: frames.candidates[best],
      referenceInCandidate: composeAffine(invertAffine(frames.candidates[best]), frames.reference),
      sizeRatio: Math.cbrt(volumes.candidate / volumes.reference),
      ms: 0,
    };
    if (frames.axes) result.axes = frames.axes;
    if (failedCheck) result.check = failedCheck;
    else if (bestCheck) result.check = { ...bestCheck, rotation: best };
    if (meshes) {
      // The B-rep's tessellation and the simplification before booleans, together (upper bound).
      const simplified = engine.simplified ?? { candidate: 0, reference: 0 };
      result.tessellation = {
        candidate: candidate.tessellationError() + simplified.candidate,
        reference: reference.tessellationError() + simplified.reference,
      };
    }
    result.ms = performance.now() - started;
    return result;
  } finally {
    engine.dispose();
  }
}
