/**
 * `render.image` and `render.score`: the renderer as kernel jobs. Shapes arrive as ShapeSources
 * and are built inside the worker; pictures leave as PNG bytes (transferred, not copied).
 */
import { CadError } from '../errors';
import { measureShape, type ShapeMeasurements } from '../geometry/measure';
import { meshShape, type MeshData, type MeshOptions } from '../geometry/mesh';
import { decodeImage, encodePng } from '../render/image';
import { renderMesh } from '../render/raster';
import { scoreRenderAgainstImage, type ImageScore, type ScoreOptions } from '../render/score';
import { isViewName, VIEW_NAMES, type ViewName } from '../render/views';
import { shapeFromSource, type ShapeSource } from '../shape/source';
import { withTransfer, type JobHandler } from './types';

export interface RenderPayload {
  shape: ShapeSource;
  /** Default 'iso' (the dataset's view). */
  view?: ViewName;
  /** Pixels; default 448. */
  size?: number;
  mesh?: MeshOptions;
  maxSteps?: number;
}

export interface RenderJobResult {
  png: Uint8Array;
  width: number;
  height: number;
}

export interface ScorePayload {
  /** The candidate, rendered the way the image was made. */
  shape: ShapeSource;
  /** The image's file bytes (PNG, JPEG or WebP). */
  image: Uint8Array;
  /** For error messages. */
  imageName?: string;
  view?: ViewName;
  score?: ScoreOptions;
  maxSteps?: number;
}

function checkView(view: unknown): ViewName {
  if (view === undefined) return 'iso';
  if (!isViewName(view)) throw new CadError('unsupported', `unknown view '${String(view)}': expected one of ${VIEW_NAMES.join(', ')}`);
  return view;
}

function meshOf(shape: ShapeSource, mesh: MeshOptions | undefined, maxSteps: number | undefined): MeshData {
  return meshShape(shapeFromSource(shape, { maxSteps }), mesh);
}

export const renderImage: JobHandler<RenderPayload, RenderJobResult> = (payload) => {
  const view = checkView(payload.view);
  const image = renderMesh(meshOf(payload.shape, payload.mesh, payload.maxSteps), { view, size: payload.size });
  const png = encodePng(image);
  return withTransfer<RenderJobResult>({ png, width: image.width, height: image.height }, [png.buffer as ArrayBuffer]);
};

/** The score, and what `shape.execute` measures of the shape, so ranking by image builds it once. */
export type ScoreJobResult = ImageScore & { shape: ShapeMeasurements };

export const renderScore: JobHandler<ScorePayload, ScoreJobResult> = async (payload) => {
  const view = checkView(payload.view);
  if (!(payload.image instanceof Uint8Array)) throw new CadError('runtime', 'render.score: the image must be given as bytes');
  const shape = shapeFromSource(payload.shape, { maxSteps: payload.maxSteps });
  const rendered = renderMesh(meshShape(shape), { view });
  const image = await decodeImage(payload.image, { name: payload.imageName ?? 'image' });
  return { ...scoreRenderAgainstImage(rendered, image, payload.score), shape: measureShape(shape) };
};
