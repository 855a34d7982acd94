/**
 * Training runs on a Slurm cluster: export → upload what changed → sbatch → state → logs →
 * cancel → artefacts back. Everything goes over one ClusterConnection; runs are recorded in a
 * RunStore so they can be found again after a restart.
 *
 * Remote layout under the profile's workDir:
 *   data/<dataset key>/   synced export (manifest .gift-sync.json)
 *   code/<recipe>/        synced training/ scripts
 *   runs/<run id>/        job.sbatch, data/ + code/ (hard-linked snapshots, so later syncs do not
 *                         change a queued run's inputs), out/, slurm-<job>.out, status.json
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { exportDataset, openDataset } from '../dataset';
import { TrainError } from '../errors';
import type { ClusterProfile } from './profile';
import { getRecipe, matchesFetchList, vllmServeCommand, type RecipeName, type RecipeOptions } from './recipes';
import { newRunId, type RunRecord, type RunStore } from './runs';
import {
  buildSbatchScript,
  findTrainingDir,
  isTerminal,
  submitJobScript,
  parseStatusProbe,
  readSbatchTemplate,
  shellQuote,
  statusProbeCommand,
  type JobStatus,
} from './slurm';
import type { ClusterConnection } from './ssh';
import { listLocalFiles, syncFiles, syncFolder, type SyncReport } from './sync';
import { tokenizeImagefolder } from '../model/onnx-training-data';

export { TrainError };

export interface SubmitOptions {
  profile: ClusterProfile;
  profileFile?: string;
  /**
   * A GIFT dataset folder (exported here in the recipe's format), or an already exported folder
   * (imagefolder: metadata.jsonl; chat: chat.jsonl), or for the command recipe any folder.
   */
  data?: string;
  recipe: RecipeName;
  recipeOptions?: RecipeOptions;
  /** Dataset collections to train on (default sft, srs, fda). */
  collections?: string[];
  /** training/ folder with the scripts and sbatch/ templates (found automatically). */
  trainingDir?: string;
  onProgress?: (line: string) => void;
  runId?: string;
}

export interface SubmitResult {
  run: RunRecord;
  dataSync?: SyncReport;
  codeSync?: SyncReport;
  /** Records exported and, for the bundled recipe, those the tokenizer could not encode. */
  exported?: { records: number; skipped: number };
  script: string;
}

function shortHash(s: string): string {
  return crypto.createHash('sha256').update(s).digest('hex').slice(0, 8);
}

function safeName(s: string): string {
  return (
    s
      .replace(/[^A-Za-z0-9_.-]+/g, '_')
      .replace(/^[._]+/, '')
      .slice(0, 40) || 'data'
  );
}

/** Adds the bundled model's token ids to an imagefolder export, dropping the programs the tokenizer cannot encode. */
export async function tokenizeForBundled(dir: string): Promise<{ kept: number; skipped: number }> {
  const file = path.join(dir, 'metadata.jsonl');
  // Loaded here, not at the top: the tokenizer brings the Python parser, which the extension host needs only for this.
  const { encodeProgram, vocabularyJson } = await import('../model/tokenizer');
  const result = await tokenizeImagefolder(dir, encodeProgram, vocabularyJson(), { unencodable: 'drop' });
  if (result.kept === 0) throw new TrainError(`none of the ${result.skipped} programs in ${file} can be tokenised for the bundled model`);
  return result;
}

/** Makes the local folder to upload: a fresh export of a dataset, or an existing export (copied when it must be changed). */
async function prepareData(
  data: string,
  format: 'imagefolder' | 'chat',
  needsTokens: boolean,
  collections: string[] | undefined,
  stage: string,
): Promise<{ dir: string; records: number; skipped: number }> {
  const abs = path.resolve(data);
  if (fs.existsSync(path.join(abs, 'dataset.json'))) {
    const ds = await openDataset(abs);
    const report = await exportDataset(ds, { format, out: stage, collections });
    if (report.records === 0) throw new TrainError(`the dataset ${abs} has no records in ${collections?.join(', ') ?? 'sft, srs, fda'}`);
    if (!needsTokens) return { dir: stage, records: report.records, skipped: 0 };
    const t = await tokenizeForBundled(stage);
    return { dir: stage, records: t.kept, skipped: t.skipped };
  }
  const manifest = format === 'chat' ? 'chat.jsonl' : 'metadata.jsonl';
  if (!fs.existsSync(path.join(abs, manifest))) {
    throw new TrainError(`${abs} is neither a GIFT dataset (dataset.json) nor a ${format} export (${manifest})`);
  }
  const records = (await fs.promises.readFile(path.join(abs, manifest), 'utf8')).split('\n').filter((l) => l.trim()).length;
  const hasTokens = !needsTokens || fs.existsSync(path.join(abs, 'vocab.json'));
  if (hasTokens) return { dir: abs, records, skipped: 0 };
  await fs.promises.cp(abs, stage, { recursive: true });
  const t = await tokenizeForBundled(stage);
  return { dir: stage, records: t.kept, skipped: t.skipped };
}

