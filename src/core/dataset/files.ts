/** Durable file primitives for the dataset: fsync'd appends, atomic rewrites, content-hashed images. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { DatasetError, isCollectionName } from './types';

/** The collections whose manifests DIR/collections/ holds (`<name>.jsonl`; temp files and bad names left out), sorted. */
export async function readCollectionNames(datasetDir: string): Promise<string[]> {
  return (await fs.readdir(path.join(datasetDir, 'collections')))
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => f.slice(0, -'.jsonl'.length))
    .filter(isCollectionName)
    .sort();
}

/** fsync a folder so a rename or a new file in it survives a power loss (not possible on Windows). */
export async function syncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Windows cannot open folders; the rename itself is still atomic there.
  } finally {
    await handle?.close();
  }
}

async function writeAll(handle: fs.FileHandle, data: Buffer, position: number | null): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset, position === null ? null : position + offset);
    offset += bytesWritten;
  }
}

/**
 * Appends complete lines in one write and fsyncs before returning. A file whose last line was torn
 * by a killed writer gets a newline first, so the fragment stays its own (reported) line.
 */
export async function appendLines(file: string, lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  const handle = await fs.open(file, 'a+');
  try {
    const { size } = await handle.stat();
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    await writeAll(handle, Buffer.from(`${prefix + lines.join('\n')}\n`, 'utf8'), null);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces a file's content atomically: temp file beside it, fsync, rename, fsync the folder. */
export async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await fs.open(temp, 'w');
  try {
    await writeAll(handle, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(temp, file);
  } catch (e) {
    await fs.rm(temp, { force: true });
    throw e;
  }
  await syncDir(dir);
}

/** The stored extension for an image's bytes, or null when they are not a known image format. */
export function sniffImageExtension(bytes: Uint8Array): string | null {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpg';
  if (b.length >= 12 && String.fromCharCode(...b.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...b.subarray(8, 12)) === 'WEBP') {
    return 'webp';
  }
  if (b.length >= 6 && String.fromCharCode(...b.subarray(0, 4)) === 'GIF8') return 'gif';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  return null;
}

/** Where a dataset keeps these image bytes (`images/<sha256/128>.<ext>`), or undefined for a non-image. */
export function storedImageName(bytes: Uint8Array): string | undefined {
  const ext = sniffImageExtension(bytes);
  return ext ? `images/${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}.${ext}` : undefined;
}

/**
 * Copies an image into DIR/images/ under its content hash (identical images are stored once) and
 * returns the stored path relative to the dataset folder, and whether the file is new (its folder
 * then needs an fsync). `label` names the source in errors.
 */
export async function storeImage(datasetDir: string, bytes: Uint8Array, label: string): Promise<{ image: string; written: boolean }> {
  const relative = storedImageName(bytes);
  if (!relative) throw new DatasetError(`${label}: not a PNG, JPEG, WebP, GIF or BMP image`);
  const hash = path.basename(relative).replace(/\.[^.]+$/, '');
  const target = path.join(datasetDir, relative);
  try {
    await fs.access(target);
    return { image: relative, written: false };
  } catch {
    // not stored yet
  }
  const temp = path.join(datasetDir, 'images', `.${hash}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await fs.open(temp, 'w');
  try {
    await writeAll(handle, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
  // Two writers of the same image rename identical content: either wins.
  await fs.rename(temp, target);
  return { image: relative, written: true };
}
