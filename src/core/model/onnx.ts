/**
 * The bundled image→CadQuery model on onnxruntime-node: model card + one ONNX file exported by
 * training/train_bundled.py. The file's graph switches on the boolean input `encode`:
 *   encode=true : image [1,1,S,S]                         → cross_kv_out [L,2,1,H,M,dh]
 *   encode=false: input_ids [B,T], past_kv [L,2,B,H,P,dh],
 *                 cross_kv [L,2,1|B,H,M,dh]               → logits [B,T,V], present_kv (P+T)
 * The image is encoded once; each decoding step feeds one token per sequence with the cache.
 * Runs in any thread (no vscode, no DOM); the kernel pool runs it as the job model.generate (jobs/model.ts).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeSequences, type DecodeStats, type StepModel, type StopReason } from './decoding';
import { checkPreprocessSpec, preprocessImage, type PreprocessSpec } from './onnx-preprocess';
import type { TokenMask } from './sampling';
import { allowedNext, decodeTokens, MAX_TOKENS, VOCAB_VERSION, vocabulary } from './tokenizer';

export const MODEL_CARD_FORMAT = 'gift-cad-model/1';

export interface ModelCard {
  format: string;
  name: string;
  created?: string;
  onnx: { file: string; sha256?: string; bytes?: number; opset: number; inputs: string[]; outputs: string[] };
  preprocess: PreprocessSpec;
  architecture: {
    vocab_size: number;
    decoder_layers: number;
    heads: number;
    head_dim: number;
    memory_len: number;
    image_size: number;
    max_len: number;
    parameters?: number;
    [key: string]: unknown;
  };
  vocab: { file: string; sha256?: string; size: number; bos: number; eos: number; pad: number; version?: string | null };
  max_tokens: number;
  training?: Record<string, unknown>;
}

/** Turns token ids into code, and optionally constrains decoding (tokenizer.ts provides both). */
export interface TokenCodec {
  /** `ids`: generated ids without BOS, ending with EOS when the model emitted it (tokenizer.ts's decodeTokens). */
  decode(ids: readonly number[]): { code: string; complete: boolean };
  /** Allowed next tokens after `prefix` (BOS, then the generated ids): tokenizer.ts's allowedNext. */
  allowedNext?(prefix: readonly number[]): TokenMask;
  /** Vocabulary size, checked against the model's when given. */
  size?: number;
}

export interface DecodeOptions {
  /** K samples decoded together in one batch; greedy (temperature 0) gives one. */
  samples?: number;
  temperature?: number;
  topP?: number;
  /** Defaults to the model's limit (max_tokens - 1, leaving room for BOS). */
  maxTokens?: number;
  seed?: number;
  /** Use the codec's grammar constraint when it has one (default true). */
  constrained?: boolean;
  signal?: AbortSignal;
}

export interface GeneratedProgram {
  code: string;
  /** Generated token ids, BOS/EOS excluded. */
  tokens: number[];
  /** Log-probability of the sequence (EOS included) under the model; higher is more likely. */
  logprob: number;
  /** The model ended the program (EOS) and the codec judged it complete. */
  complete: boolean;
  stop: StopReason;
}

export interface GenerateResult {
  programs: GeneratedProgram[];
  stats: DecodeStats & { encodeMs: number; decodeMs: number; pastLengths: number[] };
}

export interface LoadOptions {
  /** onnxruntime intra-op threads (default 1: the pool runs several workers). */
  threads?: number;
  /**
   * Default: the product tokenizer when the model's vocab.json has its version (VOCAB_VERSION),
   * else a codec that concatenates the vocab.json token strings (test and experimental models).
   */
  codec?: TokenCodec;
  /** Verify the ONNX file against the card's sha256 (default true). */
  verify?: boolean;
}

function fail(where: string, problem: string): never {
  throw new Error(`${where}: ${problem}`);
}

export async function readModelCard(cardPath: string): Promise<ModelCard> {
  let card: ModelCard;
  try {
    card = JSON.parse(await readFile(cardPath, 'utf8')) as ModelCard;
  } catch (e) {
    fail(cardPath, `cannot read model card (${e instanceof Error ? e.message : String(e)})`);
  }
  if (card.format !== MODEL_CARD_FORMAT) fail(cardPath, `format '${card.format}' is not '${MODEL_CARD_FORMAT}'`);
  checkPreprocessSpec(card.preprocess, cardPath);
  const a = card.architecture;
  for (const key of ['vocab_size', 'decoder_layers', 'heads', 'head_dim', 'memory_len', 'image_size', 'max_len'] as const) {
    if (!Number.isInteger(a?.[key]) || a[key] <= 0) fail(cardPath, `architecture.${key} must be a positive integer`);
  }
  const v = card.vocab;
  if (!v || v.size !== a.vocab_size) fail(cardPath, `vocab.size ${v?.size} differs from architecture.vocab_size ${a.vocab_size}`);
  for (const key of ['bos', 'eos', 'pad'] as const) {
    if (!Number.isInteger(v[key]) || v[key] < 0 || v[key] >= v.size) fail(cardPath, `vocab.${key} must be a token id below ${v.size}`);
  }
  if (card.preprocess.size !== a.image_size) fail(cardPath, `preprocess.size ${card.preprocess.size} differs from architecture.image_size ${a.image_size}`);
  if (!card.onnx?.file) fail(cardPath, 'onnx.file missing');
  return card;
}

