/**
 * The GIFT dataset the window works with: which folder is open (remembered per workspace), the
 * core `Dataset` handle on it, and a change event fired after our own writes and when another
 * window, the CLI or a cluster job changes the manifests on disk: a FileSystemWatcher for quick
 * updates, and a poll for writes no file event reports (NFS, exhausted inotify); debounced.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { openDataset, pollDataset, type Dataset, type DatasetPoller } from '../../core/dataset';
import { log } from '../log';
import { errorMessage } from '../../core/errors';

const FOLDER_KEY = 'gift.datasetFolder';
export const DEFAULT_DATASET_FOLDER = '.gift-dataset';
const CONTEXT_KEY = 'gift.datasetOpen';

export class DatasetService implements vscode.Disposable {
  private dataset?: Dataset;
  private watcher?: vscode.FileSystemWatcher;
  private poller?: DatasetPoller;
  private refreshTimer?: ReturnType<typeof setTimeout>;
  private restoring?: Promise<Dataset | undefined>;
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  /** Fires when the open dataset changes: another folder, our writes, or writes from elsewhere. */
  readonly onDidChange = this.changeEmitter.event;

  constructor(private readonly context: vscode.ExtensionContext) {}

  /** The open dataset, if any (without restoring the remembered one). */
  get current(): Dataset | undefined {
    return this.dataset;
  }

  /** `<first workspace folder>/.gift-dataset`, where new datasets go by default. */
  defaultFolder(): string | undefined {
    const folder = vscode.workspace.workspaceFolders?.[0];
    return folder && folder.uri.scheme === 'file' ? path.join(folder.uri.fsPath, DEFAULT_DATASET_FOLDER) : undefined;
  }

  /**
   * The open dataset; on first call reopens the folder this workspace used last, or the default
   * folder when a dataset already exists there. Undefined when there is none.
   */
  async restore(): Promise<Dataset | undefined> {
    if (this.dataset) return this.dataset;
    return (this.restoring ??= (async () => {
      const remembered = this.context.workspaceState.get<string>(FOLDER_KEY);
      // '' marks a dataset the user closed: then the default folder is not reopened by itself either.
      const fallback = remembered === '' ? undefined : this.defaultFolder();
      const candidates = [remembered, fallback].filter((d): d is string => !!d && fs.existsSync(path.join(d, 'dataset.json')));
      for (const dir of candidates) {
        try {
          return await this.open(dir);
        } catch (e) {
          log().warn(`could not reopen the dataset ${dir}: ${errorMessage(e)}`);
        }
      }
      void vscode.commands.executeCommand('setContext', CONTEXT_KEY, false);
      return undefined;
    })().finally(() => (this.restoring = undefined)));
  }

  /** Opens (or with `create`, creates) the dataset in `dir` and remembers it for this workspace. */
  async open(dir: string, options: { create?: boolean } = {}): Promise<Dataset> {
    const dataset = await openDataset(dir, { create: options.create });
    this.dataset = dataset;
    await this.context.workspaceState.update(FOLDER_KEY, dataset.dir);
    this.watch(dataset.dir);
    void vscode.commands.executeCommand('setContext', CONTEXT_KEY, true);
    log().info(`dataset ${dataset.info.name} open: ${dataset.dir}`);
    this.changeEmitter.fire();
    return dataset;
  }

  /** Closes the dataset view (the folder stays as it is) and forgets it for this workspace. */
  async close(): Promise<void> {
    this.dataset = undefined;
    this.unwatch();
    await this.context.workspaceState.update(FOLDER_KEY, '');
    void vscode.commands.executeCommand('setContext', CONTEXT_KEY, false);
    this.changeEmitter.fire();
  }

  /** Tells listeners the dataset changed (after writes made through this window). */
  changed(): void {
    this.changeEmitter.fire();
    void this.poller?.resync();
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.unwatch();
    this.changeEmitter.dispose();
  }

  private unwatch(): void {
    this.watcher?.dispose();
    this.watcher = undefined;
    this.poller?.dispose();
    this.poller = undefined;
  }

  private watch(dir: string): void {
    this.unwatch();
    // Manifests and dataset.json only: images change with them, and .lock churns on every read.
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dir), '{dataset.json,collections/*.jsonl}'));
    const schedule = () => {
      if (this.refreshTimer) clearTimeout(this.refreshTimer);
      // Appends come in bursts (an import writes a batch per collection): refresh once after them.
      this.refreshTimer = setTimeout(() => {
        this.refreshTimer = undefined;
        // changed() also tells the poller, so a write both notice is shown once.
        if (this.dataset?.dir === dir) this.changed();
      }, 250);
    };
    watcher.onDidChange(schedule);
    watcher.onDidCreate(schedule);
    watcher.onDidDelete(schedule);
    this.watcher = watcher;
    this.poller = pollDataset(dir, schedule);
  }
}
