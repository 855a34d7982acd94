/**
 * The local record of submitted runs (a small JSON file, default ~/.gift/train/runs.json), so a
 * restarted editor or CLI finds its jobs again: job id, where the run lives on the cluster, the
 * profile it was submitted with (no secrets: profiles hold none), and the last state seen.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TrainError, errorMessage } from '../errors';
import type { ClusterProfile } from './profile';
import type { RecipeName, RecipeOptions } from './recipes';
import type { JobState } from './slurm';

export interface RunRecord {
  /** Local run id (also the remote folder name): YYYYMMDD-HHMMSS-recipe-xxxx. */
  id: string;
  jobId: string;
  kind: 'train' | 'bootstrap';
  recipe: RecipeName | 'bootstrap';
  recipeOptions?: RecipeOptions;
  profile: ClusterProfile;
  /** The profile file it came from, when there was one. */
  profileFile?: string;
  /** Absolute remote run folder. */
  remoteDir: string;
  /** Absolute remote Slurm log (for arrays: with %a left for the task). */
  logFile: string;
  /** Local dataset folder or export trained on. */
  data?: string;
  submitted: string;
  state: JobState;
  exitCode?: number | null;
  signal?: number | null;
  reason?: string;
  updated: string;
  cancelRequested?: boolean;
  /** Where fetch put the artefacts. */
  fetchedTo?: string;
  /** bootstrap arrays: shard count. */
  shards?: number;
}

interface StateFile {
  version: 1;
  runs: RunRecord[];
}

export function defaultStateFile(): string {
  return process.env.GIFT_TRAIN_STATE || path.join(os.homedir(), '.gift', 'train', 'runs.json');
}

export function newRunId(recipe: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${recipe}-${crypto.randomBytes(2).toString('hex')}`;
}

/**
 * Reads and writes the state file. Every change re-reads the file first and writes atomically
 * (temporary file + rename), so two processes (editor and CLI) do not lose each other's runs.
 */
export class RunStore {
  constructor(readonly file = defaultStateFile()) {}

  private read(): StateFile {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, runs: [] };
      throw new TrainError(`cannot read the run state file ${this.file}: ${errorMessage(e)}`);
    }
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new TrainError(`run state file ${this.file} is not JSON (${errorMessage(e)}); move it away to start afresh`);
    }
    const s = v as StateFile;
    if (s?.version !== 1 || !Array.isArray(s.runs)) throw new TrainError(`run state file ${this.file} has an unknown layout`);
    return s;
  }

  private write(state: StateFile): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.${crypto.randomBytes(3).toString('hex')}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }

  list(): RunRecord[] {
    return this.read().runs;
  }

  /** By run id, Slurm job id, or a unique prefix of a run id. */
  find(idOrJob: string): RunRecord | undefined {
    const runs = this.read().runs;
    const exact = runs.find((r) => r.id === idOrJob) ?? [...runs].reverse().find((r) => r.jobId === idOrJob);
    if (exact) return exact;
    const prefixed = runs.filter((r) => r.id.startsWith(idOrJob));
    return prefixed.length === 1 ? prefixed[0] : undefined;
  }

  get(idOrJob: string): RunRecord {
    const r = this.find(idOrJob);
    if (!r) throw new TrainError(`no run '${idOrJob}' in ${this.file} (gift train list shows the runs known here)`);
    return r;
  }

  add(run: RunRecord): void {
    const s = this.read();
    s.runs = s.runs.filter((r) => r.id !== run.id);
    s.runs.push(run);
    this.write(s);
  }

  update(id: string, patch: Partial<RunRecord>): RunRecord {
    const s = this.read();
    const r = s.runs.find((x) => x.id === id);
    if (!r) throw new TrainError(`no run '${id}' in ${this.file}`);
    Object.assign(r, patch, { updated: new Date().toISOString() });
    this.write(s);
    return r;
  }

  remove(id: string): void {
    const s = this.read();
    s.runs = s.runs.filter((r) => r.id !== id);
    this.write(s);
  }
}
