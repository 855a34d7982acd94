/**
 * GIFT CAD's VS Code entry point. Activation is cheap on purpose: it registers commands, the
 * preview serializer and listeners; the kernel pool (OpenCascade workers) starts on first use.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { DatasetCommands } from './dataset/commands';
import { DatasetService } from './dataset/service';
import { DATASET_VIEW_ID, DatasetTreeProvider, type DatasetNode } from './dataset/tree';
import { BackendUnavailableError, chooseImage, registerImageToCadBackend, resolveBackend, type ImageToCadBackend } from './image-to-cad/backends';
import { KernelService } from './kernel';
import { disposeLog, log } from './log';
import { onnxImageBackend, openAiImageBackend } from './image-to-cad/model-backends';
import { fail, type CommandOutcome } from './outcome';
import { PREVIEW_VIEW_TYPE, PreviewManager, type CadCandidate } from './preview/panel';
import { GiftSecrets } from './secrets';
import { readSettings } from './settings';
import { TrainingCommands } from './training/commands';
import { TrainingService } from './training/service';
import { TRAINING_VIEW_ID, TrainingTreeProvider, type TrainingNode } from './training/tree';
import { errorMessage, formatError } from '../core/errors';
import type { GenerateOutcome } from '../core/generate/generate';

type GenerateModule = typeof import('../core/generate/generate');

/** What `activate` returns: for model backends to plug in, and for the integration tests. */
export interface GiftApi {
  previews: PreviewManager;
  kernel: KernelService;
  diagnostics: vscode.DiagnosticCollection;
  registerImageToCadBackend(backend: ImageToCadBackend): vscode.Disposable;
  /** The GIFT dataset open in this window, and its side panel. */
  dataset: DatasetService;
  datasetTree: DatasetTreeProvider;
  datasetView: vscode.TreeView<DatasetNode>;
  /** SecretStorage access: the OpenAI-compatible endpoint's key, SSH key passphrases. */
  secrets: GiftSecrets;
  /** Remote training runs (profiles, connections, run store) and the Training view. */
  training: TrainingService;
  trainingTree: TrainingTreeProvider;
  trainingView: vscode.TreeView<TrainingNode>;
  /** This extension's log folder (the "GIFT CAD" channel's file is near it). */
  logDir: string;
}

export type { CommandOutcome };

const CADQUERY_CONTEXT_KEY = 'gift.cadqueryEditor';
const REFERENCE_EXTENSIONS = ['py', 'step', 'stp', 'brep', 'stl', 'obj', 'ply'];

let kernel: KernelService | undefined;

