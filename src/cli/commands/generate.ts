/** `gift generate IMAGE [--samples K] [--backend onnx|openai] …`: image → best CadQuery program. */
import fs from 'node:fs';
import { toErrorInfo, type CadErrorInfo, formatError } from '../../core/errors';
import type { ShapeSource } from '../../core/shape/source';
import { readShapeSource } from '../../core/shape/files';
import { KernelPool } from '../../core/pool/pool';
import { generateCandidates, type ImageToCadBackend, type GenerateOutcome } from '../../core/generate';
import { BACKEND_HELP, BACKEND_OPTIONS, backendSpec, createBackend } from '../backend-options';
import type { BBox } from '../../core/geometry/measure';
import { intOption, parseCommandArgs, UsageError, stringOptions } from '../args';
import { protocolOption } from './iou';
import { DEFAULT_BUCKET_PROTOCOL } from '../../core/geometry/protocols';

const help = `usage: gift generate IMAGE [--samples K] [--backend onnx|openai] [--endpoint URL] [--model NAME]
                     [--reference FILE] [--out FILE.py] [--json]

Samples K CadQuery programs for an image of a part, runs each, and ranks them: by 3D IoU against
--reference when given, else by how well each program's render matches the image. Prints the best
program (or writes it to --out).
  --samples K       candidates to sample (default 4)
${BACKEND_HELP}
  --reference FILE  .py, .step or .stl to rank by IoU against
  --protocol P      IoU protocol (default aligned-robust; aligned for the paper's numbers)
  --temperature T   sampling temperature (default 0.8 for K > 1, greedy for K = 1)
  --max-tokens N    longest program in tokens
  --seed N          sampling seed
  --out FILE.py     write the best program here instead of printing it
  --json            print {code, ok, score, iou?, volume, bbox, candidates:[{sample, code, ok, score, iou?, error?}], warning?}
                    (warning: the picture does not look like a render of a part, and what to try)
  --timeout MS      per-candidate kernel limit (default 20000)
  --request-timeout MS  per HTTP request to the endpoint (default 180000)
  --workers N       kernel worker threads (default 2)
Exit code 0 when the best program ran, 1 otherwise.`;

/**
 * The contract: the best program's `code`, `ok`, `score` (render vs image) and `iou` (with a
 * reference), then every candidate best first; `volume`/`bbox` of the best as extras.
 */
export interface GenerateJson {
  ok: boolean;
  code: string | null;
  score?: number;
  iou?: number;
  volume?: number;
  bbox?: BBox;
  /** Best first; `sample` is the candidate's place in sampling order (0-based). */
  candidates: { sample: number; code: string; ok: boolean; score?: number; iou?: number; error?: CadErrorInfo }[];
  error?: CadErrorInfo;
  /** The picture does not look like a render of a part: what is off and what to try. */
  warning?: string;
}

export function outcomeJson(outcome: GenerateOutcome): GenerateJson {
  const best = outcome.best;
  return {
    ok: outcome.ok,
    code: best ? best.code : null,
    score: best?.score,
    iou: best?.iou,
    volume: best?.volume,
    bbox: best?.bbox,
    candidates: outcome.candidates.map((c) => ({ sample: c.index, code: c.code, ok: c.ok, score: c.score, iou: c.iou, error: c.error ?? c.rankError })),
    ...(outcome.warning ? { warning: outcome.warning } : {}),
  };
}

function numberOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number from ${min} to ${max}, got '${value}'`);
  return n;
}

export async function generateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      ...stringOptions('samples', 'reference', 'protocol', 'temperature', 'max-tokens', 'seed', 'out', 'timeout', 'request-timeout', 'workers'),
      ...BACKEND_OPTIONS,
      json: { type: 'boolean' },
    },
    help,
  );
  if (positionals.length !== 1) throw new UsageError(`expected one IMAGE\n\n${help}`);
  const [image] = positionals;
  const samples = intOption('samples', values.samples, 4);
  if (samples > 64) throw new UsageError(`--samples must be at most 64, got ${samples}`);
  const spec = backendSpec(values);
  const protocol = protocolOption(values.protocol, DEFAULT_BUCKET_PROTOCOL);
  const temperature = numberOption('temperature', values.temperature, 0, 2);
  const maxTokens = values['max-tokens'] === undefined ? undefined : intOption('max-tokens', values['max-tokens'], 1);
  const seed = values.seed === undefined ? undefined : intOption('seed', values.seed, 0, 0);
  const timeoutMs = intOption('timeout', values.timeout, 20_000);
  const requestTimeoutMs = intOption('request-timeout', values['request-timeout'], 180_000);
  const workers = intOption('workers', values.workers, 2);

  const fail = (error: CadErrorInfo): number => {
    if (values.json) console.log(JSON.stringify({ ok: false, code: null, candidates: [], error } satisfies GenerateJson));
    else console.error(`gift generate: ${error.message}`);
    return 1;
  };

  let reference: ShapeSource | undefined;
  let backend: ImageToCadBackend;
  try {
    if (!fs.existsSync(image)) throw new Error(`${image}: no such file`);
    if (values.reference) reference = readShapeSource(values.reference);
    backend = createBackend(spec, { timeoutMs: requestTimeoutMs, log: values.json ? undefined : (line) => console.error(line) });
  } catch (e) {
    return fail(toErrorInfo(e));
  }

  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  const pool = new KernelPool({ workers: Math.min(workers, samples), timeoutMs });
  try {
    let outcome: GenerateOutcome;
    try {
      outcome = await generateCandidates({
        backend,
        pool,
        image,
        samples,
        temperature,
        maxTokens,
        seed,
        reference,
        protocol,
        signal: abort.signal,
        report: values.json ? undefined : (message) => process.stderr.write(`${message}\n`),
      });
    } catch (e) {
      return fail(toErrorInfo(abort.signal.aborted ? new Error('cancelled') : e));
    }
    if (values.out && outcome.best) fs.writeFileSync(values.out, outcome.best.code);
    if (values.json) {
      console.log(JSON.stringify(outcomeJson(outcome)));
    } else {
      if (outcome.warning) process.stderr.write(`warning: ${outcome.warning}\n`);
      for (const [rank, c] of outcome.candidates.entries()) process.stderr.write(`${describe(rank, c)}\n`);
      if (outcome.best) {
        if (values.out) process.stderr.write(`wrote the best program to ${values.out}\n`);
        else process.stdout.write(outcome.best.code.endsWith('\n') ? outcome.best.code : `${outcome.best.code}\n`);
      } else {
        process.stderr.write(`none of the ${outcome.candidates.length} programs ran\n`);
      }
    }
    return outcome.ok ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    await pool.close();
    await backend.close?.();
  }
}

function describe(rank: number, c: GenerateOutcome['candidates'][number]): string {
  const head = `#${rank + 1} (sample ${c.index + 1})`;
  if (!c.ok) return `${head}: ${formatError(c.error ?? { kind: 'runtime', message: 'did not run' })}`;
  const metric =
    c.iou !== undefined
      ? `IoU ${c.iou.toFixed(4)}`
      : c.score !== undefined
        ? `image score ${c.score.toFixed(4)}`
        : c.rankError
          ? `unscored: ${c.rankError.message}`
          : 'ran';
  return `${head}: ${metric}  volume ${+c.volume!.toPrecision(6)}`;
}
