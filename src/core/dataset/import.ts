/**
 * Imports image–code pairs into a dataset collection (default sft) from
 *  - the GenCAD-Code layout: a JSONL file whose lines have `image` (a file name in images/ beside
 *    the JSONL, or a path relative to it) and `ground_truth` (the CadQuery program);
 *  - a Hugging Face imagefolder: DIR/metadata.jsonl with `file_name` (relative to DIR) and `code`,
 *    plus optional `id`, `source`, `iou`, `protocol`, `model`, `collection` (as our export writes).
 * Re-importing is safe: ids already present with the same code are skipped. Bad lines are reported
 * with file:line and skipped; the rest is imported.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Dataset } from './store';
import { checkNewRecordFields, DatasetError, sanitizeRecordId, validateCollectionName, type DatasetWarning, type NewRecord } from './types';
import { errorMessage } from '../errors';
import type { Stats } from 'node:fs';

export type ImportFormat = 'gencad' | 'imagefolder';

export interface ImportOptions {
  /** Target collection (default 'sft'); created when missing. */
  collection?: string;
  /** Imagefolder only: put each row in its `collection` column's collection instead. */
  keepCollections?: boolean;
  /** Records per fsync'd batch (default 500). */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ImportReport {
  format: ImportFormat;
  /** The JSONL file read. */
  file: string;
  /** Usable lines in the source. */
  total: number;
  imported: number;
  /** Already in the dataset with the same code (an earlier import). */
  skipped: number;
  /** Lines not imported, with file:line and why. */
  warnings: DatasetWarning[];
}

/** Which importer a path needs: a GenCAD JSONL file, or a folder holding metadata.jsonl or samples.jsonl. */
export async function detectImportFormat(src: string): Promise<{ format: ImportFormat; file: string }> {
  const resolved = path.resolve(src);
  let stat: Stats;
  try {
    stat = await fs.stat(resolved);
  } catch {
    throw new DatasetError(`${src}: no such file or folder`);
  }
  if (stat.isDirectory()) {
    for (const [name, format] of [
      ['metadata.jsonl', 'imagefolder'],
      ['samples.jsonl', 'gencad'],
    ] as const) {
      const file = path.join(resolved, name);
      if (await exists(file)) return { format, file };
    }
    if (await exists(path.join(resolved, 'metadata.csv'))) {
      throw new DatasetError(`${src}: imagefolder metadata.csv is not supported; convert it to metadata.jsonl`);
    }
    throw new DatasetError(`${src}: neither an imagefolder (metadata.jsonl) nor a GenCAD folder (samples.jsonl)`);
  }
  if (path.basename(resolved) === 'metadata.jsonl') return { format: 'imagefolder', file: resolved };
  if (resolved.endsWith('.jsonl')) return { format: 'gencad', file: resolved };
  throw new DatasetError(`${src}: expected a GenCAD .jsonl file or an imagefolder folder (with metadata.jsonl)`);
}

export async function importIntoDataset(ds: Dataset, src: string, options: ImportOptions = {}): Promise<ImportReport> {
  const { format, file } = await detectImportFormat(src);
  return format === 'gencad' ? importGenCad(ds, file, options) : importImageFolder(ds, path.dirname(file), options);
}

interface Row {
  line: number;
  record: NewRecord & { id: string; image: string };
}

export async function importGenCad(ds: Dataset, samplesFile: string, options: ImportOptions = {}): Promise<ImportReport> {
  const file = path.resolve(samplesFile);
  const baseDir = path.dirname(file);
  const collection = options.collection ?? 'sft';
  validateCollectionName(collection);
  const { rows, warnings } = await readRows(file, async (value, line) => {
    const image = value.image;
    const code = value.ground_truth ?? value.code;
    if (typeof image !== 'string' || image === '') throw new Error("missing 'image' (the image file name)");
    if (typeof code !== 'string') throw new Error("missing 'ground_truth' (the CadQuery program)");
    const candidates = [path.resolve(baseDir, 'images', image), path.resolve(baseDir, image)];
    const found = await firstExisting(candidates);
    if (!found) throw new Error(`image '${image}' not found in ${path.join(baseDir, 'images')} or ${baseDir}`);
    // DeepCAD renders are named <part id>_0.png; the part id is the natural record id.
    const stem = path.basename(image, path.extname(image)).replace(/_0$/, '');
    return { line, record: { id: sanitizeRecordId(stem), collection, image: found, code } };
  });
  return finishImport(ds, 'gencad', file, rows, warnings, options);
}

