/**
 * The real image→CadQuery backends behind the one interface (backend.ts): the bundled (or any
 * trained) ONNX model, in this process or as the kernel job `model.generate`, and any
 * OpenAI-compatible endpoint. Engines live in model/; these adapt them.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors';
import type { GeneratePayload } from '../jobs/model';
import { CadModel } from '../model/onnx';
import { OpenAiClient, type OpenAiClientOptions } from '../model/openai';
import type { KernelPool } from '../pool/pool';
import { samplingTemperature, type ImageToCadBackend, type SampledProgram } from './backend';

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
    if (!existsSync(path.join(fromEnv, 'model.json')) && !fromEnv.endsWith('.json')) throw new UserError(`GIFT_MODEL=${fromEnv}: no model.json there`);
    return fromEnv;
  }
  let entries: string[] = [];
  try {
    entries = readdirSync(modelsDir).filter(
      (name) => existsSync(path.join(modelsDir, name, 'model.json')) && existsSync(path.join(modelsDir, name, 'model.onnx')),
    );
  } catch {
    // no models/ folder: reported below
  }
  if (entries.length === 0) {
    throw new UserError(
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
   * Run inference as the kernel job `model.generate` (jobs/model.ts) in this pool, off the calling
   * thread. Without it the model runs in this process (fine for the CLI: onnxruntime has its own
   * threads).
   */
  pool?: KernelPool;
  threads?: number;
}

/** The bundled (or any trained) ONNX model. */
export function onnxBackend(options: OnnxBackendOptions = {}): ImageToCadBackend {
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
export function openAiBackend(options: OpenAiClientOptions & { prompt?: string }): ImageToCadBackend {
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
      return result.samples.map(
        (s): SampledProgram =>
          s.code === null
            ? { code: null, error: { kind: 'syntax', message: `the model answered without code: "${s.text.trim().slice(0, 200)}"` } }
            : { code: s.code },
      );
    },
  };
}
