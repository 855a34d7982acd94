/**
 * Image → K candidate programs from a backend (backend.ts) → run and ranked best first by the
 * kernel pool (rank.ts). Used by `gift generate` and the extension's Image to CAD.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage, formatError, UserError } from '../errors';
import type { IouProtocol } from '../geometry/iou';
import type { KernelPool } from '../pool/pool';
import type { ShapeSource } from '../shape/source';
import { checkImage, decodeImage } from '../render/image';
import { inputStatistics, inputWarning, type InputStatistics } from '../render/input-check';
import { provenanceOf, samplePrograms, type ImageToCadBackend, type SampleOptions } from './backend';
import { rankCandidates, rankKey, type RankBy, type RankedCandidate } from './rank';

export interface GenerateRequest extends Omit<SampleOptions, 'report'> {
  backend: ImageToCadBackend;
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
  /** Set when the picture does not look like a render of a part (render/input-check.ts): what is off, what to try. */
  warning?: string;
  /** The picture's statistics behind `warning`. */
  input?: InputStatistics;
  /** What produced the programs (provenanceOf the backend). */
  backend: string;
  sampleMs: number;
  rankMs: number;
}

/** Samples K programs and ranks them. Throws when the backend fails or the signal aborts. */
export async function generateCandidates(options: GenerateRequest): Promise<GenerateOutcome> {
  const imageName = options.imageName ?? (typeof options.image === 'string' ? path.basename(options.image) : 'image');
  const image = typeof options.image === 'string' ? await readImage(options.image) : options.image;
  if (!Number.isInteger(options.samples) || options.samples < 1) throw new UserError(`samples must be a positive integer, got ${options.samples}`);
  // A file that is no image is named before any model runs (not "the model failed: …").
  await checkImage(image, { name: typeof options.image === 'string' ? options.image : imageName });
  const input = inputStatistics(await decodeImage(image, { name: imageName }));
  const warning = inputWarning(input, imageName);
  const started = performance.now();
  const sampled = await samplePrograms(options.backend, image, imageName, options);
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
    ...(warning ? { warning } : {}),
    input,
    backend: provenanceOf(options.backend),
    sampleMs,
    rankMs: performance.now() - rankStarted,
  };
}

async function readImage(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: ${code === 'ENOENT' ? 'no such file' : errorMessage(e)}`);
  }
}

/** What the extension's preview steps through (structurally its CadCandidate): code, score, label. */
export interface LabelledCandidate {
  code: string;
  score?: number;
  label?: string;
  /** It ran, and whether its solid passed OpenCascade's check (false: ranked below every valid one). */
  ok?: boolean;
  valid?: boolean;
}

/** Why a candidate that ran is still not trusted. */
export const INVALID_SOLID_REASON =
  "invalid solid: OpenCascade's shape check rejects the result (self-intersecting or unclosed faces), so its volume and IoU cannot be trusted";

/** Ranked candidates as preview entries: "IoU 0.934", "image score 0.812", "error: …". */
export function labelCandidates(outcome: Pick<GenerateOutcome, 'candidates'>): LabelledCandidate[] {
  return outcome.candidates.map((c): LabelledCandidate => {
    if (!c.ok) return { code: c.code, ok: false, label: formatError(c.error ?? { kind: 'runtime', message: 'did not run' }) };
    const status = { ok: true, valid: c.valid !== false };
    const invalid = c.valid === false ? `${INVALID_SOLID_REASON} · ` : '';
    if (c.iou !== undefined) return { code: c.code, ...status, score: c.iou, label: `${invalid}IoU ${c.iou.toFixed(3)}` };
    if (c.score !== undefined) return { code: c.code, ...status, score: c.score, label: `${invalid}image score ${c.score.toFixed(3)}` };
    return { code: c.code, ...status, label: `${invalid}${c.rankError ? `ran (not scored: ${c.rankError.message})` : 'ran'}` };
  });
}
