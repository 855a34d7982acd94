/**
 * `shape.iou`: geometric verification of a candidate against a reference, IoU under one or more
 * protocols (+ optional Chamfer distance). Both shapes arrive as ShapeSources and are built once
 * inside the worker for all protocols: a B-rep (code, STEP) or a closed mesh (STL, OBJ, PLY);
 * with a mesh on either side the booleans are manifold-3d's, loaded on first use. Each result
 * carries its consistency check (`status`: ok or inconsistent). Thin wrapper over geometry/iou.ts
 * and chamfer.ts.
 */
import { CadError } from '../errors';
import { chamferDistance, type ChamferOptions, type ChamferResult } from '../geometry/chamfer';
import { IOU_PROTOCOLS, iou, isIouProtocol, meshFallback, normalisation, type IouProtocol, type IouResult } from '../geometry/iou';
import { loadManifold } from '../geometry/manifold';
import { solidFromSource, type ShapeSource } from '../shape/source';
import type { JobHandler } from './types';

export interface IouPayload {
  candidate: ShapeSource;
  reference: ShapeSource;
  /** One protocol or several (default 'aligned'); shapes are built once for all of them. */
  protocol?: IouProtocol | IouProtocol[];
  /** Also the Chamfer distance in each protocol's frame (aligned: the IoU's winning rotation). */
  chamfer?: boolean | ChamferOptions;
  /** Intersect all four aligned rotations even where a symmetry makes two of them the same (iou.ts). */
  allRotations?: boolean;
  maxSteps?: number;
}

export interface IouJobResult {
  results: (IouResult & { chamfer?: ChamferResult })[];
}

export const iouJob: JobHandler<IouPayload, IouJobResult> = async (payload) => {
  const protocols = payload.protocol === undefined ? ['aligned' as const] : Array.isArray(payload.protocol) ? payload.protocol : [payload.protocol];
  for (const p of protocols) {
    if (!isIouProtocol(p)) throw new CadError('geometry', `unknown IoU protocol '${String(p)}': expected one of ${IOU_PROTOCOLS.join(', ')}`);
  }
  const candidate = withRole('candidate', () => solidFromSource(payload.candidate, { maxSteps: payload.maxSteps }));
  const reference = withRole('reference', () => solidFromSource(payload.reference, { maxSteps: payload.maxSteps }));
  if (candidate.isMesh || reference.isMesh) await loadManifold();
  const chamferOptions = payload.chamfer === true ? {} : payload.chamfer || undefined;
  const results: (IouResult & { chamfer?: ChamferResult })[] = [];
  // The Chamfer distance samples the surface: made first, the consistency check classifies against it too.
  if (chamferOptions) {
    candidate.surface();
    reference.surface();
  }
  for (const protocol of protocols) {
    const frames = normalisation(candidate, reference, protocol, { allRotations: payload.allRotations });
    let result: IouResult & { chamfer?: ChamferResult } = iou(candidate, reference, protocol, frames);
    if (result.status === 'inconsistent' && result.method === 'brep') {
      // OCCT's boolean failed the check: manifold's on the tessellations, where that passes.
      await loadManifold();
      result = meshFallback(candidate, reference, result, frames) ?? result;
    }
    if (chamferOptions) {
      const rotation = protocol.startsWith('aligned') ? (chamferOptions.rotation ?? result.best) : undefined;
      result.chamfer = chamferDistance(candidate, reference, protocol, { ...chamferOptions, rotation, frames });
    }
    results.push(result);
  }
  return { results };
};

/** Prefixes errors from building a shape with its role, so "the reference: …" is clear. */
function withRole<T>(role: string, build: () => T): T {
  try {
    return build();
  } catch (e) {
    if (e instanceof CadError) throw new CadError(e.kind, `${role}: ${e.message}`, e.line, e.col);
    throw e;
  }
}
