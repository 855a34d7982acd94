/**
 * Where a shape comes from: CadQuery code, or the bytes of a STEP/STL file. Every job that takes a
 * shape (execute, IoU, render) takes one of these, so all inputs behave the same everywhere.
 */
import path from 'node:path';
import type { Shape3D } from 'replicad';
import { CadError } from '../errors';
import { runCadQuery } from './run-cadquery';
import { readShape } from '../geometry/io';

export type ShapeSource = { kind: 'code'; source: string; name?: string } | { kind: 'step' | 'stl'; bytes: Uint8Array; name: string };

export function shapeFromSource(input: ShapeSource, options: { maxSteps?: number } = {}): Shape3D {
  if (input.kind === 'code') return runCadQuery(input.source, options);
  return readShape(input.bytes, input.kind, input.name);
}

/** The format a file name implies, or a clear error naming the file. */
export function formatOfFile(file: string): 'code' | 'step' | 'stl' {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.py') return 'code';
  if (ext === '.step' || ext === '.stp') return 'step';
  if (ext === '.stl') return 'stl';
  throw new CadError('unsupported', `${file}: unknown file type '${ext || '(none)'}': expected .py, .step, .stp or .stl`);
}
