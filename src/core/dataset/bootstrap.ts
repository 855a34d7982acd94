/**
 * The GIFT data engine, steps 1–4 of the paper: for each `sft` pair, sample K programs, verify each
 * by IoU against the ground truth in the kernel pool, and bucket them:
 *   SRS  τ_valid ≤ IoU < τ_match  → (original image, generated code)
 *   FDA  τ_low ≤ IoU < τ_valid    → (the generated program rendered in the dataset style, ground-truth code)
 * Resumable: every finished sample leaves one line in DIR/bootstrap.jsonl and its records have
 * deterministic ids, so a restarted run skips finished samples and duplicates nothing.
 *
 * The source pool is the dataset's own sft pairs by default, or any `gift eval` input (`source`):
 * images whose ground truth is a STEP or STL file and no code (real parts, where the paper's loop
 * earns its keep) give SRS records only, since an FDA record pairs the near miss's render with the
 * ground truth's code; their near misses are counted (`nearMisses`) and kept out. Such an image has
 * no base pair either, so its best program at or above τ_match becomes one (an sft record).
 */
import fs from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../errors';
import { DEFAULT_BUCKET_PROTOCOL, type IouProtocol } from '../geometry/protocols';
import { provenanceOf, samplePrograms, type ImageToCadBackend } from '../generate/backend';
import type { KernelPool } from '../pool/pool';
import type { ShapeSource } from '../shape/source';
import { giftRecord } from './gift-record';
import type { Dataset } from './store';
import { bucketForIou, DEFAULT_THRESHOLDS, type IouThresholds } from './thresholds';
import type { NewRecord } from './types';

/** One image of the source pool and its ground truth. */
export interface PoolItem {
  id: string;
  /** Absolute path of the image. */
  image: string;
  /** What the samples are compared with: CadQuery code, or a STEP/STL file's contents. */
  reference: ShapeSource;
  /** The ground truth's CadQuery code, when there is one; FDA records need it. */
  code?: string;
}

export interface Shard {
  /** 0-based, as Slurm's SLURM_ARRAY_TASK_ID. */
  index: number;
  count: number;
}

export interface BootstrapOptions {
  pool: KernelPool;
  /** Samples the K programs per image (the same interface Image to CAD and `gift generate` use). */
  backend: ImageToCadBackend;
  samples: number;
  /** Sampling temperature (default: the backend's default for K > 1). */
  temperature?: number;
  limit?: number;
  shard?: Shard;
  thresholds?: IouThresholds;
  protocol?: IouProtocol;
  /**
   * Names this run (a GIFT round: `r1`, `r2`…): its log is DIR/bootstrap-TAG.jsonl and its record
   * ids carry the tag, so a later round with a better model samples the same images again.
   */
  tag?: string;
  /**
   * The images to sample, instead of the dataset's sft pairs (e.g. real images with STEP ground
   * truth). SRS/FDA records still go into the dataset, with `source` = the pool item's id.
   */
  source?: PoolItem[];
  /** Samples in flight at once (default 2). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (progress: BootstrapProgress) => void;
}

/** One line of DIR/bootstrap.jsonl. */
export interface SampleStats {
  id: string;
  samples: number;
  /** Distinct programs among the samples. */
  distinct: number;
  /** Programs that ran and could be compared. */
  valid: number;
  srs: number;
  fda: number;
  /** Near misses (τ_low ≤ IoU < τ_valid) left out because the ground truth has no code for FDA. */
  nearMisses?: number;
  /** 1 when an image without ground-truth code got a program at or above τ_match: a new sft pair. */
  matched?: number;
  bestIou: number | null;
  ms: number;
  error?: string;
}

export interface BootstrapProgress {
  done: number;
  total: number;
  skipped: number;
  srs: number;
  fda: number;
  /** Near misses left out for want of ground-truth code (see SampleStats.nearMisses). */
  nearMisses: number;
  /** Images without ground-truth code that got a program at or above τ_match, stored as sft pairs. */
  matched: number;
  last?: SampleStats;
}

export interface BootstrapSummary extends BootstrapProgress {
  cancelled: boolean;
  /** Fraction of sampled programs that ran, over the samples processed in this run. */
  validRate: number;
}

export const BOOTSTRAP_LOG = 'bootstrap.jsonl';

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const shard = m ? { index: Number(m[1]), count: Number(m[2]) } : undefined;
  if (!shard || shard.count < 1 || shard.index >= shard.count) {
    throw new Error(`invalid shard '${text}': expected i/N with 0 ≤ i < N (e.g. 0/4)`);
  }
  return shard;
}

