/**
 * The GIFT dataset commands: open / create / import / export, open a sample with its ground truth
 * as the preview's reference, move and remove samples, flag the previewed program as SRS or FDA,
 * and run the bootstrap loop with the registered image-to-CAD backend. All storage goes through
 * the core dataset API (src/core/dataset); this file is only the VS Code side.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  checkFlag,
  type Bucket,
  type FlagCheck,
  exportDataset,
  formatWarning,
  giftRecord,
  importIntoDataset,
  type Dataset,
  type DatasetRecord,
  type ExportFormat,
  type NewRecord,
} from '../../core/dataset';
import type { BootstrapSummary } from '../../core/dataset/bootstrap';
import type { DatasetSampleLink } from '../../protocol/messages';
import type { DatasetService } from './service';
import type { DatasetNode, DatasetTreeProvider } from './tree';
import { NO_BACKEND_MESSAGE, placeholderBackend, resolveBackend, type ImageToCadBackend } from '../image-to-cad/backends';
import type { CommandTable } from '../commands';
import type { KernelService } from '../kernel';
import { log } from '../log';
import { fail, type CommandOutcome } from '../outcome';
import type { PreviewManager, PreviewPanel } from '../preview/panel';
import { readSettings } from '../settings';
import { errorMessage, formatError } from '../../core/errors';

export interface FlagOptions {
  /** Flag even when the measured IoU lies outside the collection's bucket. */
  force?: boolean;
  /** The image to pair with SRS code when the preview has none (instead of asking). */
  image?: vscode.Uri;
}

export interface MoveOptions {
  /** Move into SRS / FDA even when a record's IoU lies outside that bucket. */
  force?: boolean;
}

export interface ExportCommandOptions {
  format?: ExportFormat;
  collections?: string[];
  out?: vscode.Uri;
}

export interface BootstrapCommandOptions {
  /** sft samples to process (default: ask; empty answer = all). */
  limit?: number;
  /** Programs sampled per image (default gift.samples). */
  samples?: number;
}

const IMAGE_FILTERS = { Images: ['png', 'jpg', 'jpeg', 'webp', 'bmp'] };

