/**
 * One GIFT round on this machine, the paper's loop end to end with the product's own parts:
 *   1. bootstrap: K samples per image of the source pool (the dataset's sft images) from the
 *      current model, each verified by IoU; SRS [τ_valid, τ_match) and FDA [τ_low, τ_valid) records
 *      (FDA images rendered in the dataset's style), tagged with the round's name;
 *   2. export: the chosen collections as an imagefolder with the bundled tokenizer's ids and the
 *      images preprocessed into images-SIZE.u8 (what train_bundled.py reads fastest);
 *   3. train: training/train_bundled.py on it (checkpointed; a rerun resumes);
 *   4. eval: `gift eval`'s measurement of the new model, and of the previous one, side by side.
 * Every stage leaves its result in OUT and is skipped when a rerun finds it done, so a round
 * survives being stopped anywhere. Rounds repeat by passing a round's model as the next's.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { bootstrap, isMatchedPair, type BootstrapSummary, type PoolItem } from '../dataset/bootstrap';
import { exportDataset } from '../dataset/export';
import { openDataset } from '../dataset/store';
import type { IouThresholds } from '../dataset/thresholds';
import { UserError } from '../errors';
import { evaluateImages } from '../evaluate/evaluate';
import { readEvalInput } from '../evaluate/inputs';
import { buildReport, type EvalReport, writeComparison, writeReport } from '../evaluate/report';
import { samplingTemperature } from '../generate/backend';
import { onnxBackend } from '../generate/backends';
import type { IouProtocol } from '../geometry/protocols';
import { tokenizeImagefolder, writeImageArray } from '../model/onnx-training-data';
import { encodeProgram, vocabularyJson } from '../model/tokenizer';
import type { KernelPool } from '../pool/pool';
import type { RecipeOptions } from '../train/recipes';
import type { RunStore } from '../train/runs';
import type { ClusterProfile } from '../train/profile';
import { findTrainingDir } from '../train/slurm';
import type { ClusterConnection } from '../train/ssh';
import { fetchRun, followRun, submitTraining } from '../train/trainer';

export class RoundError extends UserError {}

/** Input size of each train_bundled.py config (gift_model.py CONFIGS). */
export const CONFIG_IMAGE_SIZE: Record<string, number> = { tiny: 64, compact: 96, small: 128, base: 224 };

