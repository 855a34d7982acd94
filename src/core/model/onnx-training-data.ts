/**
 * Prepares an imagefolder dataset for training/train_bundled.py: adds the TypeScript tokenizer's
 * ids as `tokens` to every metadata.jsonl line and writes vocab.json beside it, so Python never
 * tokenises and the two sides cannot disagree.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../errors';
import { PREPROCESS_DEFAULTS, preprocessImage, toArrayBytes } from './onnx-preprocess';

export interface TrainingVocabulary {
  size: number;
  pad: number;
  bos: number;
  eos: number;
  tokens: string[];
}

/** The vocab.json train_bundled.py reads (and copies next to the model). */
export function trainingVocabularyJson(vocabulary: TrainingVocabulary): string {
  const { size, pad, bos, eos, tokens } = vocabulary;
  if (tokens.length !== size) throw new Error(`vocabulary size ${size} but ${tokens.length} token strings`);
  return JSON.stringify({ size, pad, bos, eos, tokens });
}

export interface TokenizeOptions {
  /**
   * What to do with a line whose code the tokenizer cannot encode: 'fail' (default: an error naming
   * the line) or 'drop' (leave it out, delete its image, count it: a dataset of model samples can
   * hold programs outside the tokenizer's grammar).
   */
  unencodable?: 'fail' | 'drop';
}

/**
 * Rewrites DIR/metadata.jsonl with `tokens` = encode(code) on every line and writes DIR/vocab.json
 * (`vocabJson`: tokenizer.ts's vocabularyJson(), or trainingVocabularyJson(...); it needs size,
 * pad, bos, eos, tokens; an optional maxTokens becomes the model's default length limit). The one
 * imagefolder tokeniser: the training launcher and the recipe tests both use it. Lines that are
 * not JSON, or have no code, fail with their line number.
 */
export async function tokenizeImagefolder(
  dir: string,
  encode: (code: string) => number[],
  vocabJson: string,
  options: TokenizeOptions = {},
): Promise<{ kept: number; skipped: number }> {
  const vocab = JSON.parse(vocabJson) as Partial<TrainingVocabulary>;
  for (const key of ['size', 'pad', 'bos', 'eos'] as const) {
    if (!Number.isInteger(vocab[key])) throw new Error(`vocabulary JSON: \`${key}\` must be an integer`);
  }
  if (!Array.isArray(vocab.tokens) || vocab.tokens.length !== vocab.size) throw new Error('vocabulary JSON: `tokens` must list `size` strings');
  const metadataPath = path.join(dir, 'metadata.jsonl');
  const lines = (await readFile(metadataPath, 'utf8')).split('\n');
  const out: string[] = [];
  let skipped = 0;
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    let row: { code?: unknown; file_name?: unknown; [key: string]: unknown };
    try {
      row = JSON.parse(line);
    } catch (e) {
      throw new Error(`${metadataPath}:${i + 1}: not JSON (${errorMessage(e)})`);
    }
    if (typeof row.code !== 'string') throw new Error(`${metadataPath}:${i + 1}: no \`code\` string`);
    try {
      row.tokens = encode(row.code);
    } catch (e) {
      if (options.unencodable !== 'drop') throw new Error(`${metadataPath}:${i + 1}: cannot tokenise code (${errorMessage(e)})`);
      skipped++;
      if (typeof row.file_name === 'string') await rm(path.join(dir, row.file_name), { force: true });
      continue;
    }
    out.push(JSON.stringify(row));
  }
  await writeFile(metadataPath, `${out.join('\n')}\n`);
  await writeFile(path.join(dir, 'vocab.json'), vocabJson);
  return { kept: out.length, skipped };
}

/**
 * Writes DIR/images-SIZE.u8 for an imagefolder: each metadata.jsonl row's image, preprocessed for a
 * SIZE² model exactly as at inference, in row order (what make_dataset.ts --array writes), so
 * train_bundled.py reads arrays instead of decoding PNGs in Python. Returns the rows written.
 */
export async function writeImageArray(dir: string, size: number): Promise<number> {
  const spec = { ...PREPROCESS_DEFAULTS, size };
  const rows = (await readFile(path.join(dir, 'metadata.jsonl'), 'utf8')).split('\n').filter((l) => l.trim());
  const out = new Uint8Array(rows.length * size * size);
  for (const [i, line] of rows.entries()) {
    const row = JSON.parse(line) as { file_name?: unknown };
    if (typeof row.file_name !== 'string') throw new Error(`${dir}/metadata.jsonl:${i + 1}: no file_name`);
    out.set(toArrayBytes(await preprocessImage(path.join(dir, row.file_name), spec), spec), i * size * size);
  }
  await writeFile(path.join(dir, `images-${size}.u8`), out);
  return rows.length;
}
