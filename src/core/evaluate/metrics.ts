/**
 * The paper's measurements over per-image results (pure functions):
 *  - pass@k: mean over images of the best IoU among the first k samples (a failed sample is 0):
 *    the oracle that knows the ground truth, GIFT's "inference-time scaling" upper bound;
 *  - ranked@k: mean IoU of the sample a GT-free ranker (the render-vs-image score) picks among the
 *    first k: what a user actually gets;
 *  - VSR: share of images whose first sample ran;
 *  - gap: the amortisation gap (pass@K − pass@1) / pass@1;
 *  - expected@k: the unbiased estimate of E[best IoU among k samples] from all K samples of an image
 *    (Chen et al.'s pass@k estimator, for a continuous score): the same quantity as pass@k, with
 *    much less sampling noise (expected@1 is the mean IoU of every sample, not of the first only).
 * Each is computed for the main protocol's IoUs and, by `metricsUnder`, for another protocol's
 * (the ranker's pick does not depend on the protocol: it is the same sample, scored otherwise).
 */

export interface ImageResult {
  id: string;
  /** IoU of each sample against the ground truth, in sampling order; 0 for a sample that failed. */
  ious: number[];
  /**
   * The same samples' IoUs under other protocols (the paper's `aligned` and `aligned-robust`
   * beside the main one), from the same job; 0 where a sample failed or its check did not pass.
   */
  iousByProtocol?: Record<string, number[]>;
  /** Whether each sample ran (built a solid). */
  ran: boolean[];
  /** The GT-free ranking key of each sample (image score), null where it could not be computed. */
  scores: (number | null)[];
  /** Milliseconds for this image: sampling, and running + scoring + verifying its samples. */
  sampleMs: number;
  checkMs: number;
  /** Why the image has no samples at all (the backend failed), when so. */
  error?: string;
}

/** Budgets the report lists (the paper's 1, 2, 4, 6, 8, 10, plus 5 for pass@5), up to K. */
export function budgets(k: number): number[] {
  return [...new Set([1, 2, 4, 5, 6, 8, 10, k])].filter((b) => b >= 1 && b <= k).sort((a, b) => a - b);
}

function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN;
}

export function bestOfFirst(r: ImageResult, k: number): number {
  let best = 0;
  for (let i = 0; i < Math.min(k, r.ious.length); i++) best = Math.max(best, r.ious[i]);
  return best;
}

/** Index of the sample the GT-free ranker picks among the first k: best score among those that ran, earliest on ties. */
export function rankedPick(r: ImageResult, k: number): number | undefined {
  let pick: number | undefined;
  for (let i = 0; i < Math.min(k, r.ious.length); i++) {
    if (!r.ran[i]) continue;
    const score = r.scores[i] ?? Number.NEGATIVE_INFINITY;
    if (pick === undefined || score > (r.scores[pick] ?? Number.NEGATIVE_INFINITY)) pick = i;
  }
  return pick;
}

/** Unbiased E[max of a random k-subset] of one image's K sample IoUs: Σ x₍ᵢ₎ C(i−1, k−1) / C(K, k), x ascending. */
export function expectedBest(ious: readonly number[], k: number): number {
  const x = [...ious].sort((a, b) => a - b);
  const n = x.length;
  if (n === 0) return 0;
  if (k >= n) return x[n - 1];
  // weight of x₍ᵢ₎ (1-based i ≥ k) = C(i−1, k−1) / C(n, k); built up by the ratio C(i, k−1)/C(i−1, k−1) = i / (i − k + 1)
  let w = 1;
  for (let j = 0; j < k; j++) w *= (k - j) / (n - j); // C(k−1, k−1)/C(n, k) = k!(n−k)!/n! … as a product
  let sum = 0;
  for (let i = k; i <= n; i++) {
    sum += w * x[i - 1];
    w *= i / (i - k + 1);
  }
  return sum;
}

export function expectedAtK(results: readonly ImageResult[], k: number): number {
  return mean(results.map((r) => expectedBest(r.ious, k)));
}

export function passAtK(results: readonly ImageResult[], k: number): number {
  return mean(results.map((r) => bestOfFirst(r, k)));
}

export function rankedAtK(results: readonly ImageResult[], k: number): number {
  return mean(
    results.map((r) => {
      const pick = rankedPick(r, k);
      return pick === undefined ? 0 : r.ious[pick];
    }),
  );
}

export interface EvalMetrics {
  n: number;
  vsr: number;
  pass_at_k: Record<string, number>;
  ranked_at_k: Record<string, number>;
  /** k → mean over images of the unbiased estimate of the best IoU among k samples, from all K. */
  expected_at_k: Record<string, number>;
  gap: number;
  /** The same gap for what the ranker gets: (ranked@K − pass@1) / pass@1. */
  ranked_gain: number;
}

export function evalMetrics(results: readonly ImageResult[], k: number): EvalMetrics {
  const pass: Record<string, number> = {};
  const ranked: Record<string, number> = {};
  const expected: Record<string, number> = {};
  for (const b of budgets(k)) {
    pass[b] = passAtK(results, b);
    ranked[b] = rankedAtK(results, b);
    expected[b] = expectedAtK(results, b);
  }
  const p1 = pass[1];
  return {
    n: results.length,
    vsr: mean(results.map((r) => (r.ran[0] ? 1 : 0))),
    pass_at_k: pass,
    ranked_at_k: ranked,
    expected_at_k: expected,
    gap: (pass[k] - p1) / p1,
    ranked_gain: (ranked[k] - p1) / p1,
  };
}

/** The metrics under another protocol than the main one (VSR does not depend on it). */
export type ProtocolMetrics = Omit<EvalMetrics, 'vsr'>;

/**
 * evalMetrics over the IoUs measured under `protocol` (ImageResult.iousByProtocol), for the images
 * that have them (`n` says how many); undefined when none has.
 */
export function metricsUnder(results: readonly ImageResult[], k: number, protocol: string): ProtocolMetrics | undefined {
  const under = results.flatMap((r) => {
    const ious = r.iousByProtocol?.[protocol];
    return ious && ious.length === r.ious.length ? [{ ...r, ious }] : [];
  });
  if (under.length === 0) return undefined;
  const { vsr: _vsr, ...metrics } = evalMetrics(under, k);
  return metrics;
}
