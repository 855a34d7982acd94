/**
 * Runs a CadQuery program to a solid: parse, interpret with the `cq` module, pick the result,
 * and refuse degenerate output. Must run on a thread where OpenCascade is loaded (a kernel worker).
 */
import type { Shape3D } from 'replicad';
import { createCadQueryModule, recordingExports, resultShape, valueToShape3D, type RecordedExport } from '../cadquery/api';
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
  return run(source, options).shape;
}

/** A part the program exported (cq.exporters.export, Workplane.export, Shape.export*), as a solid. */
export interface ProgramExport {
  fileName?: string;
  exportType?: string;
  /** The exported value as a solid, or why it is not one. */
  shape?: Shape3D;
  error?: string;
}

/** The program's result and what it exported, as solids (recorded in order; nothing is written here). */
export function runCadQueryProgram(source: string, options: RunCadQueryOptions = {}): { shape: Shape3D; exports: ProgramExport[] } {
  const { shape, recorded } = run(source, options);
  const exports = recorded.map(({ value, fileName, exportType }): ProgramExport => {
    try {
      return { fileName, exportType, shape: valueToShape3D(value, 'the exported object') };
    } catch (e) {
      return { fileName, exportType, error: e instanceof Error ? e.message : String(e) };
    }
  });
  return { shape, exports };
}

/** The result, and the exports as recorded (made into solids only when asked for). */
function run(source: string, options: RunCadQueryOptions): { shape: Shape3D; recorded: RecordedExport[] } {
  const cq = createCadQueryModule();
  const recorded: RecordedExport[] = [];
  const { globals, shown } = recordingExports(recorded, () =>
    interpret(source, {
      modules: { cadquery: cq },
      maxSteps: options.maxSteps,
      // As CQ-editor and CQGI run a script: `cq` (and `cadquery`) defined without an import.
      predefined: { cq, cadquery: cq, debug: NO_OP, log: NO_OP },
    }),
  );
  const shape = resultShape(globals, shown, recorded);
  const volume = shapeVolume(shape);
  if (!(Math.abs(volume) > DEGENERATE_VOLUME)) {
    throw new CadError('geometry', 'the result has zero volume (a zero-length extrude or an empty boolean?)');
  }
  return { shape, recorded };
}
