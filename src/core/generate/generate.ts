/**
 * Image → K candidate programs from a backend (the bundled ONNX model, or any OpenAI-compatible
 * endpoint) → ranked best first by the kernel pool (rank.ts). Used by `gift generate` and the
 * extension's Image to CAD.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CadErrorInfo } from '../errors';
import { formatError } from '../errors';
import type { IouProtocol } from '../geometry/iou';
import type { ShapeSource } from '../shape/source';
import type { KernelPool } from '../pool/pool';
import { CadModel } from '../model/onnx';
import type { GenerateJobResult, GeneratePayload } from '../jobs/model';
import { OpenAiClient, type OpenAiClientOptions } from '../model/openai';
import { rankCandidates, rankKey, type RankBy, type RankedCandidate } from './rank';
import { errorMessage } from '../errors';

export interface SampleOptions {
  samples: number;
  /** Default: 0 (greedy) for one sample, DEFAULT_SAMPLING_TEMPERATURE for several. */
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  seed?: number;
  signal?: AbortSignal;
  report?: (message: string) => void;
}

export interface SampledProgram {
  /** null: the model answered without code (see `error`). */
  code: string | null;
  error?: CadErrorInfo;
  /** Log-probability under the model, when the backend knows it. */
  logprob?: number;
}

/** Anything that samples programs for an image. */
export interface CandidateBackend {
  readonly name: string;
  sample(image: Uint8Array, imageName: string, options: SampleOptions): Promise<SampledProgram[]>;
  close?(): Promise<void>;
}

/** K > 1 samples need some randomness to differ. */
export const DEFAULT_SAMPLING_TEMPERATURE = 0.8;

export function samplingTemperature(options: Pick<SampleOptions, 'samples' | 'temperature'>): number {
  return options.temperature ?? (options.samples > 1 ? DEFAULT_SAMPLING_TEMPERATURE : 0);
}

/** The folder holding models/ (the extension's or the repository's root). */
function packageRoot(): string | undefined {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'models'))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * The bundled model's directory: env GIFT_MODEL, else a model under models/ — one made for real
 * use before the `smoke` pipeline model. Throws a clear error when there is none.
 */
export function bundledModelDir(modelsDir = path.join(packageRoot() ?? process.cwd(), 'models')): string {
  const fromEnv = process.env.GIFT_MODEL;
  if (fromEnv) {
    if (!existsSync(path.join(fromEnv, 'model.json')) && !fromEnv.endsWith('.json')) throw new Error(`GIFT_MODEL=${fromEnv}: no model.json there`);
    return fromEnv;
  }
  let entries: string[] = [];
  try {
    entries = readdirSync(modelsDir).filter((name) => existsSync(path.join(modelsDir, name, 'model.json')) && existsSync(path.join(modelsDir, name, 'model.onnx')));
  } catch {
    // no models/ folder: reported below
  }
  if (entries.length === 0) {
    throw new Error(
      `no bundled image-to-CAD model: ${modelsDir} holds no <name>/model.json + model.onnx. Train one (see models/README.md) and pass --model DIR, ` +
        'or use a served model with --backend openai --endpoint URL',
    );
  }
  entries.sort((a, b) => Number(a === 'smoke') - Number(b === 'smoke') || a.localeCompare(b));
  return path.join(modelsDir, entries[0]);
}

export interface OnnxBackendOptions {
  /** Model directory (or card); default: bundledModelDir(). */
  model?: string;
  /**
   * Run inference as the kernel job `model.generate` (onnx-jobs.ts) in this pool, off the calling
   * thread. Without it the model runs in this process (fine for the CLI: onnxruntime has its own
   * threads).
   */
  pool?: KernelPool;
  threads?: number;
}

/** The bundled (or any trained) ONNX model. */
export function onnxBackend(options: OnnxBackendOptions = {}): CandidateBackend {
  const dir = options.model ?? bundledModelDir();
  let loaded: Promise<CadModel> | undefined;
  return {
    name: `onnx:${path.basename(dir.endsWith('.json') ? path.dirname(dir) : dir)}`,
    async sample(image, _imageName, o) {
      const temperature = samplingTemperature(o);
      const generateOptions = { samples: o.samples, temperature, topP: o.topP, maxTokens: o.maxTokens, seed: o.seed };
      let programs: { code: string; logprob: number; complete: boolean }[];
      if (options.pool) {
        const payload: GeneratePayload = { model: dir, image, options: generateOptions, threads: options.threads };
        const result = await options.pool.run('model.generate', payload, { signal: o.signal, timeoutMs: 600_000 });
        if (!result.ok) throw new Error(`the model failed: ${result.error.message}`);
        programs = result.value.programs;
      } else {
        o.report?.('loading the model…');
        loaded ??= CadModel.load(dir, { threads: options.threads });
        loaded.catch(() => (loaded = undefined));
        const model = await loaded;
        o.report?.(`sampling ${o.samples} program${o.samples === 1 ? '' : 's'}…`);
        programs = (await model.generate(image, { ...generateOptions, signal: o.signal })).programs;
      }
      // Greedy decoding (temperature 0) gives one program however many were asked for.
      return programs.map((p): SampledProgram => ({ code: p.code, logprob: p.logprob }));
    },
    async close() {
      const model = await loaded?.catch(() => undefined);
      loaded = undefined;
      await model?.dispose();
    },
  };
}