export interface RoundOptions {
  /** GIFT dataset whose sft collection is the base set D and the source pool. */
  dataset: string;
  /** The round's folder: model/, data/, eval/, round.json. */
  out: string;
  /** The current model (ONNX folder) that samples. */
  model: string;
  /** The round's name: tags its bootstrap records and log (default: the out folder's name). */
  tag?: string;
  pool: KernelPool;
  samples: number;
  temperature?: number;
  protocol: IouProtocol;
  thresholds?: IouThresholds;
  /** Only the first N sft images are sampled (the source pool); default all. */
  poolLimit?: number;
  /**
   * Sample these images instead of the dataset's sft images (e.g. real images whose ground truth is
   * a STEP file: `gift eval`'s inputs). Their records land in the dataset with this round's tag:
   * SRS, FDA where the ground truth has code, and an sft pair (source = the image's id) for an
   * image without code that the model matched; training takes them like the round's SRS/FDA.
   */
  images?: PoolItem[];
  /**
   * Each of the round's own records (SRS, FDA, matched pairs) appears this many times in the
   * training set (default 1), so a few hundred records are not drowned by tens of thousands of
   * base or --extra pairs.
   */
  repeat?: number;
  /** What to train on (default sft, srs, fda: GIFT); sft alone is the SFT baseline. */
  collections: string[];
  /** Only this round's SRS/FDA records (tag), not earlier rounds' (default true). */
  onlyThisRound?: boolean;
  /** Train on these rounds' SRS/FDA records (tags, e.g. an earlier round's and this one's); overrides onlyThisRound. */
  rounds?: string[];
  /** No SRS/FDA records of these source images go into training (e.g. the ones the sampler already reproduces). */
  excludeSources?: Set<string>;
  /** At most this many SRS / FDA records per source image go into training (in id order); default all. */
  perSource?: { srs?: number; fda?: number };
  /** Only SRS / FDA records whose IoU is at least this go into training (e.g. FDA's nearer misses); default all. */
  minIou?: { srs?: number; fda?: number };
  /** More training folders (imagefolder + arrays, e.g. make_dataset.ts output): the fresh-data control. */
  extraData?: string[];
  /** init: start from this model's weights (a model folder with model.onnx, or a .pt) instead of from scratch. */
  train: {
    python: string;
    config: string;
    steps: number;
    batchSize?: number;
    seed?: number;
    maxMinutes?: number;
    init?: string;
    lr?: number;
    /**
     * Train somewhere else (a leased GPU, training/device_train.py): the round stops after the export
     * with OUT/train.json saying what to train; once OUT/model holds the model brought back, a rerun
     * takes it as trained and goes on to the evaluation.
     */
    elsewhere?: boolean;
  };
  /**
   * Train on a Slurm cluster over SSH (the bundled recipe) instead of here: the round's export, the
   * --extra folders and the --init model go up in one folder; the model comes back into OUT/model.
   * The run id is kept in round.json, so a rerun follows the same job rather than submitting again.
   */
  cluster?: { conn: ClusterConnection; store: RunStore; profile: ClusterProfile; profileFile?: string };
  /** Measure the new and the previous model on this `gift eval` input. */
  evaluation?: { input: string; samples: number; limit?: number; seed?: number; label?: string; skipBefore?: boolean };
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface RoundResult {
  bootstrap?: BootstrapSummary;
  /** The round stopped after the export: train OUT/train.json elsewhere, bring the model to OUT/model, rerun. */
  awaitingModel?: boolean;
  records: number;
  model: string;
  before?: EvalReport;
  after?: EvalReport;
}

interface RoundState {
  bootstrapped?: BootstrapSummary;
  exported?: { records: number; skipped: number };
  /** The cluster run training this round (with `cluster`). */
  clusterRun?: string;
  trained?: boolean;
}

/** Repeats every metadata row that is not a base pair (SRS, FDA, matched sft) `times` times in all. */
function repeatDerivedRows(dataDir: string, times: number): void {
  const file = path.join(dataDir, 'metadata.jsonl');
  const out: string[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as { id: string; collection?: string; source?: string | null };
    const derived = row.collection !== 'sft' || isMatchedPair(row);
    for (let i = 0; i < (derived ? times : 1); i++) out.push(line);
  }
  fs.writeFileSync(file, `${out.join('\n')}\n`);
}

function readState(file: string): RoundState {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as RoundState;
  } catch {
    return {};
  }
}