/** Exports and uploads the data and code, writes the sbatch script and submits it. */
export async function submitTraining(conn: ClusterConnection, store: RunStore, o: SubmitOptions): Promise<SubmitResult> {
  const recipe = getRecipe(o.recipe);
  const progress = o.onProgress ?? (() => undefined);
  const profile = o.profile;
  const trainingDir = o.trainingDir ?? findTrainingDir();
  const options = o.recipeOptions ?? {};
  const gpus = profile.gpus ?? 0;
  const nodes = profile.nodes ?? 1;
  const command = recipe.command({ profile, options, gpus, nodes }); // fails early on a bad recipe
  const runId = o.runId ?? newRunId(o.recipe);
  const workDir = await conn.resolvePath(profile.workDir);
  const runDir = `${workDir}/runs/${runId}`;

  let dataSync: SyncReport | undefined;
  let exported: SubmitResult['exported'];
  let remoteData: string | undefined;
  const stage = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'gift-train-'));
  try {
    if (o.data) {
      const abs = path.resolve(o.data);
      let local = abs;
      if (recipe.dataFormat) {
        progress(`exporting ${abs} as ${recipe.dataFormat}${recipe.needsTokens ? ' with token ids' : ''}`);
        const prepared = await prepareData(abs, recipe.dataFormat, recipe.needsTokens, o.collections, path.join(stage, 'data'));
        local = prepared.dir;
        exported = { records: prepared.records, skipped: prepared.skipped };
        progress(`${prepared.records} records${prepared.skipped ? ` (${prepared.skipped} skipped: not tokenisable)` : ''}`);
      } else if (!fs.statSync(abs).isDirectory()) {
        throw new TrainError(`--data ${abs} is not a folder`);
      }
      const key = `${safeName(path.basename(abs))}-${shortHash(abs)}-${recipe.dataFormat ?? 'raw'}${recipe.needsTokens ? '-tok' : ''}`;
      remoteData = `${workDir}/data/${key}`;
      progress(`uploading to ${conn.label}:${remoteData}`);
      dataSync = await syncFolder(conn, local, remoteData, {
        onProgress: (p) =>
          p.current === undefined || progress(`  ${p.files}/${p.totalFiles} files, ${(p.bytes / 1e6).toFixed(1)}/${(p.totalBytes / 1e6).toFixed(1)} MB`),
      });
      progress(`data: ${dataSync.uploaded} uploaded, ${dataSync.unchanged} unchanged, ${dataSync.deleted} removed`);
    }
  } finally {
    await fs.promises.rm(stage, { recursive: true, force: true });
  }

  let codeSync: SyncReport | undefined;
  const remoteCode = `${workDir}/code/${recipe.name}`;
  if (recipe.codeFiles.length) {
    const files = await listLocalFiles(trainingDir, (rel) => recipe.codeFiles.includes(rel));
    const missing = recipe.codeFiles.filter((f) => !files.some((x) => x.rel === f));
    if (missing.length) throw new TrainError(`recipe ${recipe.name} needs ${missing.map((m) => path.join(trainingDir, m)).join(', ')}, which do not exist`);
    codeSync = await syncFiles(conn, files, remoteCode);
  }

  const template = readSbatchTemplate('train', trainingDir);
  const script = buildSbatchScript(
    profile,
    {
      name: `gift-${recipe.name}`,
      runDir,
      runId,
      recipe: recipe.name,
      command,
      env: recipe.env({ profile, options, gpus, nodes }),
    },
    template,
  );
  const prep = [`mkdir -p ${shellQuote(runDir)}/out`];
  if (remoteData) prep.push(`cp -al ${shellQuote(remoteData)} ${shellQuote(`${runDir}/data`)}`);
  if (recipe.codeFiles.length) prep.push(`cp -al ${shellQuote(remoteCode)} ${shellQuote(`${runDir}/code`)}`);
  const jobId = await submitJobScript(conn, runDir, script, prep);
  const now = new Date().toISOString();
  const run: RunRecord = {
    id: runId,
    jobId,
    kind: 'train',
    recipe: recipe.name,
    recipeOptions: options,
    profile,
    profileFile: o.profileFile,
    remoteDir: runDir,
    logFile: `${runDir}/slurm-${jobId}.out`,
    data: o.data ? path.resolve(o.data) : undefined,
    submitted: now,
    state: 'PENDING',
    updated: now,
  };
  store.add(run);
  progress(`submitted job ${jobId} (run ${runId})`);
  return { run, dataSync, codeSync, exported, script };
}