export async function importImageFolder(ds: Dataset, dir: string, options: ImportOptions = {}): Promise<ImportReport> {
  const root = path.resolve(dir);
  const file = path.join(root, 'metadata.jsonl');
  if (!(await exists(file))) throw new DatasetError(`${dir}: no metadata.jsonl (not a Hugging Face imagefolder)`);
  const defaultCollection = options.collection ?? 'sft';
  validateCollectionName(defaultCollection);
  const { rows, warnings } = await readRows(file, async (value, line) => {
    const fileName = value.file_name;
    if (typeof fileName !== 'string' || fileName === '') throw new Error("missing 'file_name'");
    if (typeof value.code !== 'string') throw new Error("missing 'code'");
    const image = path.resolve(root, fileName);
    if (!(await exists(image))) throw new Error(`image '${fileName}' not found in ${root}`);
    const collection = options.keepCollections && typeof value.collection === 'string' ? value.collection : defaultCollection;
    const id = typeof value.id === 'string' && value.id ? value.id : sanitizeRecordId(path.basename(fileName, path.extname(fileName)));
    const record = {
      id,
      collection,
      image,
      code: value.code,
      source: value.source as string | null | undefined,
      iou: value.iou as number | null | undefined,
      protocol: value.protocol as string | null | undefined,
      model: value.model as string | null | undefined,
    };
    checkNewRecordFields(record);
    return { line, record };
  });
  return finishImport(ds, 'imagefolder', file, rows, warnings, options);
}

async function readRows(
  file: string,
  toRow: (value: Record<string, unknown>, line: number) => Promise<Row>,
): Promise<{ rows: Row[]; warnings: DatasetWarning[] }> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new DatasetError(`cannot read ${file}: ${errorMessage(e)}`);
  }
  const rows: Row[] = [];
  const warnings: DatasetWarning[] = [];
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    if (raw.trim() === '') continue;
    const line = i + 1;
    try {
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (e) {
        throw new Error(`not valid JSON (${errorMessage(e)})`);
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
      rows.push(await toRow(value as Record<string, unknown>, line));
    } catch (e) {
      warnings.push({ file, line, message: `skipped: ${errorMessage(e)}` });
    }
  }
  return { rows, warnings };
}

async function finishImport(
  ds: Dataset,
  format: ImportFormat,
  file: string,
  rows: Row[],
  warnings: DatasetWarning[],
  options: ImportOptions,
): Promise<ImportReport> {
  const existing = new Map((await ds.list()).records.map((r) => [r.id, r]));
  const seen = new Map<string, number>();
  const fresh: Row[] = [];
  let skipped = 0;
  for (const row of rows) {
    const { id } = row.record;
    const before = seen.get(id);
    if (before !== undefined) {
      warnings.push({ file, line: row.line, message: `skipped: id '${id}' already used at line ${before}` });
      continue;
    }
    seen.set(id, row.line);
    const present = existing.get(id);
    if (present) {
      if (present.code === row.record.code) skipped++;
      else warnings.push({ file, line: row.line, message: `skipped: id '${id}' is already in the dataset (${present.collection}) with different code` });
      continue;
    }
    fresh.push(row);
  }
  for (const collection of new Set(fresh.map((r) => r.record.collection))) await ds.createCollection(collection);
  const batchSize = options.batchSize ?? 500;
  let imported = 0;
  for (let i = 0; i < fresh.length; i += batchSize) {
    const batch = fresh.slice(i, i + batchSize);
    await ds.appendMany(batch.map((r) => r.record));
    imported += batch.length;
    options.onProgress?.(imported, fresh.length);
  }
  warnings.sort((a, b) => a.line - b.line);
  return { format, file, total: rows.length, imported, skipped, warnings };
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

async function firstExisting(files: string[]): Promise<string | null> {
  for (const f of files) {
    try {
      if ((await fs.stat(f)).isFile()) return f;
    } catch {
      // try the next
    }
  }
  return null;
}