/**
 * The product tokenizer (tokenizer.ts) as a codec, its grammar budget capped at the model's
 * `maxTokens` positions so constrained programs can always finish.
 */
export function tokenizerCodec(maxTokens = MAX_TOKENS): TokenCodec {
  const budget = Math.min(maxTokens, MAX_TOKENS);
  return { size: vocabulary.size, decode: decodeTokens, allowedNext: (prefix) => allowedNext(prefix, budget) };
}

/** A codec from the model's own vocab.json ({tokens: string[]}) — tokens concatenated. */
export function vocabularyCodec(vocab: { tokens: string[]; bos: number; eos: number; pad: number }): TokenCodec {
  const special = new Set([vocab.bos, vocab.eos, vocab.pad]);
  return {
    size: vocab.tokens.length,
    decode(ids) {
      const complete = ids.length > 0 && ids[ids.length - 1] === vocab.eos;
      return {
        code: ids
          .filter((id) => !special.has(id))
          .map((id) => vocab.tokens[id] ?? '')
          .join(''),
        complete,
      };
    },
  };
}

const f32 = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);

export class CadModel {
  private constructor(
    readonly card: ModelCard,
    readonly codec: TokenCodec,
    private readonly session: ort.InferenceSession,
  ) {}

  /** Loads `model.json` (or the card at `cardPath`) and the ONNX file it names. */
  static async load(dirOrCard: string, options: LoadOptions = {}): Promise<CadModel> {
    const cardPath = dirOrCard.endsWith('.json') ? dirOrCard : path.join(dirOrCard, 'model.json');
    const card = await readModelCard(cardPath);
    const dir = path.dirname(cardPath);
    const onnxPath = path.resolve(dir, card.onnx.file);
    let bytes: Buffer;
    try {
      bytes = await readFile(onnxPath);
    } catch (e) {
      fail(cardPath, `cannot read ${onnxPath} (${e instanceof Error ? e.message : String(e)})`);
    }
    if ((options.verify ?? true) && card.onnx.sha256) {
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== card.onnx.sha256) fail(onnxPath, `sha256 ${sha} differs from the card's ${card.onnx.sha256} (corrupt or mismatched file)`);
    }
    let codec = options.codec;
    if (!codec) {
      const vocabPath = path.resolve(dir, card.vocab.file);
      const vocab = JSON.parse(await readFile(vocabPath, 'utf8')) as { tokens?: string[]; version?: string };
      if (!Array.isArray(vocab.tokens)) fail(vocabPath, 'no `tokens` list');
      codec =
        vocab.version === VOCAB_VERSION
          ? tokenizerCodec(card.max_tokens)
          : vocabularyCodec({ tokens: vocab.tokens, bos: card.vocab.bos, eos: card.vocab.eos, pad: card.vocab.pad });
    }
    if (codec.size !== undefined && codec.size !== card.vocab.size) {
      fail(cardPath, `model vocabulary has ${card.vocab.size} tokens but the tokenizer has ${codec.size}: the model was trained with another tokenizer`);
    }
    const threads = options.threads ?? 1;
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    for (const name of ['encode', 'image', 'input_ids', 'past_kv', 'cross_kv']) {
      if (!session.inputNames.includes(name)) fail(onnxPath, `graph has no input '${name}'`);
    }
    return new CadModel(card, codec, session);
  }

  get imageSize(): number {
    return this.card.preprocess.size;
  }

  /** Image (path or encoded bytes) → model input, as in training. */
  preprocess(image: string | Uint8Array): Promise<Float32Array> {
    return preprocessImage(image, this.card.preprocess);
  }

  private emptyPast(batch: number): ort.Tensor {
    const a = this.card.architecture;
    return f32(new Float32Array(0), [a.decoder_layers, 2, batch, a.heads, 0, a.head_dim]);
  }

  /** Preprocessed pixels (size×size) → the cross-attention keys/values, [L,2,1,H,M,dh]. */
  async encode(pixels: Float32Array): Promise<ort.Tensor> {
    const s = this.imageSize;
    const a = this.card.architecture;
    if (pixels.length !== s * s) throw new Error(`image input has ${pixels.length} values, model expects ${s}×${s}`);
    const out = await this.session.run({
      encode: new ort.Tensor('bool', [true], []),
      image: f32(pixels, [1, 1, s, s]),
      input_ids: new ort.Tensor('int64', new BigInt64Array(0), [1, 0]),
      past_kv: this.emptyPast(1),
      cross_kv: f32(new Float32Array(0), [a.decoder_layers, 2, 0, a.heads, a.memory_len, a.head_dim]),
    });
    return out.cross_kv_out;
  }

  /** One decoder run: ids [B,T] after `past` → logits [B,T,V] and the grown cache. */
  async decodeStep(ids: readonly number[][], past: ort.Tensor, cross: ort.Tensor): Promise<{ logits: ort.Tensor; present: ort.Tensor }> {
    const batch = ids.length;
    const steps = ids[0]?.length ?? 0;
    const flat = new BigInt64Array(batch * steps);
    ids.forEach((row, b) => {
      if (row.length !== steps) throw new Error('decodeStep: every row needs the same number of tokens');
      row.forEach((id, t) => {
        flat[b * steps + t] = BigInt(id);
      });
    });
    const s = this.imageSize;
    const out = await this.session.run({
      encode: new ort.Tensor('bool', [false], []),
      image: f32(new Float32Array(0), [0, 1, s, s]),
      input_ids: new ort.Tensor('int64', flat, [batch, steps]),
      past_kv: past,
      cross_kv: cross,
    });
    return { logits: out.logits, present: out.present_kv };
  }

  /** Logits for every position of `prefix` in one run without a cache: [T × V]. */
  async logitsForPrefix(pixels: Float32Array, prefix: readonly number[]): Promise<Float32Array> {
    const cross = await this.encode(pixels);
    const { logits } = await this.decodeStep([[...prefix]], this.emptyPast(1), cross);
    return logits.data as Float32Array;
  }

  /** A StepModel over `batch` sequences sharing one encoded image; tracks cache lengths. */
  stepModel(cross: ort.Tensor, batch: number): StepModel & { pastLengths: number[] } {
    let past = this.emptyPast(batch);
    const vocabSize = this.card.vocab.size;
    const pastLengths: number[] = [];
    return {
      vocabSize,
      pastLengths,
      step: async (tokens) => {
        pastLengths.push(past.dims[4]);
        const { logits, present } = await this.decodeStep(
          tokens.map((t) => [t]),
          past,
          cross,
        );
        past = present;
        return logits.data as Float32Array;
      },
      keepRows: (rows) => {
        past = selectBatchRows(past, rows);
      },
    };
  }

  /**
   * Image → K CadQuery programs (greedy by default), in sampling order: independent samples, so the
   * first k are a fair draw of k (what pass@k means). Rank by `logprob` where the most likely is wanted.
   */
  async generate(image: string | Uint8Array | Float32Array, options: DecodeOptions = {}): Promise<GenerateResult> {
    const started = performance.now();
    const pixels = image instanceof Float32Array ? image : await this.preprocess(image);
    const cross = await this.encode(pixels);
    const encodeMs = performance.now() - started;
    const limit = this.card.max_tokens - 1;
    const maxTokens = Math.min(options.maxTokens ?? limit, limit);
    const temperature = options.temperature ?? 0;
    const samples = temperature === 0 ? 1 : (options.samples ?? 1);
    const model = this.stepModel(cross, samples);
    const allowedNext = (options.constrained ?? true) ? this.codec.allowedNext?.bind(this.codec) : undefined;
    const { eos, bos } = this.card.vocab;
    const { sequences, stats } = await decodeSequences(model, {
      bos,
      eos,
      samples,
      temperature,
      topP: options.topP,
      maxTokens,
      seed: options.seed,
      allowedNext,
      signal: options.signal,
    });
    const programs = sequences.map((seq): GeneratedProgram => {
      const ids = seq.stop === 'eos' ? [...seq.tokens, eos] : seq.tokens;
      const { code, complete } = this.codec.decode(ids);
      return { code, tokens: seq.tokens, logprob: seq.logprob, complete: complete && seq.stop === 'eos', stop: seq.stop };
    });
    return { programs, stats: { ...stats, encodeMs, decodeMs: performance.now() - started - encodeMs, pastLengths: model.pastLengths } };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** Keeps only `rows` (ascending batch indices) of a [L,2,B,H,P,dh] cache. */
export function selectBatchRows(cache: ort.Tensor, rows: readonly number[]): ort.Tensor {
  const [layers, two, batch, heads, past, headDim] = cache.dims;
  const data = cache.data as Float32Array;
  const block = heads * past * headDim; // one batch row of one (layer, k|v)
  const out = new Float32Array(layers * two * rows.length * block);
  let o = 0;
  for (let lk = 0; lk < layers * two; lk++) {
    for (const row of rows) {
      if (row < 0 || row >= batch) throw new Error(`cache row ${row} out of range 0..${batch - 1}`);
      const from = (lk * batch + row) * block;
      out.set(data.subarray(from, from + block), o);
      o += block;
    }
  }
  return f32(out, [layers, two, rows.length, heads, past, headDim]);
}
