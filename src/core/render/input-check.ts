/**
 * Is this image the kind the model knows — a plain render of one part on white, like GenCAD's —
 * or a photo, a screenshot of noise, a busy scene? Simple statistics of the picture, on a 128×128
 * area-averaged copy (the whole picture, not padded):
 *   border     share of the outer 4-pixel frame that is near-white (every channel > 235);
 *   shades     distinct colours at 4 bits per channel;
 *   edges      share of pixels whose grey gradient (central differences) exceeds 40 levels.
 * Measured with these functions on all 100 test100 images: border 1.000 for every one, shades
 * 13–22, edges 0.024–0.077 (test/render/input-check.test.ts asserts no warning on any of them).
 * Photos (a circuit board, a portrait, a 3D-printed enclosure, a desk, a video frame): border
 * 0.00–0.08, 184–549 shades, edges 0.07–0.45; colour noise is caught by all three. Not caught: a
 * line diagram on white (a screenshot of a figure: border 0.98, 65 shades, edges 0.10). The limits
 * leave a wide margin on the test100 side: a warning is advice (what to try), never a refusal.
 */
import type { RgbaImage } from './image';

export interface InputStatistics {
  border: number;
  shades: number;
  edges: number;
}

export const INPUT_LIMITS = {
  /** Below this share of near-white border the background is not a plain white one. */
  minBorder: 0.9,
  /** Above this many distinct shades it looks like a photo (renders have few flat shades). */
  maxShades: 80,
  /** Above this share of strong-gradient pixels the picture is busy or noisy. */
  maxEdges: 0.15,
};

const SIZE = 128;

/** The statistics above, from decoded RGBA (alpha already flattened onto white). */
export function inputStatistics(image: RgbaImage): InputStatistics {
  const { width, height, rgba } = image;
  // Area average onto SIZE×SIZE (every source pixel lands in exactly one cell).
  const sum = new Float64Array(SIZE * SIZE * 3);
  const count = new Float64Array(SIZE * SIZE);
  for (let y = 0; y < height; y++) {
    const cy = Math.min(SIZE - 1, Math.floor((y * SIZE) / height));
    for (let x = 0; x < width; x++) {
      const cx = Math.min(SIZE - 1, Math.floor((x * SIZE) / width));
      const cell = cy * SIZE + cx;
      const i = (y * width + x) * 4;
      sum[cell * 3] += rgba[i];
      sum[cell * 3 + 1] += rgba[i + 1];
      sum[cell * 3 + 2] += rgba[i + 2];
      count[cell]++;
    }
  }
  const gray = new Float64Array(SIZE * SIZE);
  const shades = new Set<number>();
  let frame = 0;
  let whiteFrame = 0;
  for (let cell = 0; cell < SIZE * SIZE; cell++) {
    const n = count[cell] || 1;
    const r = sum[cell * 3] / n;
    const g = sum[cell * 3 + 1] / n;
    const b = sum[cell * 3 + 2] / n;
    gray[cell] = 0.299 * r + 0.587 * g + 0.114 * b;
    shades.add(((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4));
    const x = cell % SIZE;
    const y = Math.floor(cell / SIZE);
    if (x < 4 || y < 4 || x >= SIZE - 4 || y >= SIZE - 4) {
      frame++;
      if (Math.min(r, g, b) > 235) whiteFrame++;
    }
  }
  let edges = 0;
  for (let y = 1; y < SIZE - 1; y++)
    for (let x = 1; x < SIZE - 1; x++) {
      const i = y * SIZE + x;
      if (Math.hypot(gray[i + 1] - gray[i - 1], gray[i + SIZE] - gray[i - SIZE]) > 40) edges++;
    }
  return { border: whiteFrame / frame, shades: shades.size, edges: edges / (SIZE * SIZE) };
}

/** A warning naming what looks wrong and what to try, or undefined for a picture like the model's. */
export function inputWarning(stats: InputStatistics, name = 'the image'): string | undefined {
  const why: string[] = [];
  if (stats.border < INPUT_LIMITS.minBorder) why.push(`its background is not plain white (${Math.round(stats.border * 100)}% of the border is white)`);
  if (stats.shades > INPUT_LIMITS.maxShades) why.push(`it has ${stats.shades} shades, like a photo (renders have a few flat ones)`);
  if (stats.edges > INPUT_LIMITS.maxEdges) why.push(`it is busy or noisy (${Math.round(stats.edges * 100)}% of it is edges)`);
  if (why.length === 0) return undefined;
  return `${name} does not look like a render of a part: ${why.join('; ')}. The programs below are guesses; try a plain render of one part on a white background, seen isometrically.`;
}
