/**
 * Remote training for the "Training" view: cluster profiles from `gift.train.profiles`, one SSH
 * connection per profile (host keys checked; passphrases from SecretStorage or asked once), the
 * run records in a RunStore under globalStorage (so a reloaded window finds its jobs again), and a
 * poller that refreshes unfinished runs. The Slurm/SSH work itself is the core's (src/core/train).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  cancelRun,
  ClusterConnection,
  fetchRun,
  followRun,
  isTerminal,
  parseProfile,
  readLog,
  refreshStatus,
  RunStore,
  SshError,
  submitTraining,
  tailLines,
  type ClusterProfile,
  type FetchResult,
  type JobStatus,
  type RunRecord,
  type SubmitOptions,
  type SubmitResult,
  type UnknownHostKey,
} from '../../core/train';
import { log } from '../log';
import type { GiftSecrets } from '../secrets';
import { readSettings } from '../settings';
import { errorMessage } from '../../core/errors';

export interface ProfileEntry {
  /** The name runs are grouped by: the profile's name, else its host. */
  label: string;
  profile?: ClusterProfile;
  /** Why the settings entry is not a usable profile. */
  error?: string;
  /** In gift.train.profiles (false: only known from recorded runs). */
  configured: boolean;
}

/** The questions connecting may ask; tests replace them (VS Code modals cannot be answered from a test). */
export interface TrainingPrompts {
  /** Unknown host key: true trusts it (appended to known_hosts). */
  confirmHostKey(key: UnknownHostKey): Promise<boolean>;
  /** The identity file's passphrase; undefined = cancelled. */
  askPassphrase(profileLabel: string, reason: string): Promise<string | undefined>;
  /** After a passphrase worked: remember it in SecretStorage? */
  offerToRemember(profileLabel: string): Promise<boolean>;
}

export const uiPrompts: TrainingPrompts = {
  async confirmHostKey(k) {
    const trust = 'Trust and Connect';
    const known = k.otherTypes.length ? `\nKeys of other types are known for this host: ${k.otherTypes.join(', ')}.` : '';
    const choice = await vscode.window.showWarningMessage(
      `The authenticity of ${k.label} (${k.host}:${k.port}) cannot be established.`,
      {
        modal: true,
        detail: `Its ${k.keyType} host key fingerprint is\n${k.fingerprint}\n\nCompare it with the one your cluster's administrators publish. Trusting adds it to ${k.knownHostsFile}.${known}`,
      },
      trust,
    );
    return choice === trust;
  },
  async askPassphrase(profileLabel, reason) {
    return vscode.window.showInputBox({
      title: `GIFT: SSH key passphrase for ${profileLabel}`,
      prompt: reason,
      password: true,
      ignoreFocusOut: true,
    });
  },
  async offerToRemember(profileLabel) {
    const remember = 'Remember';
    const choice = await vscode.window.showInformationMessage(`Remember the SSH key passphrase for ${profileLabel} in the OS keychain?`, remember, 'Not Now');
    return choice === remember;
  },
};

export function profileLabel(profile: ClusterProfile): string {
  return profile.name ?? profile.host;
}

export type ConnectionState = {
  state: 'connected' | 'connecting' | 'reconnecting' | 'error';
  detail?: string /** Drops recovered from so far. */;
  reconnects?: number;
};

export class TrainingService implements vscode.Disposable {
  readonly store: RunStore;
  prompts: TrainingPrompts = uiPrompts;
  private readonly connections = new Map<string, Promise<ClusterConnection>>();
  private readonly connectionStates = new Map<string, ConnectionState>();
  private readonly statuses = new Map<string, JobStatus>();
  private readonly follows = new Map<string, { controller: AbortController; done: Promise<JobStatus> }>();
  private readonly channels = new Map<string, vscode.OutputChannel>();
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changeEmitter.event;
  private pollTimer?: ReturnType<typeof setTimeout>;
  private polling = false;
  private disposed = false;

