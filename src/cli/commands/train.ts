/** `gift train submit|status|logs|cancel|fetch|list|bootstrap|merge …`: training runs on a Slurm cluster over SSH. */
import path from 'node:path';
import readline from 'node:readline';
import {
  cancelRun,
  ClusterConnection,
  fetchRun,
  followRun,
  getRecipe,
  isTerminal,
  loadProfile,
  mergeShards,
  readLog,
  refreshStatus,
  RunStore,
  submitBootstrapArray,
  submitTraining,
  tailLines,
  RECIPE_NAMES,
  type ClusterProfile,
  type ConnectOptions,
  type JobStatus,
  type RecipeName,
  type RecipeOptions,
  type RunRecord,
  type UnknownHostKey,
} from '../../core/train';
import { intOption, parseCommandArgs, runAction, UsageError, stringOptions } from '../args';

const help = `usage: gift train <action> …

  submit --profile FILE --data DIR [--recipe bundled|vlm|command] [options] [-- extra recipe args]
        export DIR (a GIFT dataset, or an existing export) in the recipe's format, upload what
        changed, write the sbatch script and submit it. Prints the run id and Slurm job id.
          --config tiny|small|base   bundled model size (default small)
          --steps N  --batch-size N  --lr X
          --base-model ID            vlm: the Qwen2.5-VL (CAD-Coder) checkpoint to fine-tune
                                     (HF id or cluster path; default Qwen/Qwen2.5-VL-7B-Instruct)
          --lora  --epochs N         vlm: LoRA adapters; epochs
          --command CMD              command recipe: the shell command (run in the run folder)
          --collections C1,C2        dataset collections to train on (default sft,srs,fda)
          --follow                   stream the log until the job ends
  status RUN [--json]               state (PENDING RUNNING COMPLETED FAILED CANCELLED TIMEOUT),
                                    exit code, and for failed runs the log tail
  logs RUN [--follow] [--tail N] [--task I]
  cancel RUN                        scancel
  fetch RUN --out DIR [--all] [--force]
        bring the artefacts back: bundled → model.onnx, model.json, vocab.json, reference.json;
        vlm → model card + serve.json with the checkpoint path and a ready 'vllm serve' command
  list [--json]                     runs recorded in the state file
  bootstrap --profile FILE --shards N [--max-parallel M] [--data DIR] [-- bootstrap args]
        a Slurm job array: task i runs '<giftCommand> bootstrap --shard i/N --out shards/shard-i …'
  merge DIR --shards N --out OUT    merge fetched shards (DIR/shards/shard-i) into OUT

RUN is a run id (or a unique prefix of one) or a Slurm job id.
Common options:
  --state FILE            run state file (default ~/.gift/train/runs.json or $GIFT_TRAIN_STATE)
  --profile FILE          cluster profile (JSON); status/logs/cancel/fetch default to the run's own
  --passphrase-env VAR    read the identity file's passphrase from environment variable VAR
  --accept-host-key FP    trust an unknown host key with this SHA256 fingerprint (appended to known_hosts)
  --accept-new-host-key   trust any unknown host key (never a changed one); interactive terminals are asked`;

/** The cluster options every command that reaches a cluster takes (train, round --profile). */
export const clusterOptions = {
  ...stringOptions('state', 'profile', 'passphrase-env', 'accept-host-key'),
  'accept-new-host-key': { type: 'boolean' },
} as const;

export type CommonValues = { state?: string; profile?: string; 'passphrase-env'?: string; 'accept-host-key'?: string; 'accept-new-host-key'?: boolean };

export function trainCommand(argv: string[]): Promise<number> {
  return runAction('train', argv, actions, help);
}

const actions: Record<string, (argv: string[]) => Promise<number>> = {
  submit: submitAction,
  status: statusAction,
  logs: logsAction,
  cancel: cancelAction,
  fetch: fetchAction,
  list: listAction,
  bootstrap: bootstrapAction,
  merge: mergeAction,
};

