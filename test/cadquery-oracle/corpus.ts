/**
 * The programs of the differential suite: the committed corpus of real CadQuery programs
 * (test/fixtures/cadquery-corpus/<source>/*.py, see its SOURCES.md) and generated ones.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { generateProgram, mulberry32 } from '../../src/core/model/synthetic';
import type { Program } from './oracle';

export const CORPUS_DIR = path.resolve(__dirname, '../fixtures/cadquery-corpus');

/** The corpus's source folders (cq-examples, cq-docs, …). */
export function corpusSources(): string[] {
  return readdirSync(CORPUS_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** Every program of one source folder, id `<source>/<file>`. */
export function corpusPrograms(source: string): Program[] {
  const dir = path.join(CORPUS_DIR, source);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.py'))
    .sort()
    .map((f) => ({ id: `${source}/${f}`, source: readFileSync(path.join(dir, f), 'utf8') }));
}

/** `count` GenCAD-style programs from the training data generator (src/core/model/synthetic.ts), seeded. */
export function generatedPrograms(count: number, seed = 1): Program[] {
  const rng = mulberry32(seed);
  return Array.from({ length: count }, (_, i) => ({ id: `generated/${seed}-${i}`, source: generateProgram(rng) }));
}