  constructor(
    private readonly secrets: GiftSecrets,
    /** globalStorage: runs.json and fetched models live under it. */
    private readonly storageDir: string,
  ) {
    this.store = new RunStore(path.join(storageDir, 'train', 'runs.json'));
  }

  /** Where Fetch Artefacts puts a run's files. */
  modelDir(run: RunRecord): string {
    return path.join(this.storageDir, 'models', run.id);
  }

  profiles(): ProfileEntry[] {
    const raw = vscode.workspace.getConfiguration('gift').get<unknown[]>('train.profiles', []);
    const entries: ProfileEntry[] = [];
    (Array.isArray(raw) ? raw : []).forEach((value, i) => {
      const source = `gift.train.profiles[${i}]`;
      try {
        const profile = parseProfile(value, source);
        entries.push({ label: profileLabel(profile), profile, configured: true });
      } catch (e) {
        const name = (value as { name?: unknown; host?: unknown } | null)?.name ?? (value as { host?: unknown } | null)?.host;
        entries.push({ label: typeof name === 'string' ? name : source, error: errorMessage(e), configured: true });
      }
    });
    // Runs submitted with a profile that is no longer configured stay visible under their own.
    for (const run of this.runs()) {
      const label = profileLabel(run.profile);
      if (!entries.some((e) => e.label === label)) entries.push({ label, profile: run.profile, configured: false });
    }
    return entries;
  }

  profile(label: string): ClusterProfile {
    const entry = this.profiles().find((p) => p.label === label);
    if (!entry) throw new Error(`no cluster profile '${label}' in gift.train.profiles`);
    if (!entry.profile) throw new Error(entry.error ?? `profile '${label}' is not usable`);
    return entry.profile;
  }

  runs(): RunRecord[] {
    try {
      return this.store.list();
    } catch (e) {
      log().error(`training: ${errorMessage(e)}`);
      return [];
    }
  }

  run(idOrJob: string): RunRecord {
    return this.store.get(idOrJob);
  }

  /** The last status the poller or a command saw (has `elapsed`). */
  status(runId: string): JobStatus | undefined {
    return this.statuses.get(runId);
  }

  connectionState(label: string): ConnectionState | undefined {
    return this.connectionStates.get(label);
  }

  isFollowing(runId: string): boolean {
    return this.follows.has(runId);
  }

  /** Resolves when the run's Follow Logs ends (with its last status). */
  following(runId: string): Promise<JobStatus> | undefined {
    return this.follows.get(runId)?.done;
  }

  changed(): void {
    this.changeEmitter.fire();
  }

  private setConnectionState(label: string, state: ConnectionState): void {
    this.connectionStates.set(label, state);
    this.changed();
  }

  /**
   * The profile's connection, opened on first use. `interactive` may ask about an unknown host key
   * and for a passphrase; the poller never asks (an unknown host then stays "not connected").
   */
  connect(profile: ClusterProfile, options: { interactive: boolean }): Promise<ClusterConnection> {
    const label = profileLabel(profile);
    const existing = this.connections.get(label);
    if (existing) return existing;
    const opening = this.open(profile, label, options.interactive);
    this.connections.set(label, opening);
    this.setConnectionState(label, { state: 'connecting' });
    opening.then(
      (conn) => this.setConnectionState(label, { state: 'connected', detail: conn.label }),
      (e: Error) => {
        if (this.connections.get(label) === opening) this.connections.delete(label);
        this.setConnectionState(label, { state: 'error', detail: e.message });
      },
    );
    return opening;
  }

