/**
 * Slurm, as text: sbatch scripts from a profile and a recipe, and job states from squeue, sacct and
 * `scontrol show job` output (the latter when accounting is off), plus the job's own status file
 * for jobs Slurm has already forgotten. No I/O here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TrainError } from '../errors';
import type { ClusterProfile } from './profile';
import type { ClusterConnection } from './ssh';

export type JobState = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TIMEOUT' | 'UNKNOWN';
export const TERMINAL_STATES: readonly JobState[] = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT'];

export function isTerminal(state: JobState): boolean {
  return TERMINAL_STATES.includes(state);
}

export type StatusSource = 'squeue' | 'sacct' | 'scontrol' | 'status-file';

/** What Slurm says of a job or of one of its tasks. */
interface StatusFields {
  state: JobState;
  /** Slurm's own word (e.g. OUT_OF_MEMORY, NODE_FAIL, "CANCELLED by 0"). */
  rawState: string;
  exitCode: number | null;
  /** The signal that ended it (the number after ':' in ExitCode). */
  signal: number | null;
  reason?: string;
  elapsed?: string;
  nodes?: string;
}

export interface TaskStatus extends StatusFields {
  /** Job id, or ARRAYID_TASK for array tasks (ARRAYID_[a-b] for a pending range). */
  id: string;
  source: StatusSource;
}

export interface JobStatus extends StatusFields {
  jobId: string;
  /** One entry per job or array task, in id order. */
  tasks: TaskStatus[];
  /** Where the answer came from, most trusted first. */
  sources: StatusSource[];
  /** False when sacct said accounting storage is disabled. */
  accounting: boolean;
}

/** Slurm's many job states folded into the six a user acts on (plus UNKNOWN). */
export function normalizeSlurmState(raw: string): JobState {
  const word = raw.trim().split(/[\s+]/)[0].toUpperCase();
  switch (word) {
    case 'PENDING':
    case 'PD':
    case 'REQUEUED':
    case 'REQUEUE_FED':
    case 'REQUEUE_HOLD':
    case 'RESV_DEL_HOLD':
    case 'PREEMPTED': // requeued or cancelled next; pending until Slurm says which
    case 'SPECIAL_EXIT':
      return 'PENDING';
    case 'RUNNING':
    case 'R':
    case 'CONFIGURING':
    case 'CF':
    case 'COMPLETING':
    case 'CG':
    case 'SUSPENDED':
    case 'S':
    case 'STOPPED':
    case 'SIGNALING':
    case 'STAGE_OUT':
    case 'RESIZING':
      return 'RUNNING';
    case 'COMPLETED':
    case 'CD':
      return 'COMPLETED';
    case 'FAILED':
    case 'F':
    case 'NODE_FAIL':
    case 'NF':
    case 'OUT_OF_MEMORY':
    case 'OOM':
    case 'BOOT_FAIL':
    case 'BF':
    case 'DEADLINE':
    case 'DL':
    case 'REVOKED':
    case 'RV':
      return 'FAILED';
    case 'CANCELLED':
    case 'CA':
      return 'CANCELLED';
    case 'TIMEOUT':
    case 'TO':
      return 'TIMEOUT';
    default:
      return 'UNKNOWN';
  }
}

function parseExitCode(text: string | undefined): { exitCode: number | null; signal: number | null } {
  const m = /^(\d+)(?::(\d+))?$/.exec((text ?? '').trim());
  if (!m) return { exitCode: null, signal: null };
  return { exitCode: Number(m[1]), signal: m[2] === undefined ? null : Number(m[2]) };
}

/** The squeue format statusProbeCommand uses. */
export const SQUEUE_FORMAT = '%i|%T|%r|%M|%N';
/** The sacct fields statusProbeCommand asks for (-P: '|'-separated). */
export const SACCT_FIELDS = 'JobID,State,ExitCode,Elapsed,NodeList';

/** `squeue -h -o '%i|%T|%r|%M|%N'` lines. */
export function parseSqueue(text: string): TaskStatus[] {
  const tasks: TaskStatus[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split('|');
    if (parts.length < 2 || !/^\d+/.test(parts[0])) continue;
    const [id, raw, reason, elapsed, nodes] = parts;
    tasks.push({
      id,
      state: normalizeSlurmState(raw),
      rawState: raw,
      exitCode: null,
      signal: null,
      reason: reason && reason !== 'None' ? reason : undefined,
      elapsed: elapsed || undefined,
      nodes: nodes || undefined,
      source: 'squeue',
    });
  }
  return tasks;
}

