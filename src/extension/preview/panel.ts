/**
 * The CAD preview: one webview panel per CadQuery document. Every edit re-runs the document in
 * the kernel pool (LiveRunner: debounced, newer runs cancel older ones); results go to the
 * webview, failures become diagnostics and a banner while the last good shape stays visible.
 */
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { bucketForIou } from '../../core/dataset/thresholds';
import type { IouJobResult, IouPayload } from '../../core/jobs/geometry';
import { formatOfFile } from '../../core/shape/format';
import type { ShapeSource } from '../../core/shape/source';
import type { JobResult } from '../../core/pool/pool';
import {
  PROTOCOL_VERSION,
  hostCommand,
  hostNotification,
  hostRequest,
  isPanelRestoreState,
  isWebviewMessage,
  type BoundingBox,
  type Candidate,
  type DatasetSampleLink,
  type CadErrorInfo,
  type HostCommands,
  type HostMessage,
  type IouBucket,
  type IouProtocol,
  type Metrics,
  type PanelRestoreState,
  type PreviewMesh,
  type SceneInfo,
  type ShapeUpdate,
  type WebviewMessage,
  type WebviewRequests,
} from '../../protocol/messages';
import { diagnosticFor, invalidShapeDiagnostic } from './diagnostics';
import type { ExecuteResult, KernelService } from '../kernel';
import { LiveRunner } from './live-run';
import { log } from '../log';
import { previewSettings, readSettings } from '../settings';
import { errorMessage, formatError } from '../../core/errors';

export const PREVIEW_VIEW_TYPE = 'gift.preview';

/** A program produced by an image-to-CAD backend, ranked best first. */
export interface CadCandidate {
  code: string;
  score?: number;
  label?: string;
  /** It ran; and its solid passed OpenCascade's check (an invalid one ranks below every valid one). */
  ok?: boolean;
  valid?: boolean;
}

/** What order the preview's candidates are in. */
export type CandidateOrder = 'image score' | 'IoU against the reference' | 'as generated';

interface PreviewDeps {
  context: vscode.ExtensionContext;
  kernel: KernelService;
  diagnostics: vscode.DiagnosticCollection;
}

export interface OpenPreviewOptions {
  column?: vscode.ViewColumn;
  preserveFocus?: boolean;
  /** The image shown beside the shape. */
  imageUri?: vscode.Uri;
  /** Whether `imageUri` is the image the code was generated from (Image to CAD); default true. */
  imageIsSource?: boolean;
  /** The image's caption (default: its file name). */
  imageName?: string;
  /** The picture does not look like a render of a part: shown under it. */
  imageWarning?: string;
  candidates?: CadCandidate[];
  /** The order `candidates` are in (default image score). */
  candidateOrder?: CandidateOrder;
  /** The backend that generated the code. */
  model?: string;
  /** The dataset record the code came from. */
  sample?: DatasetSampleLink;
}

/** The IoU the panel measured, and exactly which program and reference it belongs to. */
export interface MeasuredIou {
  iou: number;
  chamfer: number | null;
  protocol: IouProtocol;
  /** The program text that was measured. */
  source: string;
  reference: vscode.Uri;
}

