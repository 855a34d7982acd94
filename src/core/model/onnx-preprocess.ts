/**
 * Image preprocessing for the model, identical to training/gift_preprocess.py (the model card's
 * `preprocess` block names the steps): alpha over white, fixed-weight grayscale, centred white
 * padding to a square, exact area-average resize, inversion so background = 0.
 * sharp only decodes; the arithmetic is ours so it matches numpy to float rounding.
 */
import sharp from 'sharp';

export interface PreprocessSpec {
  size: number;
  background: 'white';
  grayscale: [number, number, number];
  pad: 'square-center-white';
  resize: 'area';
  invert: boolean;
  mean: number;
  std: number;
}

/** training/gift_preprocess.py's PREPROCESS_SPEC: the steps every model card so far records. */
export const PREPROCESS_DEFAULTS: Omit<PreprocessSpec, 'size'> = {
  background: 'white',
  grayscale: [0.299, 0.587, 0.114],
  pad: 'square-center-white',
  resize: 'area',
  invert: true,
  mean: 0,
  std: 1,
};

export function checkPreprocessSpec(spec: unknown, where: string): PreprocessSpec {
  const s = spec as Partial<PreprocessSpec> | undefined;
  const problems: string[] = [];
  if (!s || typeof s !== 'object') throw new Error(`${where}: missing preprocess block`);
  if (!Number.isInteger(s.size) || s.size! <= 0) problems.push('size must be a positive integer');
  if (s.background !== 'white') problems.push(`background '${s.background}' unsupported`);
  if (!Array.isArray(s.grayscale) || s.grayscale.length !== 3) problems.push('grayscale must be 3 weights');
  if (s.pad !== 'square-center-white') problems.push(`pad '${s.pad}' unsupported`);
  if (s.resize !== 'area') problems.push(`resize '${s.resize}' unsupported`);
  if (typeof s.invert !== 'boolean') problems.push('invert must be a boolean');
  if (typeof s.mean !== 'number' || typeof s.std !== 'number' || s.std === 0) problems.push('mean/std must be numbers, std non-zero');
  if (problems.length) throw new Error(`${where}: preprocess: ${problems.join('; ')}`);
  return s as PreprocessSpec;
}

/** Sparse rows of the area-resize matrix: output pixel o = sum weights[k] * input[first + k]. */
function areaWeights(sizeIn: number, sizeOut: number): { first: number; weights: number[] }[] {
  const scale = sizeIn / sizeOut;
  const rows: { first: number; weights: number[] }[] = [];
  for (let o = 0; o < sizeOut; o++) {
    const start = o * scale;
    const end = (o + 1) * scale;
    const first = Math.floor(start);
    const last = Math.min(Math.ceil(end), sizeIn);
    const weights: number[] = [];
    for (let i = first; i < last; i++) weights.push(Math.max(0, Math.min(end, i + 1) - Math.max(start, i)) / scale);
    rows.push({ first, weights });
  }
  return rows;
}

/** RGBA bytes (width × height × 4) → model input, size × size float32, row-major. */
export function preprocessRgba(rgba: Uint8Array, width: number, height: number, spec: PreprocessSpec): Float32Array {
  if (rgba.length !== width * height * 4) throw new Error(`image buffer has ${rgba.length} bytes, expected ${width}×${height}×4`);
  const side = Math.max(width, height);
  const top = Math.floor((side - height) / 2);
  const left = Math.floor((side - width) / 2);
  const [wr, wg, wb] = spec.grayscale;
  const gray = new Float64Array(side * side).fill(255);
  for (let y = 0; y < height; y++) {
    let p = y * width * 4;
    let g = (y + top) * side + left;
    for (let x = 0; x < width; x++, p += 4, g++) {
      // Alpha over white, written out: this loop runs for every input pixel (~200 k per image).
      const alpha = rgba[p + 3] / 255;
      const white = 255 * (1 - alpha);
      gray[g] = (rgba[p] * alpha + white) * wr + (rgba[p + 1] * alpha + white) * wg + (rgba[p + 2] * alpha + white) * wb;
    }
  }
  const size = spec.size;
  const rows = areaWeights(side, size);
  // Separable: first along x (side rows × size columns), then along y.
  const horizontal = new Float64Array(side * size);
  for (let o = 0; o < size; o++) {
    const { first, weights } = rows[o];
    const n = weights.length;
    for (let y = 0; y < side; y++) {
      const base = y * side + first;
      let acc = 0;
      for (let k = 0; k < n; k++) acc += weights[k] * gray[base + k];
      horizontal[y * size + o] = acc;
    }
  }
  const out = new Float32Array(size * size);
  const { invert, mean, std } = spec;
  for (let o = 0; o < size; o++) {
    const { first, weights } = rows[o];
    const n = weights.length;
    for (let x = 0; x < size; x++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += weights[k] * horizontal[(first + k) * size + x];
      const v = invert ? (255 - acc) / 255 : acc / 255;
      out[o * size + x] = (v - mean) / std;
    }
  }
  return out;
}

/** Decodes an image (file path or encoded bytes: PNG, JPEG, WebP…) and preprocesses it. */
export async function preprocessImage(image: string | Uint8Array, spec: PreprocessSpec): Promise<Float32Array> {
  const { data, info } = await sharp(image)
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
    .catch((e: unknown) => {
      const what = typeof image === 'string' ? image : `${image.length}-byte image`;
      throw new Error(`cannot decode ${what}: ${e instanceof Error ? e.message : String(e)}`);
    });
  if (info.channels !== 4) throw new Error(`decoded image has ${info.channels} channels, expected 4`);
  return preprocessRgba(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, spec);
}

/** A preprocessed image as the training arrays store it (images-SIZE.u8): back to [0, 1], as bytes. */
export function toArrayBytes(x: Float32Array, spec: PreprocessSpec): Uint8Array {
  const bytes = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) bytes[i] = Math.max(0, Math.min(255, Math.round((x[i] * spec.std + spec.mean) * 255)));
  return bytes;
}