/** `sacct -X -P -n -o JobID,State,ExitCode,Elapsed,NodeList` lines (job steps, with a '.', skipped). */
export function parseSacct(text: string): TaskStatus[] {
  const tasks: TaskStatus[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split('|');
    if (parts.length < 3 || !/^\d+/.test(parts[0]) || parts[0].includes('.')) continue;
    const [id, raw, exit, elapsed, nodes] = parts;
    tasks.push({
      id,
      state: normalizeSlurmState(raw),
      rawState: raw,
      ...parseExitCode(exit),
      elapsed: elapsed || undefined,
      nodes: nodes && nodes !== 'None assigned' ? nodes : undefined,
      source: 'sacct',
    });
  }
  return tasks;
}

/** `scontrol show job -o` output: one line of Key=Value words per job (or array task). */
export function parseScontrol(text: string): TaskStatus[] {
  const tasks: TaskStatus[] = [];
  for (const line of text.split('\n')) {
    if (!/^\s*JobId=/.test(line)) continue;
    const fields = new Map<string, string>();
    for (const word of line.trim().split(/\s+/)) {
      const eq = word.indexOf('=');
      if (eq > 0 && !fields.has(word.slice(0, eq))) fields.set(word.slice(0, eq), word.slice(eq + 1));
    }
    const arrayJob = fields.get('ArrayJobId');
    const arrayTask = fields.get('ArrayTaskId');
    const id = arrayJob && arrayTask ? `${arrayJob}_${/^\d+$/.test(arrayTask) ? arrayTask : `[${arrayTask}]`}` : fields.get('JobId')!;
    const raw = fields.get('JobState') ?? '';
    const reason = fields.get('Reason');
    tasks.push({
      id,
      state: normalizeSlurmState(raw),
      rawState: raw,
      ...parseExitCode(fields.get('ExitCode')),
      reason: reason && reason !== 'None' ? reason : undefined,
      elapsed: fields.get('RunTime'),
      nodes: fields.get('NodeList') || undefined,
      source: 'scontrol',
    });
  }
  return tasks;
}

/**
 * The job script's status file(s): one JSON object per line, {jobId, task?, exitCode}. Used only
 * once Slurm no longer knows the job; a run we cancelled ourselves reads as CANCELLED.
 */
export function parseStatusFiles(text: string, cancelRequested: boolean): TaskStatus[] {
  const tasks: TaskStatus[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    let v: { jobId?: unknown; task?: unknown; exitCode?: unknown };
    try {
      v = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof v.exitCode !== 'number' || (typeof v.jobId !== 'string' && typeof v.jobId !== 'number')) continue;
    const id = v.task !== undefined && v.task !== null && v.task !== '' ? `${v.jobId}_${v.task}` : String(v.jobId);
    // bash reports death by signal N as 128+N
    const signal = v.exitCode > 128 ? v.exitCode - 128 : null;
    const state: JobState = v.exitCode === 0 ? 'COMPLETED' : cancelRequested ? 'CANCELLED' : 'FAILED';
    tasks.push({ id, state, rawState: `exit ${v.exitCode}`, exitCode: signal ? 0 : v.exitCode, signal, source: 'status-file' });
  }
  return tasks;
}

const STATE_PRECEDENCE: JobState[] = ['RUNNING', 'PENDING', 'FAILED', 'TIMEOUT', 'CANCELLED', 'COMPLETED', 'UNKNOWN'];

/**
 * One status from what each source said. Per task the most live source wins for the state (squeue,
 * then scontrol, sacct, the status file), exit codes fill in from whichever source has them; the
 * job's state is its "worst" task's: running > pending > failed > timeout > cancelled > completed.
 */
