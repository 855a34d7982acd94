/**
 * Runs a CadQuery program to a solid: parse, interpret with the `cq` module, pick the result,
 * and refuse degenerate output. Must run on a thread where OpenCascade is loaded (a kernel worker).
 */
import type { Shape3D } from 'replicad';
import { createCadQueryModule, resultShape } from '../cadquery/api';
import { CadError } from '../errors';
import { interpret } from '../cadquery/interpret';
import { builtin } from '../cadquery/values';
import { shapeVolume } from '../geometry/measure';

export interface RunCadQueryOptions {
  maxSteps?: number;
}

const NO_OP = builtin('debug', () => null);

/** Below this volume (relative to the bounding box) a result counts as degenerate. */
const DEGENERATE_VOLUME = 1e-12;

export function runCadQuery(source: string, options: RunCadQueryOptions = {}): Shape3D {
  const cq = createCadQueryModule();
  const { globals, shown } = interpret(source, {
    modules: { cadquery: cq },
    maxSteps: options.maxSteps,
    // As CQ-editor and CQGI run a script: `cq` (and `cadquery`) defined without an import.
    predefined: { cq, cadquery: cq, debug: NO_OP, log: NO_OP },
  });
  const shape = resultShape(globals, shown);
  const volume = shapeVolume(shape);
  if (!(Math.abs(volume) > DEGENERATE_VOLUME)) {
    throw new CadError('geometry', 'the result has zero volume (a zero-length extrude or an empty boolean?)');
  }
  return shape;
}
