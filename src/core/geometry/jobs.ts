/**
 * Kernel job kinds for geometric verification: IoU (+ optional Chamfer distance), measurements and
 * export. Thin wrappers over iou.ts / chamfer.ts / measure.ts / io.ts; shapes arrive as
 * ShapeSources (CadQuery code or STEP/STL bytes) and are built inside the worker.
 */
import { CadError } from '../cadquery/errors';
import type { JobHandler } from '../kernel/types';
import { withTransfer } from '../kernel/types';
import { chamferDistance, type ChamferOptions, type ChamferResult } from './chamfer';
import { writeStep, writeStl } from './io';
import { IOU_PROTOCOLS, iou, normalisation, type IouProtocol, type IouResult } from './iou';
import { massProperties, measureShape, type MassProperties, type ShapeMeasurements } from './measure';
import { shapeFromSource, type ShapeSource } from './source';

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

export interface MeasurePayload {
  shape: ShapeSource;
  maxSteps?: number;
  /** Also centre of mass and matrix of inertia. */
  mass?: boolean;
}

export type MeasureJobResult = ShapeMeasurements & { mass?: MassProperties };

export interface ExportPayload {
  shape: ShapeSource;
  format: 'step' | 'stl';
  /** STL chordal tolerance in model units. */
  tolerance?: number;
  maxSteps?: number;
}

const iouJob: JobHandler<IouPayload, IouJobResult> = (payload) => {
  const protocols = payload.protocol === undefined ? ['aligned' as const] : Array.isArray(payload.protocol) ? payload.protocol : [payload.protocol];
  for (const p of protocols) {
    if (!IOU_PROTOCOLS.includes(p)) throw new CadError('geometry', `unknown IoU protocol '${p}': expected one of ${IOU_PROTOCOLS.join(', ')}`);
  }
  const candidate = withRole('candidate', () => shapeFromSource(payload.candidate, { maxSteps: payload.maxSteps }));
  const reference = withRole('reference', () => shapeFromSource(payload.reference, { maxSteps: payload.maxSteps }));
  const chamferOptions = payload.chamfer === true ? {} : payload.chamfer || undefined;
  const results = protocols.map((protocol) => {
    const frames = normalisation(candidate, reference, protocol, { allRotations: payload.allRotations });
    const result: IouResult & { chamfer?: ChamferResult } = iou(candidate, reference, protocol, frames);
    if (chamferOptions) {
      const rotation = protocol.startsWith('aligned') ? (chamferOptions.rotation ?? result.best) : undefined;
      result.chamfer = chamferDistance(candidate, reference, protocol, { ...chamferOptions, rotation, frames });
    }
    return result;
  });
  return { results };
};

const measureJob: JobHandler<MeasurePayload, MeasureJobResult> = (payload) => {
  const shape = shapeFromSource(payload.shape, { maxSteps: payload.maxSteps });
  const result: MeasureJobResult = measureShape(shape);
  if (payload.mass) result.mass = massProperties(shape);
  return result;
};

const exportJob: JobHandler<ExportPayload> = (payload) => {
  const shape = shapeFromSource(payload.shape, { maxSteps: payload.maxSteps });
  let bytes: Uint8Array;
  if (payload.format === 'step') bytes = writeStep(shape);
  else if (payload.format === 'stl') bytes = writeStl(shape, { tolerance: payload.tolerance });
  else throw new CadError('unsupported', `cannot export to '${String(payload.format)}': expected step or stl`);
  return withTransfer({ bytes }, [bytes.buffer as ArrayBuffer]);
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

export const geometryJobs: Record<string, JobHandler> = {
  iou: iouJob,
  measure: measureJob,
  export: exportJob,
};