  private async open(profile: ClusterProfile, label: string, interactive: boolean): Promise<ClusterConnection> {
    const connectOptions = (passphrase: string | undefined) => ({
      passphrase,
      reconnectForMs: 60_000,
      log: (line: string) => {
        log().info(`[${label}] ${line}`);
        const reconnects = this.connectionStates.get(label)?.reconnects ?? 0;
        if (/ lost |reconnect to .* failed/.test(line)) this.setConnectionState(label, { state: 'reconnecting', detail: line, reconnects });
        else if (/^reconnected/.test(line)) {
          this.setConnectionState(label, { state: 'connected', detail: `${line} at ${new Date().toLocaleTimeString()}`, reconnects: reconnects + 1 });
        }
      },
      onUnknownHostKey: async (key: UnknownHostKey) => {
        if (!interactive) return false;
        const trusted = await this.prompts.confirmHostKey(key);
        log().info(`[${label}] ${key.keyType} host key ${key.fingerprint} of ${key.label} ${trusted ? 'trusted by the user' : 'not trusted'}`);
        return trusted;
      },
    });
    const stored = await this.secrets.passphrase(label);
    try {
      return await ClusterConnection.open(profile, connectOptions(stored));
    } catch (e) {
      const needsPassphrase = e instanceof SshError && e.kind === 'auth' && /encrypted/.test(e.message);
      if (!needsPassphrase || !interactive) throw e;
      if (stored) await this.secrets.forgetPassphrase(label); // it no longer opens the key
      const entered = await this.prompts.askPassphrase(
        label,
        errorMessage(e)
          .replace(/\(gift train --passphrase-env VAR\)/, '')
          .trim(),
      );
      if (!entered) throw new Error(`no passphrase entered for ${label}`);
      const conn = await ClusterConnection.open(profile, connectOptions(entered));
      if (await this.prompts.offerToRemember(label)) await this.secrets.rememberPassphrase(label, entered);
      return conn;
    }
  }

  /** Closes every connection (after gift.train.profiles changes, or on dispose). */
  closeConnections(): void {
    for (const [label, opening] of this.connections) {
      opening.then(
        (c) => c.close(),
        () => undefined,
      );
      this.connectionStates.delete(label);
    }
    this.connections.clear();
    this.changed();
  }

  private connectFor(run: RunRecord, interactive: boolean): Promise<ClusterConnection> {
    // The configured profile when it still exists (it may carry a fixed key path), else the run's own.
    const label = profileLabel(run.profile);
    const configured = this.profiles().find((p) => p.label === label && p.configured && p.profile)?.profile;
    return this.connect(configured ?? run.profile, { interactive });
  }

  async submit(options: Omit<SubmitOptions, 'profile'> & { profileLabel: string }, onProgress: (line: string) => void): Promise<SubmitResult> {
    const profile = this.profile(options.profileLabel);
    const conn = await this.connect(profile, { interactive: true });
    const result = await submitTraining(conn, this.store, {
      ...options,
      profile,
      onProgress: (line) => {
        log().info(`[${options.profileLabel}] ${line}`);
        onProgress(line);
      },
    });
    this.changed();
    this.schedulePoll(1000);
    return result;
  }

  async refresh(run: RunRecord, interactive = true): Promise<JobStatus> {
    const conn = await this.connectFor(run, interactive);
    const label = profileLabel(run.profile);
    // The core reconnects inside the next call; say so while it does.
    if (!conn.connected)
      this.setConnectionState(label, { ...this.connectionStates.get(label), state: 'reconnecting', detail: 'the connection dropped; reconnecting' });
    const status = await refreshStatus(conn, this.store, run);
    this.statuses.set(run.id, status);
    this.changed();
    return status;
  }

  /** Refreshes every unfinished run (and starts polling while there are some). */
  async refreshAll(interactive: boolean): Promise<void> {
    const open = this.runs().filter((r) => !isTerminal(r.state) && !this.follows.has(r.id));
    await Promise.all(
      open.map((run) =>
        this.refresh(run, interactive).catch((e: Error) => log().warn(`training: could not refresh ${run.id} (job ${run.jobId}): ${e.message}`)),
      ),
    );
    this.changed();
  }

  /** Polls unfinished runs every gift.train.pollSeconds while there are any. */
  schedulePoll(delayMs = readSettings().train.pollSeconds * 1000): void {
    if (this.disposed || this.pollTimer) return;
    if (!this.runs().some((r) => !isTerminal(r.state))) return;
    this.pollTimer = setTimeout(async () => {
      this.pollTimer = undefined;
      if (this.polling) return;
      this.polling = true;
      try {
        await this.refreshAll(false);
      } finally {
        this.polling = false;
        this.schedulePoll();
      }
    }, delayMs);
  }

