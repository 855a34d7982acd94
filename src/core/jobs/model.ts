/**
 * `model.generate`: the image→CadQuery model as a kernel job, so inference runs in a worker
 * thread, never on the extension host's main thread. Each worker keeps the models it has loaded
 * (one ONNX session per model directory). Each model uses the product tokenizer when its
 * vocab.json carries the tokenizer's version (see CadModel.load); pass a codec to force one.
 */
import type { JobHandler } from './types';
import { CadModel, type DecodeOptions, type GeneratedProgram, type TokenCodec } from '../model/onnx';

export interface GeneratePayload {
  /** Directory holding model.json (or the card's path). */
  model: string;
  /** Image file path or encoded bytes (PNG/JPEG/WebP). */
  image: string | Uint8Array;
  options?: Omit<DecodeOptions, 'signal'>;
  threads?: number;
}

export interface GenerateJobResult {
  model: string;
  programs: GeneratedProgram[];
  encodeMs: number;
  decodeMs: number;
  modelSteps: number;
  tokensFed: number;
}

export function modelGenerateJob(codec?: TokenCodec): JobHandler<GeneratePayload, GenerateJobResult> {
  const loaded = new Map<string, Promise<CadModel>>();
  const modelFor = (dir: string, threads?: number): Promise<CadModel> => {
    let model = loaded.get(dir);
    if (!model) {
      model = CadModel.load(dir, { codec, threads });
      model.catch(() => loaded.delete(dir)); // let a fixed file load next time
      loaded.set(dir, model);
    }
    return model;
  };
  return async (payload) => {
    const model = await modelFor(payload.model, payload.threads);
    const { programs, stats } = await model.generate(payload.image, payload.options);
    return { model: model.card.name, programs, encodeMs: stats.encodeMs, decodeMs: stats.decodeMs, modelSteps: stats.modelSteps, tokensFed: stats.tokensFed };
  };
}