/** The samples of one shard: every N-th record of the id-sorted list, so shards never overlap. */
export function shardRecords<T extends { id: string }>(records: readonly T[], shard?: Shard): T[] {
  const sorted = [...records].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return shard ? sorted.filter((_, i) => i % shard.count === shard.index) : sorted;
}

/** DIR/bootstrap.jsonl, or DIR/bootstrap-TAG.jsonl for a tagged run. */
export function bootstrapLogFile(dir: string, tag?: string): string {
  if (tag !== undefined && !/^[A-Za-z0-9_-]{1,40}$/.test(tag)) throw new Error(`invalid bootstrap tag '${tag}': letters, digits, _ and - only`);
  return path.join(dir, tag === undefined ? BOOTSTRAP_LOG : `bootstrap-${tag}.jsonl`);
}

export function readBootstrapLog(dir: string, tag?: string): Map<string, SampleStats> {
  const file = bootstrapLogFile(dir, tag);
  const done = new Map<string, SampleStats>();
  if (!fs.existsSync(file)) return done;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const stats = JSON.parse(line) as SampleStats;
      if (typeof stats.id === 'string') done.set(stats.id, stats);
    } catch {
      // A torn last line from a killed run: that sample is simply done again.
    }
  }
  return done;
}

/**
 * The ids of a bootstrap's records, `<image>-[<tag>-]<kind>-<sample index>`: deterministic, so a
 * rerun writes nothing twice, and carrying the round's tag, so a round's records can be told apart.
 */
function recordId(imageId: string, tag: string | undefined, kind: 'srs' | 'fda' | 'match', index: number): string {
  return `${imageId}-${tag ? `${tag}-` : ''}${kind}-${index}`;
}

/**
 * An sft pair a bootstrap made for an image without code (its best program at or above τ_match):
 * it belongs to its round like SRS/FDA. Any other sft record (imported, or moved there by a user)
 * is a base pair.
 */
export function isMatchedPair(r: { id: string; collection?: string; source?: string | null }): boolean {
  return r.collection === 'sft' && (r.source ?? null) !== null && /-match-\d+$/.test(r.id);
}

export async function bootstrap(ds: Dataset, options: BootstrapOptions): Promise<BootstrapSummary> {
  const thresholds = options.thresholds ?? DEFAULT_THRESHOLDS;
  const protocol = options.protocol ?? DEFAULT_BUCKET_PROTOCOL;
  const items: PoolItem[] =
    options.source ??
    (await ds.list('sft')).records.map((r) => ({ id: r.id, image: ds.imagePath(r), reference: { kind: 'code', source: r.code }, code: r.code }));
  let todo = shardRecords(items, options.shard);
  if (options.limit !== undefined) todo = todo.slice(0, options.limit);
  const finished = readBootstrapLog(ds.dir, options.tag);
  const progress: BootstrapProgress = { done: 0, total: todo.length, skipped: 0, srs: 0, fda: 0, nearMisses: 0, matched: 0 };
  let sampled = 0;
  let ran = 0;
  const queue = todo.filter((r) => {
    if (!finished.has(r.id)) return true;
    progress.skipped++;
    progress.done++;
    return false;
  });
  const log = fs.openSync(bootstrapLogFile(ds.dir, options.tag), 'a');
  try {
    const worker = async () => {
      for (let record = queue.shift(); record && !options.signal?.aborted; record = queue.shift()) {
        const stats = await bootstrapOne(ds, record, options, thresholds, protocol);
        if (options.signal?.aborted && stats.error === 'cancelled') return;
        fs.writeSync(log, `${JSON.stringify(stats)}\n`);
        fs.fsyncSync(log);
        sampled += stats.distinct;
        ran += stats.valid;
        progress.done++;
        progress.srs += stats.srs;
        progress.fda += stats.fda;
        progress.nearMisses += stats.nearMisses ?? 0;
        progress.matched += stats.matched ?? 0;
        options.onProgress?.({ ...progress, last: stats });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 2) }, worker));
  } finally {
    fs.closeSync(log);
  }
  return { ...progress, cancelled: !!options.signal?.aborted, validRate: sampled ? ran / sampled : NaN };
}