export function activate(context: vscode.ExtensionContext): GiftApi {
  const started = Date.now();
  kernel = new KernelService({ workerScript: context.asAbsolutePath(path.join('dist', 'kernel-worker.js')) });
  const diagnostics = vscode.languages.createDiagnosticCollection('gift-cad');
  const previews = new PreviewManager({ context, kernel, diagnostics });
  const k = kernel;
  const dataset = new DatasetService(context);
  let datasetTree: DatasetTreeProvider | undefined;
  const datasetCommands = new DatasetCommands(context, dataset, previews, k, () => datasetTree);
  datasetTree = new DatasetTreeProvider(dataset, (ids, collection) => datasetCommands.move(ids, collection));
  const tree = datasetTree;
  const datasetView = vscode.window.createTreeView(DATASET_VIEW_ID, {
    treeDataProvider: tree,
    dragAndDropController: tree,
    canSelectMany: true,
    showCollapseAll: true,
  });
  const secrets = new GiftSecrets(context.secrets);
  const training = new TrainingService(secrets, context.globalStorageUri.fsPath);
  const trainingTree = new TrainingTreeProvider(training);
  const trainingView = vscode.window.createTreeView(TRAINING_VIEW_ID, { treeDataProvider: trainingTree, showCollapseAll: true });
  const trainingCommands = new TrainingCommands(training, dataset);
  const describeDataset = () => {
    datasetView.description = dataset.current?.info.name;
  };

  context.subscriptions.push(
    diagnostics,
    previews,
    vscode.window.registerWebviewPanelSerializer(PREVIEW_VIEW_TYPE, previews),
    dataset,
    tree,
    datasetView,
    dataset.onDidChange(describeDataset),
    // Besides the file watcher: catch up on writes from the CLI or another window when the user comes back.
    datasetView.onDidChangeVisibility((e) => e.visible && dataset.current && tree.refresh()),
    vscode.window.onDidChangeWindowState((e) => e.focused && datasetView.visible && dataset.current && tree.refresh()),
    registerImageToCadBackend(onnxImageBackend(k, context.asAbsolutePath('models'))),
    registerImageToCadBackend(openAiImageBackend(secrets)),
    training,
    trainingTree,
    trainingView,
    ...registerCommands({
      imageToCad: (uri?: vscode.Uri) => imageToCad(uri, previews, k),
      openPreview: (uri?: vscode.Uri) => openPreview(uri, previews),
      setReference: (file?: vscode.Uri, target?: vscode.Uri) => setReference(file, target, previews),
      exportStep: (doc?: vscode.Uri, to?: vscode.Uri) => exportShape('step', doc, to, k, previews),
      exportStl: (doc?: vscode.Uri, to?: vscode.Uri) => exportShape('stl', doc, to, k, previews),
      showLogs: () => log().show(true),
      setApiKey: (key?: unknown) => secrets.setApiKeyCommand(key),
      clearApiKey: () => secrets.clearApiKeyCommand(),
      ...datasetCommands.commands(),
      ...trainingCommands.commands(),
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('gift.train.profiles')) {
        training.closeConnections();
        trainingTree.refresh();
      }
      if (e.affectsConfiguration('gift.kernel')) k.settingsChanged();
      if (e.affectsConfiguration('gift')) {
        previews.settingsChanged(e.affectsConfiguration('gift.preview.tessellation') || e.affectsConfiguration('gift.kernel'));
      }
    }),
    vscode.window.onDidChangeActiveTextEditor((editor) => updateCadQueryContext(editor)),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document === vscode.window.activeTextEditor?.document) updateCadQueryContext(vscode.window.activeTextEditor);
    }),
  );
  void vscode.commands.executeCommand('setContext', 'gift.active', true);
  // A reloaded window finds its unfinished runs in the store and keeps polling them.
  training.schedulePoll(2000);
  updateCadQueryContext(vscode.window.activeTextEditor);
  log().info(`GIFT CAD activated in ${Date.now() - started} ms (kernel starts on first use)`);
  return {
    previews,
    kernel,
    diagnostics,
    dataset,
    datasetTree: tree,
    datasetView,
    secrets,
    training,
    trainingTree,
    trainingView,
    logDir: context.logUri.fsPath,
    registerImageToCadBackend: (backend) => {
      const registration = registerImageToCadBackend(backend);
      context.subscriptions.push(registration);
      return registration;
    },
  };
}

export async function deactivate(): Promise<void> {
  await kernel?.dispose();
  kernel = undefined;
  disposeLog();
}

// ---------- CadQuery documents ----------

const IMPORTS_CADQUERY = /^\s*(import\s+cadquery\b|from\s+cadquery\b)/m;

export function isCadQueryDocument(document: vscode.TextDocument): boolean {
  return document.languageId === 'python' && IMPORTS_CADQUERY.test(document.getText());
}

function updateCadQueryContext(editor: vscode.TextEditor | undefined): void {
  // Before activation `gift.active` is unset and package.json's `!gift.active || gift.cadqueryEditor`
  // shows the button on every Python file; once active it narrows to files that import cadquery.
  void vscode.commands.executeCommand('setContext', CADQUERY_CONTEXT_KEY, editor ? isCadQueryDocument(editor.document) : false);
}

/** The document a command acts on: its argument, the active editor, or the active preview's. */
async function targetDocument(uri: vscode.Uri | undefined, previews: PreviewManager): Promise<vscode.TextDocument | undefined> {
  if (uri instanceof vscode.Uri) return vscode.workspace.openTextDocument(uri);
  const active = vscode.window.activeTextEditor?.document;
  if (active && active.languageId === 'python') return active;
  const preview = previews.current();
  return preview ? vscode.workspace.openTextDocument(preview.documentUri) : undefined;
}

// ---------- commands ----------

async function openPreview(uri: vscode.Uri | undefined, previews: PreviewManager): Promise<CommandOutcome> {
  const document = await targetDocument(uri, previews);
  if (!document) return fail('Open CAD Preview: open a CadQuery (.py) file first.');
  if (document.languageId !== 'python') return fail(`Open CAD Preview: ${path.basename(document.uri.path)} is not a Python file.`);
  if (!isCadQueryDocument(document)) log().warn(`${document.uri.toString()} does not import cadquery; previewing it anyway`);
  previews.open(document);
  return { ok: true, uri: document.uri };
}

