/**
 * Inference-time scaling: K sampled programs → run each in the kernel pool → rank. With a reference
 * shape the ranking key is 3D IoU against it; otherwise it is how well the program's render
 * explains the input image (render.score). Programs that fail to run rank last and keep their
 * error; ties keep the backend's order (e.g. by log-probability). Identical programs run once.
 */
import type { CadErrorInfo } from '../errors';
import type { IouPayload } from '../jobs/geometry';
import { DEFAULT_BUCKET_PROTOCOL, type IouProtocol } from '../geometry/protocols';
import type { BBox } from '../geometry/measure';
import type { ShapeSource } from '../shape/source';
import type { KernelPool } from '../pool/pool';
import type { ImageScore } from '../render/score';

/** A program to rank; `code: null` (the model answered without code) ranks last with `error`. */
export interface RankInput {
  code: string | null;
  /** Why there is no code, when there is none. */
  error?: CadErrorInfo;
}

export interface RankedCandidate {
  /** Position in the input list. */
  index: number;
  code: string;
  /** The program ran and gave a solid. */
  ok: boolean;
  /** IoU against the reference (when one was given), under `protocol`: the ranking key. */
  iou?: number;
  /** The IoU under each of `alsoProtocols` whose check passed (measured in the same job; never a ranking key). */
  iouByProtocol?: Partial<Record<IouProtocol, number>>;
  /** Render-vs-image score in [0, 1] (whenever an image was given). */
  score?: number;
  /** Silhouette IoU and edge F-score behind `score`. */
  imageScore?: ImageScore;
  volume?: number;
  bbox?: BBox;
  valid?: boolean;
  /** Why the program did not run (ok: false). */
  error?: CadErrorInfo;
  /** The program ran but its IoU / image score could not be computed; it ranks after scored ones. */
  rankError?: CadErrorInfo;
  /** Kernel time for this candidate's jobs, ms. */
  ms: number;
}

export type RankBy = 'iou' | 'score' | 'none';

export interface RankOptions {
  pool: KernelPool;
  /** Rank by IoU against this shape (takes precedence over `image`). */
  reference?: ShapeSource;
  /** Default DEFAULT_BUCKET_PROTOCOL (aligned-robust). */
  protocol?: IouProtocol;
  /** More protocols to measure in the same shape.iou job (shapes built once), reported in `iouByProtocol`. */
  alsoProtocols?: readonly IouProtocol[];
  /** Rank by render-vs-image score against these image bytes when there is no reference. */
  image?: Uint8Array;
  imageName?: string;
  /** Per-job deadline (default: the pool's). */
  timeoutMs?: number;
  maxSteps?: number;
  signal?: AbortSignal;
  /** Called as each candidate's evaluation finishes (done of total). */
  progress?: (done: number, total: number) => void;
}

export function rankKey(options: Pick<RankOptions, 'reference' | 'image'>): RankBy {
  return options.reference ? 'iou' : options.image ? 'score' : 'none';
}

type Evaluation = Omit<RankedCandidate, 'index' | 'code'>;

/**
 * Runs one candidate. With an image, `render.score` builds, measures and scores it in one job;
 * only when that fails with a `runtime` error does `shape.execute` run, to tell a broken program
 * from an image that cannot be scored.
 */
async function evaluate(code: string, options: RankOptions, by: RankBy): Promise<Evaluation> {
  const { pool, timeoutMs, signal, maxSteps } = options;
  const input: ShapeSource = { kind: 'code', source: code };
  let base: Evaluation | undefined;
  let scoreError: CadErrorInfo | undefined;
  if (options.image) {
    const scored = await pool.run('render.score', { shape: input, image: options.image, imageName: options.imageName, maxSteps }, { timeoutMs, signal });
    if (scored.ok) {
      const { shape, ...imageScore } = scored.value;
      base = { ok: true, volume: shape.volume, bbox: shape.bbox, valid: shape.valid, score: imageScore.score, imageScore, ms: scored.workMs ?? scored.ms };
    } else if (scored.error.kind !== 'runtime') {
      // Syntax, unsupported, geometry, limit, timeout, cancelled: the program's own failure.
      return { ok: false, error: scored.error, ms: scored.workMs ?? scored.ms };
    } else scoreError = scored.error;
  }
  if (!base) {
    const executed = await pool.run('shape.execute', { input, maxSteps }, { timeoutMs, signal });
    if (!executed.ok) return { ok: false, error: executed.error, ms: executed.workMs ?? executed.ms };
    const { volume, bbox, valid } = executed.value;
    base = { ok: true, volume, bbox, valid, ms: executed.workMs ?? executed.ms };
    // The program runs, so the image could not be scored: that ranks it when there is no reference.
    if (scoreError && by === 'score') base.rankError = scoreError;
  }
  if (by === 'iou') {
    const protocol = options.protocol ?? DEFAULT_BUCKET_PROTOCOL;
    const also = (options.alsoProtocols ?? []).filter((p) => p !== protocol);
    const payload: IouPayload = { candidate: input, reference: options.reference!, protocol: [protocol, ...also], maxSteps };
    const result = await pool.run('shape.iou', payload, { timeoutMs, signal });
    base.ms += result.workMs ?? result.ms;
    const measured = result.ok ? result.value.results[0] : undefined;
    if (result.ok && also.length) {
      base.iouByProtocol = {};
      for (const r of result.value.results.slice(1)) if (r.status === 'ok') base.iouByProtocol[r.protocol] = r.iou;
    }
    if (measured?.status === 'ok') base.iou = measured.iou;
    else if (measured) base.rankError = { kind: 'geometry', message: `the IoU is inconsistent: ${measured.check?.reason ?? 'its check failed'}` };
    else if (!result.ok) base.rankError = result.error;
  }
  return base;
}

/**
 * Best first: valid solids scored by key (desc), then valid but unscored, then invalid solids
 * (they ran, but OpenCascade's check rejects the result), then failed; ties by input order.
 */
export function compareRanked(by: RankBy): (a: RankedCandidate, b: RankedCandidate) => number {
  const tier = (c: RankedCandidate) => (!c.ok ? 3 : c.valid === false ? 2 : c.rankError ? 1 : 0);
  const key = (c: RankedCandidate) => (by === 'iou' ? (c.iou ?? -1) : by === 'score' ? (c.score ?? -1) : 0);
  return (a, b) => tier(a) - tier(b) || key(b) - key(a) || a.index - b.index;
}

/** Runs and ranks the candidates; never throws for a bad program (it ranks last with its error). */
export async function rankCandidates(inputs: readonly (RankInput | string)[], options: RankOptions): Promise<RankedCandidate[]> {
  const by = rankKey(options);
  const total = inputs.length;
  let done = 0;
  const byCode = new Map<string, Promise<Evaluation>>();
  const ranked = await Promise.all(
    inputs.map(async (item, index): Promise<RankedCandidate> => {
      const input: RankInput = typeof item === 'string' ? { code: item } : item;
      if (input.code === null || input.code.trim() === '') {
        options.progress?.(++done, total);
        return { index, code: input.code ?? '', ok: false, error: input.error ?? { kind: 'syntax', message: 'the model gave no code' }, ms: 0 };
      }
      let evaluation = byCode.get(input.code);
      if (!evaluation) {
        evaluation = evaluate(input.code, options, by);
        byCode.set(input.code, evaluation);
      }
      const result = await evaluation;
      options.progress?.(++done, total);
      return { index, code: input.code, ...result };
    }),
  );
  return ranked.sort(compareRanked(by));
}
