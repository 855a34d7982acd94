/** Reads a file from disk into a ShapeSource (main thread side; workers get the bytes). */
import fs from 'node:fs';
import { CadError, errorMessage } from '../errors';
import { formatOfFile, type ShapeSource } from './source';

export function readShapeSource(file: string): ShapeSource {
  const format = formatOfFile(file);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CadError('runtime', `${file}: ${code === 'ENOENT' ? 'no such file' : errorMessage(e)}`);
  }
  if (format === 'code') return { kind: 'code', source: bytes.toString('utf8'), name: file };
  return { kind: format, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), name: file };
}
