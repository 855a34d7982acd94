/**
 * Images in and out: decode PNG / JPEG / WebP (any size up to a pixel limit) into RGBA with
 * transparency flattened onto white, and encode our renders as PNG, byte-for-byte reproducibly.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import zlib from 'node:zlib';
import { PNG } from 'pngjs';
import { UserError } from '../errors';

export interface RgbaImage {
  rgba: Uint8Array;
  width: number;
  height: number;
}

/** A file that is not a readable image, or one too large to decode. */
export class ImageError extends UserError {}

/** Images above this many pixels are refused before decoding (a 20,000² image is 400 M). */
export const DEFAULT_MAX_PIXELS = 64_000_000;

export interface DecodeOptions {
  /** Name shown in error messages (a file path or an upload name). */
  name?: string;
  maxPixels?: number;
}

const SUPPORTED = new Set(['png', 'jpeg', 'webp']);

/**
 * Checks that the bytes are an image we can read (PNG, JPEG or WebP of a sane size) without
 * decoding the pixels; a problem is an ImageError naming the file and what is wrong with it.
 */
export async function checkImage(bytes: Uint8Array, opts: DecodeOptions = {}): Promise<{ width: number; height: number; format: string }> {
  const name = opts.name ?? 'image';
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (bytes.length === 0) throw new ImageError(`${name}: the file is empty`);
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let metadata: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    metadata = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new ImageError(`${name}: not a readable image (${shortReason(e)})`);
  }
  if (!metadata.format || !SUPPORTED.has(metadata.format)) {
    throw new ImageError(`${name}: unsupported image format '${metadata.format ?? 'unknown'}' (expected PNG, JPEG or WebP)`);
  }
  const { width, height } = metadata;
  if (!width || !height) throw new ImageError(`${name}: the image has no size`);
  if (width * height > maxPixels) {
    throw new ImageError(
      `${name}: ${width}×${height} is too large (${(width * height).toLocaleString('en')} pixels; the limit is ${maxPixels.toLocaleString('en')})`,
    );
  }
  return { width, height, format: metadata.format };
}

/** Decodes PNG, JPEG or WebP bytes into RGBA (alpha flattened onto white, so alpha is 255). */
export async function decodeImage(bytes: Uint8Array, opts: DecodeOptions = {}): Promise<RgbaImage> {
  const name = opts.name ?? 'image';
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const { format } = await checkImage(bytes, opts);
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    const { data, info } = await sharp(input, { limitInputPixels: maxPixels, failOn: 'truncated' })
      .rotate() // honour EXIF orientation of photos
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .ensureAlpha(1)
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`decoded to ${info.channels} channels`);
    return { rgba: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (e) {
    throw new ImageError(`${name}: cannot decode the ${format.toUpperCase()} image (${shortReason(e)}); is the file truncated or corrupt?`);
  }
}

/** Reads and decodes an image file; errors name the file. */
export async function readImageFile(file: string, opts: Omit<DecodeOptions, 'name'> = {}): Promise<RgbaImage> {
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (e) {
    throw new ImageError(`${file}: cannot read the file (${shortReason(e)})`);
  }
  return decodeImage(bytes, { ...opts, name: file });
}

/**
 * PNG bytes of an RGBA image: 8-bit RGB like the dataset's files (alpha dropped, renders are opaque).
 * Our own minimal writer: every row uses the "Up" filter (flat renders compress well with it) and
 * node's native zlib does the deflate, ≈10× faster than pngjs's adaptive filtering in JS.
 * Deterministic: same pixels, same bytes (for a given Node/zlib version); no timestamps.
 */
export function encodePng(image: RgbaImage): Uint8Array {
  const { width, height, rgba } = image;
  if (rgba.length < width * height * 4) throw new Error(`encodePng: ${rgba.length} bytes is too few for ${width}×${height} RGBA`);
  const stride = width * 3;
  const rowBytes = width * 4;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0, o = 0, i = 0; y < height; y++) {
    raw[o++] = 2; // filter "Up": each byte minus the byte above
    for (let x = 0; x < width; x++, i += 4, o += 3) {
      if (y === 0) {
        raw[o] = rgba[i];
        raw[o + 1] = rgba[i + 1];
        raw[o + 2] = rgba[i + 2];
      } else {
        raw[o] = (rgba[i] - rgba[i - rowBytes]) & 0xff;
        raw[o + 1] = (rgba[i + 1] - rgba[i + 1 - rowBytes]) & 0xff;
        raw[o + 2] = (rgba[i + 2] - rgba[i + 2 - rowBytes]) & 0xff;
      }
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  const idat = zlib.deflateSync(raw, { level: 3 });
  const out = Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function pngChunk(type: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  data.copy(chunk, 8);
  let crc = 0xffffffff;
  for (let i = 4; i < 8 + data.length; i++) crc = CRC_TABLE[(crc ^ chunk[i]) & 0xff] ^ (crc >>> 8);
  chunk.writeUInt32BE((crc ^ 0xffffffff) >>> 0, 8 + data.length);
  return chunk;
}

/** Decodes PNG bytes synchronously (pngjs); for our own renders and tests, where sharp is not needed. */
export function decodePngSync(bytes: Uint8Array, name = 'PNG'): RgbaImage {
  try {
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength), width: png.width, height: png.height };
  } catch (e) {
    throw new ImageError(`${name}: not a readable PNG (${shortReason(e)})`);
  }
}

export async function writePngFile(file: string, image: RgbaImage): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await fs.promises.writeFile(file, encodePng(image));
}

function shortReason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0].trim();
}
