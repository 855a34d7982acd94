/**
 * Scale-out of the GIFT bootstrap (sampling + verification) on the cluster: a Slurm job array whose
 * task i runs `gift bootstrap --shard i/N --out shards/shard-i …`, and the merge of the shard
 * folders once fetched. The array's status, logs, cancel and fetch go through trainer.ts like any run.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TrainError, errorMessage } from '../errors';
import type { ClusterProfile } from './profile';
import { newRunId, type RunRecord, type RunStore } from './runs';
import { buildSbatchScript, findTrainingDir, readSbatchTemplate, shellQuote, submitJobScript } from './slurm';
import type { ClusterConnection } from './ssh';
import { syncFolder, type SyncReport } from './sync';

export interface BootstrapSubmitOptions {
  profile: ClusterProfile;
  profileFile?: string;
  /** Number of array tasks (shards). */
  shards: number;
  /** At most this many tasks at once (Slurm's %N); default no limit. */
  maxParallel?: number;
  /** Arguments after `gift bootstrap --shard i/N --out DIR` (paths relative to the run folder). */
  args?: string[];
  /** A local folder uploaded (changes only) and snapshotted as the run's data/. */
  data?: string;
  trainingDir?: string;
  runId?: string;
}

/** The array task's command: the gift CLI with this task's shard. */
export function bootstrapCommand(profile: ClusterProfile, shards: number, args: string[] = []): string {
  const gift = profile.giftCommand ?? 'gift';
  return `${gift} bootstrap --shard "$TASK/${shards}" --out "$SHARD_DIR"${args.length ? ` ${args.map(shellQuote).join(' ')}` : ''}`;
}

export async function submitBootstrapArray(
  conn: ClusterConnection,
  store: RunStore,
  o: BootstrapSubmitOptions,
): Promise<{ run: RunRecord; script: string; dataSync?: SyncReport }> {
  if (!Number.isInteger(o.shards) || o.shards < 1 || o.shards > 100000) throw new TrainError(`shards must be an integer in 1–100000, got ${o.shards}`);
  const runId = o.runId ?? newRunId('bootstrap');
  const workDir = await conn.resolvePath(o.profile.workDir);
  const runDir = `${workDir}/runs/${runId}`;
  let dataSync: SyncReport | undefined;
  let remoteData: string | undefined;
  if (o.data) {
    const abs = path.resolve(o.data);
    remoteData = `${workDir}/data/${path.basename(abs).replace(/[^A-Za-z0-9_.-]+/g, '_')}-${crypto.createHash('sha256').update(abs).digest('hex').slice(0, 8)}-raw`;
    dataSync = await syncFolder(conn, abs, remoteData);
  }
  const script = buildSbatchScript(
    o.profile,
    {
      name: 'gift-bootstrap',
      runDir,
      runId,
      recipe: 'bootstrap',
      command: bootstrapCommand(o.profile, o.shards, o.args),
      array: { count: o.shards, maxParallel: o.maxParallel },
    },
    readSbatchTemplate('bootstrap-array', o.trainingDir ?? findTrainingDir()),
  );
  const prep = [`mkdir -p ${shellQuote(`${runDir}/shards`)}`];
  if (remoteData) prep.push(`cp -al ${shellQuote(remoteData)} ${shellQuote(`${runDir}/data`)}`);
  const jobId = await submitJobScript(conn, runDir, script, prep);
  const now = new Date().toISOString();
  const run: RunRecord = {
    id: runId,
    jobId,
    kind: 'bootstrap',
    recipe: 'bootstrap',
    profile: o.profile,
    profileFile: o.profileFile,
    remoteDir: runDir,
    logFile: `${runDir}/slurm-${jobId}_%a.out`,
    data: o.data ? path.resolve(o.data) : undefined,
    submitted: now,
    state: 'PENDING',
    updated: now,
    shards: o.shards,
  };
  store.add(run);
  return { run, script, dataSync };
}

export interface MergeReport {
  shards: number;
  /** Shard numbers without a DONE marker (not finished): not merged. */
  missing: number[];
  /** JSONL files merged, with their line counts after de-duplication. */
  jsonl: Record<string, number>;
  /** Lines dropped because an earlier shard already had a record with the same id. */
  duplicates: number;
  /** Other files copied. */
  copied: number;
}

/**
 * Merges shards/shard-0 … shard-(N-1) (as fetched) into outDir: JSONL files of the same name are
 * concatenated in shard order, keeping the first record of each `id`; other files are copied, the
 * same name with different content in two shards being an error. Shards without DONE are skipped
 * and reported, unless `requireAll` (then they are an error).
 */
export async function mergeShards(shardsDir: string, outDir: string, shards: number, options: { requireAll?: boolean } = {}): Promise<MergeReport> {
  const report: MergeReport = { shards, missing: [], jsonl: {}, duplicates: 0, copied: 0 };
  const seenIds = new Map<string, Set<string>>();
  const lines = new Map<string, string[]>();
  const copiedFrom = new Map<string, { shard: number; hash: string }>();
  await fs.promises.mkdir(outDir, { recursive: true });
  for (let i = 0; i < shards; i++) {
    const dir = path.join(shardsDir, `shard-${i}`);
    if (!fs.existsSync(path.join(dir, 'DONE'))) {
      report.missing.push(i);
      continue;
    }
    for (const rel of await listTree(dir)) {
      if (rel === 'DONE') continue;
      const src = path.join(dir, rel);
      if (rel.endsWith('.jsonl')) {
        const ids = seenIds.get(rel) ?? new Set<string>();
        seenIds.set(rel, ids);
        const kept = lines.get(rel) ?? [];
        lines.set(rel, kept);
        const text = await fs.promises.readFile(src, 'utf8');
        text.split('\n').forEach((line, n) => {
          if (!line.trim()) return;
          let id: unknown;
          try {
            id = (JSON.parse(line) as { id?: unknown }).id;
          } catch (e) {
            throw new TrainError(`${src}:${n + 1}: not JSON (${errorMessage(e)})`);
          }
          if (typeof id === 'string') {
            if (ids.has(id)) {
              report.duplicates++;
              return;
            }
            ids.add(id);
          }
          kept.push(line);
        });
        continue;
      }
      const data = await fs.promises.readFile(src);
      const hash = crypto.createHash('sha256').update(data).digest('hex');
      const earlier = copiedFrom.get(rel);
      if (earlier) {
        if (earlier.hash !== hash) throw new TrainError(`shards ${earlier.shard} and ${i} both have ${rel} with different content`);
        continue;
      }
      copiedFrom.set(rel, { shard: i, hash });
      const dest = path.join(outDir, rel);
      await fs.promises.mkdir(path.dirname(dest), { recursive: true });
      await fs.promises.writeFile(dest, data);
      report.copied++;
    }
  }
  if (options.requireAll && report.missing.length) throw new TrainError(`shards ${report.missing.join(', ')} of ${shards} did not finish (no DONE marker)`);
  for (const [rel, kept] of lines) {
    const dest = path.join(outDir, rel);
    await fs.promises.mkdir(path.dirname(dest), { recursive: true });
    await fs.promises.writeFile(dest, kept.length ? `${kept.join('\n')}\n` : '');
    report.jsonl[rel] = kept.length;
  }
  return report;
}

async function listTree(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.promises.readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listTree(dir, rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out.sort();
}