/** Any OpenAI-compatible chat-completions endpoint (vLLM, Ollama, hosted, `gift serve`). */
export function openAiBackend(options: OpenAiClientOptions & { prompt?: string }): CandidateBackend {
  const client = new OpenAiClient(options);
  return {
    name: `openai:${client.baseUrl}`,
    async sample(image, _imageName, o) {
      o.report?.(`asking ${client.baseUrl} for ${o.samples} program${o.samples === 1 ? '' : 's'}…`);
      const result = await client.sample({
        image,
        samples: o.samples,
        temperature: samplingTemperature(o),
        topP: o.topP,
        maxTokens: o.maxTokens,
        seed: o.seed,
        prompt: options.prompt,
        signal: o.signal,
      });
      return result.samples.map((s): SampledProgram =>
        s.code === null
          ? { code: null, error: { kind: 'syntax', message: `the model answered without code: "${s.text.trim().slice(0, 200)}"` } }
          : { code: s.code },
      );
    },
  };
}

export interface GenerateOptions extends Omit<SampleOptions, 'report'> {
  backend: CandidateBackend;
  /** Kernel pool that runs and scores the candidates. */
  pool: KernelPool;
  /** Image file path, or encoded bytes. */
  image: string | Uint8Array;
  imageName?: string;
  /** Rank by IoU against this shape instead of by the image score. */
  reference?: ShapeSource;
  protocol?: IouProtocol;
  /** Per kernel job (default: the pool's). */
  timeoutMs?: number;
  report?: (message: string) => void;
}

export interface GenerateOutcome {
  /** At least one candidate ran. */
  ok: boolean;
  /** The first of `candidates` when it ran. */
  best?: RankedCandidate;
  /** Best first. */
  candidates: RankedCandidate[];
  rankedBy: RankBy;
  backend: string;
  sampleMs: number;
  rankMs: number;
}

/** Samples K programs and ranks them. Throws when the backend fails or the signal aborts. */
export async function generateCandidates(options: GenerateOptions): Promise<GenerateOutcome> {
  const imageName = options.imageName ?? (typeof options.image === 'string' ? path.basename(options.image) : 'image');
  const image = typeof options.image === 'string' ? await readImage(options.image) : options.image;
  if (!Number.isInteger(options.samples) || options.samples < 1) throw new Error(`samples must be a positive integer, got ${options.samples}`);
  const started = performance.now();
  const sampled = (await options.backend.sample(image, imageName, options)).map((p) => (p.code === null ? p : { ...p, code: withCadQueryImport(p.code) }));
  const sampleMs = performance.now() - started;
  options.signal?.throwIfAborted();
  options.report?.(`running ${sampled.length} program${sampled.length === 1 ? '' : 's'}…`);
  const rankStarted = performance.now();
  const candidates = await rankCandidates(sampled, {
    pool: options.pool,
    reference: options.reference,
    protocol: options.protocol,
    image,
    imageName,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    progress: (done, total) => options.report?.(`checked ${done}/${total}`),
  });
  options.signal?.throwIfAborted();
  const best = candidates[0]?.ok ? candidates[0] : undefined;
  return {
    ok: best !== undefined,
    best,
    candidates,
    rankedBy: rankKey({ reference: options.reference, image }),
    backend: options.backend.name,
    sampleMs,
    rankMs: performance.now() - rankStarted,
  };
}

/**
 * Models often leave out `import cadquery as cq` (CQ-editor pre-imports it); the program is only
 * runnable — and copyable into a real CadQuery — with it.
 */
export function withCadQueryImport(code: string): string {
  if (!/\bcq\./.test(code) || /^\s*import\s+cadquery\s+as\s+cq\b/m.test(code)) return code;
  return `import cadquery as cq\n${code}`;
}

async function readImage(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${file}: ${code === 'ENOENT' ? 'no such file' : errorMessage(e)}`);
  }
}

/** The model card's name, for messages ("gift-cad-small"); undefined when unreadable. */
export function modelName(dir: string): string | undefined {
  try {
    const card = JSON.parse(readFileSync(dir.endsWith('.json') ? dir : path.join(dir, 'model.json'), 'utf8')) as { name?: string };
    return card.name;
  } catch {
    return undefined;
  }
}

/** What the extension's preview steps through (structurally its CadCandidate): code, score, label. */
export interface LabelledCandidate {
  code: string;
  score?: number;
  label?: string;
}

/** Ranked candidates as preview entries: "IoU 0.934", "image score 0.812", "error: …". */
export function labelCandidates(outcome: Pick<GenerateOutcome, 'candidates'>): LabelledCandidate[] {
  return outcome.candidates.map((c) => {
    if (!c.ok) return { code: c.code, label: formatError(c.error ?? { kind: 'runtime', message: 'did not run' }) };
    if (c.iou !== undefined) return { code: c.code, score: c.iou, label: `IoU ${c.iou.toFixed(3)}` };
    if (c.score !== undefined) return { code: c.code, score: c.score, label: `image score ${c.score.toFixed(3)}` };
    return { code: c.code, label: c.rankError ? `ran (not scored: ${c.rankError.message})` : 'ran' };
  });
}
