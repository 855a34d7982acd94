/**
 * A real tiny model for the model tests: a synthetic imagefolder (white 448×448 renders of a dark
 * rectangle, code = a CadQuery box with the rectangle's size), tokenised character by character,
 * trained for a few CPU seconds by training/train_bundled.py and exported to ONNX.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { tokenizeImagefolder, trainingVocabularyJson, type TrainingVocabulary } from '../../src/core/model/onnx-training-data';

export const PYTHON = '/usr/bin/python3';
export const repoRoot = path.resolve(__dirname, '../..');

/** Why the torch-backed tests cannot run here, or undefined when they can. */
export function torchMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx, PIL, numpy'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} not found: run scripts/install-python-deps.sh`;
  if (probe.status !== 0) return `${PYTHON} lacks torch/onnx (run scripts/install-python-deps.sh): ${probe.stderr.trim().split('\n').pop()}`;
  return undefined;
}

export function charVocabulary(codes: string[]): TrainingVocabulary {
  const chars = [...new Set(codes.join(''))].sort();
  const tokens = ['<pad>', '<bos>', '<eos>', ...chars];
  return { size: tokens.length, pad: 0, bos: 1, eos: 2, tokens };
}

export function encodeChars(vocabulary: TrainingVocabulary, code: string): number[] {
  return [...code].map((c) => {
    const id = vocabulary.tokens.indexOf(c);
    if (id < 0) throw new Error(`character ${JSON.stringify(c)} not in vocabulary`);
    return id;
  });
}

export async function rectangleImage(width: number, height: number, size = 448): Promise<Buffer> {
  const rect = await sharp({ create: { width, height, channels: 3, background: { r: 90, g: 90, b: 140 } } })
    .png()
    .toBuffer();
  return sharp({ create: { width: size, height: size, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite([{ input: rect, left: Math.round((size - width) / 2), top: Math.round((size - height) / 2) }])
    .png()
    .toBuffer();
}

export interface SyntheticDataset {
  dir: string;
  vocabulary: TrainingVocabulary;
  examples: { fileName: string; code: string; w: number; h: number }[];
}

export async function writeSyntheticDataset(dir: string, count = 12, withTokens = true): Promise<SyntheticDataset> {
  mkdirSync(dir, { recursive: true });
  const examples: SyntheticDataset['examples'] = [];
  for (let i = 0; i < count; i++) {
    // deterministic spread of sizes 10..40
    const w = 10 + ((i * 7) % 31);
    const h = 10 + ((i * 13 + 5) % 31);
    const fileName = `rect_${i}.png`;
    writeFileSync(path.join(dir, fileName), await rectangleImage(w * 9, h * 9));
    examples.push({ fileName, code: `solid = cq.Workplane("XY").box(${w}, ${h}, 1)\n`, w, h });
  }
  writeFileSync(path.join(dir, 'metadata.jsonl'), `${examples.map((e) => JSON.stringify({ file_name: e.fileName, code: e.code })).join('\n')}\n`);
  const vocabulary = charVocabulary(examples.map((e) => e.code));
  if (withTokens) await tokenizeImagefolder(dir, (code) => encodeChars(vocabulary, code), trainingVocabularyJson(vocabulary));
  return { dir, vocabulary, examples };
}

export function runTraining(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(PYTHON, [path.join(repoRoot, 'training/train_bundled.py'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1' },
    timeout: 180_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let trained: Promise<{ dataset: SyntheticDataset; modelDir: string }> | undefined;

/** Trains the tiny model once per test process. */
export function trainedTinyModel(): Promise<{ dataset: SyntheticDataset; modelDir: string }> {
  trained ??= (async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'gift-onnx-'));
    const dataset = await writeSyntheticDataset(path.join(root, 'data'));
    const modelDir = path.join(root, 'model');
    const run = runTraining(['--data', dataset.dir, '--out', modelDir, '--config', 'tiny', '--steps', '80', '--batch-size', '12', '--device', 'cpu']);
    if (run.status !== 0) throw new Error(`training failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
    return { dataset, modelDir };
  })();
  return trained;
}

/** training/train_bundled.py's reference.json: torch's logits for a fixed prefix and its greedy tokens. */
export interface Reference {
  file_name: string;
  pixels: number[];
  prefix: number[];
  logits: number[][];
  greedy_tokens: number[];
}