export async function runRound(o: RoundOptions): Promise<RoundResult> {
  const log = o.log ?? (() => {});
  const imageSize = CONFIG_IMAGE_SIZE[o.train.config];
  if (!imageSize) throw new RoundError(`unknown training config '${o.train.config}': expected ${Object.keys(CONFIG_IMAGE_SIZE).join(', ')}`);
  if (!fs.existsSync(path.join(o.model, 'model.json'))) throw new RoundError(`${o.model}: no model.json (the model that samples)`);
  fs.mkdirSync(o.out, { recursive: true });
  const stateFile = path.join(o.out, 'round.json');
  const state = readState(stateFile);
  const save = () => fs.writeFileSync(stateFile, `${JSON.stringify(state, null, 1)}\n`);
  const tag = o.tag ?? path.basename(path.resolve(o.out)).replace(/[^A-Za-z0-9_-]/g, '-');
  const ds = await openDataset(o.dataset);

  // 1. Bootstrap (resumable on its own: its log skips finished images).
  if (!state.bootstrapped && o.collections.some((c) => c !== 'sft')) {
    log(`round ${tag}: bootstrap with ${o.model}, K=${o.samples}`);
    const backend = onnxBackend({ model: o.model, threads: 1 });
    try {
      state.bootstrapped = await bootstrap(ds, {
        pool: o.pool,
        backend,
        samples: o.samples,
        temperature: o.temperature,
        protocol: o.protocol,
        thresholds: o.thresholds,
        limit: o.poolLimit,
        source: o.images,
        tag,
        signal: o.signal,
        onProgress: (p) => p.done % 25 === 0 && log(`round ${tag}: bootstrap ${p.done}/${p.total}, SRS ${p.srs}, FDA ${p.fda}`),
      });
    } finally {
      await backend.close?.();
    }
    o.signal?.throwIfAborted();
    save();
  }

  // 2. Export the training set: sft plus this round's SRS/FDA (ids carry the tag).
  const dataDir = path.join(o.out, 'data');
  if (!state.exported) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    const onlyThisRound = o.onlyThisRound ?? true;
    const taken = new Map<string, number>();
    const filter = (r: { id: string; collection: string; source: string | null; iou: number | null }) => {
      // Base pairs always; sft pairs a round matched (an image without code) like its SRS/FDA.
      if (r.collection === 'sft' && !isMatchedPair(r)) return true;
      if (r.source !== null && o.excludeSources?.has(r.source)) return false;
      if (o.rounds ? !o.rounds.some((t) => r.id.includes(`-${t}-`)) : onlyThisRound && !r.id.includes(`-${tag}-`)) return false;
      const min = r.collection === 'srs' ? o.minIou?.srs : r.collection === 'fda' ? o.minIou?.fda : undefined;
      if (min !== undefined && (r.iou ?? -1) < min) return false;
      const cap = r.collection === 'srs' ? o.perSource?.srs : r.collection === 'fda' ? o.perSource?.fda : undefined;
      if (cap === undefined) return true;
      const key = `${r.collection}:${r.source}`;
      const n = taken.get(key) ?? 0;
      taken.set(key, n + 1);
      return n < cap;
    };
    const report = await exportDataset(ds, { format: 'imagefolder', out: dataDir, collections: o.collections, filter });
    const tokenized = await tokenizeImagefolder(dataDir, encodeProgram, vocabularyJson(), { unencodable: 'drop' });
    if ((o.repeat ?? 1) > 1) repeatDerivedRows(dataDir, o.repeat!);
    await writeImageArray(dataDir, imageSize);
    state.exported = { records: tokenized.kept, skipped: tokenized.skipped };
    log(`round ${tag}: exported ${report.records} records (${JSON.stringify(report.byCollection)}), ${tokenized.skipped} not tokenisable`);
    save();
  }

  // 3. Train (train_bundled.py checkpoints; a rerun resumes).
  const modelDir = path.join(o.out, 'model');
  writeTrainPlan(o, dataDir, tag);
  if (!state.trained && !o.cluster && fs.existsSync(path.join(modelDir, 'model.json'))) {
    // train_bundled.py writes model.json last: a finished run, here or brought back from elsewhere.
    checkTrainedElsewhere(path.join(modelDir, 'model.json'), o.train.steps);
    log(`round ${tag}: ${modelDir} holds a finished model; taking it as this round's`);
    state.trained = true;
    save();
  } else if (!state.trained && o.train.elsewhere) {
    log(`round ${tag}: exported; train ${path.join(o.out, 'train.json')} elsewhere (training/device_train.py), bring the model to ${modelDir}, rerun`);
    return { bootstrap: state.bootstrapped, records: state.exported.records, model: modelDir, awaitingModel: true };
  } else if (!state.trained && o.cluster) {
    await trainOnCluster(o, o.cluster, { dataDir, modelDir, tag, state, save, log });
  } else if (!state.trained) {
    const script = path.join(findTrainingDir(), 'train_bundled.py');
    const args = [script, '--data', dataDir, ...(o.extraData ?? []), '--out', modelDir, '--config', o.train.config, '--steps', String(o.train.steps)];
    args.push('--batch-size', String(o.train.batchSize ?? 32), '--seed', String(o.train.seed ?? 0), '--checkpoint-minutes', '5', '--name', `gift-${tag}`);
    if (o.train.maxMinutes) args.push('--max-minutes', String(o.train.maxMinutes));
    if (o.train.lr) args.push('--lr', String(o.train.lr));
    if (o.train.init) args.push('--init', path.resolve(o.train.init));
    if (fs.existsSync(path.join(modelDir, 'checkpoint.pt'))) args.push('--resume');
    log(`round ${tag}: ${o.train.python} ${args.join(' ')}`);
    await runPython(o.train.python, args, log, o.signal);
    state.trained = true;
    save();
  }

  // 4. Evaluate the new model, and the previous one on the same images.
  const result: RoundResult = { bootstrap: state.bootstrapped, records: state.exported.records, model: modelDir };
  if (o.evaluation) {
    const input = await readEvalInput(o.evaluation.input);
    const items = o.evaluation.limit ? input.items.slice(0, o.evaluation.limit) : input.items;
    const measure = async (model: string, dir: string, label: string): Promise<EvalReport> => {
      const file = path.join(dir, 'report.json');
      if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as EvalReport;
      log(`round ${tag}: evaluating ${label} (${model}) on ${items.length} images, K=${o.evaluation!.samples}`);
      const backend = onnxBackend({ model, threads: 1 });
      const started = performance.now();
      try {
        // The temperature the report records is the one the samples are drawn at (greedy for K = 1).
        const temperature = samplingTemperature({ samples: o.evaluation!.samples });
        const results = await evaluateImages(items, {
          backend,
          pool: o.pool,
          samples: o.evaluation!.samples,
          protocol: o.protocol,
          temperature,
          seed: o.evaluation!.seed ?? 0,
          signal: o.signal,
        });
        const report = buildReport(
          {
            label,
            model: backend.name,
            input: o.evaluation!.input,
            samples: o.evaluation!.samples,
            protocol: o.protocol,
            reference: input.referenceKind,
            temperature,
            seed: o.evaluation!.seed ?? 0,
          },
          results,
          (performance.now() - started) / 1000,
        );
        writeReport(dir, report);
        return report;
      } finally {
        await backend.close?.();
      }
    };
    if (!o.evaluation.skipBefore) result.before = await measure(o.model, path.join(o.out, 'eval-before'), `before ${tag}`);
    result.after = await measure(modelDir, path.join(o.out, 'eval'), o.evaluation.label ?? `after ${tag}`);
    if (result.before) writeComparison(path.join(o.out, 'compare'), [result.before, result.after]);
  }
  return result;
}

