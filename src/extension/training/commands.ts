/**
 * Commands of the Training view: Start Training Run… (profile → recipe → data → export, upload,
 * sbatch, with progress), Follow Logs, Cancel Run, Fetch Artefacts (an ONNX model becomes the
 * local backend at once; a VLM run gives its checkpoint path and a `vllm serve` command), Refresh.
 */
import * as vscode from 'vscode';
import { UserError } from '../../core/errors';
import { isTerminal, RECIPE_NAMES, type RecipeName, type RecipeOptions, type RunRecord } from '../../core/train';
import type { DatasetService } from '../dataset/service';
import { log } from '../log';
import { fail, type CommandOutcome } from '../outcome';
import type { TrainingNode } from './tree';
import { TrainingService } from './service';
import { errorMessage } from '../../core/errors';
import type { CommandTable } from '../commands';

/** What Start Training Run accepts as its argument (scripts and tests); anything missing is asked. */
export interface StartTrainingArgs {
  profile?: string;
  recipe?: RecipeName;
  /** Dataset collections (bundled/vlm; default: all of sft, srs, fda the dataset has). */
  collections?: string[];
  /** A GIFT dataset or export folder; default: the open dataset. The command recipe uploads it as is. */
  data?: string;
  recipeOptions?: RecipeOptions;
}

const RECIPE_ITEMS: Record<RecipeName, { label: string; detail: string }> = {
  bundled: { label: 'bundled', detail: 'The ONNX model GIFT ships (tiny/small/base); the model comes back and becomes the local backend.' },
  vlm: { label: 'vlm', detail: 'SFT of a Qwen2.5-VL CAD-Coder checkpoint (GPUs); the checkpoint stays on the cluster, serve it with vLLM.' },
  command: { label: 'command', detail: 'Any shell command in the run folder (data/ in, out/ out).' },
};

export class TrainingCommands {
  constructor(
    private readonly service: TrainingService,
    private readonly dataset: DatasetService,
  ) {}

  /** This area's part of the command table (commands.ts). */
  commands(): CommandTable {
    return {
      'train.start': (args?: StartTrainingArgs) => this.start(isStartArgs(args) ? args : {}),
      'train.followLogs': (target?: unknown) => this.followLogs(target),
      'train.cancel': (target?: unknown) => this.cancel(target),
      'train.fetch': (target?: unknown) => this.fetch(target),
      'train.refresh': () => this.refresh(),
      'train.editProfiles': () =>
        vscode.commands.executeCommand('workbench.action.openSettingsJson', { revealSetting: { key: 'gift.train.profiles', edit: true } }),
    };
  }