export class DatasetCommands {
  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly service: DatasetService,
    private readonly previews: PreviewManager,
    private readonly kernel: KernelService,
    private readonly tree: () => DatasetTreeProvider | undefined,
  ) {}

  /** This area's part of the command table (commands.ts). */
  commands(): CommandTable {
    return {
      'dataset.open': (folder?: vscode.Uri) => this.openFolder(folder),
      'dataset.create': (folder?: vscode.Uri) => this.create(folder),
      'dataset.import': (src?: vscode.Uri, options?: { collection?: string }) => this.importInto(src, options),
      'dataset.close': () => this.close(),
      'dataset.refresh': () => this.refresh(),
      'dataset.showMore': (collection: string) => this.tree()?.showMore(collection),
      'dataset.openSample': (arg?: DatasetNode | string) => this.openSample(arg),
      'dataset.moveToSrs': (arg?: unknown, selection?: unknown, options?: MoveOptions) => this.move(idsOf(arg, selection), 'srs', options),
      'dataset.moveToFda': (arg?: unknown, selection?: unknown, options?: MoveOptions) => this.move(idsOf(arg, selection), 'fda', options),
      'dataset.moveTo': (arg?: unknown, selection?: unknown, collection?: string, options?: MoveOptions) =>
        this.moveToPicked(idsOf(arg, selection), collection, options),
      'dataset.remove': (arg?: unknown, selection?: unknown, options?: { confirm?: boolean }) => this.remove(idsOf(arg, selection), options),
      'dataset.export': (options?: ExportCommandOptions) => this.exportCommand(options),
      'dataset.bootstrap': (options?: BootstrapCommandOptions) => this.runBootstrap(options),
      flagSrs: (uri?: vscode.Uri, options?: FlagOptions) => this.flag('srs', uri, options),
      flagFda: (uri?: vscode.Uri, options?: FlagOptions) => this.flag('fda', uri, options),
    };
  }

  // ---------- opening ----------

  /** The open dataset, or a failure that offers to open or create one. */
  private async requireDataset(what: string): Promise<Dataset | CommandOutcome> {
    const ds = await this.service.restore();
    if (ds) return ds;
    return fail(
      `${what}: no GIFT dataset is open.`,
      { title: 'Open Dataset Folder…', run: () => vscode.commands.executeCommand('gift.dataset.open') },
      { title: 'Create Dataset…', run: () => vscode.commands.executeCommand('gift.dataset.create') },
    );
  }

  async openFolder(folder?: vscode.Uri): Promise<CommandOutcome> {
    let dir = folder?.fsPath;
    if (!dir) {
      const picked = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        canSelectMany: false,
        openLabel: 'Open Dataset',
        title: 'Open a GIFT dataset folder (with dataset.json)',
        defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      });
      dir = picked?.[0]?.fsPath;
    }
    if (!dir) return { ok: false, message: 'no folder chosen' };
    if (!fs.existsSync(path.join(dir, 'dataset.json'))) {
      const target = dir;
      return fail(`Open Dataset: ${dir} is not a GIFT dataset (it has no dataset.json).`, {
        title: 'Create Dataset Here',
        run: () => vscode.commands.executeCommand('gift.dataset.create', vscode.Uri.file(target)),
      });
    }
    try {
      const ds = await this.service.open(dir);
      return { ok: true, uri: vscode.Uri.file(ds.dir) };
    } catch (e) {
      return fail(`Open Dataset: ${errorMessage(e)}`);
    }
  }

  async close(): Promise<CommandOutcome> {
    const open = this.service.current;
    if (!open) {
      void vscode.window.showInformationMessage('GIFT: no dataset is open.');
      return { ok: false, message: 'no dataset is open' };
    }
    await this.service.close();
    void vscode.window.showInformationMessage(`GIFT: closed the dataset ${open.info.name} (${open.dir}); nothing in it changed.`);
    return { ok: true, uri: vscode.Uri.file(open.dir) };
  }

  async refresh(): Promise<CommandOutcome> {
    const ds = await this.service.restore();
    if (!ds) return fail('Refresh Dataset: no GIFT dataset is open.');
    this.service.changed();
    const detail = (await ds.collections()).map((c) => `${c.name} ${c.count}`).join(', ');
    vscode.window.setStatusBarMessage(`GIFT dataset ${ds.info.name} refreshed: ${detail}`, 4000);
    return { ok: true, uri: vscode.Uri.file(ds.dir), detail };
  }

  async create(folder?: vscode.Uri): Promise<CommandOutcome> {
    let dir = folder?.fsPath;
    if (!dir) {
      dir = await vscode.window.showInputBox({
        title: 'Create GIFT Dataset',
        prompt: 'Folder for the new dataset (created when missing)',
        value: this.service.defaultFolder() ?? '',
        validateInput: (v) => (path.isAbsolute(v.trim()) ? undefined : 'Enter an absolute folder path'),
      });
      dir = dir?.trim();
    }
    if (!dir) return { ok: false, message: 'no folder chosen' };
    try {
      const ds = await this.service.open(dir, { create: true });
      void vscode.window.showInformationMessage(`GIFT: dataset ${ds.info.name} is open (${ds.dir}). Flag previews into it, or import a samples.jsonl.`);
      return { ok: true, uri: vscode.Uri.file(ds.dir) };
    } catch (e) {
      return fail(`Create Dataset: ${errorMessage(e)}`);
    }
  }

  async importInto(src?: vscode.Uri, options: { collection?: string } = {}): Promise<CommandOutcome> {
    let source = src;
    if (!source) {
      // Linux and Windows dialogs cannot pick files and folders at once; they show a folder picker,
      // which suits both layouts (a folder with samples.jsonl or metadata.jsonl).
      const picked = await vscode.window.showOpenDialog({
        canSelectFiles: true,
        canSelectFolders: true,
        canSelectMany: false,
        openLabel: 'Import',
        title: 'Import a GenCAD-Code samples.jsonl (images/ beside it) or a Hugging Face imagefolder (metadata.jsonl)',
        filters: { 'GenCAD / imagefolder manifest': ['jsonl'] },
      });
      source = picked?.[0];
    }
    if (!source) return { ok: false, message: 'nothing chosen to import' };
    let ds = await this.service.restore();
    if (!ds) {
      const dir = this.service.defaultFolder();
      if (!dir) return fail('Import: open a workspace folder or a dataset first (GIFT: Open Dataset Folder… / Create Dataset…).');
      try {
        ds = await this.service.open(dir, { create: true });
      } catch (e) {
        return fail(`Import: cannot create the dataset in ${dir}: ${errorMessage(e)}`);
      }
      void vscode.window.showInformationMessage(`Created the GIFT dataset ${dir}.`);
    }
    const dataset = ds;
    const name = path.basename(source.fsPath);
    try {
      const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Importing ${name}` }, (progress) => {
        let last = 0;
        return importIntoDataset(dataset, source.fsPath, {
          collection: options.collection,
          onProgress: (done, total) => {
            progress.report({ message: `${done} / ${total}`, increment: ((done - last) / Math.max(1, total)) * 100 });
            last = done;
          },
        });
      });
      for (const w of report.warnings) log().warn(formatWarning(w));
      this.service.changed();
      const detail = `${report.imported} imported, ${report.skipped} already present${report.warnings.length ? `, ${report.warnings.length} line(s) skipped (see GIFT CAD log)` : ''}`;
      log().info(`import ${report.file} (${report.format}) into ${dataset.dir}: ${detail}`);
      if (!src) {
        const show = report.warnings.length ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
        void show(`Imported ${name}: ${detail}.`, ...(report.warnings.length ? ['Show Logs'] : [])).then((c) => c && log().show(true));
      }
      return { ok: true, detail, uri: vscode.Uri.file(dataset.dir) };
    } catch (e) {
      return fail(`Import ${name}: ${errorMessage(e)}`);
    }
  }

  // ---------- samples ----------

  /**
   * Opens a sample: its code as a .py under the extension's storage (so the live preview and edits
   * work), the preview with its image, and its ground truth (for SRS/FDA: the source sft record's
   * code) as the reference, so the IoU appears as soon as the preview runs.
   */
  async openSample(arg?: DatasetNode | string): Promise<CommandOutcome> {
    const ds = await this.requireDataset('Open Sample');
    if (!isDataset(ds)) return ds;
    const id = typeof arg === 'string' ? arg : arg?.kind === 'sample' ? arg.record.id : undefined;
    if (!id) return fail('Open Sample: choose a sample in the GIFT Dataset view.');
    const record = await ds.get(id);
    if (!record) return fail(`Open Sample: no record '${id}' in ${ds.dir} (it may have been removed).`);
    // The ground truth to measure against: an sft record is its own; an SRS/FDA one is its source's
    // (never itself: that would show IoU 1 beside the tree's real number).
    let reference: DatasetRecord | undefined = record.collection === 'sft' ? record : undefined;
    if (record.source) {
      reference = await ds.get(record.source);
      if (!reference) log().warn(`sample ${id}: its source '${record.source}' is not in the dataset; opening it without a reference`);
    } else if (!reference) {
      log().info(`sample ${id}: no source recorded, so no ground truth to measure it against; opening it without a reference`);
    }
    // Working copies live in the dataset's own folder (DIR/programs/), so Save As starts there; a
    // read-only dataset falls back to the extension's storage.
    let folder = path.join(ds.dir, 'programs');
    try {
      await fs.promises.mkdir(folder, { recursive: true });
      await fs.promises.access(folder, fs.constants.W_OK);
    } catch {
      folder = path.join(this.context.globalStorageUri.fsPath, 'samples', crypto.createHash('sha256').update(ds.dir).digest('hex').slice(0, 12));
      await fs.promises.mkdir(folder, { recursive: true });
    }
    const codeUri = vscode.Uri.file(path.join(folder, `${record.id}.py`));
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === codeUri.toString());
    // An open, edited copy is the user's work in progress: show it rather than overwrite it.
    if (!open?.isDirty) await fs.promises.writeFile(codeUri.fsPath, record.code);
    let referenceUri: vscode.Uri | undefined;
    if (reference) {
      referenceUri = vscode.Uri.file(path.join(folder, `${reference.id}.ground-truth.py`));
      await fs.promises.writeFile(referenceUri.fsPath, reference.code);
    }
    const document = await vscode.workspace.openTextDocument(codeUri);
    await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preview: false });
    const sample: DatasetSampleLink = {
      dataset: ds.dir,
      id: record.id,
      referenceId: reference?.id ?? null,
      referenceImage: reference ? ds.imagePath(reference) : null,
    };
    const preview = this.previews.open(document, {
      column: vscode.ViewColumn.Beside,
      imageUri: vscode.Uri.file(ds.imagePath(record)),
      imageIsSource: false,
      imageName: `${record.id} (${record.collection})`,
      sample,
      model: record.model ?? undefined,
    });
    if (referenceUri) {
      try {
        await preview.setReference(referenceUri);
      } catch (e) {
        return fail(`Open Sample ${id}: the reference: ${errorMessage(e)}`);
      }
    }
    return { ok: true, uri: document.uri, detail: reference ? `reference ${reference.id}` : 'no reference' };
  }

  /** Moves records; into SRS / FDA only when each one's IoU fits (or with force). */
  async move(ids: string[], collection: string, options: MoveOptions = {}): Promise<CommandOutcome> {
    const ds = await this.requireDataset('Move');
    if (!isDataset(ds)) return ds;
    if (ids.length === 0) return fail('Move: choose samples in the GIFT Dataset view.');
    const { low, valid, match } = readSettings().thresholds;
    const refused: string[] = [];
    const moved: string[] = [];
    try {
      for (const id of ids) {
        const record = await ds.get(id);
        if (!record) throw new Error(`no record '${id}' in ${ds.dir}`);
        if (record.collection === collection) continue;
        const check = checkFlag(collection, record.iou, { low, valid, match }, options.force);
        if (!check.allowed) {
          refused.push(`${id}: ${check.reason}`);
          continue;
        }
        if (check.forced) log().info(`moving ${id} to ${collection} anyway: ${check.reason}`);
        await ds.move(id, collection);
        moved.push(id);
      }
    } catch (e) {
      this.service.changed();
      return fail(`Move to ${collection}: ${errorMessage(e)}`);
    } finally {
      if (moved.length) this.service.changed();
    }
    if (refused.length) {
      const message = `Not moved to ${collection.toUpperCase()}: ${refused.join('; ')}`;
      log().warn(message);
      const refusedIds = ids.filter((id) => !moved.includes(id));
      void vscode.window.showWarningMessage(message, 'Move anyway').then((choice) => {
        if (choice) void this.move(refusedIds, collection, { force: true });
      });
      return { ok: false, message };
    }
    return { ok: true, detail: `${moved.length} moved to ${collection}` };
  }

  private async moveToPicked(ids: string[], collection: string | undefined, options?: MoveOptions): Promise<CommandOutcome> {
    const ds = await this.requireDataset('Move');
    if (!isDataset(ds)) return ds;
    let target = collection;
    if (!target) {
      const names = (await ds.collections()).map((c) => ({ label: c.name, description: String(c.count) }));
      const NEW = { label: '$(add) New collection…', description: '' };
      const picked = await vscode.window.showQuickPick([...names, NEW], { title: `Move ${ids.length} sample(s) to…` });
      if (!picked) return { ok: false, message: 'no collection chosen' };
      target =
        picked === NEW
          ? await vscode.window.showInputBox({
              title: 'New collection',
              prompt: 'a-z, 0-9, _ and -',
              validateInput: (v) => (/^[a-z0-9_-]{1,64}$/.test(v) ? undefined : 'Use 1–64 characters from a-z, 0-9, _ and -'),
            })
          : picked.label;
      if (!target) return { ok: false, message: 'no collection chosen' };
      if (picked === NEW) await ds.createCollection(target);
    }
    return this.move(ids, target, options);
  }

  async remove(ids: string[], options: { confirm?: boolean } = {}): Promise<CommandOutcome> {
    const ds = await this.requireDataset('Remove');
    if (!isDataset(ds)) return ds;
    if (ids.length === 0) return fail('Remove: choose samples in the GIFT Dataset view.');
    if (options.confirm !== false) {
      const what = ids.length === 1 ? `sample ${ids[0]}` : `${ids.length} samples`;
      const choice = await vscode.window.showWarningMessage(
        `Remove ${what} from the dataset?`,
        { modal: true, detail: 'Their images stay in the dataset folder.' },
        'Remove',
      );
      if (choice !== 'Remove') return { ok: false, message: 'cancelled' };
    }
    try {
      for (const id of ids) await ds.remove(id);
    } catch (e) {
      return fail(`Remove: ${errorMessage(e)}`);
    } finally {
      this.service.changed();
    }
    return { ok: true, detail: `${ids.length} removed` };
  }

  // ---------- flagging from the preview ----------

  /**
   * Adds the previewed program to SRS or FDA with the IoU the preview measured against its
   * reference. SRS: (the image the code came from, the code). FDA: (the program rendered in the
   * dataset's style, the reference's ground-truth code). Outside the bucket it is refused with
   * the reason and a "Flag anyway" button (`force`).
   */
  async flag(kind: Bucket, uri?: vscode.Uri, options: FlagOptions = {}): Promise<CommandOutcome> {
    const label = `Flag as ${kind.toUpperCase()}`;
    const preview = this.previewFor(uri);
    if (!preview) return fail(`${label}: open the CAD preview of the program (GIFT: Open CAD Preview) and set a reference first.`);
    const ds = await this.requireDataset(label);
    if (!isDataset(ds)) return ds;
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Waiting for the IoU…' }, () => preview.settled());
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === preview.documentUri.toString());
    const source = document?.getText() ?? preview.shapeSource;
    if (source === undefined || preview.shapeSource !== source) {
      const why = preview.error ? formatError(preview.error) : 'it has not run yet';
      return fail(`${label}: the program in ${path.basename(preview.documentUri.path)} does not run (${why}); fix it first.`);
    }
    const measured = preview.measuredIou;
    const iou = measured && measured.source === source ? measured.iou : null;
    const thresholds = readSettings().thresholds;
    let check: FlagCheck;
    try {
      check = checkFlag(kind, iou, thresholds, options.force);
    } catch (e) {
      return fail(`${label}: ${errorMessage(e)} (settings gift.thresholds.*)`);
    }
    if (!check.allowed) {
      const message = `${label} refused: ${check.reason}`;
      log().warn(message);
      void vscode.window.showWarningMessage(message, 'Flag anyway').then((choice) => {
        if (choice) void this.flag(kind, preview.documentUri, { ...options, force: true });
      });
      return { ok: false, message };
    }

    // SRS pairs the program with the image it reconstructs; FDA needs the ground truth's code.
    let image: string | Uint8Array = '';
    if (kind === 'srs') {
      const chosen = preview.image?.isSource
        ? preview.image.uri
        : preview.sample?.referenceImage
          ? vscode.Uri.file(preview.sample.referenceImage)
          : options.image;
      const picked =
        chosen ??
        (
          await vscode.window.showOpenDialog({
            canSelectMany: false,
            openLabel: 'Use Image',
            title: `${label}: the image this code reconstructs`,
            filters: IMAGE_FILTERS,
          })
        )?.[0];
      if (!picked) return { ok: false, message: 'no image chosen' };
      image = picked.fsPath;
    }
    const reference = preview.referenceSource;
    if (kind === 'fda' && !reference)
      return fail(`${label}: set the reference (the ground truth) first: FDA pairs this program's render with the reference's code.`);
    // The ground truth this sample derives from: the dataset sample the preview came from; else the
    // sft record whose image is the one the code was generated from (images are stored by content).
    let truth: { id: string | null; code: string | undefined } = {
      id: preview.sample?.referenceId ?? null,
      code: reference?.kind === 'code' ? reference.source : undefined,
    };
    if (!truth.id && preview.image) {
      const bytes = await fs.promises.readFile(preview.image.uri.fsPath).catch(() => undefined);
      const [known] = bytes ? await ds.recordsWithImage(bytes, 'sft') : [];
      if (known) {
        truth = { id: known.id, code: truth.code ?? known.code };
        log().info(`${label}: ${path.basename(preview.image.uri.fsPath)} is the image of sft record ${known.id}: recorded as the source`);
      }
    }
    if (kind === 'fda' && truth.code === undefined) {
      const name = path.basename(preview.referenceUri?.path ?? 'the reference');
      return fail(
        `${label}: FDA pairs this program's render with the ground truth's CadQuery *code*, and ${name} has none (a STEP or mesh holds only geometry), nor does the dataset know this image. Set the ground truth's .py as the reference, or import the sample (image and code) into the dataset first.`,
        {
          title: 'Choose the Ground-Truth .py…',
          run: async () => {
            const picked = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Use as Reference', filters: { CadQuery: ['py'] } });
            if (picked?.[0]) await vscode.commands.executeCommand('gift.setReference', picked[0], preview.documentUri);
          },
        },
      );
    }
    const render = async () => {
      const rendered = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Rendering for FDA…' }, () =>
        this.kernel.run('render.image', { shape: { kind: 'code', source } }),
      );
      if (!rendered.ok) throw new Error(`rendering the program failed: ${formatError(rendered.error)}`);
      return rendered.value.png;
    };
    let record: NewRecord;
    try {
      record = await giftRecord(
        kind,
        { code: source, image, render, iou, protocol: iou === null ? null : (measured?.protocol ?? null), model: preview.model ?? null },
        truth,
      );
    } catch (e) {
      return fail(`${label}: ${errorMessage(e)}`);
    }
    try {
      const added = await ds.append(record);
      this.service.changed();
      const detail = `${added.id}${iou === null ? '' : ` (IoU ${iou.toFixed(4)})`}${check.forced ? ', forced' : ''}`;
      log().info(`flagged ${preview.documentUri.toString()} as ${kind.toUpperCase()}: ${detail}${check.forced ? ` — ${check.reason}` : ''}`);
      void vscode.window.showInformationMessage(`Added to ${kind.toUpperCase()}: ${detail}.`);
      return { ok: true, detail: added.id };
    } catch (e) {
      return fail(`${label}: ${errorMessage(e)}`);
    }
  }

  private previewFor(uri: vscode.Uri | undefined): PreviewPanel | undefined {
    if (uri instanceof vscode.Uri) return this.previews.get(uri);
    return this.previews.current();
  }

  // ---------- export and bootstrap ----------

  async exportCommand(options: ExportCommandOptions = {}): Promise<CommandOutcome> {
    const ds = await this.requireDataset('Export Dataset');
    if (!isDataset(ds)) return ds;
    const collections = await ds.collections();
    let format = options.format;
    if (!format) {
      const picked = await vscode.window.showQuickPick(
        [
          { label: 'imagefolder' as const, detail: 'metadata.jsonl + one image per record — datasets.load_dataset("imagefolder", data_dir=…)' },
          { label: 'chat' as const, detail: 'chat.jsonl + images/ — LLaVA / Qwen2.5-VL conversations (CAD-Coder fine-tuning)' },
        ],
        { title: 'Export Dataset: format' },
      );
      format = picked?.label;
    }
    if (!format) return { ok: false, message: 'no format chosen' };
    let chosen = options.collections;
    if (!chosen) {
      const picked = await vscode.window.showQuickPick(
        collections.map((c) => ({ label: c.name, description: `${c.count}`, picked: ['sft', 'srs', 'fda'].includes(c.name) && c.count > 0 })),
        { title: 'Export Dataset: collections to mix', canPickMany: true },
      );
      chosen = picked?.map((p) => p.label);
    }
    if (!chosen || chosen.length === 0) return { ok: false, message: 'no collection chosen' };
    let out = options.out?.fsPath;
    if (!out) {
      const picked = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        openLabel: 'Export Here',
        title: 'Export Dataset: an empty folder (a non-empty one gets a new subfolder)',
        defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      });
      out = picked?.[0]?.fsPath;
      if (out && fs.existsSync(out) && fs.readdirSync(out).length > 0) {
        out = path.join(out, `${ds.info.name}-${format}-${new Date().toISOString().slice(0, 16).replace(/[:T]/g, '')}`);
      }
    }
    if (!out) return { ok: false, message: 'no folder chosen' };
    const target = out;
    try {
      const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Exporting ${ds.info.name} (${format})…` }, () =>
        exportDataset(ds, { format: format, out: target, collections: chosen }),
      );
      for (const w of report.warnings) log().warn(formatWarning(w));
      const counts = Object.entries(report.byCollection)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      const detail = `${report.records} records (${counts}) to ${report.file}`;
      log().info(`exported ${detail}`);
      if (!options.out) {
        void vscode.window.showInformationMessage(`Exported ${report.records} records (${counts}).`, 'Reveal').then((c) => {
          if (c) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(report.file));
        });
      }
      return { ok: true, detail, uri: vscode.Uri.file(report.file) };
    } catch (e) {
      return fail(`Export Dataset: ${errorMessage(e)}`);
    }
  }

  async runBootstrap(options: BootstrapCommandOptions = {}): Promise<CommandOutcome> {
    const settings = readSettings();
    let backend: ImageToCadBackend;
    try {
      backend = resolveBackend(settings.backend);
    } catch (e) {
      return fail(`Run Bootstrap: ${errorMessage(e)}`);
    }
    if (backend === placeholderBackend) return fail(`Run Bootstrap: ${NO_BACKEND_MESSAGE} Bootstrapping samples programs with one.`);
    const ds = await this.requireDataset('Run Bootstrap');
    if (!isDataset(ds)) return ds;
    const sft = (await ds.collections()).find((c) => c.name === 'sft')?.count ?? 0;
    if (sft === 0) return fail('Run Bootstrap: the sft collection is empty; import image–code pairs first.');
    let limit = options.limit;
    if (limit === undefined && options.samples === undefined) {
      const answer = await vscode.window.showInputBox({
        title: 'Run Bootstrap',
        prompt: `sft samples to process (empty: all ${sft}); finished ones are skipped, so a run can be resumed`,
        validateInput: (v) => (v.trim() === '' || /^[1-9]\d*$/.test(v.trim()) ? undefined : 'A positive whole number, or empty for all'),
      });
      if (answer === undefined) return { ok: false, message: 'cancelled' };
      limit = answer.trim() ? Number(answer) : undefined;
    }
    const samples = options.samples ?? settings.samples;
    const { bootstrap } = await import('../../core/dataset/bootstrap');
    const pool = await this.kernel.pool();
    const controller = new AbortController();
    log().info(`bootstrap ${ds.dir}: backend ${backend.name}, K=${samples}, ${limit ?? 'all'} sft sample(s), protocol ${settings.iouProtocol}`);
    let summary: BootstrapSummary;
    try {
      summary = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `GIFT bootstrap with ${backend.name}`, cancellable: true },
        (progress, token) => {
          token.onCancellationRequested(() => controller.abort());
          let done = 0;
          return bootstrap(ds, {
            pool,
            backend,
            samples,
            limit,
            thresholds: settings.thresholds,
            protocol: settings.iouProtocol,
            signal: controller.signal,
            onProgress: (p) => {
              progress.report({ message: `${p.done} / ${p.total} · SRS +${p.srs} · FDA +${p.fda}`, increment: ((p.done - done) / Math.max(1, p.total)) * 100 });
              done = p.done;
              if (p.last?.error) log().warn(`bootstrap ${p.last.id}: ${p.last.error}`);
              this.service.changed();
            },
          });
        },
      );
    } catch (e) {
      this.service.changed();
      return fail(`Run Bootstrap: ${errorMessage(e)}`);
    }
    this.service.changed();
    const detail = `${summary.done - summary.skipped} sample(s) processed, ${summary.skipped} already done, SRS +${summary.srs}, FDA +${summary.fda}${Number.isFinite(summary.validRate) ? `, ${(summary.validRate * 100).toFixed(0)}% of programs ran` : ''}${summary.cancelled ? ' (cancelled)' : ''}`;
    log().info(`bootstrap ${ds.dir}: ${detail}`);
    void vscode.window.showInformationMessage(`GIFT bootstrap: ${detail}.`);
    return summary.cancelled ? { ok: false, message: `cancelled: ${detail}` } : { ok: true, detail };
  }
}

function isDataset(value: Dataset | CommandOutcome): value is Dataset {
  return typeof (value as Dataset).list === 'function';
}

/** Record ids from a command's arguments: a tree node (+ the selection), an id, or a list of ids. */
export function idsOf(arg: unknown, selection: unknown): string[] {
  const fromOne = (v: unknown): string | undefined => (typeof v === 'string' ? v : isSampleNode(v) ? v.record.id : undefined);
  if (Array.isArray(selection) && selection.length > 0 && selection.some(isSampleNode)) {
    return [...new Set(selection.map(fromOne).filter((v): v is string => !!v))];
  }
  if (Array.isArray(arg)) return [...new Set(arg.map(fromOne).filter((v): v is string => !!v))];
  const one = fromOne(arg);
  return one ? [one] : [];
}

function isSampleNode(v: unknown): v is DatasetNode & { kind: 'sample' } {
  return typeof v === 'object' && v !== null && (v as DatasetNode).kind === 'sample' && typeof (v as { record?: DatasetRecord }).record?.id === 'string';
}
