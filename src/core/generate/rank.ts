/**
 * Inference-time scaling: K sampled programs → run each in the kernel pool → rank. With a reference
 * shape the ranking key is 3D IoU against it; otherwise it is how well the program's render
 * explains the input image (render.score). Programs that fail to run rank last and keep their
 * error; ties keep the backend's order (e.g. by log-probability). Identical programs run once.
 */
import type { CadErrorInfo } from '../errors';
import type { ExecuteResult } from '../jobs/execute';
import type { IouJobResult, IouPayload } from '../jobs/geometry';
import type { IouProtocol } from '../geometry/iou';
import type { BBox } from '../geometry/measure';
import type { ShapeSource } from '../shape/source';
import type { KernelPool } from '../pool/pool';
import type { ScorePayload } from '../jobs/render';
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
  /** IoU against the reference (when one was given). */
  iou?: number;
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
  /** Default 'aligned'. */
  protocol?: IouProtocol;
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

async function evaluate(code: string, options: RankOptions, by: RankBy): Promise<Evaluation> {
  const { pool, timeoutMs, signal, maxSteps } = options;
  const input: ShapeSource = { kind: 'code', source: code };
  const executed = await pool.run('shape.execute', { input, maxSteps }, { timeoutMs, signal });
  if (!executed.ok) return { ok: false, error: executed.error, ms: executed.workMs ?? executed.ms };
  const { volume, bbox, valid } = executed.value;
  const base: Evaluation = { ok: true, volume, bbox, valid, ms: executed.workMs ?? executed.ms };
  if (by === 'iou') {
    const payload: IouPayload = { candidate: input, reference: options.reference!, protocol: options.protocol ?? 'aligned', maxSteps };
    const result = await pool.run('shape.iou', payload, { timeoutMs, signal });
    base.ms += result.workMs ?? result.ms;
    if (result.ok) base.iou = result.value.results[0].iou;
    else base.rankError = result.error;
  }
  // The image score is reported whenever there is an image, and ranks when there is no reference.
  if (options.image) {
    const payload: ScorePayload = { shape: input, image: options.image, imageName: options.imageName, maxSteps };
    const result = await pool.run('render.score', payload, { timeoutMs, signal });
    base.ms += result.workMs ?? result.ms;
    if (result.ok) {
      base.score = result.value.score;
      base.imageScore = result.value;
    } else if (by === 'score') base.rankError = result.error;
  }
  return base;
}

/** Best first: scored by key (desc), then ran-but-unscored, then failed; ties by input order. */
export function compareRanked(by: RankBy): (a: RankedCandidate, b: RankedCandidate) => number {
  const tier = (c: RankedCandidate) => (!c.ok ? 2 : c.rankError ? 1 : 0);
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
