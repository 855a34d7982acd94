/**
 * File formats by name, without loading any geometry code (the extension host reads a reference's
 * type with it before the kernel starts).
 */
import path from 'node:path';
import { CadError } from '../errors';
import type { MeshFormat } from '../geometry/mesh-io';

export type FileFormat = 'step' | 'brep' | MeshFormat;

const EXTENSIONS: Record<string, 'code' | FileFormat> = {
  '.py': 'code',
  '.step': 'step',
  '.stp': 'step',
  '.brep': 'brep',
  '.brp': 'brep',
  '.stl': 'stl',
  '.obj': 'obj',
  '.ply': 'ply',
};

/** The format a file name implies, or a clear error naming the file. */
export function formatOfFile(file: string): 'code' | FileFormat {
  const ext = path.extname(file).toLowerCase();
  const format = EXTENSIONS[ext];
  if (!format) throw new CadError('unsupported', `${file}: unknown file type '${ext || '(none)'}': expected .py, .step, .stp, .brep, .stl, .obj or .ply`);
  return format;
}