export class PreviewManager implements vscode.WebviewPanelSerializer, vscode.Disposable {
  private readonly panels = new Map<string, PreviewPanel>();
  private lastActive?: PreviewPanel;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly deps: PreviewDeps) {
    this.subscriptions.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length > 0) this.panels.get(e.document.uri.toString())?.documentChanged(e.document);
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        // The document object goes away but the panel stays; reopen it lazily on the next edit.
        const preview = this.panels.get(doc.uri.toString());
        if (!preview) return;
        preview.documentClosed(doc.getText(), doc.isUntitled);
        this.matchSaveAs();
        // An untitled document that closes is gone unless Save As opens it under a file name soon.
        if (doc.isUntitled) setTimeout(() => this.checkGone(preview), SAVE_AS_WINDOW_MS);
      }),
      vscode.workspace.onDidOpenTextDocument((doc) => this.followSaveAs(doc)),
      vscode.window.tabGroups.onDidChangeTabs((e) => {
        for (const tab of e.closed) if (tab.input instanceof vscode.TabInputText) this.tabClosedAt.set(tab.input.uri.toString(), Date.now());
        if (e.closed.length > 0) this.matchSaveAs();
      }),
      vscode.workspace.onDidRenameFiles((e) => {
        for (const { oldUri, newUri } of e.files) this.followRename(oldUri, newUri);
      }),
      vscode.workspace.onDidDeleteFiles((e) => {
        for (const uri of e.files)
          for (const p of this.all())
            if (isSameOrInside(p.documentUri, uri)) p.setGone(`${path.basename(p.documentUri.path)} was deleted: the preview shows its last shape.`);
      }),
    );
  }

  /** When each document's editor tab last closed (Save As replaces the tab of the old name). */
  private readonly tabClosedAt = new Map<string, number>();

  /** A renamed file (or a renamed folder above it): its preview moves to the new name. */
  private followRename(oldUri: vscode.Uri, newUri: vscode.Uri): void {
    for (const preview of this.all()) {
      if (!isSameOrInside(preview.documentUri, oldUri)) continue;
      const rest = preview.documentUri.path.slice(oldUri.path.length);
      void this.retarget(preview, newUri.with({ path: newUri.path + rest }));
    }
  }

  /** File documents opened in the last moments: Save As candidates. */
  private readonly openedAt = new Map<string, { doc: vscode.TextDocument; at: number }>();

  /**
   * Save As: VS Code opens the new file and closes the old name's tab (an untitled document is
   * disposed), in either order. A preview whose document left its tab just now follows a file
   * opened just now with the same text.
   */
  private followSaveAs(doc: vscode.TextDocument): void {
    if (doc.uri.scheme !== 'file' || this.panels.has(doc.uri.toString())) return;
    this.openedAt.set(doc.uri.toString(), { doc, at: Date.now() });
    this.matchSaveAs();
  }

  /** Pairs previews whose document just left its editor with files just opened (run on both events). */
  private matchSaveAs(): void {
    // The other half of the pair arrives right after: look a moment later.
    setTimeout(() => {
      const now = Date.now();
      for (const [key, { at }] of this.openedAt) if (now - at > SAVE_AS_WINDOW_MS) this.openedAt.delete(key);
      for (const preview of this.all()) {
        const key = preview.documentUri.toString();
        const leftAt = this.tabClosedAt.get(key) ?? preview.closedAt;
        if (leftAt === undefined || now - leftAt > SAVE_AS_WINDOW_MS || !preview.documentGoneFromEditor()) continue;
        for (const [uri, { doc }] of this.openedAt) {
          if (doc.isClosed || this.panels.has(uri) || doc.getText() !== preview.lastKnownText) continue;
          this.openedAt.delete(uri);
          log().info(`${preview.title} follows its document, saved as ${doc.uri.fsPath}`);
          void this.retarget(preview, doc.uri);
          break;
        }
      }
    }, 200);
  }

  private checkGone(preview: PreviewPanel): void {
    if (preview.disposed || preview.documentUri.scheme !== 'untitled') return;
    const open = vscode.workspace.textDocuments.some((d) => d.uri.toString() === preview.documentUri.toString() && !d.isClosed);
    if (!open)
      preview.setGone(
        `${path.basename(preview.documentUri.path)} was closed without saving: the preview shows its last shape and no longer follows an editor.`,
      );
  }

  private async retarget(preview: PreviewPanel, uri: vscode.Uri): Promise<void> {
    const oldKey = preview.documentUri.toString();
    if (this.panels.get(oldKey) === preview) this.panels.delete(oldKey);
    this.panels.set(uri.toString(), preview);
    await preview.moveTo(uri);
  }

  /** Opens (or reveals) the preview of a document and runs it. */
  open(document: vscode.TextDocument, options: OpenPreviewOptions = {}): PreviewPanel {
    const key = document.uri.toString();
    let preview = this.panels.get(key);
    if (preview) {
      preview.reveal(options.column, options.preserveFocus);
    } else {
      const panel = vscode.window.createWebviewPanel(
        PREVIEW_VIEW_TYPE,
        previewTitle(document.uri),
        { viewColumn: options.column ?? vscode.ViewColumn.Beside, preserveFocus: options.preserveFocus ?? true },
        webviewOptions(this.deps.context),
      );
      preview = this.adopt(panel, document.uri, document);
    }
    if (options.imageUri) void preview.setSourceImage(options.imageUri, options.imageIsSource ?? true, options.imageName, options.imageWarning);
    if (options.candidates) preview.setCandidates(options.candidates, 0, options.candidateOrder);
    if (options.model !== undefined || options.sample !== undefined) preview.setOrigin({ model: options.model, sample: options.sample });
    return preview;
  }

  get(uri: vscode.Uri): PreviewPanel | undefined {
    return this.panels.get(uri.toString());
  }

  /** The preview of the active editor's document, else the preview used last. */
  current(): PreviewPanel | undefined {
    const active = vscode.window.activeTextEditor?.document.uri;
    return (active && this.get(active)) || (this.lastActive && !this.lastActive.disposed ? this.lastActive : undefined);
  }

  all(): PreviewPanel[] {
    return [...this.panels.values()];
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    if (!isPanelRestoreState(state)) {
      log().warn('a CAD preview could not be restored: it saved no document');
      panel.dispose();
      return;
    }
    panel.webview.options = webviewOptions(this.deps.context);
    const uri = vscode.Uri.parse(state.documentUri);
    let document: vscode.TextDocument | undefined;
    try {
      document = await vscode.workspace.openTextDocument(uri);
    } catch (e) {
      log().warn(`restoring the preview of ${uri.toString()}: ${errorMessage(e)}`);
    }
    if (!document) {
      panel.dispose();
      return;
    }
    const preview = this.adopt(panel, uri, document);
    preview.setOrigin({ model: state.model, sample: state.sample });
    if (state.referenceUri) {
      preview.setReference(vscode.Uri.parse(state.referenceUri)).catch((e) => log().warn(`restoring the reference of ${preview.title}: ${errorMessage(e)}`));
    }
    if (state.imageUri) void preview.setSourceImage(vscode.Uri.parse(state.imageUri), state.imageIsSource ?? true, state.imageName, state.imageWarning);
    if (state.candidates?.length) {
      const order = (['image score', 'IoU against the reference', 'as generated'] as const).find((o) => o === state.candidateOrder);
      preview.setCandidates(state.candidates, state.candidate ?? 0, order);
    }
  }

  /** New thresholds/protocol go to every panel; a new tessellation or kernel also re-runs them. */
  settingsChanged(rerun: boolean): void {
    for (const p of this.panels.values()) p.settingsChanged(rerun);
  }

  dispose(): void {
    for (const p of [...this.panels.values()]) p.dispose();
    for (const s of this.subscriptions) s.dispose();
  }

  private adopt(panel: vscode.WebviewPanel, uri: vscode.Uri, document: vscode.TextDocument): PreviewPanel {
    const preview = new PreviewPanel(panel, uri, document, this.deps);
    const key = uri.toString();
    this.panels.set(key, preview);
    this.lastActive = preview;
    panel.onDidChangeViewState(() => {
      if (panel.active) this.lastActive = preview;
    });
    panel.onDidDispose(() => {
      const current = preview.documentUri.toString();
      if (this.panels.get(current) === preview) this.panels.delete(current);
      if (this.panels.get(key) === preview) this.panels.delete(key);
      if (this.lastActive === preview) this.lastActive = undefined;
      preview.dispose();
    });
    return preview;
  }
}

