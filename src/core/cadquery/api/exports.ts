/**
 * The exports of the running program (cq.exporters.export, Workplane.export, Shape.export*):
 * recorded, never written by the interpreter. A program that only exports its part has it as its
 * result, and `gift run` writes the recorded STEP/STL files.
 */
import type { Value } from '../values';

/** What a program exported (cq.exporters.export, Workplane.export, Shape.export*), in order. */
export interface RecordedExport {
  value: Value;
  /** The file name the program gave (undefined for exportShape's file objects). */
  fileName?: string;
  /** exportType when given ('STEP', 'STL', …). */
  exportType?: string;
}

let exportRecorder: RecordedExport[] | null = null;

/** Runs `fn` with the exports of the program it runs recorded into `into` (one run at a time per thread). */
export function recordingExports<T>(into: RecordedExport[], fn: () => T): T {
  const before = exportRecorder;
  exportRecorder = into;
  try {
    return fn();
  } finally {
    exportRecorder = before;
  }
}

/** Records an export of the running program (nothing is written here). */
export function recordExport(value: Value, fileName: Value | undefined, exportType: Value | undefined): void {
  exportRecorder?.push({
    value,
    fileName: typeof fileName === 'string' ? fileName : undefined,
    exportType: typeof exportType === 'string' ? exportType : undefined,
  });
}
