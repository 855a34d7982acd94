/** Kernel job kinds for running CadQuery programs (and loading STEP/STL the same way). */
import type { JobHandler } from '../kernel/types';
import { withTransfer } from '../kernel/types';
import { writeStep, writeStl } from '../geometry/io';
import { measureShape, type ShapeMeasurements } from '../geometry/measure';
import { meshShape, meshTransferables, type MeshData } from '../geometry/mesh';
import { shapeFromSource, type ShapeSource } from '../geometry/source';

export interface ExecutePayload {
  /** CadQuery code; shorthand for `input: { kind: 'code', source }`. */
  source?: string;
  input?: ShapeSource;
  maxSteps?: number;
  /** Also tessellate the result for display. */
  mesh?: { tolerance?: number; angularTolerance?: number };
  /** Also return the result as STEP and/or binary STL bytes. */
  export?: { step?: boolean; stl?: boolean; stlTolerance?: number };
}

export interface ExecuteResult extends ShapeMeasurements {
  mesh?: MeshData;
  step?: Uint8Array;
  stl?: Uint8Array;
}

const execute: JobHandler<ExecutePayload> = (payload) => {
  const input: ShapeSource = payload.input ?? { kind: 'code', source: payload.source ?? '' };
  const shape = shapeFromSource(input, { maxSteps: payload.maxSteps });
  const result: ExecuteResult = measureShape(shape);
  const transfer: ArrayBuffer[] = [];
  if (payload.mesh) {
    result.mesh = meshShape(shape, payload.mesh);
    transfer.push(...meshTransferables(result.mesh));
  }
  if (payload.export?.step) transfer.push((result.step = writeStep(shape)).buffer as ArrayBuffer);
  if (payload.export?.stl) transfer.push((result.stl = writeStl(shape, { tolerance: payload.export.stlTolerance })).buffer as ArrayBuffer);
  return withTransfer(result, transfer);
};

export const cadqueryJobs: Record<string, JobHandler> = { execute };
