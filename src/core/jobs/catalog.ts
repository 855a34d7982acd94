/**
 * The job catalogue: every kind a kernel worker runs, bound to its payload and result types, as
 * rust-analyzer's lsp_ext.ts binds each request to its types. `pool.run('shape.iou', payload)` is
 * checked by the compiler against this table, and registry.ts must give every kind a handler.
 * Names are `area.verb`. Type-only: importing it loads no handler.
 */
import type { ExecutePayload, ExecuteResult } from './execute';
import type { IouJobResult, IouPayload } from './geometry';
import type { GenerateJobResult, GeneratePayload } from './model';
import type { RenderJobResult, RenderPayload, ScoreJobResult, ScorePayload } from './render';

export interface JobCatalog {
  /** Build a shape (code, STEP, STL): measurements, and on request mass, mesh, STEP/STL bytes. */
  'shape.execute': [ExecutePayload, ExecuteResult];
  /** IoU (+ Chamfer) of a candidate against a reference under one or more protocols. */
  'shape.iou': [IouPayload, IouJobResult];
  /** The shape drawn in the dataset's style, as PNG bytes. */
  'render.image': [RenderPayload, RenderJobResult];
  /** How well the shape's render explains an image (the GT-free ranking key), and the shape's measurements. */
  'render.score': [ScorePayload, ScoreJobResult];
  /** K programs for an image from an ONNX model. */
  'model.generate': [GeneratePayload, GenerateJobResult];
  /** Test kinds for the pool's failure paths: echo, sleep, spin forever, crash, grow the heap. */
  'test.echo': [unknown, unknown];
  'test.sleep': [{ ms: number }, number];
  'test.spin': [Record<string, never>, never];
  'test.crash': [Record<string, never>, never];
  'test.leak': [{ bytes: number }, boolean];
}

export type JobKind = keyof JobCatalog;
export type JobPayload<K extends JobKind> = JobCatalog[K][0];
export type JobValue<K extends JobKind> = JobCatalog[K][1];
