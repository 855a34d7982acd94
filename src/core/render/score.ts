/**
 * How well a candidate explains an image, with no ground truth: render the candidate the way the
 * image was made, then compare silhouettes (IoU) and edge drawings (F-score of edge pixels within a
 * tolerance), after fitting each picture's silhouette to a common square frame. Fitting removes the
 * framing (margins, image size), so the input image may be any size.
 *
 * Written for images in the GenCAD style (white background, grey faces, black edges). Note that a
 * uniformly scaled or translated part renders to the same picture in that style (the framing fits
 * the bounding box), so the score cannot, and does not try to, tell those apart.
 */
import type { RgbaImage } from './image';

export interface ImageScore {
  /** Weighted mean of the two below, in [0, 1]. */
  score: number;
  /** Silhouette IoU in the common frame. */
  silhouette: number;
  /** F-score of edge pixels matched within the tolerance. */
  edges: number;
}

export interface ScoreOptions {
  /** Side of the common frame in pixels. Default 256. */
  frame?: number;
  /** Edge match tolerance in frame pixels. Default 2. */
  tolerancePx?: number;
  /** Weight of the silhouette in the score (edges get the rest). Default 0.5. */
  silhouetteWeight?: number;
}

/** Foreground: anything clearly darker than the white background. */
const FOREGROUND_LUMA = 235;
/** Edge lines are black; the darkest face shade (seen edge-on) is ≈ 60. */
const EDGE_LUMA = 50;
/** The silhouette fills this fraction of the frame along its longer side. */
const FILL = 0.9;

interface Masks {
  foreground: Uint8Array;
  edges: Uint8Array;
  bbox: [number, number, number, number] | null; // x0, y0, x1, y1 inclusive
}