export class PreviewPanel {
  private uri: vscode.Uri;
  disposed = false;
  /** When its document closed (Date.now()), while it is closed. */
  closedAt?: number;
  /** The document's text when last seen (kept after it closes: Save As is matched by it). */
  lastKnownText = '';
  private textBeforeLastChange = '';
  /** Why the document is gone (closed unsaved, deleted), shown in the panel; undefined while it is there. */
  goneReason?: string;
  private document?: vscode.TextDocument;
  private ready = false;
  private readonly runner: LiveRunner<string, { source: string; result: JobResult<ExecuteResult> }>;
  /** IoU against the reference, run after each good shape; newer edits cancel it like a run. */
  private readonly iouRunner: LiveRunner<IouInput, { input: IouInput; result: JobResult<IouJobResult> }>;
  private lastShape?: ShapeUpdate;
  /** The program text of `lastShape`. */
  private lastShapeSource?: string;
  private lastError?: { version: number; error: CadErrorInfo };
  private reference?: { uri: vscode.Uri; name: string; mesh: PreviewMesh; input: ShapeSource };
  private metrics: Metrics = { iou: null, chamfer: null, state: 'none' };
  private measured?: MeasuredIou;
  private sourceImage?: { uri: vscode.Uri; name: string; dataUri: string; isSource: boolean; warning?: string };
  private origin: { model?: string; sample?: DatasetSampleLink } = {};
  private candidates: CadCandidate[] = [];
  private currentCandidate = 0;
  /** The document's text for each candidate the user edited: stepping away and back keeps the typing. */
  private candidateEdits = new Map<number, string>();
  private candidateOrder: CandidateOrder = 'image score';
  /** Bumped by every new reference or candidate list: a slower ranking of an older one is dropped. */
  private rankGeneration = 0;
  private nextRequestId = 1;
  private readonly pendingRequests = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly updateEmitter = new vscode.EventEmitter<{ version: number; ok: boolean }>();
  /** Fires after each run that reached the panel (shape or error). */
  readonly onDidUpdate = this.updateEmitter.event;

  constructor(
    readonly panel: vscode.WebviewPanel,
    uri: vscode.Uri,
    document: vscode.TextDocument,
    private readonly deps: PreviewDeps,
  ) {
    this.uri = uri;
    this.document = document;
    this.lastKnownText = document.getText();
    panel.iconPath = vscode.Uri.joinPath(deps.context.extensionUri, 'media', 'preview.svg');
    panel.webview.html = previewHtml(panel.webview, deps.context.extensionUri);
    panel.webview.onDidReceiveMessage((m) => this.onMessage(m));
    this.runner = new LiveRunner<string, { source: string; result: JobResult<ExecuteResult> & { engine?: string } }>({
      delayMs: 150,
      run: async (source, signal) => ({
        source,
        // A program Image to CAD wrote stays in the built-in engine unless gift.cadquery.pythonForGenerated.
        result: await this.deps.kernel.execute(
          { source, mesh: { tolerance: readSettings().tessellation } },
          { signal, builtinOnly: this.candidates.length > 0 },
        ),
      }),
      onStart: (version) => {
        this.iouRunner.cancel();
        this.post(hostNotification('running', { version }));
      },
      onResult: ({ source, result }, version) => this.applyResult(result, version, source),
      onError: (error, version) => this.applyResult({ ok: false, error: { kind: 'runtime', message: errorMessage(error) ?? String(error) }, ms: 0 }, version),
    });
    this.iouRunner = new LiveRunner<IouInput, { input: IouInput; result: JobResult<IouJobResult> }>({
      delayMs: 0,
      run: async (input, signal) => {
        // The configured protocol, and `centred` beside it (one more boolean): the scale-aware figures.
        const protocol: IouProtocol[] = input.protocol === 'centred' ? ['centred'] : [input.protocol, 'centred'];
        const payload: IouPayload = { candidate: this.deps.kernel.shapeSourceFor(input.source), reference: input.reference, protocol, chamfer: true };
        // Four aligned booleans plus Chamfer sampling take longer than one run of the program.
        const timeoutMs = readSettings().kernel.timeoutMs * 3;
        return { input, result: await this.deps.kernel.run('shape.iou', payload, { signal, timeoutMs }) };
      },
      onResult: ({ input, result }) => this.applyIou(input, result),
      onError: (error) => this.setMetrics({ iou: null, chamfer: null, state: 'error', error: errorMessage(error) ?? String(error) }),
    });
    void this.runner.runNow(document.getText());
  }

