/**
 * The "Training" view in the GIFT activity bar: cluster profiles → their runs, newest first, with
 * the Slurm state as the icon and job id, state and elapsed time as the description.
 */
import * as vscode from 'vscode';
import type { JobState, RunRecord } from '../../core/train';
import type { TrainingService } from './service';

export const TRAINING_VIEW_ID = 'gift.training';

export type TrainingNode = { kind: 'profile'; label: string } | { kind: 'run'; runId: string; profileLabel: string };

const STATE_ICONS: Record<JobState, [string, string?]> = {
  PENDING: ['clock', 'charts.yellow'],
  RUNNING: ['sync~spin', 'charts.blue'],
  COMPLETED: ['pass', 'testing.iconPassed'],
  FAILED: ['error', 'testing.iconFailed'],
  CANCELLED: ['circle-slash', 'disabledForeground'],
  TIMEOUT: ['watch', 'testing.iconFailed'],
  UNKNOWN: ['question'],
};

export function stateIcon(state: JobState): vscode.ThemeIcon {
  const [id, color] = STATE_ICONS[state] ?? STATE_ICONS.UNKNOWN;
  return new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
}

export class TrainingTreeProvider implements vscode.TreeDataProvider<TrainingNode>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<TrainingNode | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly service: TrainingService) {
    this.subscription = service.onDidChange(() => this.refresh());
  }

  refresh(): void {
    this.changeEmitter.fire(undefined);
  }

  getChildren(element?: TrainingNode): TrainingNode[] {
    // No profiles and no runs: the view's welcome content explains how to add one.
    if (!element) return this.service.profiles().map((p) => ({ kind: 'profile', label: p.label }));
    if (element.kind !== 'profile') return [];
    return this.runsOf(element.label).map((r) => ({ kind: 'run', runId: r.id, profileLabel: element.label }));
  }

  private runsOf(label: string): RunRecord[] {
    return this.service
      .runs()
      .filter((r) => (r.profile.name ?? r.profile.host) === label)
      .sort((a, b) => b.submitted.localeCompare(a.submitted));
  }

  getParent(element: TrainingNode): TrainingNode | undefined {
    return element.kind === 'run' ? { kind: 'profile', label: element.profileLabel } : undefined;
  }

  getTreeItem(element: TrainingNode): vscode.TreeItem {
    if (element.kind === 'profile') return this.profileItem(element.label);
    const run = this.service.runs().find((r) => r.id === element.runId);
    if (!run) return new vscode.TreeItem(element.runId);
    const status = this.service.status(run.id);
    const item = new vscode.TreeItem(run.id, vscode.TreeItemCollapsibleState.None);
    item.id = `run:${run.id}`;
    item.iconPath = stateIcon(run.state);
    const exit = run.exitCode !== undefined && run.exitCode !== null && run.state !== 'COMPLETED' ? ` exit ${run.exitCode}` : '';
    const elapsed = status?.elapsed ? ` · ${status.elapsed}` : '';
    const following = this.service.isFollowing(run.id) ? ' · following' : '';
    item.description = `job ${run.jobId} · ${run.state}${exit}${elapsed}${following}`;
    item.contextValue = `run:${run.state}${run.fetchedTo ? ':fetched' : ''}`;
    const tooltip = new vscode.MarkdownString();
    tooltip.appendMarkdown(`**${run.id}** — ${run.recipe} recipe, Slurm job ${run.jobId}\n\n`);
    tooltip.appendMarkdown(`State: ${run.state}${exit}${run.reason ? ` (${run.reason})` : ''}\n\n`);
    tooltip.appendMarkdown(`Submitted ${new Date(run.submitted).toLocaleString()}\n\n`);
    tooltip.appendText(`Remote folder: ${run.remoteDir}\n`);
    if (run.fetchedTo) tooltip.appendText(`Fetched to: ${run.fetchedTo}\n`);
    item.tooltip = tooltip;
    item.command = { command: 'gift.train.followLogs', title: 'Follow Logs', arguments: [element] };
    return item;
  }

  private profileItem(label: string): vscode.TreeItem {
    const entry = this.service.profiles().find((p) => p.label === label);
    const runs = this.runsOf(label);
    const item = new vscode.TreeItem(label, runs.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    item.id = `profile:${label}`;
    item.contextValue = entry?.error ? 'profile:invalid' : entry?.configured ? 'profile' : 'profile:unconfigured';
    if (entry?.error) {
      item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
      item.description = 'invalid profile';
      item.tooltip = entry.error;
      return item;
    }
    const p = entry?.profile;
    const connection = this.service.connectionState(label);
    item.iconPath = new vscode.ThemeIcon(connection?.state === 'error' ? 'debug-disconnect' : connection?.state === 'reconnecting' ? 'sync~spin' : 'server');
    const where = p ? `${p.user ? `${p.user}@` : ''}${p.host}${p.port && p.port !== 22 ? `:${p.port}` : ''}` : '';
    const state =
      connection?.state === 'reconnecting'
        ? ' · reconnecting…'
        : connection?.state === 'error'
          ? ' · not connected'
          : connection?.state === 'connected'
            ? ` · connected${connection.reconnects ? ` (reconnected ${connection.reconnects}×)` : ''}`
            : '';
    item.description = `${where}${p?.partition ? ` (${p.partition})` : ''}${state}${entry?.configured === false ? ' · not in settings' : ''}`;
    item.tooltip = connection?.detail ? `${where}\n${connection.detail}` : where;
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changeEmitter.dispose();
  }
}
