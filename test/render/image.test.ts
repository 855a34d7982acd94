import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { decodeImage, decodePngSync, encodePng, ImageError, readImageFile } from '../../src/core/render/image';
import { imagePath } from './fixtures';

/** A PNG whose header claims width × height, with a tiny (bogus) body: cheap to make, huge to decode. */
function pngClaiming(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const chunk = (type: string, data: Buffer) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    data.copy(out, 8);
    let crc = 0xffffffff;
    for (let i = 4; i < 8 + data.length; i++) crc = crcTable[(crc ^ out[i]) & 0xff] ^ (crc >>> 8);
    out.writeUInt32BE((crc ^ 0xffffffff) >>> 0, 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.alloc(1000))), chunk('IEND', Buffer.alloc(0))]);
}

const isImageError = (pattern: RegExp) => (e: unknown) => e instanceof ImageError && pattern.test(e.message);

test('decodes the dataset PNG, and JPEG / WebP / transparent PNG of any size', async () => {
  const img = await readImageFile(imagePath('00442545'));
  assert.equal(img.width, 448);
  assert.equal(img.rgba.length, 448 * 448 * 4);
  assert.deepEqual([...img.rgba.subarray(0, 4)], [255, 255, 255, 255]);
  const jpeg = await sharp(fs.readFileSync(imagePath('00442545')))
    .resize(300, 200, { fit: 'fill' })
    .jpeg()
    .toBuffer();
  const fromJpeg = await decodeImage(jpeg, { name: 'x.jpg' });
  assert.deepEqual([fromJpeg.width, fromJpeg.height], [300, 200]);
  const webp = await sharp(fs.readFileSync(imagePath('00442545')))
    .webp({ lossless: true })
    .toBuffer();
  const fromWebp = await decodeImage(webp);
  assert.deepEqual(fromWebp.rgba, img.rgba);
  // A transparent pixel becomes white, an opaque one keeps its colour.
  const rgba = Buffer.from([0, 0, 0, 0, 10, 20, 30, 255]);
  const transparent = await sharp(rgba, { raw: { width: 2, height: 1, channels: 4 } })
    .png()
    .toBuffer();
  const flat = await decodeImage(transparent);
  assert.deepEqual([...flat.rgba], [255, 255, 255, 255, 10, 20, 30, 255]);
});

test('bad image files give clear errors naming the file, quickly', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-image-'));
  try {
    const full = fs.readFileSync(imagePath('00442545'));
    const truncated = path.join(dir, 'truncated.png');
    fs.writeFileSync(truncated, full.subarray(0, full.length >> 1));
    await assert.rejects(readImageFile(truncated), isImageError(/truncated\.png: cannot decode the PNG image .*truncated or corrupt/));
    const text = path.join(dir, 'notes.png');
    fs.writeFileSync(text, 'this is a text file, not a picture\n');
    await assert.rejects(readImageFile(text), isImageError(/notes\.png: not a readable image/));
    const huge = path.join(dir, 'huge.png');
    fs.writeFileSync(huge, pngClaiming(20_000, 20_000));
    const started = Date.now();
    await assert.rejects(readImageFile(huge), isImageError(/huge\.png: 20000×20000 is too large/));
    assert.ok(Date.now() - started < 5000, 'refused before decoding');
    await assert.rejects(readImageFile(path.join(dir, 'missing.png')), isImageError(/missing\.png: cannot read the file/));
    await assert.rejects(decodeImage(new Uint8Array(0), { name: 'empty.png' }), isImageError(/empty\.png: the file is empty/));
    const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } })
      .gif()
      .toBuffer();
    await assert.rejects(decodeImage(gif, { name: 'a.gif' }), isImageError(/unsupported image format 'gif'/));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('encodePng writes an RGB PNG that decodes to the same pixels (pngjs and sharp agree)', async () => {
  const width = 37,
    height = 23;
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < rgba.length; i += 4) {
    rgba[i] = (i * 7) & 255;
    rgba[i + 1] = (i * 13) & 255;
    rgba[i + 2] = (i >> 2) & 255;
    rgba[i + 3] = 255;
  }
  const png = encodePng({ rgba, width, height });
  assert.deepEqual(decodePngSync(png).rgba, rgba);
  const viaSharp = await decodeImage(png);
  assert.deepEqual(viaSharp.rgba, rgba);
  assert.equal((await sharp(Buffer.from(png)).metadata()).channels, 3);
});