  get title(): string {
    return previewTitle(this.documentUri);
  }

  /** The document this preview follows (it changes on rename and Save As). */
  get documentUri(): vscode.Uri {
    return this.uri;
  }

  /** Whether no editor tab shows the document any more. */
  documentGoneFromEditor(): boolean {
    const key = this.uri.toString();
    return !vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.input instanceof vscode.TabInputText && t.input.uri.toString() === key));
  }

  /** Follows the document to a new name (rename, Save As): same image, candidates and reference. */
  async moveTo(uri: vscode.Uri): Promise<void> {
    this.deps.diagnostics.delete(this.uri);
    this.uri = uri;
    this.panel.title = previewTitle(uri);
    this.goneReason = undefined;
    this.closedAt = undefined;
    this.document = undefined;
    this.postDocument();
    try {
      const document = await this.openDocument();
      this.lastKnownText = document.getText();
      await this.runner.runNow(document.getText());
    } catch (e) {
      this.setGone(`${path.basename(uri.path)} cannot be opened: ${errorMessage(e)}`);
    }
  }

  /** Says in the panel that its document is gone; the last shape stays. */
  setGone(reason: string): void {
    if (this.disposed || this.goneReason === reason) return;
    this.goneReason = reason;
    log().info(`${this.title}: ${reason}`);
    this.postDocument();
  }

  /** The newest shape that reached the panel (undefined until the first successful run). */
  get shape(): ShapeUpdate | undefined {
    return this.lastShape;
  }

  get error(): CadErrorInfo | undefined {
    return this.lastError?.error;
  }

  reveal(column?: vscode.ViewColumn, preserveFocus = true): void {
    this.panel.reveal(column, preserveFocus);
  }

  /** Resolves when no run (and no IoU of its result) is scheduled or in flight. */
  async settled(): Promise<void> {
    do {
      await this.runner.idle();
      await this.iouRunner.idle();
    } while (this.runner.busy || this.iouRunner.busy);
  }

  /** The current metrics (what the panel shows). */
  get currentMetrics(): Metrics {
    return this.metrics;
  }

  /** The last IoU that was measured, if it still belongs to the current reference. */
  get measuredIou(): MeasuredIou | undefined {
    return this.measured && this.reference && this.measured.reference.toString() === this.reference.uri.toString() ? this.measured : undefined;
  }

  /** The reference as the kernel reads it (its code, or STEP/STL bytes). */
  get referenceSource(): ShapeSource | undefined {
    return this.reference?.input;
  }

  /** The image shown beside the shape, and whether the code was generated from it. */
  get image(): { uri: vscode.Uri; isSource: boolean } | undefined {
    return this.sourceImage ? { uri: this.sourceImage.uri, isSource: this.sourceImage.isSource } : undefined;
  }

  /** The backend that generated the code (Image to CAD), if one did. */
  get model(): string | undefined {
    return this.origin.model;
  }

  /** The dataset record this program was opened from. */
  get sample(): DatasetSampleLink | undefined {
    return this.origin.sample;
  }

  /** Where the code came from; kept across window reloads. */
  setOrigin(origin: { model?: string; sample?: DatasetSampleLink }): void {
    this.origin = { ...origin };
    this.postDocument();
  }

  /** The program text of the shape on screen. */
  get shapeSource(): string | undefined {
    return this.lastShapeSource;
  }

  /** Re-runs the document now (no debounce). */
  refresh(): Promise<void> {
    return this.document ? this.runner.runNow(this.document.getText()) : Promise.resolve();
  }

  documentChanged(document: vscode.TextDocument): void {
    this.document = document;
    this.textBeforeLastChange = this.lastKnownText;
    this.lastKnownText = document.getText();
    if (this.goneReason) {
      this.goneReason = undefined;
      this.postDocument();
    }
    this.iouRunner.cancel();
    this.runner.schedule(document.getText());
  }

  documentClosed(text: string, untitled: boolean): void {
    this.document = undefined;
    // Closing an untitled editor without saving first empties it (a revert): its program is what it held before.
    this.lastKnownText = untitled && text === '' ? this.textBeforeLastChange : text;
    this.closedAt = Date.now();
  }

  async setReference(uri: vscode.Uri): Promise<void> {
    const name = path.basename(uri.fsPath || uri.path);
    const input = await shapeSourceOf(uri);
    const result = await this.deps.kernel.execute({ input, mesh: { tolerance: readSettings().tessellation } });
    if (!result.ok) throw new Error(`reference ${name}: ${formatError(result.error)}`);
    if (!result.value.mesh) throw new Error(`reference ${name}: the kernel returned no mesh`);
    this.reference = { uri, name, mesh: toPreviewMesh(result.value.mesh), input };
    log().info(`reference for ${this.title}: ${uri.toString()} (${(result.value.mesh.indices.length / 3) | 0} triangles, ${result.ms} ms)`);
    this.postReference();
    this.measured = undefined;
    this.setMetrics({ iou: null, chamfer: null, state: 'none' });
    this.postDocument();
    this.measureAgainstReference();
    void this.rankCandidatesByReference();
  }

  /** The order the candidates are shown in (image score after Image to CAD; IoU once a reference is set). */
  get candidatesOrder(): CandidateOrder {
    return this.candidateOrder;
  }

  /** The candidates as shown: code (with the user's edits), label, score. */
  get candidateList(): readonly CadCandidate[] {
    return this.candidates.map((c, i) => ({ ...c, code: this.candidateEdits.get(i) ?? c.code }));
  }

  /**
   * With a reference, the candidates are ranked by their IoU against it (what the user now knows to
   * be right), valid solids first; the one on screen stays on screen, with its edits.
   */
  async rankCandidatesByReference(): Promise<void> {
    if (!this.reference || this.candidates.length < 2) return;
    const generation = ++this.rankGeneration;
    const reference = this.reference;
    const protocol = readSettings().iouProtocol;
    const timeoutMs = readSettings().kernel.timeoutMs * 3;
    const shown = this.candidateList;
    const scored = await Promise.all(
      shown.map(async (c, index) => {
        if (c.ok === false) return { index, iou: undefined as number | undefined, error: undefined as string | undefined };
        const result = await this.deps.kernel.run(
          'shape.iou',
          { candidate: { kind: 'code', source: c.code }, reference: reference.input, protocol },
          { timeoutMs },
        );
        if (result.ok && result.value.results[0].status !== 'ok')
          return { index, iou: undefined, error: `inconsistent IoU: ${result.value.results[0].check?.reason}` };
        return result.ok ? { index, iou: result.value.results[0].iou, error: undefined } : { index, iou: undefined, error: formatError(result.error) };
      }),
    );
    if (generation !== this.rankGeneration || this.disposed || this.reference !== reference) return;
    const tier = (i: number) => (shown[i].ok === false ? 3 : scored[i].iou === undefined ? 2 : shown[i].valid === false ? 1 : 0);
    const order = scored.map((s) => s.index).sort((a, b) => tier(a) - tier(b) || (scored[b].iou ?? -1) - (scored[a].iou ?? -1) || a - b);
    const edits = new Map<number, string>();
    const candidates = order.map((from, to) => {
      const edited = this.candidateEdits.get(from);
      if (edited !== undefined) edits.set(to, edited);
      const c = this.candidates[from];
      const { iou, error } = scored[from];
      const invalid = c.valid === false ? 'invalid solid · ' : '';
      const label =
        c.ok === false
          ? c.label
          : iou !== undefined
            ? `${invalid}IoU ${iou.toFixed(3)} against ${reference.name}`
            : `${invalid}IoU failed: ${error ?? 'unknown error'}`;
      return { ...c, score: iou ?? (c.ok === false ? undefined : c.score), label };
    });
    this.currentCandidate = order.indexOf(this.currentCandidate);
    this.candidates = candidates;
    this.candidateEdits = edits;
    this.candidateOrder = 'IoU against the reference';
    log().info(`${this.title}: candidates ranked by IoU against ${reference.name}: ${candidates.map((c) => c.score?.toFixed(3) ?? '—').join(', ')}`);
    this.postCandidates();
  }

  clearReference(): void {
    this.reference = undefined;
    this.iouRunner.cancel();
    this.measured = undefined;
    this.setMetrics({ iou: null, chamfer: null, state: 'none' });
    this.post(hostNotification('reference', { name: null }));
    this.postDocument();
  }

  get referenceUri(): vscode.Uri | undefined {
    return this.reference?.uri;
  }

  /** What the numbers panel shows; null shows "—". */
  setMetrics(metrics: Metrics): void {
    this.metrics = metrics;
    this.post(hostNotification('metrics', metrics));
  }

  /** Shows an image beside the shape; `isSource`: the code was generated from it (Image to CAD). */
  async setSourceImage(uri: vscode.Uri, isSource = true, name?: string, warning?: string): Promise<void> {
    const bytes = await vscode.workspace.fs.readFile(uri);
    const dataUri = `data:${imageMime(uri.path)};base64,${Buffer.from(bytes).toString('base64')}`;
    this.sourceImage = { uri, name: name ?? path.basename(uri.path), dataUri, isSource, warning };
    this.post(hostNotification('sourceImage', { name: this.sourceImage.name, dataUri, warning }));
    this.postDocument();
  }

  setCandidates(candidates: CadCandidate[], current: number, order: CandidateOrder = 'image score'): void {
    this.candidates = candidates;
    this.candidateOrder = order;
    this.rankGeneration++;
    this.candidateEdits.clear();
    this.currentCandidate = Math.min(Math.max(0, current), Math.max(0, candidates.length - 1));
    this.postCandidates();
  }

  /** Replaces the document's text with candidate `index`; the edit re-runs the preview. */
  async selectCandidate(index: number): Promise<boolean> {
    const candidate = this.candidates[index];
    if (!candidate) return false;
    const document = await this.openDocument();
    // The text on screen belongs to the current candidate: keep it if the user changed it.
    const text = document.getText();
    const shown = this.candidates[this.currentCandidate];
    if (shown && text !== shown.code) this.candidateEdits.set(this.currentCandidate, text);
    else this.candidateEdits.delete(this.currentCandidate);
    if (index === this.currentCandidate) return true;
    const edit = new vscode.WorkspaceEdit();
    edit.replace(document.uri, new vscode.Range(0, 0, document.lineCount, 0), this.candidateEdits.get(index) ?? candidate.code);
    const applied = await vscode.workspace.applyEdit(edit);
    if (applied) {
      this.currentCandidate = index;
      this.postCandidates();
    }
    return applied;
  }

  /** Asks the webview what it shows (tests use it to check the mesh really arrived). */
  sceneInfo(timeoutMs = 10_000): Promise<SceneInfo> {
    return this.request('sceneInfo', {}, timeoutMs);
  }

  command<K extends keyof HostCommands>(method: K, params: HostCommands[K]): Thenable<boolean> {
    return this.panel.webview.postMessage(hostCommand(method, params));
  }

  settingsChanged(rerun: boolean): void {
    this.post(hostNotification('settings', previewSettings()));
    if (rerun && this.document) {
      this.runner.schedule(this.document.getText());
      return;
    }
    // A new protocol needs a new IoU job; new thresholds only move the bucket.
    const protocol = readSettings().iouProtocol;
    if (this.reference && this.metrics.protocol !== undefined && this.metrics.protocol !== protocol) this.measureAgainstReference();
    else if (this.metrics.iou !== null) this.setMetrics({ ...this.metrics, bucket: bucketOf(this.metrics.iou) });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.runner.dispose();
    this.iouRunner.dispose();
    this.deps.diagnostics.delete(this.documentUri);
    for (const pending of this.pendingRequests.values()) pending.reject(new Error('the preview was closed'));
    this.pendingRequests.clear();
    this.updateEmitter.dispose();
    this.panel.dispose();
  }

  // ---------- internals ----------

  /** Starts the IoU of the shape on screen against the reference (when both exist). */
  private measureAgainstReference(): void {
    if (!this.reference || this.lastShapeSource === undefined || this.disposed) return;
    const protocol = readSettings().iouProtocol;
    // The previous numbers stay while this one runs; a placement from another protocol does not.
    const overlay = this.metrics.protocol === protocol ? this.metrics.overlay : undefined;
    this.setMetrics({ ...this.metrics, protocol, overlay, state: 'computing', error: undefined });
    void this.iouRunner.runNow({ source: this.lastShapeSource, reference: this.reference.input, referenceUri: this.reference.uri, protocol });
  }

  private applyIou(input: IouInput, result: JobResult<IouJobResult>): void {
    if (this.disposed || this.reference?.uri.toString() !== input.referenceUri.toString()) return;
    if (!result.ok) {
      if (result.error.kind === 'cancelled') return;
      this.measured = undefined;
      this.setMetrics({ iou: null, chamfer: null, protocol: input.protocol, state: 'error', error: formatError(result.error), ms: result.ms });
      log().info(`${this.title}: IoU against ${this.reference.name} failed: ${formatError(result.error)}`);
      return;
    }
    const first = result.value.results[0];
    const centred = result.value.results.find((r) => r.protocol === 'centred');
    const chamfer = first.chamfer?.chamferX1000 ?? null;
    // Size after centring: each figure only when its own check passed.
    const scale = { centredIou: centred?.status === 'ok' ? centred.iou : null, sizeRatio: first.sizeRatio };
    if (first.status !== 'ok') {
      // The boolean disagrees with the point check: show both numbers, never a bucket.
      this.measured = undefined;
      const error = `IoU ${first.iou.toFixed(4)} is inconsistent: ${first.check?.reason ?? 'the point check disagrees'}`;
      this.setMetrics({ iou: null, chamfer, protocol: input.protocol, state: 'error', error, ms: result.ms, ...scale });
      log().warn(`${this.title}: ${error}`);
      return;
    }
    this.measured = { iou: first.iou, chamfer, protocol: input.protocol, source: input.source, reference: input.referenceUri };
    this.setMetrics({
      iou: first.iou,
      chamfer,
      protocol: input.protocol,
      bucket: bucketOf(first.iou),
      state: 'done',
      ms: result.ms,
      ...scale,
      overlay: first.referenceInCandidate,
    });
    log().debug(
      `${this.title}: IoU ${first.iou.toFixed(4)} (${input.protocol}), centred ${scale.centredIou?.toFixed(4) ?? '—'}, size ×${first.sizeRatio.toFixed(3)} against ${this.reference.name} in ${result.ms} ms`,
    );
  }

  private applyResult(result: JobResult<ExecuteResult> & { engine?: string }, version: number, source?: string): void {
    if (this.disposed) return;
    if (result.ok) {
      const value = result.value;
      if (!value.mesh) {
        this.applyResult({ ok: false, error: { kind: 'runtime', message: 'the kernel returned no mesh' }, ms: result.ms }, version);
        return;
      }
      this.lastShape = {
        version,
        mesh: toPreviewMesh(value.mesh),
        volume: value.volume,
        bbox: value.bbox as BoundingBox,
        valid: value.valid,
        ms: result.ms,
        ...(result.engine ? { engine: result.engine } : {}),
      };
      this.lastShapeSource = source;
      this.lastError = undefined;
      if (value.valid === false && this.document && !this.document.isClosed) {
        this.deps.diagnostics.set(this.documentUri, [invalidShapeDiagnostic(this.document)]);
      } else {
        this.deps.diagnostics.delete(this.documentUri);
      }
      this.post(hostNotification('shape', this.lastShape));
      log().debug(`${this.title}: run ${version} ok in ${result.ms} ms, volume ${value.volume}`);
      this.measureAgainstReference();
    } else {
      if (result.error.kind === 'cancelled') return;
      this.lastError = { version, error: result.error };
      if (this.document && !this.document.isClosed) {
        this.deps.diagnostics.set(this.documentUri, [diagnosticFor(this.document, result.error)]);
      }
      this.post(hostNotification('error', this.lastError));
      log().info(`${this.title}: run ${version} failed: ${formatError(result.error)}`);
    }
    this.updateEmitter.fire({ version, ok: result.ok });
  }

  private onMessage(raw: unknown): void {
    if (!isWebviewMessage(raw)) {
      log().warn(`preview sent an unknown message: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    const m: WebviewMessage = raw;
    if (m.kind === 'response') {
      const pending = this.pendingRequests.get(m.id);
      this.pendingRequests.delete(m.id);
      if (pending) m.ok ? pending.resolve(m.result) : pending.reject(new Error(m.error));
      return;
    }
    if (m.kind === 'notification') {
      if (m.method === 'ready') {
        if (m.params.protocol !== PROTOCOL_VERSION) log().warn(`preview protocol ${m.params.protocol} ≠ host ${PROTOCOL_VERSION}`);
        this.ready = true;
        this.sendState();
      } else if (m.method === 'log') {
        const text = `[preview] ${m.params.message}`;
        if (m.params.level === 'error') log().error(text);
        else if (m.params.level === 'warn') log().warn(text);
        else log().info(text);
      }
      return;
    }
    switch (m.method) {
      case 'selectCandidate':
        void this.selectCandidate(m.params.index);
        return;
      case 'pickReference':
        void vscode.commands.executeCommand('gift.setReference', undefined, this.documentUri);
        return;
      case 'exportShape':
        void vscode.commands.executeCommand(m.params.format === 'step' ? 'gift.exportStep' : 'gift.exportStl', this.documentUri);
        return;
      case 'revealLine':
        void this.revealLine(m.params.line);
        return;
      case 'flag':
        void vscode.commands.executeCommand(m.params.collection === 'fda' ? 'gift.flagFda' : 'gift.flagSrs', this.documentUri);
        return;
    }
  }

  private async revealLine(line: number): Promise<void> {
    const document = await this.openDocument();
    const position = new vscode.Position(Math.max(0, line - 1), 0);
    await vscode.window.showTextDocument(document, { selection: new vscode.Range(position, position), viewColumn: vscode.ViewColumn.One });
  }

  private async openDocument(): Promise<vscode.TextDocument> {
    if (!this.document || this.document.isClosed) this.document = await vscode.workspace.openTextDocument(this.documentUri);
    return this.document;
  }

  /** Everything the webview shows, sent whenever it (re)loads. */
  private sendState(): void {
    this.post(hostNotification('settings', previewSettings()));
    this.postDocument();
    this.postReference();
    this.post(hostNotification('metrics', this.metrics));
    this.post(
      hostNotification(
        'sourceImage',
        this.sourceImage ? { name: this.sourceImage.name, dataUri: this.sourceImage.dataUri, warning: this.sourceImage.warning } : { name: null },
      ),
    );
    this.postCandidates();
    if (this.lastShape) this.post(hostNotification('shape', this.lastShape));
    if (this.lastError) this.post(hostNotification('error', this.lastError));
  }

  /** What the webview keeps for the panel serializer (a reloaded window restores the panel from it). */
  get restoreState(): PanelRestoreState {
    return this.buildRestoreState();
  }

  private postDocument(): void {
    const restore = this.buildRestoreState();
    this.post(hostNotification('document', { uri: this.documentUri.toString(), title: this.title, restore, gone: this.goneReason ?? null }));
  }

  private buildRestoreState(): PanelRestoreState {
    return {
      documentUri: this.documentUri.toString(),
      referenceUri: this.reference?.uri.toString(),
      imageUri: this.sourceImage?.uri.toString(),
      imageIsSource: this.sourceImage?.isSource,
      imageName: this.sourceImage && this.sourceImage.name !== path.basename(this.sourceImage.uri.path) ? this.sourceImage.name : undefined,
      model: this.model,
      sample: this.sample,
      ...(this.candidates.length ? { candidates: [...this.candidateList], candidate: this.currentCandidate, candidateOrder: this.candidateOrder } : {}),
      imageWarning: this.sourceImage?.warning,
    };
  }

  private postReference(): void {
    this.post(hostNotification('reference', this.reference ? { name: this.reference.name, mesh: this.reference.mesh } : { name: null }));
  }

  private postCandidates(): void {
    const items: Candidate[] = this.candidates.map((c, i) => ({
      rank: i + 1,
      label: `${c.label ?? `candidate ${i + 1}`}${this.candidateEdits.has(i) ? ' (edited)' : ''}`,
      score: c.score,
      invalid: c.ok === false || c.valid === false,
    }));
    this.post(hostNotification('candidates', { items, current: this.currentCandidate, order: this.candidateOrder }));
    this.postDocument();
  }

  private post(message: HostMessage): void {
    // Before 'ready' the webview cannot listen yet; it gets the whole state once it is ready.
    if (this.ready && !this.disposed) void this.panel.webview.postMessage(message);
  }

  private request<K extends keyof WebviewRequests>(method: K, params: WebviewRequests[K][0], timeoutMs: number): Promise<WebviewRequests[K][1]> {
    const id = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingRequests.delete(id);
        reject(new Error(`the preview did not answer '${method}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingRequests.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as WebviewRequests[K][1]);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      const send = () => void this.panel.webview.postMessage(hostRequest(id, method, params));
      if (this.ready) send();
      else {
        // The webview may still be loading: ask once it says it is ready.
        const wait = setInterval(() => {
          if (this.disposed || !this.pendingRequests.has(id)) clearInterval(wait);
          else if (this.ready) {
            clearInterval(wait);
            send();
          }
        }, 50);
      }
    });
  }
}