function masksOf(img: RgbaImage): Masks {
  const n = img.width * img.height;
  if (img.rgba.length < n * 4) throw new Error(`image buffer holds ${img.rgba.length} bytes, expected ${n * 4} for ${img.width}×${img.height} RGBA`);
  const foreground = new Uint8Array(n);
  const edges = new Uint8Array(n);
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -1,
    y1 = -1;
  for (let p = 0, o = 0; p < n; p++, o += 4) {
    const luma = 0.299 * img.rgba[o] + 0.587 * img.rgba[o + 1] + 0.114 * img.rgba[o + 2];
    if (luma < FOREGROUND_LUMA) {
      foreground[p] = 1;
      if (luma < EDGE_LUMA) edges[p] = 1;
      const x = p % img.width,
        y = (p - x) / img.width;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return { foreground, edges, bbox: x1 < 0 ? null : [x0, y0, x1, y1] };
}

/**
 * Resamples the masks so the silhouette's bounding box is centred and fills FILL of the frame.
 * Foreground is sampled at pixel centres; an edge pixel is kept if any source pixel under the
 * destination pixel is an edge, so thin lines survive downscaling.
 */
function toFrame(img: RgbaImage, m: Masks, frame: number): { foreground: Uint8Array; edges: Uint8Array } {
  const foreground = new Uint8Array(frame * frame);
  const edges = new Uint8Array(frame * frame);
  if (!m.bbox) return { foreground, edges };
  const [bx0, by0, bx1, by1] = m.bbox;
  const w = bx1 - bx0 + 1,
    h = by1 - by0 + 1;
  const scale = (frame * FILL) / Math.max(w, h);
  const offX = (frame - w * scale) / 2,
    offY = (frame - h * scale) / 2;
  const W = img.width,
    H = img.height;
  for (let Y = 0; Y < frame; Y++) {
    const sy0 = by0 + (Y - offY) / scale,
      sy1 = by0 + (Y + 1 - offY) / scale;
    const cy = Math.floor(by0 + (Y + 0.5 - offY) / scale);
    for (let X = 0; X < frame; X++) {
      const sx0 = bx0 + (X - offX) / scale,
        sx1 = bx0 + (X + 1 - offX) / scale;
      const cx = Math.floor(bx0 + (X + 0.5 - offX) / scale);
      const q = Y * frame + X;
      if (cx >= 0 && cy >= 0 && cx < W && cy < H) foreground[q] = m.foreground[cy * W + cx];
      const ix0 = Math.max(0, Math.floor(sx0)),
        ix1 = Math.min(W - 1, Math.max(ix0, Math.ceil(sx1) - 1));
      const iy0 = Math.max(0, Math.floor(sy0)),
        iy1 = Math.min(H - 1, Math.max(iy0, Math.ceil(sy1) - 1));
      search: for (let y = iy0; y <= iy1; y++) {
        for (let x = ix0; x <= ix1; x++) {
          if (m.edges[y * W + x]) {
            edges[q] = 1;
            break search;
          }
        }
      }
    }
  }
  return { foreground, edges };
}

/** Chamfer (3-4) distance to the nearest set pixel, in pixels (≈ Euclidean within 8%). */
function distanceTransform(mask: Uint8Array, size: number): Float32Array {
  const INF = 1e9;
  const d = new Float32Array(size * size);
  for (let p = 0; p < d.length; p++) d[p] = mask[p] ? 0 : INF;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      let v = d[p];
      if (x > 0) v = Math.min(v, d[p - 1] + 3);
      if (y > 0) {
        v = Math.min(v, d[p - size] + 3);
        if (x > 0) v = Math.min(v, d[p - size - 1] + 4);
        if (x < size - 1) v = Math.min(v, d[p - size + 1] + 4);
      }
      d[p] = v;
    }
  }
  for (let y = size - 1; y >= 0; y--) {
    for (let x = size - 1; x >= 0; x--) {
      const p = y * size + x;
      let v = d[p];
      if (x < size - 1) v = Math.min(v, d[p + 1] + 3);
      if (y < size - 1) {
        v = Math.min(v, d[p + size] + 3);
        if (x < size - 1) v = Math.min(v, d[p + size + 1] + 4);
        if (x > 0) v = Math.min(v, d[p + size - 1] + 4);
      }
      d[p] = v;
    }
  }
  for (let p = 0; p < d.length; p++) d[p] /= 3;
  return d;
}

/** Scores a render of a candidate against the image it should explain. */
export function scoreRenderAgainstImage(rendered: RgbaImage, image: RgbaImage, opts: ScoreOptions = {}): ImageScore {
  const frame = opts.frame ?? 256;
  const tolerance = opts.tolerancePx ?? 2;
  const weight = opts.silhouetteWeight ?? 0.5;
  const mr = masksOf(rendered);
  const mi = masksOf(image);
  if (!mr.bbox || !mi.bbox) return { score: 0, silhouette: 0, edges: 0 };
  const a = toFrame(rendered, mr, frame);
  const b = toFrame(image, mi, frame);

  let inter = 0,
    union = 0;
  for (let p = 0; p < a.foreground.length; p++) {
    inter += a.foreground[p] & b.foreground[p];
    union += a.foreground[p] | b.foreground[p];
  }
  const silhouette = union ? inter / union : 0;

  const da = distanceTransform(a.edges, frame);
  const db = distanceTransform(b.edges, frame);
  let na = 0,
    nb = 0,
    hitA = 0,
    hitB = 0;
  for (let p = 0; p < a.edges.length; p++) {
    if (a.edges[p]) {
      na++;
      if (db[p] <= tolerance) hitA++;
    }
    if (b.edges[p]) {
      nb++;
      if (da[p] <= tolerance) hitB++;
    }
  }
  let edges: number;
  if (na === 0 && nb === 0)
    edges = 1; // neither draws edges: nothing to disagree on
  else {
    const precision = na ? hitA / na : 0;
    const recall = nb ? hitB / nb : 0;
    edges = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  }
  return { score: weight * silhouette + (1 - weight) * edges, silhouette, edges };
}