/** Asks the cluster for the run's state (one round trip) and records it. */
export async function refreshStatus(conn: ClusterConnection, store: RunStore, run: RunRecord): Promise<JobStatus> {
  const out = await conn.exec(statusProbeCommand(run.jobId, run.remoteDir), { idempotent: true });
  const status = parseStatusProbe(run.jobId, out.stdout + out.stderr, run.cancelRequested ?? false);
  if (status.state !== 'UNKNOWN' || !isTerminal(run.state)) {
    store.update(run.id, { state: status.state, exitCode: status.exitCode, signal: status.signal, reason: status.reason });
  }
  Object.assign(run, { state: status.state, exitCode: status.exitCode, signal: status.signal, reason: status.reason });
  return status;
}

export interface LogChunk {
  text: string;
  /** Byte offset to continue from. */
  offset: number;
  /** The log file does not exist (yet): the job has not started. */
  missing: boolean;
}

/** Log path of a run (an array run: of one task). */
export function logPath(run: RunRecord, task?: number): string {
  if (run.kind === 'bootstrap') return `${run.remoteDir}/slurm-${run.jobId}_${task ?? 0}.out`;
  return run.logFile;
}

/** New bytes of the Slurm log from `offset` (by SFTP, not tail: nothing runs on the node). */
export async function readLog(conn: ClusterConnection, run: RunRecord, offset = 0, task?: number): Promise<LogChunk> {
  const data = await conn.readFile(logPath(run, task), offset);
  if (data === null) return { text: '', offset, missing: true };
  return { text: data.toString('utf8'), offset: offset + data.length, missing: false };
}

/** The last `lines` lines of a log text. */
export function tailLines(text: string, lines = 20): string {
  const all = text.replace(/\n+$/, '').split('\n');
  return all.slice(-lines).join('\n');
}

export interface FollowOptions {
  /** New log text as it arrives. */
  onLog?: (text: string) => void;
  onState?: (status: JobStatus) => void;
  /** Between polls (default 5000 ms). */
  pollMs?: number;
  /** Start reading the log here (default 0: from the beginning). */
  offset?: number;
  signal?: AbortSignal;
  /** Don't stream the log; only wait for the state. */
  quiet?: boolean;
}

/**
 * Streams the log and polls the state until the job ends (or `signal` aborts). Dropped connections
 * are re-established inside (all reads here are idempotent).
 */