interface IouInput {
  source: string;
  reference: ShapeSource;
  referenceUri: vscode.Uri;
  protocol: IouProtocol;
}

/** The GIFT bucket of an IoU under the configured thresholds (null when they are invalid). */
function bucketOf(iou: number): IouBucket {
  try {
    return bucketForIou(iou, readSettings().thresholds);
  } catch {
    return null;
  }
}

/** Reads a reference (.py from its open editor when there is one, else from disk). */
async function shapeSourceOf(uri: vscode.Uri): Promise<ShapeSource> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open && path.extname(uri.path).toLowerCase() === '.py') return { kind: 'code' as const, source: open.getText(), name: uri.path };
  const format = formatOfFile(uri.path); // an unknown extension: an error naming the file and the types
  const bytes = await vscode.workspace.fs.readFile(uri);
  if (format === 'code') return { kind: 'code' as const, source: Buffer.from(bytes).toString('utf8'), name: uri.path };
  return { kind: format, bytes, name: uri.path };
}

function toPreviewMesh(mesh: { positions: Float32Array; normals?: Float32Array; indices: Uint32Array; edges?: Float32Array }): PreviewMesh {
  return { positions: mesh.positions, normals: mesh.normals, indices: mesh.indices, edges: mesh.edges };
}

/** How long after its tab closes a document may reappear under a new name (Save As) and be followed. */
const SAVE_AS_WINDOW_MS = 3000;

