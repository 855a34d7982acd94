/**
 * The GIFT data engine, steps 1–4 of the paper: for each `sft` pair, sample K programs, verify each
 * by IoU against the ground truth in the kernel pool, and bucket them:
 *   SRS  τ_valid ≤ IoU < τ_match  → (original image, generated code)
 *   FDA  τ_low ≤ IoU < τ_valid    → (the generated program rendered in the dataset style, ground-truth code)
 * Resumable: every finished sample leaves one line in DIR/bootstrap.jsonl and its records have
 * deterministic ids, so a restarted run skips finished samples and duplicates nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../errors';
import { DEFAULT_BUCKET_PROTOCOL, type IouProtocol } from '../geometry/protocols';
import { provenanceOf, samplePrograms, type ImageToCadBackend } from '../generate/backend';
import type { KernelPool } from '../pool/pool';
import { giftRecord } from './gift-record';
import type { Dataset } from './store';
import { bucketForIou, DEFAULT_THRESHOLDS, type IouThresholds } from './thresholds';
import type { DatasetRecord, NewRecord } from './types';

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

export async function bootstrap(ds: Dataset, options: BootstrapOptions): Promise<BootstrapSummary> {
  const thresholds = options.thresholds ?? DEFAULT_THRESHOLDS;
  const protocol = options.protocol ?? DEFAULT_BUCKET_PROTOCOL;
  const { records: sft } = await ds.list('sft');
  let todo = shardRecords(sft, options.shard);
  if (options.limit !== undefined) todo = todo.slice(0, options.limit);
  const finished = readBootstrapLog(ds.dir, options.tag);
  const progress: BootstrapProgress = { done: 0, total: todo.length, skipped: 0, srs: 0, fda: 0 };
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
        options.onProgress?.({ ...progress, last: stats });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 2) }, worker));
  } finally {
    fs.closeSync(log);
  }
  return { ...progress, cancelled: !!options.signal?.aborted, validRate: sampled ? ran / sampled : NaN };
}

async function bootstrapOne(
  ds: Dataset,
  record: DatasetRecord,
  options: BootstrapOptions,
  thresholds: IouThresholds,
  protocol: IouProtocol,
): Promise<SampleStats> {
  const started = Date.now();
  const stats: SampleStats = { id: record.id, samples: 0, distinct: 0, valid: 0, srs: 0, fda: 0, bestIou: null, ms: 0 };
  let programs: string[];
  try {
    const image = new Uint8Array(await fs.promises.readFile(ds.imagePath(record)));
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
    distinct.map(async (code, index): Promise<{ iou: number; record?: NewRecord } | undefined> => {
      const verified = await options.pool.run(
        'shape.iou',
        { candidate: { kind: 'code', source: code }, reference: { kind: 'code', source: record.code }, protocol },
        { signal: options.signal },
      );
      // An inconsistent IoU (its boolean disagrees with the point check) buckets nothing.
      if (!verified.ok || verified.value.results[0].status !== 'ok') return undefined;
      const iou = verified.value.results[0].iou;
      const bucket = bucketForIou(iou, thresholds);
      if (!bucket) return { iou };
      const render = async () => {
        const rendered = await options.pool.run('render.image', { shape: { kind: 'code', source: code } }, { signal: options.signal });
        if (!rendered.ok) throw new Error(rendered.error.message);
        return rendered.value.png;
      };
      try {
        const sample = { code, image: record.image, render, iou, protocol, model };
        return {
          iou,
          record: await giftRecord(
            bucket,
            sample,
            { id: record.id, code: record.code },
            `${record.id}-${options.tag ? `${options.tag}-` : ''}${bucket}-${index}`,
          ),
        };
      } catch {
        // The near miss could not be drawn (the kernel failed on it): no FDA pair from it.
        return { iou };
      }
    }),
  );
  const additions: NewRecord[] = [];
  for (const c of checked) {
    if (!c) continue;
    stats.valid++;
    stats.bestIou = Math.max(stats.bestIou ?? -Infinity, c.iou);
    if (c.record) additions.push(c.record);
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