  private channel(run: RunRecord): vscode.OutputChannel {
    let channel = this.channels.get(run.id);
    if (!channel) {
      channel = vscode.window.createOutputChannel(`GIFT Training: ${run.id}`);
      this.channels.set(run.id, channel);
    }
    return channel;
  }

  /** The run's output channel text so far is not readable back from VS Code: tests read this copy. */
  readonly followedText = new Map<string, string>();

  /**
   * Streams the run's Slurm log into its own output channel until the job ends. A second call while
   * following just shows the channel.
   */
  follow(run: RunRecord, options: { pollMs?: number; show?: boolean } = {}): Promise<JobStatus> {
    const channel = this.channel(run);
    if (options.show !== false) channel.show(true);
    const existing = this.follows.get(run.id);
    if (existing) return existing.done;
    const controller = new AbortController();
    const append = (text: string) => {
      channel.append(text);
      this.followedText.set(run.id, (this.followedText.get(run.id) ?? '') + text);
    };
    const done = (async () => {
      const conn = await this.connectFor(run, true);
      channel.clear();
      this.followedText.set(run.id, '');
      append(`# ${run.id}: job ${run.jobId} on ${conn.label}, log ${run.logFile}\n`);
      const status = await followRun(conn, this.store, run, {
        pollMs: options.pollMs ?? Math.min(5000, readSettings().train.pollSeconds * 1000),
        signal: controller.signal,
        onLog: append,
        onState: (s) => {
          this.statuses.set(run.id, s);
          this.changed();
        },
      });
      this.statuses.set(run.id, status);
      if (isTerminal(status.state)) append(`\n# ${status.state}${status.exitCode !== null ? ` (exit ${status.exitCode})` : ''}\n`);
      return status;
    })();
    const entry = { controller, done };
    this.follows.set(run.id, entry);
    const finish = () => {
      if (this.follows.get(run.id) === entry) this.follows.delete(run.id);
      this.changed();
    };
    done.then(finish, (e: Error) => {
      append(`\n# following stopped: ${e.message}\n`);
      finish();
    });
    this.changed();
    return done;
  }

  async cancel(run: RunRecord): Promise<JobStatus> {
    const conn = await this.connectFor(run, true);
    await cancelRun(conn, this.store, run);
    log().info(`training: cancel requested for ${run.id} (job ${run.jobId})`);
    const status = await refreshStatus(conn, this.store, run);
    this.statuses.set(run.id, status);
    this.changed();
    this.schedulePoll(1000);
    return status;
  }

  async fetch(run: RunRecord): Promise<FetchResult> {
    const conn = await this.connectFor(run, true);
    const out = this.modelDir(run);
    const result = await fetchRun(conn, this.store, run, out);
    log().info(`training: fetched ${result.files.length} file(s) (${result.bytes} bytes) of ${run.id} into ${result.outDir}`);
    this.changed();
    return result;
  }

  /** The last lines of the run's log (for failure messages). */
  async logTail(run: RunRecord, lines = 15): Promise<string | undefined> {
    const conn = await this.connectFor(run, false);
    const chunk = await readLog(conn, run);
    return chunk.missing ? undefined : tailLines(chunk.text, lines);
  }

  /** Whether a fetched folder holds an ONNX model the 'onnx' backend can load. */
  static isOnnxModel(dir: string): boolean {
    return fs.existsSync(path.join(dir, 'model.onnx')) && fs.existsSync(path.join(dir, 'model.json'));
  }

  dispose(): void {
    this.disposed = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    for (const f of this.follows.values()) f.controller.abort();
    this.follows.clear();
    this.closeConnections();
    for (const c of this.channels.values()) c.dispose();
    this.channels.clear();
    this.changeEmitter.dispose();
  }
}