function isSameOrInside(uri: vscode.Uri, container: vscode.Uri): boolean {
  if (uri.scheme !== container.scheme || uri.authority !== container.authority) return false;
  return uri.path === container.path || uri.path.startsWith(container.path.endsWith('/') ? container.path : `${container.path}/`);
}

function previewTitle(uri: vscode.Uri): string {
  return `Preview ${path.basename(uri.path)}`;
}

function imageMime(file: string): string {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jpg' || ext === '.jpeg') return 'image/jpeg';
  if (ext === '.webp') return 'image/webp';
  if (ext === '.bmp') return 'image/bmp';
  return 'image/png';
}

export function webviewOptions(context: vscode.ExtensionContext): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    // The 3D view (camera, toggles) would be rebuilt from scratch every time the tab is hidden otherwise.
    retainContextWhenHidden: true,
    localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(context.extensionUri, 'media')],
  };
}

function previewHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = crypto.randomBytes(18).toString('base64');
  const asset = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', ...p)).toString();
  const csp = [
    `default-src 'none'`,
    `img-src ${webview.cspSource} data: blob:`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  // main.css carries the codicon font too; vscode-elements' icons find it by this link's id.
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" id="vscode-codicon-stylesheet" href="${asset('main.css')}" nonce="${nonce}">
<title>CAD Preview</title>
</head>
<body>
<div id="app"></div>
<script nonce="${nonce}" src="${asset('main.js')}"></script>
</body>
</html>`;
}
