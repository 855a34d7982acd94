/**
 * What `gift eval` measures on: images with a ground truth, read from any of
 *  - a GenCAD-style samples.jsonl (`image` + `ground_truth` code; a STEP beside it is found in
 *    gt_steps/<id>.step or <id>.step), or the folder holding it (test100's layout);
 *  - a GIFT dataset folder (one collection, default sft: the record's image and code);
 *  - a JSONL of {id, image, reference}: reference a .py, .step or .stl path (relative to the
 *    JSONL's folder) or inline CadQuery code.
 * Bad input is an error naming the file and line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openDataset } from '../dataset/store';
import { UserError } from '../errors';
import { readShapeSource } from '../shape/files';
import type { ShapeSource } from '../shape/source';
import type { PoolItem } from '../dataset/bootstrap';

export class EvalInputError extends UserError {}

export type EvalReference = { kind: 'file'; path: string } | { kind: 'code'; source: string; name: string };

export interface EvalItem {
  id: string;
  /** Absolute path of the image. */
  image: string;
  reference: EvalReference;
}

export type EvalInputFormat = 'gencad' | 'dataset' | 'pairs';

export interface EvalInputOptions {
  /** Dataset input: the collection to evaluate on (default sft). */
  collection?: string;
  /** GenCAD input: compare against the STEP beside the sample (default when there is one) or the ground-truth code. */
  reference?: 'auto' | 'step' | 'code';
}

export interface EvalInput {
  format: EvalInputFormat;
  items: EvalItem[];
  /** What the references are, for the report: 'step', 'code', or 'mixed'. */
  referenceKind: string;
}

export async function readEvalInput(input: string, options: EvalInputOptions = {}): Promise<EvalInput> {
  const abs = path.resolve(input);
  if (!fs.existsSync(abs)) throw new EvalInputError(`${input}: no such file or folder`);
  if (fs.statSync(abs).isDirectory()) {
    if (fs.existsSync(path.join(abs, 'dataset.json'))) return readDatasetInput(abs, options.collection ?? 'sft');
    if (fs.existsSync(path.join(abs, 'samples.jsonl'))) return readJsonlInput(path.join(abs, 'samples.jsonl'), options);
    throw new EvalInputError(`${input}: neither a GIFT dataset (dataset.json) nor a GenCAD folder (samples.jsonl)`);
  }
  return readJsonlInput(abs, options);
}

async function readDatasetInput(dir: string, collection: string): Promise<EvalInput> {
  const ds = await openDataset(dir);
  const { records } = await ds.list(collection);
  if (records.length === 0) throw new EvalInputError(`${dir}: the collection '${collection}' has no records`);
  const items = records.map((r) => ({ id: r.id, image: ds.imagePath(r), reference: { kind: 'code' as const, source: r.code, name: `${r.id}.py` } }));
  return { format: 'dataset', items, referenceKind: 'code' };
}

function readJsonlInput(file: string, options: EvalInputOptions): EvalInput {
  const dir = path.dirname(file);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const items: EvalItem[] = [];
  let format: EvalInputFormat | undefined;
  const seen = new Set<string>();
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    const where = `${file}:${i + 1}`;
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(line);
    } catch {
      throw new EvalInputError(`${where}: not a JSON line`);
    }
    if (typeof row.image !== 'string') throw new EvalInputError(`${where}: no "image" path`);
    const lineFormat: EvalInputFormat = typeof row.ground_truth === 'string' ? 'gencad' : 'pairs';
    format ??= lineFormat;
    if (lineFormat !== format) throw new EvalInputError(`${where}: mixes GenCAD lines (ground_truth) with {id, image, reference} lines`);
    const item = lineFormat === 'gencad' ? gencadItem(row, dir, options, where) : pairItem(row, dir, where);
    if (seen.has(item.id)) throw new EvalInputError(`${where}: the id '${item.id}' appears twice`);
    seen.add(item.id);
    if (!fs.existsSync(item.image)) throw new EvalInputError(`${where}: ${item.image}: no such image`);
    items.push(item);
  }
  if (items.length === 0) throw new EvalInputError(`${file}: no samples`);
  const kinds = new Set(items.map((it) => (it.reference.kind === 'code' ? 'code' : path.extname(it.reference.path).slice(1).toLowerCase())));
  return { format: format!, items, referenceKind: kinds.size === 1 ? [...kinds][0].replace('stp', 'step').replace('py', 'code') : 'mixed' };
}

function gencadItem(row: Record<string, unknown>, dir: string, options: EvalInputOptions, where: string): EvalItem {
  const imageName = row.image as string;
  const imagesDir = fs.existsSync(path.join(dir, 'images')) ? path.join(dir, 'images') : dir;
  const image = path.isAbsolute(imageName) ? imageName : path.join(imagesDir, imageName);
  const id = path.basename(imageName, path.extname(imageName)).replace(/_0$/, '');
  const step = [path.join(dir, 'gt_steps', `${id}.step`), path.join(dir, `${id}.step`)].find((f) => fs.existsSync(f));
  const want = options.reference ?? 'auto';
  if (want === 'step' && !step) throw new EvalInputError(`${where}: --reference step, but there is no gt_steps/${id}.step or ${id}.step`);
  const reference: EvalReference =
    step && want !== 'code' ? { kind: 'file', path: step } : { kind: 'code', source: row.ground_truth as string, name: `${id}.py` };
  return { id, image, reference };
}

function pairItem(row: Record<string, unknown>, dir: string, where: string): EvalItem {
  if (typeof row.id !== 'string' && typeof row.id !== 'number') throw new EvalInputError(`${where}: no "id"`);
  if (typeof row.reference !== 'string' || !row.reference.trim())
    throw new EvalInputError(`${where}: no "reference" (a .py, .step or .stl path, or CadQuery code)`);
  const id = String(row.id);
  const image = path.resolve(dir, row.image as string);
  const ref = row.reference;
  const looksLikePath = !ref.includes('\n') && /\.(py|step|stp|stl)$/i.test(ref.trim());
  const reference: EvalReference = looksLikePath ? { kind: 'file', path: path.resolve(dir, ref.trim()) } : { kind: 'code', source: ref, name: `${id}.py` };
  if (reference.kind === 'file' && !fs.existsSync(reference.path)) throw new EvalInputError(`${where}: ${reference.path}: no such reference file`);
  return { id, image, reference };
}

/** The reference as the kernel takes it (files are read here, on the calling thread). */
export function referenceSource(reference: EvalReference): ShapeSource {
  return reference.kind === 'file' ? readShapeSource(reference.path) : { kind: 'code', source: reference.source, name: reference.name };
}

/** The same inputs as a GIFT source pool (bootstrap, round): STEP/STL ground truths come without code. */
export async function readPoolImages(input: string): Promise<PoolItem[]> {
  return (await readEvalInput(input)).items.map((item) => {
    const reference = referenceSource(item.reference);
    return { id: item.id, image: item.image, reference, code: reference.kind === 'code' ? reference.source : undefined };
  });
}
