/**
 * `gift eval`'s engine: for each image, K samples from one backend (loaded once), each run,
 * scored against the image (the GT-free ranking key) and verified by IoU against the ground truth
 * in the shared kernel pool (generate/rank.ts does the running: identical programs run once).
 * Images are pipelined: while the kernel checks one image's samples the model samples the next.
 * Every finished image is handed to `onResult` (the CLI appends it to a resumable log).
 * Each sample's IoU is measured under the main protocol and, in the same job, under the paper's
 * `aligned` and `aligned-robust` (whichever of them is not the main one): reports show both.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../errors';
import { samplePrograms, type ImageToCadBackend } from '../generate/backend';
import { rankCandidates } from '../generate/rank';
import type { IouProtocol } from '../geometry/protocols';
import type { KernelPool } from '../pool/pool';
import { type EvalItem, referenceSource } from './inputs';
import type { ImageResult } from './metrics';

export interface EvaluateOptions {
  backend: ImageToCadBackend;
  pool: KernelPool;
  /** K samples per image. */
  samples: number;
  protocol: IouProtocol;
  /** More protocols measured in the same job (default: `companionProtocols(protocol)`). */
  alsoProtocols?: readonly IouProtocol[];
  /** Sampling temperature (default: the backend's for K > 1). */
  temperature?: number;
  /** The same seed for every image, so one image's samples can be reproduced with `gift generate --seed`. */
  seed?: number;
  /** Images in flight at once (default 2: one sampling while one is checked). */
  concurrency?: number;
  signal?: AbortSignal;
  onResult?: (result: ImageResult, item: EvalItem) => void;
}

/** The paper's `aligned` and `aligned-robust`, less the main protocol: what a report shows beside it. */
export function companionProtocols(protocol: IouProtocol): IouProtocol[] {
  return (['aligned', 'aligned-robust'] as const).filter((p) => p !== protocol);
}

export async function evaluateImage(item: EvalItem, options: EvaluateOptions): Promise<ImageResult> {
  const started = performance.now();
  const also = options.alsoProtocols ?? companionProtocols(options.protocol);
  const result: ImageResult = { id: item.id, ious: [], ran: [], scores: [], sampleMs: 0, checkMs: 0 };
  if (also.length) result.iousByProtocol = Object.fromEntries(also.map((p) => [p, [] as number[]]));
  let image: Uint8Array;
  let programs: Awaited<ReturnType<typeof samplePrograms>>;
  try {
    image = new Uint8Array(fs.readFileSync(item.image));
    programs = await samplePrograms(options.backend, image, path.basename(item.image), {
      samples: options.samples,
      temperature: options.temperature,
      seed: options.seed,
      signal: options.signal,
    });
  } catch (e) {
    options.signal?.throwIfAborted();
    result.error = `sampling failed: ${errorMessage(e)}`;
    result.sampleMs = performance.now() - started;
    return result;
  }
  result.sampleMs = performance.now() - started;
  const checkStarted = performance.now();
  const ranked = await rankCandidates(programs, {
    pool: options.pool,
    reference: referenceSource(item.reference),
    protocol: options.protocol,
    alsoProtocols: also,
    image,
    imageName: path.basename(item.image),
    signal: options.signal,
  });
  options.signal?.throwIfAborted();
  const inOrder = [...ranked].sort((a, b) => a.index - b.index);
  for (const c of inOrder) {
    result.ran.push(c.ok);
    result.ious.push(c.ok && c.iou !== undefined ? c.iou : 0);
    for (const p of also) result.iousByProtocol![p].push(c.ok ? (c.iouByProtocol?.[p] ?? 0) : 0);
    result.scores.push(c.ok && c.score !== undefined ? c.score : null);
  }
  result.checkMs = performance.now() - checkStarted;
  return result;
}

/** Evaluates every item not in `done`, `concurrency` images at a time; results in input order. */
export async function evaluateImages(
  items: readonly EvalItem[],
  options: EvaluateOptions,
  done: ReadonlyMap<string, ImageResult> = new Map(),
): Promise<ImageResult[]> {
  const results = new Map(done);
  const queue = items.filter((it) => !results.has(it.id));
  const worker = async () => {
    for (let item = queue.shift(); item && !options.signal?.aborted; item = queue.shift()) {
      const result = await evaluateImage(item, options);
      results.set(item.id, result);
      options.onResult?.(result, item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 2) }, worker));
  options.signal?.throwIfAborted();
  return items.map((it) => results.get(it.id)!);
}