export function combineStatus(jobId: string, bySource: Partial<Record<StatusSource, TaskStatus[]>>, accounting = true): JobStatus {
  const order: StatusSource[] = ['squeue', 'scontrol', 'sacct', 'status-file'];
  const tasks = new Map<string, TaskStatus>();
  const sources: StatusSource[] = [];
  for (const source of order) {
    const list = bySource[source] ?? [];
    if (list.length) sources.push(source);
    for (const t of list) {
      const known = tasks.get(t.id);
      if (!known) {
        tasks.set(t.id, { ...t });
        continue;
      }
      known.exitCode ??= t.exitCode;
      known.signal ??= t.signal;
      known.reason ??= t.reason;
      known.elapsed ??= t.elapsed;
      known.nodes ??= t.nodes;
    }
  }
  const list = [...tasks.values()].sort((a, b) => compareTaskIds(a.id, b.id));
  if (list.length === 0) {
    return { jobId, state: 'UNKNOWN', rawState: 'UNKNOWN', exitCode: null, signal: null, tasks: [], sources, accounting };
  }
  const worst = list.reduce((w, t) => (STATE_PRECEDENCE.indexOf(t.state) < STATE_PRECEDENCE.indexOf(w.state) ? t : w), list[0]);
  const failed = list.find((t) => (t.exitCode ?? 0) !== 0) ?? worst;
  return {
    jobId,
    state: worst.state,
    rawState: list.length === 1 ? worst.rawState : summarizeTasks(list),
    exitCode: failed.exitCode,
    signal: failed.signal,
    reason: worst.reason,
    elapsed: worst.elapsed,
    nodes: worst.nodes,
    tasks: list,
    sources,
    accounting,
  };
}

function compareTaskIds(a: string, b: string): number {
  const num = (s: string) =>
    s
      .split(/[_[\]-]/)
      .filter(Boolean)
      .map(Number);
  const x = num(a);
  const y = num(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d) return d;
  }
  return a.localeCompare(b);
}

function summarizeTasks(tasks: TaskStatus[]): string {
  const counts = new Map<string, number>();
  for (const t of tasks) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
}

const JOB_ID = /^\d+(_\d+)?$/;

export function validateJobId(jobId: string): string {
  if (!JOB_ID.test(jobId)) throw new TrainError(`'${jobId}' is not a Slurm job id`);
  return jobId;
}

/** Section markers in the probe's output. */
const SECTION = '@@gift-section';

/**
 * One shell command asking every source at once (one round trip): squeue, sacct, scontrol, and the
 * run folder's status files. parseStatusProbe reads its output.
 */
export function statusProbeCommand(jobId: string, runDir: string): string {
  validateJobId(jobId);
  const q = shellQuote(runDir);
  return [
    `echo '${SECTION} squeue'; squeue -h -j ${jobId} -o '${SQUEUE_FORMAT}' 2>&1`,
    `echo '${SECTION} sacct'; sacct -X -P -n -j ${jobId} -o ${SACCT_FIELDS} 2>&1`,
    `echo '${SECTION} scontrol'; scontrol show job -o ${jobId} 2>&1`,
    `echo '${SECTION} status'; for f in ${q}/status*.json; do [ -f "$f" ] && cat "$f" && echo; done`,
    'true',
  ].join('\n');
}

export function parseStatusProbe(jobId: string, output: string, cancelRequested = false): JobStatus {
  const sections = new Map<string, string>();
  let current = '';
  for (const line of output.split('\n')) {
    if (line.startsWith(SECTION)) {
      current = line.slice(SECTION.length).trim();
      sections.set(current, '');
    } else if (current) {
      sections.set(current, `${sections.get(current)! + line}\n`);
    }
  }
  const sacctText = sections.get('sacct') ?? '';
  return combineStatus(
    jobId,
    {
      squeue: parseSqueue(sections.get('squeue') ?? ''),
      sacct: parseSacct(sacctText),
      scontrol: parseScontrol(sections.get('scontrol') ?? ''),
      'status-file': parseStatusFiles(sections.get('status') ?? '', cancelRequested),
    },
    !/accounting storage is disabled/i.test(sacctText),
  );
}

/** `sbatch --parsable` prints "JOBID" or "JOBID;CLUSTER". */
export function parseSbatchParsable(stdout: string): string {
  const line = stdout.trim().split('\n').pop() ?? '';
  const id = line.split(';')[0].trim();
  if (!/^\d+$/.test(id)) throw new TrainError(`sbatch did not print a job id (got '${stdout.trim().slice(0, 200)}')`);
  return id;
}

/**
 * Prepares a run folder (shell commands joined with &&), writes its job script and submits it.
 * sbatch is never retried on a dropped connection: a second sbatch would be a second job.
 */
