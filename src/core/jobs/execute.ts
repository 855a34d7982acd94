/**
 * `shape.execute`: build a shape from any source (CadQuery code, STEP or STL bytes) and return what
 * the caller asks of it: measurements always; mass properties, a display mesh, STEP/STL bytes on
 * request, STEP/STL/OBJ/PLY bytes (transferred, not copied). The one job for "run this and give me the part".
 */
import type { Shape3D } from 'replicad';
import { writeStep, writeStl } from '../geometry/io';
import { writeObj, writePly } from '../geometry/mesh-io';
import { tessellate } from '../geometry/triangle-mesh';
import {
  extremaBoundingBox,
  massProperties,
  measureShape,
  topologyCounts,
  type BBox,
  type MassProperties,
  type ShapeMeasurements,
  type TopologyCounts,
} from '../geometry/measure';
import { meshShape, meshTransferables, type MeshData, type MeshOptions } from '../geometry/mesh';
import { shapeFromSource, type ShapeSource } from '../shape/source';
import { runCadQueryProgram } from '../shape/run-cadquery';
import { withTransfer, type JobHandler } from './types';

/** What `gift run` and the preview say of a result that is not a valid B-rep. */
export const INVALID_BREP_WARNING = 'the result is not a valid B-rep (BRepCheck_Analyzer): its volume and bounding box may be wrong';

export interface ExecutePayload {
  /** CadQuery code; shorthand for `input: { kind: 'code', source }`. */
  source?: string;
  input?: ShapeSource;
  maxSteps?: number;
  /** Also centre of mass and matrix of inertia. */
  mass?: boolean;
  /** Also the counts of distinct solids, faces, edges and vertices. */
  topology?: boolean;
  /** Also tessellate the result for display. */
  mesh?: MeshOptions;
  /** Also the box of the part's extreme points (extremaBoundingBox: exact where AddOptimal is loose, but slower). */
  extremaBox?: boolean;
  /**
   * Also return the result as STEP, binary STL, OBJ and/or binary PLY bytes. The meshes share one
   * tessellation: `stlTolerance` (default 1e-3 of the bounding-box diagonal for STL, of the
   * largest extent for OBJ/PLY), 0.1 rad; OBJ and PLY keep the vertices shared and in doubles.
   */
  export?: { step?: boolean; stl?: boolean; obj?: boolean; ply?: boolean; stlTolerance?: number };
  /**
   * Also the files the program exports (cq.exporters.export, Workplane.export, Shape.export*) as
   * STEP or STL bytes, by exportType or the file name's extension (`gift run` writes them).
   */
  programExports?: boolean;
}

/** A file the program exported: its bytes, or why it was not made. */
export interface ProgramExportFile {
  fileName?: string;
  format?: 'step' | 'stl';
  bytes?: Uint8Array;
  error?: string;
}

export interface ExecuteResult extends ShapeMeasurements {
  mass?: MassProperties;
  topology?: TopologyCounts;
  extremaBox?: BBox;
  mesh?: MeshData;
  step?: Uint8Array;
  stl?: Uint8Array;
  obj?: Uint8Array;
  ply?: Uint8Array;
  programExports?: ProgramExportFile[];
}

/** The format of an export: exportType, else the file name's extension (CadQuery's rule). */
function exportFormat(fileName: string | undefined, exportType: string | undefined): 'step' | 'stl' | string {
  const t = (exportType ?? /\.([^./\\]+)$/.exec(fileName ?? '')?.[1] ?? '').toLowerCase();
  return t === 'stp' ? 'step' : t;
}

export const execute: JobHandler<ExecutePayload, ExecuteResult> = (payload) => {
  const input: ShapeSource = payload.input ?? { kind: 'code', source: payload.source ?? '' };
  const transfer: ArrayBuffer[] = [];
  let files: ProgramExportFile[] | undefined;
  let shape: Shape3D;
  if (payload.programExports && input.kind === 'code') {
    const ran = runCadQueryProgram(input.source, { maxSteps: payload.maxSteps });
    shape = ran.shape;
    files = ran.exports.map(({ fileName, exportType, shape: exported, error }) => {
      const format = exportFormat(fileName, exportType);
      if (!exported) return { fileName, error };
      if (format === 'step') return { fileName, format, bytes: writeStep(exported) };
      if (format === 'stl') return { fileName, format, bytes: writeStl(exported) };
      return { fileName, error: `exporting ${format ? format.toUpperCase() : 'without a type or extension'} is not supported (STEP and STL are)` };
    });
    for (const f of files) if (f.bytes) transfer.push(f.bytes.buffer as ArrayBuffer);
  } else shape = shapeFromSource(input, { maxSteps: payload.maxSteps });
  const result: ExecuteResult = measureShape(shape);
  if (files) result.programExports = files;
  if (payload.mass) result.mass = massProperties(shape);
  if (payload.topology) result.topology = topologyCounts(shape);
  if (payload.extremaBox) result.extremaBox = extremaBoundingBox(shape, result.bbox);
  if (payload.mesh) {
    result.mesh = meshShape(shape, payload.mesh);
    transfer.push(...meshTransferables(result.mesh));
  }
  if (payload.export?.step) transfer.push((result.step = writeStep(shape)).buffer as ArrayBuffer);
  if (payload.export?.stl) transfer.push((result.stl = writeStl(shape, { tolerance: payload.export.stlTolerance })).buffer as ArrayBuffer);
  if (payload.export?.obj || payload.export?.ply) {
    const b = result.bbox;
    const extent = Math.max(b[3] - b[0], b[4] - b[1], b[5] - b[2]);
    const surface = tessellate(shape, extent, {
      relativeTolerance: payload.export.stlTolerance ? payload.export.stlTolerance / extent : 1e-3,
      angularTolerance: 0.1,
    });
    if (payload.export.obj) transfer.push((result.obj = writeObj(surface)).buffer as ArrayBuffer);
    if (payload.export.ply) transfer.push((result.ply = writePly(surface)).buffer as ArrayBuffer);
  }
  return withTransfer(result, transfer);
};