export async function followRun(conn: ClusterConnection, store: RunStore, run: RunRecord, o: FollowOptions = {}): Promise<JobStatus> {
  let offset = o.offset ?? 0;
  const decoder = new StringDecoder('utf8');
  let lastState = '';
  const pull = async () => {
    if (o.quiet) return;
    const data = await conn.readFile(logPath(run), offset);
    if (data?.length) {
      offset += data.length;
      const text = decoder.write(data);
      if (text) o.onLog?.(text);
    }
  };
  for (;;) {
    const status = await refreshStatus(conn, store, run);
    if (status.state !== lastState) {
      lastState = status.state;
      o.onState?.(status);
    }
    await pull();
    if (isTerminal(status.state)) {
      // The last lines can land after Slurm marks the job done.
      await new Promise((r) => setTimeout(r, 200));
      await pull();
      const rest = decoder.end();
      if (rest) o.onLog?.(rest);
      return status;
    }
    if (o.signal?.aborted) return status;
    await new Promise<void>((resolve) => {
      // One listener per wait, removed when the wait ends, so long follows don't pile them up.
      const onAbort = () => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        o.signal?.removeEventListener('abort', onAbort);
        resolve();
      }, o.pollMs ?? 5000);
      o.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

export async function cancelRun(conn: ClusterConnection, store: RunStore, run: RunRecord): Promise<void> {
  store.update(run.id, { cancelRequested: true });
  run.cancelRequested = true;
  await conn.run(`scancel ${run.jobId}`);
}

export interface FetchResult {
  outDir: string;
  files: string[];
  bytes: number;
  /** VLM runs: where the checkpoint is on the cluster, and how to serve it. */
  remoteCheckpoint?: string;
  vllmServe?: string;
}

async function listRemoteTree(conn: ClusterConnection, dir: string, prefix = ''): Promise<{ rel: string; size: number }[]> {
  const out: { rel: string; size: number }[] = [];
  for (const e of await conn.readdir(dir)) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.stat.isDirectory) out.push(...(await listRemoteTree(conn, `${dir}/${e.name}`, rel)));
    else out.push({ rel, size: e.stat.size });
  }
  return out;
}

/**
 * Brings a finished run's artefacts into outDir: the recipe's files from out/ (all of them with
 * `all`), plus run.json (the run record) and, for VLM runs, serve.json with the `vllm serve` line.
 */
export async function fetchRun(
  conn: ClusterConnection,
  store: RunStore,
  run: RunRecord,
  outDir: string,
  options: { all?: boolean; force?: boolean } = {},
): Promise<FetchResult> {
  const status = await refreshStatus(conn, store, run);
  if (status.state !== 'COMPLETED' && !options.force) {
    const log = await readLog(conn, run).catch(() => null);
    const tail = log && !log.missing ? `\n--- log tail (${logPath(run)}) ---\n${tailLines(log.text, 15)}` : '';
    throw new TrainError(
      `run ${run.id} (job ${run.jobId}) is ${status.state}${status.exitCode !== null ? ` (exit ${status.exitCode}${status.signal ? `, signal ${status.signal}` : ''})` : ''}; nothing to fetch until it completes${tail}`,
    );
  }
  const recipeFetch = run.kind === 'bootstrap' ? ['shards/*/*'] : getRecipe(run.recipe).fetch;
  const base = run.kind === 'bootstrap' ? run.remoteDir : `${run.remoteDir}/out`;
  const tree = run.kind === 'bootstrap' ? await listRemoteTree(conn, `${run.remoteDir}/shards`, 'shards') : await listRemoteTree(conn, base);
  const chosen = tree.filter((f) => options.all || matchesFetchList(f.rel, recipeFetch));
  const abs = path.resolve(outDir);
  await fs.promises.mkdir(abs, { recursive: true });
  const files: string[] = [];
  let bytes = 0;
  for (const f of chosen) {
    const local = path.join(abs, ...f.rel.split('/'));
    await fs.promises.mkdir(path.dirname(local), { recursive: true });
    bytes += await conn.download(`${base}/${f.rel}`, local);
    files.push(f.rel);
  }
  const result: FetchResult = { outDir: abs, files, bytes };
  if (run.recipe === 'vlm') {
    result.remoteCheckpoint = `${run.remoteDir}/out/final`;
    result.vllmServe = vllmServeCommand(result.remoteCheckpoint, run.recipeOptions?.servedName ?? 'gift-cadcoder', run.profile.gpus ?? 1);
    await fs.promises.writeFile(
      path.join(abs, 'serve.json'),
      `${JSON.stringify({ host: conn.label, remoteCheckpoint: result.remoteCheckpoint, vllmServe: result.vllmServe }, null, 2)}\n`,
    );
    files.push('serve.json');
  }
  await fs.promises.writeFile(path.join(abs, 'run.json'), `${JSON.stringify({ ...run, state: status.state }, null, 2)}\n`);
  files.push('run.json');
  store.update(run.id, { fetchedTo: abs });
  return result;
}