async function imageToCad(arg: vscode.Uri | undefined, previews: PreviewManager, kernelService: KernelService): Promise<CommandOutcome> {
  const image = await chooseImage(arg);
  if (!image) return { ok: false, message: 'no image chosen' };
  const settings = readSettings();
  let backend: ImageToCadBackend;
  try {
    backend = resolveBackend(settings.backend);
  } catch (e) {
    return fail(errorMessage(e));
  }
  const imageName = path.basename(image.path);
  log().info(`Image to CAD: ${image.toString()} with backend '${backend.name}', K=${settings.samples}`);
  let outcome: GenerateOutcome;
  let generateCandidates: GenerateModule['generateCandidates'];
  let labelCandidates: GenerateModule['labelCandidates'];
  const controller = new AbortController();
  try {
    // Loaded on first use: the pipeline pulls in the ranking and the backends' loaders.
    ({ generateCandidates, labelCandidates } = await import('../core/generate/generate'));
    const pool = await kernelService.pool();
    outcome = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Image to CAD: ${imageName}`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => controller.abort());
        progress.report({ message: `generating ${settings.samples} candidate(s) with ${backend.name}…` });
        return generateCandidates({
          backend,
          pool,
          image: image.fsPath,
          samples: settings.samples,
          signal: controller.signal,
          report: (message) => progress.report({ message }),
          protocol: settings.iouProtocol,
          timeoutMs: settings.kernel.timeoutMs,
        });
      },
    );
  } catch (e) {
    // Whatever a backend throws once the user cancelled is the cancellation, not a failure.
    if (controller.signal.aborted || (e as Error)?.name === 'AbortError') {
      log().info('Image to CAD cancelled');
      return { ok: false, message: 'cancelled' };
    }
    const message = e instanceof BackendUnavailableError ? e.message : `Image to CAD failed: ${errorMessage(e)}`;
    return fail(message);
  }
  if (controller.signal.aborted) return { ok: false, message: 'cancelled' };
  const ran = outcome.candidates.filter((c) => c.ok).length;
  log().info(
    `${outcome.backend}: ${outcome.candidates.length} candidate(s), ${ran} ran; ranked by ${outcome.rankedBy}; sampling ${Math.round(outcome.sampleMs)} ms, ranking ${Math.round(outcome.rankMs)} ms`,
  );
  if (outcome.candidates.length > 0 && outcome.candidates.every((c) => !c.code.trim())) {
    return fail(`Image to CAD: ${outcome.backend} answered without code (${outcome.candidates[0].error?.message ?? 'empty answers'}).`);
  }
  const candidates: CadCandidate[] = labelCandidates(outcome).filter((c) => c.code.trim() !== '');
  if (outcome.warning) {
    log().warn(`Image to CAD: ${outcome.warning}`);
    void vscode.window.showWarningMessage(`Image to CAD: ${outcome.warning}`);
  }
  if (candidates.length === 0) return fail(`Image to CAD: the ${backend.name} backend returned no program for ${imageName}.`);
  // A real file (beside the image, or where gift.imageToCad.folder says), so Save, rename and the
  // preview have a name to follow; an unwritable folder falls back to an untitled editor.
  let document: vscode.TextDocument;
  try {
    const target = await generatedProgramUri(image, settings.imageToCadFolder);
    await vscode.workspace.fs.writeFile(target, Buffer.from(candidates[0].code, 'utf8'));
    document = await vscode.workspace.openTextDocument(target);
    log().info(`Image to CAD: wrote ${target.fsPath}`);
  } catch (e) {
    log().warn(`Image to CAD: cannot write the program to a file (${errorMessage(e)}); opening it unsaved`);
    void vscode.window.showWarningMessage(`Image to CAD: could not write the program beside ${imageName} (${errorMessage(e)}); it opens unsaved.`);
    document = await vscode.workspace.openTextDocument({ language: 'python', content: candidates[0].code });
  }
  // Beside the image when one is open; in an empty window, Beside would leave an empty group first.
  const column = vscode.window.tabGroups.activeTabGroup.tabs.length > 0 ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
  await vscode.window.showTextDocument(document, { viewColumn: column, preview: false });
  if (settings.autoOpenPreview)
    previews.open(document, {
      column: vscode.ViewColumn.Beside,
      imageUri: image,
      imageIsSource: true,
      candidates,
      imageWarning: outcome.warning,
      candidateOrder: outcome.rankedBy === 'iou' ? 'IoU against the reference' : outcome.rankedBy === 'score' ? 'image score' : 'as generated',
      model: outcome.backend,
    });
  return { ok: true, uri: document.uri, detail: `${candidates.length} candidate(s)` };
}

/**
 * Where Image to CAD writes its program: `<image stem>.py` beside the image (or in `folder`,
 * absolute or relative to the first workspace folder), never over an existing file: the first free
 * of `stem.py`, `stem-2.py`, `stem-3.py`, …
 */
export async function generatedProgramUri(image: vscode.Uri, folder: string | undefined): Promise<vscode.Uri> {
  let dir = vscode.Uri.joinPath(image, '..');
  if (folder) {
    const base = vscode.workspace.workspaceFolders?.[0]?.uri;
    if (path.isAbsolute(folder)) dir = vscode.Uri.file(folder);
    else if (base) dir = vscode.Uri.joinPath(base, folder);
    else throw new Error(`gift.imageToCad.folder '${folder}' is relative, but no workspace folder is open`);
    await vscode.workspace.fs.createDirectory(dir);
  }
  const stem = path.basename(image.path, path.extname(image.path));
  for (let n = 1; ; n++) {
    const candidate = vscode.Uri.joinPath(dir, `${stem}${n === 1 ? '' : `-${n}`}.py`);
    const exists = await vscode.workspace.fs.stat(candidate).then(
      () => true,
      () => false,
    );
    const open = vscode.workspace.textDocuments.some((d) => d.uri.toString() === candidate.toString());
    if (!exists && !open) return candidate;
  }
}

async function setReference(file: vscode.Uri | undefined, target: vscode.Uri | undefined, previews: PreviewManager): Promise<CommandOutcome> {
  const preview = (target && previews.get(target)) || previews.current();
  if (!preview) return fail('Set Reference: open a CAD preview first (GIFT: Open CAD Preview).');
  let reference = file instanceof vscode.Uri ? file : undefined;
  if (!reference) {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: 'Set Reference',
      title: `Reference shape for ${preview.title}`,
      filters: { 'CAD (CadQuery, STEP, BREP, STL, OBJ, PLY)': REFERENCE_EXTENSIONS },
    });
    reference = picked?.[0];
  }
  if (!reference) return { ok: false, message: 'no reference chosen' };
  const ext = path.extname(reference.path).slice(1).toLowerCase();
  if (!REFERENCE_EXTENSIONS.includes(ext)) return fail(`Set Reference: ${path.basename(reference.path)} is not a .py, .step, .stl, .obj or .ply file.`);
  try {
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Loading reference…' }, () => preview.setReference(reference));
  } catch (e) {
    return fail(`Set Reference: ${errorMessage(e)}`);
  }
  return { ok: true, uri: reference };
}

async function exportShape(
  format: 'step' | 'stl',
  docUri: vscode.Uri | undefined,
  to: vscode.Uri | undefined,
  kernelService: KernelService,
  previews: PreviewManager,
): Promise<CommandOutcome> {
  const label = format.toUpperCase();
  const document = await targetDocument(docUri, previews);
  if (!document) return fail(`Export ${label}: open a CadQuery (.py) file first.`);
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Exporting ${label}…` }, () =>
    kernelService.execute({ source: document.getText(), export: { step: format === 'step', stl: format === 'stl' } }),
  );
  if (!result.ok) return fail(`Export ${label}: ${formatError(result.error)}`);
  const bytes = format === 'step' ? result.value.step : result.value.stl;
  if (!bytes) return fail(`Export ${label}: the kernel returned no ${label} data.`);
  let target = to;
  if (!target) {
    const base = document.isUntitled ? 'part' : path.basename(document.uri.path, path.extname(document.uri.path));
    const folder = document.isUntitled ? vscode.workspace.workspaceFolders?.[0]?.uri : vscode.Uri.joinPath(document.uri, '..');
    target = await vscode.window.showSaveDialog({
      defaultUri: folder ? vscode.Uri.joinPath(folder, `${base}.${format}`) : undefined,
      filters: format === 'step' ? { STEP: ['step', 'stp'] } : { STL: ['stl'] },
      title: `Export ${label}`,
    });
  }
  if (!target) return { ok: false, message: 'no file chosen' };
  await vscode.workspace.fs.writeFile(target, bytes);
  log().info(`exported ${label} of ${document.uri.toString()} to ${target.toString()} (${bytes.byteLength} bytes, ${result.ms} ms)`);
  if (!to) void vscode.window.showInformationMessage(`Exported ${path.basename(target.path)} (${formatBytes(bytes.byteLength)}).`);
  return { ok: true, uri: target, detail: `${bytes.byteLength} bytes` };
}

function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`;
}