async function bootstrapOne(ds: Dataset, record: PoolItem, options: BootstrapOptions, thresholds: IouThresholds, protocol: IouProtocol): Promise<SampleStats> {
  const started = Date.now();
  const stats: SampleStats = { id: record.id, samples: 0, distinct: 0, valid: 0, srs: 0, fda: 0, bestIou: null, ms: 0 };
  let programs: string[];
  try {
    const image = new Uint8Array(await fs.promises.readFile(record.image));
    const sampled = await samplePrograms(options.backend, image, record.image, {
      samples: options.samples,
      temperature: options.temperature,
      signal: options.signal,
    });
    programs = sampled.flatMap((p) => (p.code === null ? [] : [p.code]));
  } catch (e) {
    stats.error = options.signal?.aborted ? 'cancelled' : `sampling failed: ${errorMessage(e)}`;
    stats.ms = Date.now() - started;
    return stats;
  }
  stats.samples = programs.length;
  const distinct = [...new Set(programs.filter((code) => code.trim()))];
  stats.distinct = distinct.length;
  const model = provenanceOf(options.backend);

  // All of an image's programs go to the pool at once, so both workers stay busy; order is kept.
  const checked = await Promise.all(
    distinct.map(async (code, index): Promise<{ iou: number; index: number; code: string; record?: NewRecord; nearMiss?: boolean } | undefined> => {
      const verified = await options.pool.run(
        'shape.iou',
        { candidate: { kind: 'code', source: code }, reference: record.reference, protocol },
        { signal: options.signal },
      );
      // An inconsistent IoU (its boolean disagrees with the point check) buckets nothing.
      if (!verified.ok || verified.value.results[0].status !== 'ok') return undefined;
      const iou = verified.value.results[0].iou;
      const bucket = bucketForIou(iou, thresholds);
      if (!bucket) return { iou, index, code };
      if (bucket === 'fda' && record.code === undefined) return { iou, index, code, nearMiss: true };
      const render = async () => {
        const rendered = await options.pool.run('render.image', { shape: { kind: 'code', source: code } }, { signal: options.signal });
        if (!rendered.ok) throw new Error(rendered.error.message);
        return rendered.value.png;
      };
      try {
        const sample = { code, image: record.image, render, iou, protocol, model };
        return {
          iou,
          index,
          code,
          record: await giftRecord(bucket, sample, { id: record.id, code: record.code }, recordId(record.id, options.tag, bucket, index)),
        };
      } catch {
        // The near miss could not be drawn (the kernel failed on it): no FDA pair from it.
        return { iou, index, code };
      }
    }),
  );
  const additions: NewRecord[] = [];
  for (const c of checked) {
    if (!c) continue;
    stats.valid++;
    stats.bestIou = Math.max(stats.bestIou ?? -Infinity, c.iou);
    if (c.record) additions.push(c.record);
    if (c.nearMiss) stats.nearMisses = (stats.nearMisses ?? 0) + 1;
  }
  // An image without ground-truth code has no base pair: its best program at or above τ_match
  // (the part itself, found by the model and proven by the kernel) becomes one, in sft.
  if (record.code === undefined) {
    let best: { iou: number; index: number; code: string } | undefined;
    for (const c of checked) if (c && c.iou >= thresholds.match && (!best || c.iou > best.iou)) best = c;
    if (best) {
      additions.push({
        id: recordId(record.id, options.tag, 'match', best.index),
        collection: 'sft',
        image: record.image,
        code: best.code,
        source: record.id,
        iou: best.iou,
        protocol,
        model,
      });
      stats.matched = 1;
    }
  }
  // Deterministic ids: records a killed run already wrote are not written twice.
  const fresh: NewRecord[] = [];
  for (const a of additions) if (!(await ds.get(a.id!))) fresh.push(a);
  if (fresh.length) await ds.appendMany(fresh);
  stats.srs = additions.filter((a) => a.collection === 'srs').length;
  stats.fda = additions.filter((a) => a.collection === 'fda').length;
  stats.ms = Date.now() - started;
  if (options.signal?.aborted) stats.error = 'cancelled';
  return stats;
}