export async function submitJobScript(conn: ClusterConnection, runDir: string, script: string, prepare: string[]): Promise<string> {
  await conn.run(prepare.join(' && '));
  await conn.writeFile(`${runDir}/job.sbatch`, script);
  return parseSbatchParsable(await conn.run(`sbatch --parsable ${shellQuote(`${runDir}/job.sbatch`)}`, { idempotent: false }));
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface SbatchJob {
  /** Slurm job name. */
  name: string;
  /** Remote run folder (absolute): the job's working directory, log and status files. */
  runDir: string;
  runId: string;
  recipe: string;
  /** The recipe's shell command(s), run in runDir after the profile's setup lines. */
  command: string;
  /** Job array: `--array=0-(N-1)` (with %max when given). */
  array?: { count: number; maxParallel?: number };
  /** Overrides of the profile's resources for this job. */
  gpus?: number;
  cpus?: number;
  /** Extra environment exported before the command. */
  env?: Record<string, string>;
}

/** The `#SBATCH` lines for a job: resources from the profile, paths from the job. */
export function sbatchDirectives(profile: ClusterProfile, job: SbatchJob): string[] {
  const log = job.array ? 'slurm-%A_%a.out' : 'slurm-%j.out';
  const d: string[] = [`--job-name=${job.name}`, `--chdir=${job.runDir}`, `--output=${job.runDir}/${log}`, `--error=${job.runDir}/${log}`];
  if (profile.partition) d.push(`--partition=${profile.partition}`);
  if (profile.account) d.push(`--account=${profile.account}`);
  if (profile.qos) d.push(`--qos=${profile.qos}`);
  d.push(`--nodes=${profile.nodes ?? 1}`, '--ntasks-per-node=1');
  const gpus = job.gpus ?? profile.gpus ?? 0;
  if (gpus > 0) d.push(`--gres=gpu:${profile.gpuType ? `${profile.gpuType}:` : ''}${gpus}`);
  const cpus = job.cpus ?? profile.cpus;
  if (cpus) d.push(`--cpus-per-task=${cpus}`);
  if (profile.memory) d.push(`--mem=${profile.memory}`);
  if (profile.time) d.push(`--time=${profile.time}`);
  if (job.array) {
    if (!Number.isInteger(job.array.count) || job.array.count < 1) throw new TrainError(`array count must be ≥ 1, got ${job.array.count}`);
    d.push(`--array=0-${job.array.count - 1}${job.array.maxParallel ? `%${job.array.maxParallel}` : ''}`);
  }
  d.push(...(profile.sbatchOptions ?? []));
  for (const line of d) {
    if (/[\s]/.test(line.replace(/^--[a-z-]+=/, ''))) throw new TrainError(`sbatch option '${line}' contains whitespace, which #SBATCH lines cannot carry`);
  }
  return d.map((o) => `#SBATCH ${o}`);
}

/** Fills `{{NAME}}` placeholders; an unknown or unfilled placeholder is an error. */
export function renderTemplate(template: string, values: Record<string, string>, name = 'template'): string {
  const out = template.replace(/\{\{([A-Z_]+)\}\}/g, (_, key: string) => {
    const v = values[key];
    if (v === undefined) throw new TrainError(`${name}: no value for {{${key}}}`);
    return v;
  });
  return out;
}

/** The folder holding the sbatch templates (training/sbatch), found from this file or the bundle. */
export function findTrainingDir(start = __dirname): string {
  let dir = start;
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, 'training');
    if (fs.existsSync(path.join(candidate, 'sbatch'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new TrainError(`cannot find the training/ folder (with sbatch/ templates) above ${start}`);
}

export function readSbatchTemplate(name: 'train' | 'bootstrap-array', trainingDir = findTrainingDir()): string {
  return fs.readFileSync(path.join(trainingDir, 'sbatch', `${name}.sbatch`), 'utf8');
}

/** The complete sbatch script: template + directives + setup lines + the recipe's command. */
export function buildSbatchScript(profile: ClusterProfile, job: SbatchJob, template: string): string {
  const env = Object.entries(job.env ?? {})
    .map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new TrainError(`environment variable name '${k}' is not valid`);
      return `export ${k}=${shellQuote(v)}`;
    })
    .join('\n');
  return renderTemplate(
    template,
    {
      DIRECTIVES: sbatchDirectives(profile, job).join('\n'),
      RUN_ID: job.runId,
      RECIPE: job.recipe,
      RUN_DIR: shellQuote(job.runDir),
      SETUP: (profile.setup ?? []).join('\n') || ':',
      ENV: env || ':',
      COMMAND: job.command,
    },
    `sbatch template for ${job.recipe}`,
  );
}