/**
 * OUT/train.json: what train_bundled.py runs for this round (its data folders and options), so a
 * round can be trained elsewhere (training/device_train.py packs it) and anyone can see what ran.
 */
function writeTrainPlan(o: RoundOptions, dataDir: string, tag: string): void {
  const plan = {
    data: [dataDir, ...(o.extraData ?? [])].map((d) => path.resolve(d)),
    config: o.train.config,
    steps: o.train.steps,
    batch_size: o.train.batchSize ?? 32,
    seed: o.train.seed ?? 0,
    lr: o.train.lr ?? null,
    init: o.train.init ? path.resolve(o.train.init) : null,
    name: `gift-${tag}`,
  };
  const file = path.join(o.out, 'train.json');
  const text = `${JSON.stringify(plan, null, 1)}\n`;
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) fs.writeFileSync(file, text);
}

/** A model found in OUT/model must be the run this round plans (its step count), not a leftover. */
function checkTrainedElsewhere(card: string, steps: number): void {
  let trained: unknown;
  try {
    trained = (JSON.parse(fs.readFileSync(card, 'utf8')) as { training?: { planned_steps?: unknown } }).training?.planned_steps;
  } catch (e) {
    throw new RoundError(`${card}: not a model card (${(e as Error).message})`);
  }
  if (trained !== steps) throw new RoundError(`${card}: trained for ${String(trained)} planned steps, this round plans ${steps}: not this round's model`);
}