/** argv split at `--`: what follows goes to the recipe's script unchanged. */
function splitExtra(argv: string[]): [string[], string[]] {
  const i = argv.indexOf('--');
  return i < 0 ? [argv, []] : [argv.slice(0, i), argv.slice(i + 1)];
}

function onePositional(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected ${what}, got ${positionals.length ? positionals.join(' ') : 'nothing'}\n\n${help}`);
  return positionals[0];
}

function numberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got '${value}'`);
  return n;
}

async function askYesNo(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export function connectOptions(values: CommonValues): ConnectOptions {
  let passphrase: string | undefined;
  const envName = values['passphrase-env'];
  if (envName) {
    passphrase = process.env[envName];
    if (passphrase === undefined) throw new UsageError(`--passphrase-env ${envName}: that environment variable is not set`);
  }
  const acceptFp = values['accept-host-key'];
  return {
    passphrase,
    log: (line) => console.error(line),
    onUnknownHostKey: async (k: UnknownHostKey) => {
      const what = `${k.label} (${k.host}:${k.port}) presents an unknown ${k.keyType} host key ${k.fingerprint}${k.otherTypes.length ? ` (known key types: ${k.otherTypes.join(', ')})` : ''}`;
      if (acceptFp) {
        if (acceptFp === k.fingerprint) return true;
        console.error(`${what}; it does not match --accept-host-key ${acceptFp}`);
        return false;
      }
      if (values['accept-new-host-key']) {
        console.error(`${what}; accepted (--accept-new-host-key)`);
        return true;
      }
      if (process.stdin.isTTY && process.stderr.isTTY) return askYesNo(`${what}.\nAdd it to ${k.knownHostsFile} and continue? (yes/no) `);
      return false;
    },
  };
}

export function openStore(values: CommonValues): RunStore {
  return new RunStore(values.state ? path.resolve(values.state) : undefined);
}

function requireProfile(values: CommonValues): { profile: ClusterProfile; file: string } {
  if (!values.profile) throw new UsageError(`--profile FILE (the cluster profile) is required\n\n${help}`);
  const file = path.resolve(values.profile);
  return { profile: loadProfile(file), file };
}

/** Connects with the run's own profile (or --profile), runs `work`, always closes. */
async function withRun<T>(values: CommonValues, runRef: string, work: (conn: ClusterConnection, store: RunStore, run: RunRecord) => Promise<T>): Promise<T> {
  const store = openStore(values);
  const run = store.get(runRef);
  const profile = values.profile ? loadProfile(path.resolve(values.profile)) : run.profile;
  const conn = await ClusterConnection.open(profile, connectOptions(values));
  try {
    return await work(conn, store, run);
  } finally {
    conn.close();
  }
}

function describeStatus(run: RunRecord, s: JobStatus): string {
  const exit = s.exitCode !== null && isTerminal(s.state) ? `  exit ${s.exitCode}${s.signal ? ` (signal ${s.signal})` : ''}` : '';
  const extra = [s.reason && `reason ${s.reason}`, s.elapsed && `elapsed ${s.elapsed}`, s.nodes && `on ${s.nodes}`].filter(Boolean).join(', ');
  const raw = s.rawState !== s.state ? ` [${s.rawState}]` : '';
  return `${run.id}  job ${run.jobId}  ${s.state}${raw}${exit}${extra ? `  (${extra})` : ''}  from ${s.sources.join('+') || 'nothing'}`;
}

async function submitAction(argv: string[]): Promise<number> {
  const [own, extra] = splitExtra(argv);
  const { values, positionals } = parseCommandArgs(
    own,
    {
      ...stringOptions('data', 'recipe', 'config', 'steps', 'batch-size', 'lr', 'base-model', 'epochs', 'command', 'collections', 'poll-ms'),
      ...clusterOptions,
      lora: { type: 'boolean' },
      follow: { type: 'boolean' },
    },
    help,
  );
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (recipe arguments go after --)\n\n${help}`);
  const recipeName = (values.recipe ?? 'bundled') as RecipeName;
  if (!RECIPE_NAMES.includes(recipeName)) throw new UsageError(`--recipe must be one of ${RECIPE_NAMES.join(', ')}, got '${values.recipe}'`);
  const recipe = getRecipe(recipeName);
  if (recipe.dataFormat && !values.data) throw new UsageError(`--data DIR is required for the ${recipeName} recipe\n\n${help}`);
  if (values.config && !['tiny', 'small', 'base'].includes(values.config)) throw new UsageError(`--config must be tiny, small or base, got '${values.config}'`);
  const recipeOptions: RecipeOptions = {
    config: values.config as RecipeOptions['config'],
    steps: values.steps !== undefined ? intOption('steps', values.steps, 1) : undefined,
    batchSize: values['batch-size'] !== undefined ? intOption('batch-size', values['batch-size'], 1) : undefined,
    learningRate: numberOption('lr', values.lr),
    baseModel: values['base-model'],
    lora: values.lora,
    epochs: numberOption('epochs', values.epochs),
    command: values.command,
    extraArgs: extra.length ? extra : undefined,
  };
  for (const k of Object.keys(recipeOptions) as (keyof RecipeOptions)[]) if (recipeOptions[k] === undefined) delete recipeOptions[k];
  const collections = values.collections
    ?.split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  const { profile, file } = requireProfile(values);
  const store = openStore(values);
  const conn = await ClusterConnection.open(profile, connectOptions(values));
  try {
    const result = await submitTraining(conn, store, {
      profile,
      profileFile: file,
      data: values.data,
      recipe: recipeName,
      recipeOptions,
      collections,
      onProgress: (line) => console.error(line),
    });
    console.log(`${result.run.id}\t${result.run.jobId}`);
    if (!values.follow) return 0;
    const status = await follow(conn, store, result.run, intOption('poll-ms', values['poll-ms'], 5000, 100));
    return status.state === 'COMPLETED' ? 0 : 1;
  } finally {
    conn.close();
  }
}

async function follow(conn: ClusterConnection, store: RunStore, run: RunRecord, pollMs: number, offset = 0): Promise<JobStatus> {
  const status = await followRun(conn, store, run, {
    pollMs,
    offset,
    onLog: (text) => process.stdout.write(text),
    onState: (s) => console.error(`[${new Date().toISOString()}] ${describeStatus(run, s)}`),
  });
  if (status.state !== 'COMPLETED') console.error(describeStatus(run, status));
  return status;
}

async function statusAction(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...clusterOptions, json: { type: 'boolean' }, tail: { type: 'string' } }, help);
  const ref = onePositional(positionals, 'one RUN (run id or job id)');
  return withRun(values, ref, async (conn, store, run) => {
    const status = await refreshStatus(conn, store, run);
    let tail: string | undefined;
    if (status.state === 'FAILED' || status.state === 'TIMEOUT' || status.state === 'CANCELLED') {
      const log = await readLog(conn, run);
      if (!log.missing) tail = tailLines(log.text, intOption('tail', values.tail, 20));
    }
    if (values.json) {
      console.log(JSON.stringify({ run: run.id, recipe: run.recipe, remoteDir: run.remoteDir, log: run.logFile, ...status, logTail: tail }));
    } else {
      console.log(describeStatus(run, status));
      if (tail !== undefined) console.log(`--- last lines of ${run.logFile} ---\n${tail}`);
    }
    return 0;
  });
}

async function logsAction(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { ...clusterOptions, follow: { type: 'boolean' }, tail: { type: 'string' }, task: { type: 'string' }, 'poll-ms': { type: 'string' } },
    help,
  );
  const ref = onePositional(positionals, 'one RUN (run id or job id)');
  return withRun(values, ref, async (conn, store, run) => {
    const task = values.task !== undefined ? intOption('task', values.task, 0, 0) : undefined;
    const log = await readLog(conn, run, 0, task);
    if (log.missing && !values.follow) {
      console.error(`no log yet at ${run.logFile} (the job has not started)`);
      return 0;
    }
    const text = values.tail !== undefined ? `${tailLines(log.text, intOption('tail', values.tail, 20))}\n` : log.text;
    process.stdout.write(text);
    if (!values.follow) return 0;
    if (isTerminal(run.state) && !log.missing) return run.state === 'COMPLETED' ? 0 : 1;
    const status = await follow(conn, store, run, intOption('poll-ms', values['poll-ms'], 5000, 100), log.offset);
    return status.state === 'COMPLETED' ? 0 : 1;
  });
}

async function cancelAction(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, clusterOptions, help);
  const ref = onePositional(positionals, 'one RUN (run id or job id)');
  return withRun(values, ref, async (conn, store, run) => {
    await cancelRun(conn, store, run);
    console.log(`cancel requested for ${run.id} (job ${run.jobId})`);
    return 0;
  });
}

async function fetchAction(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { ...clusterOptions, out: { type: 'string' }, all: { type: 'boolean' }, force: { type: 'boolean' } },
    help,
  );
  const ref = onePositional(positionals, 'one RUN (run id or job id)');
  if (!values.out) throw new UsageError(`--out DIR is required\n\n${help}`);
  return withRun(values, ref, async (conn, store, run) => {
    const result = await fetchRun(conn, store, run, values.out!, { all: values.all, force: values.force });
    for (const f of result.files) console.log(path.join(result.outDir, f));
    console.error(`fetched ${result.files.length} files (${(result.bytes / 1e6).toFixed(2)} MB) into ${result.outDir}`);
    if (result.vllmServe) console.log(`\ncheckpoint on the cluster: ${result.remoteCheckpoint}\nserve it with:\n  ${result.vllmServe}`);
    return 0;
  });
}

async function listAction(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { ...clusterOptions, json: { type: 'boolean' } }, help);
  const store = openStore(values);
  for (const r of store.list()) {
    if (values.json) console.log(JSON.stringify(r));
    else console.log(`${r.id}\t${r.jobId}\t${r.state}${r.exitCode ? ` (exit ${r.exitCode})` : ''}\t${r.profile.name ?? r.profile.host}\t${r.submitted}`);
  }
  return 0;
}

async function bootstrapAction(argv: string[]): Promise<number> {
  const [own, extra] = splitExtra(argv);
  const { values, positionals } = parseCommandArgs(
    own,
    { ...clusterOptions, shards: { type: 'string' }, 'max-parallel': { type: 'string' }, data: { type: 'string' } },
    help,
  );
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (bootstrap arguments go after --)`);
  if (!values.shards) throw new UsageError(`--shards N is required\n\n${help}`);
  const shards = intOption('shards', values.shards, 1);
  const { profile, file } = requireProfile(values);
  const store = openStore(values);
  const conn = await ClusterConnection.open(profile, connectOptions(values));
  try {
    const { run } = await submitBootstrapArray(conn, store, {
      profile,
      profileFile: file,
      shards,
      maxParallel: values['max-parallel'] !== undefined ? intOption('max-parallel', values['max-parallel'], 1) : undefined,
      data: values.data,
      args: extra,
    });
    console.log(`${run.id}\t${run.jobId}`);
    return 0;
  } finally {
    conn.close();
  }
}

async function mergeAction(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { shards: { type: 'string' }, out: { type: 'string' }, 'require-all': { type: 'boolean' } }, help);
  const dir = onePositional(positionals, 'one folder (a fetched bootstrap run)');
  if (!values.out || !values.shards) throw new UsageError(`--shards N and --out OUT are required\n\n${help}`);
  const report = await mergeShards(path.join(dir, 'shards'), values.out, intOption('shards', values.shards, 1), { requireAll: values['require-all'] });
  const files = Object.entries(report.jsonl)
    .map(([f, n]) => `${f} (${n})`)
    .join(', ');
  console.log(
    `merged ${report.shards - report.missing.length} of ${report.shards} shards into ${values.out}: ${files || 'no JSONL'}; ${report.copied} other files; ${report.duplicates} duplicate records dropped`,
  );
  if (report.missing.length) console.error(`shards not finished (no DONE): ${report.missing.join(', ')}`);
  return report.missing.length ? 1 : 0;
}
