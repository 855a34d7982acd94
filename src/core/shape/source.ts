/**
 * Where a shape comes from: CadQuery code, or the bytes of a STEP, BREP, STL, OBJ or PLY file. Every job
 * that takes a shape (execute, IoU, render) takes one of these, so all inputs behave the same
 * everywhere.
 *
 * Two readings: `shapeFromSource` gives an OCCT B-rep (a mesh sewn into a faceted solid: for
 * running, measuring, rendering, exporting), `solidFromSource` what the verifier compares (a mesh
 * stays a mesh, repaired and checked closed, so its booleans are mesh booleans: geometry/iou.ts).
 */
import type { Shape3D } from 'replicad';
import { runCadQuery } from './run-cadquery';
import { readShape } from '../geometry/io';
import { parseMesh } from '../geometry/mesh-io';
import type { FileFormat } from './format';

export { formatOfFile, type FileFormat } from './format';
import { repairMesh } from '../geometry/mesh-repair';
import { PreparedSolid } from '../geometry/solid';

export type ShapeSource = { kind: 'code'; source: string; name?: string } | { kind: FileFormat; bytes: Uint8Array; name: string };

export function shapeFromSource(input: ShapeSource, options: { maxSteps?: number } = {}): Shape3D {
  if (input.kind === 'code') return runCadQuery(input.source, options);
  return readShape(input.bytes, input.kind, input.name);
}

/** The shape as the verifier compares it: a B-rep for code, STEP and BREP, a closed mesh for STL/OBJ/PLY. */
export function solidFromSource(input: ShapeSource, options: { maxSteps?: number } = {}): PreparedSolid {
  if (input.kind === 'code' || input.kind === 'step' || input.kind === 'brep')
    return PreparedSolid.brep(shapeFromSource(input, options), input.name ?? 'the program');
  return PreparedSolid.mesh(repairMesh(parseMesh(input.bytes, input.kind, input.name), input.name).mesh, input.name);
}