async function trainOnCluster(
  o: RoundOptions,
  cluster: NonNullable<RoundOptions['cluster']>,
  at: { dataDir: string; modelDir: string; tag: string; state: RoundState; save: () => void; log: (line: string) => void },
): Promise<void> {
  const { state, log } = at;
  let run = state.clusterRun ? cluster.store.find(state.clusterRun) : undefined;
  if (!run) {
    // One folder goes up: the export, with the extra training folders and the init model inside it.
    let upload = at.dataDir;
    const extraArgs = ['--seed', String(o.train.seed ?? 0), '--name', `gift-${at.tag}`];
    if (o.train.maxMinutes) extraArgs.push('--max-minutes', String(o.train.maxMinutes));
    if (o.train.lr) extraArgs.push('--lr', String(o.train.lr));
    const extra = o.extraData ?? [];
    if (extra.length || o.train.init) {
      upload = path.join(o.out, 'upload');
      fs.rmSync(upload, { recursive: true, force: true });
      fs.cpSync(at.dataDir, upload, { recursive: true });
      for (const [i, dir] of extra.entries()) fs.cpSync(dir, path.join(upload, `extra-${i}`), { recursive: true });
      // A later --data wins in argparse: list the export and the extras together.
      if (extra.length) extraArgs.push('--data', 'data', ...extra.map((_, i) => `data/extra-${i}`));
      if (o.train.init) {
        const init = path.resolve(o.train.init);
        if (fs.statSync(init).isDirectory()) {
          fs.mkdirSync(path.join(upload, 'init-model'));
          for (const f of ['model.onnx', 'model.json', 'vocab.json', 'reference.json'])
            if (fs.existsSync(path.join(init, f))) fs.copyFileSync(path.join(init, f), path.join(upload, 'init-model', f));
          extraArgs.push('--init', 'data/init-model');
        } else {
          fs.copyFileSync(init, path.join(upload, 'init.pt'));
          extraArgs.push('--init', 'data/init.pt');
        }
      }
    }
    const submitted = await submitTraining(cluster.conn, cluster.store, {
      profile: cluster.profile,
      profileFile: cluster.profileFile,
      data: upload,
      recipe: 'bundled',
      recipeOptions: { config: o.train.config as RecipeOptions['config'], steps: o.train.steps, batchSize: o.train.batchSize ?? 32, extraArgs },
      onProgress: (line) => log(`round ${at.tag}: ${line}`),
    });
    run = submitted.run;
    state.clusterRun = run.id;
    at.save();
    log(`round ${at.tag}: submitted run ${run.id} (Slurm job ${run.jobId}) to ${cluster.conn.label}`);
  } else {
    log(`round ${at.tag}: following run ${run.id} (Slurm job ${run.jobId}) again`);
  }
  const status = await followRun(cluster.conn, cluster.store, run, {
    signal: o.signal,
    onState: (s) => log(`round ${at.tag}: job ${run!.jobId} ${s.state}`),
    onLog: (text) => {
      for (const line of text.split('\n')) if (line.trim()) log(line);
    },
  });
  if (status.state !== 'COMPLETED') {
    throw new RoundError(
      `the training run ${run.id} (Slurm job ${run.jobId}) ended ${status.state}${status.exitCode !== null ? ` (exit ${status.exitCode})` : ''}: see gift train logs ${run.id}`,
    );
  }
  await fetchRun(cluster.conn, cluster.store, run, at.modelDir);
  at.state.trained = true;
  at.save();
}

function runPython(python: string, args: string[], log: (line: string) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, {
      env: { ...process.env, OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1', OPENBLAS_NUM_THREADS: process.env.OPENBLAS_NUM_THREADS ?? '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onAbort = () => child.kill('SIGINT');
    signal?.addEventListener('abort', onAbort, { once: true });
    let tail = '';
    const read = (d: Buffer) => {
      const text = d.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) log(`train: ${line.trim()}`);
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('error', (e) => reject(new RoundError(`cannot run ${python}: ${e.message}`)));
    child.on('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (code === 0) resolve();
      else reject(new RoundError(`training failed (exit ${code}):\n${tail.trim().split('\n').slice(-8).join('\n')}`));
    });
  });
}
