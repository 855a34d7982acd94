/**
 * The renderer's public face: shape → mesh → pixels → PNG, in the GenCAD image style, plus the
 * render-vs-image score. Everything here is deterministic and runs without a GPU or a browser.
 */
import type { AnyShape } from 'replicad';
import { meshShape, type MeshOptions } from '../geometry/mesh';
import { encodePng } from './image';
import { renderMesh, type RenderOptions, type RenderedImage } from './raster';

export { renderMesh, rasterize, colorize, DEFAULT_SIZE, type RenderOptions, type RenderedImage, type RasterBuffers } from './raster';
export { VIEW_NAMES, isViewName, viewBasis, frameBoundingBox, type ViewName } from './views';
export { decodeImage, readImageFile, encodePng, decodePngSync, writePngFile, ImageError, type RgbaImage } from './image';
export { scoreRenderAgainstImage, type ImageScore, type ScoreOptions } from './score';

export type ShapeRenderOptions = RenderOptions & { mesh?: MeshOptions };

/** Meshes (tolerance relative to the part size by default) and renders a shape. */
export function renderShape(shape: AnyShape, opts: ShapeRenderOptions = {}): RenderedImage {
  return renderMesh(meshShape(shape, opts.mesh), opts);
}

/** PNG bytes of a shape rendered like the dataset's images (448 × 448 iso by default). */
export function renderShapePng(shape: AnyShape, opts: ShapeRenderOptions = {}): Uint8Array {
  return encodePng(renderShape(shape, opts));
}