  async start(args: StartTrainingArgs): Promise<CommandOutcome> {
    const usable = this.service.profiles().filter((p) => p.configured && p.profile);
    if (usable.length === 0) {
      return fail('Start Training Run: no cluster profile in gift.train.profiles (host, user, workDir, partition…).', {
        title: 'Edit Profiles',
        run: () => vscode.commands.executeCommand('gift.train.editProfiles'),
      });
    }
    let label = args.profile;
    if (label === undefined) {
      label =
        usable.length === 1
          ? usable[0].label
          : (
              await vscode.window.showQuickPick(
                usable.map((p) => ({ label: p.label, description: `${p.profile!.host}${p.profile!.partition ? ` (${p.profile!.partition})` : ''}` })),
                { title: 'Start Training Run: cluster profile' },
              )
            )?.label;
    }
    if (label === undefined) return { ok: false, message: 'no profile chosen' };
    if (!usable.some((p) => p.label === label)) return fail(`Start Training Run: no usable cluster profile '${label}' in gift.train.profiles.`);

    let recipe = args.recipe;
    if (recipe === undefined) {
      recipe = (
        await vscode.window.showQuickPick(
          RECIPE_NAMES.map((name) => ({ ...RECIPE_ITEMS[name], name })),
          { title: 'Start Training Run: recipe' },
        )
      )?.name;
    }
    if (recipe === undefined) return { ok: false, message: 'no recipe chosen' };
    if (!RECIPE_NAMES.includes(recipe)) return fail(`Start Training Run: unknown recipe '${recipe}' (use ${RECIPE_NAMES.join(', ')}).`);

    const recipeOptions: RecipeOptions = { ...args.recipeOptions };
    let data = args.data;
    let collections = args.collections;
    if (recipe !== 'command' && data === undefined) {
      const ds = this.dataset.current ?? (await this.dataset.restore());
      if (!ds) return fail(`Start Training Run: the ${recipe} recipe trains on a GIFT dataset; open one first (GIFT: Open Dataset Folder…).`);
      data = ds.dir;
      if (collections === undefined) {
        const available = (await ds.collections()).filter((c) => c.count > 0);
        if (available.length === 0) return fail(`Start Training Run: the dataset ${ds.info.name} has no samples.`);
        const picked = await vscode.window.showQuickPick(
          available.map((c) => ({ label: c.name, description: `${c.count} samples`, picked: ['sft', 'srs', 'fda'].includes(c.name) })),
          { title: `Start Training Run: collections of ${ds.info.name} to train on`, canPickMany: true },
        );
        if (!picked || picked.length === 0) return { ok: false, message: 'no collections chosen' };
        collections = picked.map((p) => p.label);
      }
    }
    if (recipe === 'bundled' && recipeOptions.config === undefined && !args.recipeOptions) {
      const size = await vscode.window.showQuickPick(
        [
          { label: 'small', description: 'the shipped model size' },
          { label: 'tiny', description: 'minutes on a CPU; for trying the pipeline' },
          { label: 'base', description: 'larger; wants a GPU' },
        ],
        { title: 'Start Training Run: model size' },
      );
      if (!size) return { ok: false, message: 'no model size chosen' };
      recipeOptions.config = size.label as RecipeOptions['config'];
    }
    if (recipe === 'vlm' && recipeOptions.baseModel === undefined && !args.recipeOptions) {
      const base = await vscode.window.showInputBox({
        title: 'Start Training Run: checkpoint to fine-tune',
        prompt: 'A Hugging Face id or a path on the cluster',
        value: 'Qwen/Qwen2.5-VL-7B-Instruct',
        ignoreFocusOut: true,
      });
      if (!base) return { ok: false, message: 'no base model given' };
      recipeOptions.baseModel = base.trim();
    }
    if (recipe === 'command' && !recipeOptions.command) {
      const command = await vscode.window.showInputBox({
        title: 'Start Training Run: command',
        prompt: 'Runs in the run folder on the cluster: data/ holds the uploaded data, out/ is fetched back',
        ignoreFocusOut: true,
      });
      if (!command?.trim()) return { ok: false, message: 'no command given' };
      recipeOptions.command = command.trim();
    }

    const profileName = label;
    let result: Awaited<ReturnType<TrainingService['submit']>>;
    try {
      result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Training on ${profileName}` }, (progress) =>
        this.service.submit({ profileLabel: profileName, recipe: recipe!, recipeOptions, data, collections }, (line) =>
          progress.report({ message: line.trim() }),
        ),
      );
    } catch (e) {
      return fail(`Start Training Run on ${profileName}: ${errorMessage(e)}`);
    }
    const run = result.run;
    const exported = result.exported ? `, ${result.exported.records} records` : '';
    void vscode.window
      .showInformationMessage(`Submitted Slurm job ${run.jobId} (run ${run.id}) on ${profileName}${exported}.`, 'Follow Logs')
      .then((choice) => {
        if (choice) void this.followLogs(run.id);
      });
    return { ok: true, detail: run.id };
  }

  /** The run a command acts on: a tree node, a run id / job id, or a pick. */
  private async pickRun(target: unknown, title: string, filter: (r: RunRecord) => boolean = () => true): Promise<RunRecord | undefined> {
    const ref = typeof target === 'string' ? target : isRunNode(target) ? target.runId : undefined;
    if (ref !== undefined) return this.service.run(ref);
    const all = this.service.runs();
    const runs = all.filter(filter).sort((a, b) => b.submitted.localeCompare(a.submitted));
    // No empty picker: say why there is nothing to choose.
    if (runs.length === 0)
      throw new UserError(
        all.length === 0
          ? 'there are no training runs yet: start one with GIFT: Start Training Run.'
          : `none of the ${all.length} training run(s) can be chosen here (${[...new Set(all.map((r) => r.state))].join(', ')}).`,
      );
    const picked = await vscode.window.showQuickPick(
      runs.map((r) => ({ label: r.id, description: `job ${r.jobId} · ${r.state} · ${r.profile.name ?? r.profile.host}`, run: r })),
      { title },
    );
    return picked?.run;
  }

  async followLogs(target: unknown): Promise<CommandOutcome> {
    let run: RunRecord | undefined;
    try {
      run = await this.pickRun(target, 'Follow Logs of run');
    } catch (e) {
      return fail(`Follow Logs: ${errorMessage(e)}`);
    }
    if (!run) return { ok: false, message: 'no run chosen' };
    try {
      const status = await this.service.follow(run);
      return { ok: true, detail: status.state };
    } catch (e) {
      return fail(`Follow Logs of ${run.id}: ${errorMessage(e)}`);
    }
  }

  async cancel(target: unknown): Promise<CommandOutcome> {
    let run: RunRecord | undefined;
    try {
      run = await this.pickRun(target, 'Cancel run', (r) => !isTerminal(r.state));
    } catch (e) {
      return fail(`Cancel Run: ${errorMessage(e)}`);
    }
    if (!run) return { ok: false, message: 'no run chosen' };
    if (isTerminal(run.state)) return fail(`Cancel Run: ${run.id} has already ended (${run.state}).`);
    try {
      const status = await this.service.cancel(run);
      return { ok: true, detail: status.state };
    } catch (e) {
      return fail(`Cancel Run ${run.id}: ${errorMessage(e)}`);
    }
  }

  async fetch(target: unknown): Promise<CommandOutcome> {
    let run: RunRecord | undefined;
    try {
      run = await this.pickRun(target, 'Fetch artefacts of run', (r) => r.state === 'COMPLETED' || !isTerminal(r.state));
    } catch (e) {
      return fail(`Fetch Artefacts: ${errorMessage(e)}`);
    }
    if (!run) return { ok: false, message: 'no run chosen' };
    let result: Awaited<ReturnType<TrainingService['fetch']>>;
    try {
      result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Fetching ${run.id}…` }, () =>
        this.service.fetch(run),
      );
    } catch (e) {
      return fail(`Fetch Artefacts of ${run.id}: ${errorMessage(e)}`);
    }
    const folder = vscode.Uri.file(result.outDir);
    if (TrainingService.isOnnxModel(result.outDir)) {
      const config = vscode.workspace.getConfiguration('gift');
      const previous = config.inspect<string>('onnx.model')?.globalValue;
      await config.update('onnx.model', result.outDir, vscode.ConfigurationTarget.Global);
      const backend = config.get<string>('backend', 'onnx');
      const note = backend === 'onnx' || backend === 'auto' ? '' : ` (gift.backend is '${backend}': switch it to 'onnx' to use it)`;
      log().info(`training: gift.onnx.model now points at ${result.outDir}`);
      void vscode.window
        .showInformationMessage(`The model from ${run.id} is now the local Image to CAD model (gift.onnx.model)${note}.`, 'Undo', 'Reveal Folder')
        .then(async (choice) => {
          if (choice === 'Undo') await config.update('onnx.model', previous, vscode.ConfigurationTarget.Global);
          if (choice === 'Reveal Folder') await vscode.commands.executeCommand('revealFileInOS', folder);
        });
    } else if (result.vllmServe) {
      log().info(`training: ${run.id} checkpoint on the cluster: ${result.remoteCheckpoint}; serve with: ${result.vllmServe}`);
      void vscode.window
        .showInformationMessage(
          `The checkpoint of ${run.id} stays on the cluster: ${result.remoteCheckpoint}. Serve it with vLLM, then point gift.openai.endpoint at the server.`,
          { detail: result.vllmServe },
          'Copy vllm serve Command',
        )
        .then(async (choice) => {
          if (choice) await vscode.env.clipboard.writeText(result.vllmServe!);
        });
    } else {
      void vscode.window.showInformationMessage(`Fetched ${result.files.length} file(s) of ${run.id} into ${result.outDir}.`);
    }
    return { ok: true, uri: folder, detail: result.files.join(', ') };
  }

  async refresh(): Promise<CommandOutcome> {
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Refreshing training runs…' }, () => this.service.refreshAll(true));
    this.service.schedulePoll();
    return { ok: true };
  }
}

function isRunNode(v: unknown): v is TrainingNode & { kind: 'run' } {
  return typeof v === 'object' && v !== null && (v as TrainingNode).kind === 'run';
}

function isStartArgs(v: unknown): v is StartTrainingArgs {
  return typeof v === 'object' && v !== null && !('kind' in v);
}
