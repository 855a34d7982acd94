/**
 * Batched autoregressive decoding, independent of the runtime: K sequences advance together, one
 * token each per model step (the model keeps a KV cache, so a step costs the same whatever the
 * prefix length, apart from attention). Finished sequences leave the batch.
 */
import { chooseToken, createRng, logSoftmax, maskToBytes, type TokenMask } from './sampling';

/** A decoder with a KV cache over a batch of rows (row i = i-th live sequence). */
export interface StepModel {
  readonly vocabSize: number;
  /** Feeds one token per row; returns logits for the next token, rows × vocabSize, row-major. */
  step(tokens: readonly number[]): Promise<Float32Array>;
  /** Drops every row not listed (indices into the current batch, ascending) from the cache. */
  keepRows(rows: readonly number[]): void;
}

export interface DecodeOptions {
  bos: number;
  eos: number;
  /** Sequences to decode together (K). Greedy decoding (temperature 0) always decodes one. */
  samples?: number;
  /** 0 (default) = greedy. */
  temperature?: number;
  topP?: number;
  /** Most tokens to generate per sequence, EOS included. */
  maxTokens: number;
  seed?: number;
  /** Grammar constraint: allowed next tokens given the ids fed so far (BOS first, then the generated ones). */
  allowedNext?: (prefix: readonly number[]) => TokenMask;
  signal?: AbortSignal;
}

export type StopReason = 'eos' | 'max-tokens' | 'no-allowed-token';

export interface DecodedSequence {
  /** Generated ids, BOS and EOS excluded. */
  tokens: number[];
  /**
   * Sum of log-probabilities of the chosen tokens (EOS included) under the model at temperature 1,
   * renormalised over the tokens the constraint allowed.
   */
  logprob: number;
  stop: StopReason;
}

/** Counts that show the decoding cost (used by tests to check the KV cache). */
export interface DecodeStats {
  modelSteps: number;
  /** Rows fed at each step: one token per live sequence. */
  rowsPerStep: number[];
  tokensFed: number;
}

export async function decodeSequences(model: StepModel, options: DecodeOptions): Promise<{ sequences: DecodedSequence[]; stats: DecodeStats }> {
  const temperature = options.temperature ?? 0;
  const topP = options.topP ?? 1;
  const samples = temperature === 0 ? 1 : (options.samples ?? 1);
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`samples must be a positive integer, got ${options.samples}`);
  if (!Number.isInteger(options.maxTokens) || options.maxTokens < 1) throw new Error(`maxTokens must be a positive integer, got ${options.maxTokens}`);
  const rng = createRng(options.seed ?? 0);
  const size = model.vocabSize;
  const sequences: DecodedSequence[] = Array.from({ length: samples }, () => ({ tokens: [], logprob: 0, stop: 'max-tokens' as StopReason }));
  let live = sequences.map((_, i) => i); // sequence index of each batch row
  let feed = live.map(() => options.bos);
  const stats: DecodeStats = { modelSteps: 0, rowsPerStep: [], tokensFed: 0 };

  for (let step = 0; step < options.maxTokens && live.length > 0; step++) {
    if (options.signal?.aborted) throw new Error('decoding cancelled');
    const logits = await model.step(feed);
    stats.modelSteps++;
    stats.rowsPerStep.push(feed.length);
    stats.tokensFed += feed.length;
    if (logits.length !== live.length * size) throw new Error(`model returned ${logits.length} logits for ${live.length} rows of ${size}`);
    const keep: number[] = [];
    const nextFeed: number[] = [];
    for (let row = 0; row < live.length; row++) {
      const seq = sequences[live[row]];
      const rowLogits = logits.subarray(row * size, (row + 1) * size);
      const allowed = options.allowedNext ? maskToBytes(options.allowedNext([options.bos, ...seq.tokens]), size) : undefined;
      const token = chooseToken(rowLogits, { temperature, topP }, rng, allowed);
      if (token < 0) {
        seq.stop = 'no-allowed-token';
        continue;
      }
      seq.logprob += logSoftmax(rowLogits, 1, allowed)![token];
      if (token === options.eos) {
        seq.stop = 'eos';
        continue;
      }
      seq.tokens.push(token);
      keep.push(row);
      nextFeed.push(token);
    }
    if (keep.length !== live.length && keep.length > 0) model.keepRows(keep);
    live = keep.map((row) => live[row]);
    feed = nextFeed;
  }
  return { sequences, stats };
}
