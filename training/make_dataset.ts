/**
 * Training data for the bundled model: procedurally generated GenCAD-style programs
 * (src/core/model/generator.ts, statistics modelled on the paper's dataset), run by the CadQuery
 * interpreter and rendered in the dataset's image style, as an imagefolder with token ids.
 * Never uses test100.
 *
 *   node --import tsx training/make_dataset.ts OUT_DIR [COUNT] [SEED] [--array SIZE] [--no-png] [--chunk ROWS]
 *
 * --array SIZE also appends each image, already preprocessed exactly as at inference
 * (src/core/model/onnx-preprocess.ts, rounded to uint8), to OUT_DIR/images-SIZE.u8, so
 * train_bundled.py starts in seconds instead of decoding and resizing every PNG in Python.
 * Rows are appended as they are made (array bytes before their metadata line), so a trainer
 * may read a shard while it is still growing; a rerun with the same OUT_DIR continues it.
 * OCCT leaks WASM memory on every build (the wasm32 heap stops at 4 GiB, ~11 k parts here), so
 * the work runs in child processes of --chunk rows each (default 3000), every one continuing
 * where the last stopped.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCadQuery } from '../src/core/shape/run-cadquery';
import { loadOpenCascade } from '../src/core/occt/occt';
import { generateProgram, mulberry32 } from '../src/core/model/synthetic';
import { PREPROCESS_DEFAULTS, preprocessRgba, toArrayBytes } from '../src/core/model/onnx-preprocess';
import { encodeProgram, vocabularyJson } from '../src/core/model/tokenizer';
import { encodePng, renderShape } from '../src/core/render';

interface Options {
  out: string;
  count: number;
  seed: number;
  arraySize?: number;
  png: boolean;
  chunk: number;
}

function parseArgs(argv: string[]): Options {
  const positional: string[] = [];
  let arraySize: number | undefined;
  let png = true;
  let chunk = 3000;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--array') {
      arraySize = Number(argv[++i]);
      if (!Number.isInteger(arraySize) || arraySize <= 0) throw new Error(`--array needs a positive integer size, got '${argv[i]}'`);
    } else if (a === '--chunk') {
      chunk = Number(argv[++i]);
      if (!Number.isInteger(chunk) || chunk <= 0) throw new Error(`--chunk needs a positive integer, got '${argv[i]}'`);
    } else if (a === '--no-png') png = false;
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else positional.push(a);
  }
  const [out, countArg, seedArg] = positional;
  if (!out) throw new Error('usage: make_dataset.ts OUT_DIR [COUNT] [SEED] [--array SIZE] [--no-png] [--chunk ROWS]');
  if (!png && arraySize === undefined) throw new Error('--no-png needs --array SIZE (the images must go somewhere)');
  return { out, count: Number(countArg ?? 1000), seed: Number(seedArg ?? 1), arraySize, png, chunk };
}

/** Rows already complete in OUT_DIR (a resumed run); trims a half-written tail. */
function resumeState(opts: Options): { rows: number; draws: number } {
  const metadata = path.join(opts.out, 'metadata.jsonl');
  if (!existsSync(metadata)) return { rows: 0, draws: 0 };
  const lines = readFileSync(metadata, 'utf8').split('\n');
  const complete = lines.slice(0, -1).filter((l) => l.trim()); // the last piece has no newline yet
  const last = complete.length ? (JSON.parse(complete[complete.length - 1]) as { draw?: number }) : undefined;
  writeFileSync(metadata, complete.map((l) => `${l}\n`).join(''));
  if (opts.arraySize !== undefined) {
    const array = path.join(opts.out, `images-${opts.arraySize}.u8`);
    const want = complete.length * opts.arraySize * opts.arraySize;
    if (existsSync(array) && statSync(array).size > want) truncateSync(array, want);
  }
  return { rows: complete.length, draws: (last?.draw ?? -1) + 1 };
}

/** Runs this script in fresh processes, --chunk rows at a time, until COUNT rows exist. */
function runInChunks(opts: Options): void {
  const started = Date.now();
  for (;;) {
    const done = resumeState(opts).rows;
    if (done >= opts.count) break;
    const target = Math.min(opts.count, done + opts.chunk);
    const child = spawnSync(process.execPath, [...process.execArgv, __filename, ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, GIFT_DATASET_CHUNK_END: String(target) },
    });
    if (child.status !== 0) throw new Error(`make_dataset: the chunk up to ${target} rows failed (exit ${child.status ?? child.signal})`);
  }
  console.log(`${opts.count} examples in ${opts.out}, ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const chunkEnd = process.env.GIFT_DATASET_CHUNK_END;
  if (chunkEnd === undefined) {
    mkdirSync(opts.out, { recursive: true });
    runInChunks(opts);
    return;
  }
  opts.count = Number(chunkEnd);
  const random = mulberry32(opts.seed);
  await loadOpenCascade();
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(path.join(opts.out, 'vocab.json'), vocabularyJson());
  const metadata = path.join(opts.out, 'metadata.jsonl');
  const array = opts.arraySize !== undefined ? path.join(opts.out, `images-${opts.arraySize}.u8`) : undefined;
  const spec = opts.arraySize !== undefined ? { ...PREPROCESS_DEFAULTS, size: opts.arraySize } : undefined;
  const resumed = resumeState(opts);
  // Replay the generator up to where the last run stopped, so a resumed shard has no repeats.
  for (let i = 0; i < resumed.draws; i++) generateProgram(random);
  let rows = resumed.rows;
  let draw = resumed.draws;
  let failed = 0;
  const started = Date.now();
  while (rows < opts.count) {
    const code = generateProgram(random);
    const thisDraw = draw++;
    let tokens: number[];
    let image: ReturnType<typeof renderShape>;
    try {
      tokens = encodeProgram(code);
      image = renderShape(runCadQuery(code));
    } catch {
      failed++;
      continue;
    }
    const fileName = `gen_${String(rows).padStart(6, '0')}.png`;
    if (opts.png) writeFileSync(path.join(opts.out, fileName), encodePng(image));
    if (array && spec) {
      appendFileSync(array, toArrayBytes(preprocessRgba(image.rgba, image.width, image.height, spec), spec));
    }
    const row: Record<string, unknown> = { code, tokens, draw: thisDraw };
    if (opts.png) row.file_name = fileName;
    appendFileSync(metadata, `${JSON.stringify(row)}\n`);
    rows++;
    if (rows % 500 === 0) console.log(`${rows}/${opts.count} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  console.log(`${rows} examples in ${opts.out} (${failed} programs failed to build) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
