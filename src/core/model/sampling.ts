/**
 * Choosing the next token from one row of logits: greedy, temperature and nucleus (top-p)
 * sampling, with an optional mask of allowed tokens (grammar-constrained decoding). Seeded so a
 * given (seed, model, image) always gives the same samples.
 */

/** A small, fast, seedable PRNG (mulberry32); `next()` is uniform in [0, 1). */
export interface Rng {
  next(): number;
}

export function createRng(seed: number): Rng {
  let state = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** Which tokens may come next: a 0/1 byte per vocabulary id, or a predicate. */
export type TokenMask = Uint8Array | ((id: number) => boolean);

/** `mask` as a byte array of length `size` (1 = allowed); undefined means all allowed. */
export function maskToBytes(mask: TokenMask | undefined, size: number): Uint8Array | undefined {
  if (mask === undefined) return undefined;
  if (mask instanceof Uint8Array) {
    if (mask.length !== size) throw new Error(`token mask has ${mask.length} entries, vocabulary has ${size}`);
    return mask;
  }
  const bytes = new Uint8Array(size);
  for (let id = 0; id < size; id++) bytes[id] = mask(id) ? 1 : 0;
  return bytes;
}

/**
 * log softmax(logits / temperature) over the allowed tokens, in float64; disallowed tokens get
 * -Infinity. Returns undefined when nothing is allowed.
 */
export function logSoftmax(logits: ArrayLike<number>, temperature = 1, allowed?: Uint8Array): Float64Array | undefined {
  const n = logits.length;
  const out = new Float64Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    if (allowed && !allowed[i]) continue;
    const v = logits[i] / temperature;
    if (v > max) max = v;
  }
  if (max === -Infinity) return undefined;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (allowed && !allowed[i]) continue;
    sum += Math.exp(logits[i] / temperature - max);
  }
  const logZ = max + Math.log(sum);
  for (let i = 0; i < n; i++) out[i] = allowed && !allowed[i] ? -Infinity : logits[i] / temperature - logZ;
  return out;
}

/** Index of the largest allowed logit (lowest index on ties), or -1 when nothing is allowed. */
export function argmax(logits: ArrayLike<number>, allowed?: Uint8Array): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    if (allowed && !allowed[i]) continue;
    if (best < 0 || logits[i] > bestValue) {
      best = i;
      bestValue = logits[i];
    }
  }
  return best;
}

export interface SamplingOptions {
  /** 0 = greedy (argmax); otherwise logits are divided by it before sampling. */
  temperature: number;
  /** Nucleus sampling: sample only from the smallest set of tokens whose probability reaches topP. */
  topP: number;
}

/** The next token id for one row of logits, or -1 when the mask allows nothing. */
export function chooseToken(logits: ArrayLike<number>, options: SamplingOptions, rng: Rng, allowed?: Uint8Array): number {
  if (!(options.temperature >= 0)) throw new Error(`temperature must be >= 0, got ${options.temperature}`);
  if (!(options.topP > 0 && options.topP <= 1)) throw new Error(`topP must be in (0, 1], got ${options.topP}`);
  if (options.temperature === 0) return argmax(logits, allowed);
  const logp = logSoftmax(logits, options.temperature, allowed);
  if (!logp) return -1;
  const ids: number[] = [];
  for (let i = 0; i < logp.length; i++) if (logp[i] > -Infinity) ids.push(i);
  ids.sort((a, b) => logp[b] - logp[a] || a - b);
  let kept = ids.length;
  if (options.topP < 1) {
    let cumulative = 0;
    for (let k = 0; k < ids.length; k++) {
      cumulative += Math.exp(logp[ids[k]]);
      if (cumulative >= options.topP) {
        kept = k + 1;
        break;
      }
    }
  }
  let total = 0;
  for (let k = 0; k < kept; k++) total += Math.exp(logp[ids[k]]);
  let r = rng.next() * total;
  for (let k = 0; k < kept; k++) {
    r -= Math.exp(logp[ids[k]]);
    if (r < 0) return ids[k];
  }
  return ids[kept - 1];
}
