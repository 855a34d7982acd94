/**
 * The CAD preview webview: toolbar, error banner, source image, 3D view and the numbers panel.
 * Talks to the extension only through the typed messages in src/protocol/messages.ts.
 */
import '@vscode/codicons/dist/codicon.css';
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import '@vscode-elements/elements/dist/vscode-toolbar-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import './style.css';
import {
  PROTOCOL_VERSION,
  TOGGLE_NAMES,
  formatBoundingBox,
  formatBucket,
  formatLength,
  formatMetric,
  formatSizeRatio,
  iouGrade,
  isHostMessage,
  webviewCommand,
  webviewNotification,
  type BoundingBox,
  type Candidate,
  type CadErrorInfo,
  type HostMessage,
  type Metrics,
  type PanelRestoreState,
  type PreviewSettings,
  type ResponseMessage,
  type SceneInfo,
  type ToggleName,
  type CameraView,
  type WebviewMessage,
} from '../src/protocol/messages';
import { Viewer, type ClipAxis } from './viewer';
import { formatError } from '../src/core/errors';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  setState(state: PanelRestoreState): void;
  getState(): PanelRestoreState | undefined;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const post = (m: WebviewMessage) => vscode.postMessage(m);

// ---------- DOM ----------

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, string>, ...children: (Node | string)[]): HTMLElementTagNameMap[K];
function el(tag: string, attrs?: Record<string, string>, ...children: (Node | string)[]): HTMLElement;
function el(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

function toolbarButton(id: string, title: string, options: { icon?: string; text?: string; toggle?: boolean } = {}): HTMLElement {
  const attrs: Record<string, string> = { id, title, label: title, 'aria-label': title };
  if (options.icon) attrs.icon = options.icon;
  if (options.toggle) attrs.toggleable = '';
  return el('vscode-toolbar-button', attrs, ...(options.text ? [options.text] : []));
}

const TOGGLE_UI: Record<ToggleName, { icon: string; title: string }> = {
  wireframe: { icon: 'symbol-structure', title: 'Wireframe' },
  edges: { icon: 'primitive-square', title: 'B-rep edges' },
  transparent: { icon: 'eye', title: 'Transparent' },
  clip: { icon: 'split-horizontal', title: 'Clipping plane' },
  reference: { icon: 'references', title: 'Reference overlay' },
  rawFrame: { icon: 'pin', title: 'Reference where it is (raw frame); off: placed as the IoU protocol compared it' },
};

const app = document.getElementById('app')!;
const viewButtons = el(
  'div',
  { class: 'group', role: 'group', 'aria-label': 'Views' },
  toolbarButton('view-iso', 'Isometric view (1)', { text: 'Iso' }),
  toolbarButton('view-front', 'Front view (2)', { text: 'Front' }),
  toolbarButton('view-top', 'Top view (3)', { text: 'Top' }),
  toolbarButton('view-right', 'Right view (4)', { text: 'Right' }),
  toolbarButton('view-fit', 'Fit to view (F)', { icon: 'screen-full' }),
);
const toggleButtons = el(
  'div',
  { class: 'group', role: 'group', 'aria-label': 'Display' },
  ...TOGGLE_NAMES.map((t) => toolbarButton(`toggle-${t}`, TOGGLE_UI[t].title, { icon: TOGGLE_UI[t].icon, toggle: true })),
  toolbarButton('toggle-image', 'Source image (show/hide)', { icon: 'file-media', toggle: true }),
);
const clipAxis = el(
  'vscode-single-select',
  { id: 'clip-axis', title: 'Clipping axis', 'aria-label': 'Clipping axis' },
  el('vscode-option', { value: 'x' }, 'X'),
  el('vscode-option', { value: 'y' }, 'Y'),
  el('vscode-option', { value: 'z', selected: '' }, 'Z'),
);
const clipSlider = el('input', {
  id: 'clip-position',
  type: 'range',
  min: '0',
  max: '1000',
  value: '500',
  title: 'Clipping position',
  'aria-label': 'Clipping position',
});
const clipControls = el(
  'div',
  { class: 'group clip-controls', hidden: '' },
  clipAxis,
  clipSlider,
  toolbarButton('clip-flip', 'Flip the kept side', { icon: 'arrow-swap' }),
);
const candidateLabel = el('span', { class: 'candidate-label' });
const candidateControls = el(
  'div',
  { class: 'group candidates', hidden: '', role: 'group', 'aria-label': 'Candidates' },
  toolbarButton('candidate-prev', 'Previous candidate', { icon: 'chevron-left' }),
  candidateLabel,
  toolbarButton('candidate-next', 'Next candidate', { icon: 'chevron-right' }),
);
const statusRing = el('vscode-progress-ring', { class: 'status-ring', hidden: '' });
const statusText = el('span', { class: 'status-text' });
const toolbar = el(
  'div',
  { id: 'toolbar', role: 'toolbar' },
  viewButtons,
  el('span', { class: 'separator' }),
  toggleButtons,
  clipControls,
  candidateControls,
  el('span', { class: 'spacer' }),
  el('span', { class: 'status' }, statusRing, statusText),
  el(
    'div',
    { class: 'group' },
    toolbarButton('flag-srs', 'Flag as SRS (new code for this image)', { icon: 'pass' }),
    toolbarButton('flag-fda', 'Flag as FDA (render of this near miss, with the reference code)', { icon: 'beaker' }),
    toolbarButton('pick-reference', 'Set reference…', { icon: 'target' }),
    toolbarButton('export-step', 'Export STEP…', { icon: 'export' }),
  ),
);
const bannerText = el('span', { class: 'banner-text' });
const bannerLink = el('a', { href: '#', class: 'banner-link', hidden: '' });
const bannerIcon = el('vscode-icon', { name: 'error' });
const banner = el('div', { id: 'banner', role: 'alert', hidden: '' }, bannerIcon, bannerText, bannerLink);
// The document is gone (closed unsaved, deleted): said plainly, above the last shape.
const noticeText = el('span', { class: 'banner-text notice-text' });
const notice = el('div', { id: 'notice', role: 'status', hidden: '' }, el('vscode-icon', { name: 'info' }), noticeText);
const sourceImage = el('img', { alt: 'Source image' });
const sourceCaption = el('figcaption');
const imageWarning = el('div', { class: 'image-warning', role: 'status', hidden: '' });
const imagePane = el('figure', { id: 'image-pane', hidden: '' }, sourceImage, sourceCaption, imageWarning);
const viewport = el('div', { id: 'viewport' });
const emptyState = el('div', { id: 'empty' }, el('vscode-progress-ring'), el('span', {}, 'Running the CadQuery program…'));

function row(label: string, id: string, title?: string): HTMLElement {
  return el('div', { class: 'row' }, el('dt', title ? { title } : {}, label), el('dd', { id }, '—'));
}
const info = el(
  'dl',
  { id: 'info', 'aria-label': 'Shape' },
  row('IoU', 'metric-iou'),
  row('Protocol', 'metric-protocol'),
  // Scale-aware, beside the protocol's IoU (which normalises size away): "same shape, wrong size" shows here.
  row(
    'Centred IoU',
    'metric-centred',
    'Raw IoU after moving the centre of mass of the program onto the reference’s: no scaling, no rotation, so size and orientation count.',
  ),
  row('Size / reference', 'metric-size-ratio', 'Size of the program over the reference’s: the cube root of their volumes (×0.5: half the size).'),
  row('Chamfer ×1000', 'metric-chamfer'),
  row('Bucket', 'metric-bucket'),
  row('Volume', 'metric-volume'),
  row('Size', 'metric-bbox'),
  row('Reference', 'metric-reference'),
  row('Run', 'metric-kernel'),
);
// IoU failures belong to the reference comparison, not the program: shown here, not as a banner.
const iouError = el('div', { id: 'iou-error', class: 'iou-error', role: 'status', hidden: '' });
info.append(iouError);
viewport.append(emptyState, info);
// Drag to resize the image pane (its width, or its height when the panel is narrow and stacks them).
const splitter = el('div', { id: 'splitter', role: 'separator', 'aria-label': 'Resize the source image', hidden: '' });
const mainArea = el('div', { id: 'main' }, imagePane, splitter, viewport);
app.append(toolbar, notice, banner, mainArea);

const $ = (id: string) => document.getElementById(id)!;

// ---------- the source image's pane: shown, hidden, resized (kept with the panel's state) ----------

const saved = (vscode.getState() ?? {}) as Partial<PanelRestoreState>;
let restoreState: PanelRestoreState | undefined = saved.documentUri ? (saved as PanelRestoreState) : undefined;
let hasImage = false;
let imageHidden = saved.imageHidden === true;
let imageSize: number | undefined = typeof saved.imageSize === 'number' ? saved.imageSize : undefined;

function saveState(): void {
  if (restoreState) vscode.setState({ ...restoreState, imageHidden, imageSize });
}

function stacked(): boolean {
  return getComputedStyle(mainArea).flexDirection === 'column';
}

function layoutImage(): void {
  imagePane.hidden = !hasImage || imageHidden;
  splitter.hidden = imagePane.hidden;
  const button = $('toggle-image') as HTMLElement & { checked?: boolean };
  button.hidden = !hasImage;
  button.checked = hasImage && !imageHidden;
  imagePane.style.flexBasis = imageSize === undefined ? '' : `${imageSize}px`;
}

splitter.addEventListener('pointerdown', (e) => {
  splitter.setPointerCapture(e.pointerId);
  const vertical = stacked();
  const start = vertical ? e.clientY : e.clientX;
  const from = vertical ? imagePane.getBoundingClientRect().height : imagePane.getBoundingClientRect().width;
  const total = vertical ? mainArea.clientHeight : mainArea.clientWidth;
  const move = (ev: PointerEvent) => {
    const delta = (vertical ? ev.clientY : ev.clientX) - start;
    // The 3D view keeps at least 40 % of the area.
    imageSize = Math.round(Math.min(Math.max(from + delta, 48), total * 0.6));
    layoutImage();
  };
  const up = () => {
    splitter.removeEventListener('pointermove', move);
    splitter.removeEventListener('pointerup', up);
    saveState();
  };
  splitter.addEventListener('pointermove', move);
  splitter.addEventListener('pointerup', up);
});

// ---------- state ----------

const viewer = new Viewer(viewport);
let version = 0;
let bannerVersion = -1;
let currentError: CadErrorInfo | null = null;
let shapeInfo: { volume: number; bbox: BoundingBox; valid: boolean; ms: number; engine?: string } | null = null;
let metrics: Metrics = { iou: null, chamfer: null };
let settings: PreviewSettings = { thresholds: { low: 0.5, valid: 0.9, match: 0.99 }, iouProtocol: 'aligned' };
let referenceName: string | null = null;
let candidates: { items: Candidate[]; current: number; order?: string } = { items: [], current: 0 };
let clip: { axis: ClipAxis; fraction: number; flipped: boolean } = { axis: 'z', fraction: 0.5, flipped: false };

if (!viewer.available) showBanner(viewer.failure ?? 'WebGL is not available', null);

// ---------- rendering of state ----------

function renderInfo(): void {
  const failed = metrics.state === 'error';
  const grade = failed ? 'bad' : iouGrade(metrics.iou, settings.thresholds);
  const iou = $('metric-iou');
  const computing = metrics.state === 'computing';
  iou.textContent = failed ? 'error' : `${formatMetric(metrics.iou)}${computing ? ' …' : ''}`;
  iou.dataset.grade = grade;
  const thresholds = `thresholds: low ${settings.thresholds.low}, valid ${settings.thresholds.valid}, match ${settings.thresholds.match}`;
  iou.title = failed
    ? `IoU failed: ${metrics.error ?? 'unknown error'}`
    : `IoU (${metrics.protocol ?? settings.iouProtocol})${computing ? ', computing' : ''}${metrics.ms !== undefined ? `, ${metrics.ms} ms` : ''} — ${thresholds}`;
  $('metric-chamfer').textContent = failed ? '—' : formatMetric(metrics.chamfer);
  $('metric-protocol').textContent = referenceName === null ? '—' : (metrics.protocol ?? settings.iouProtocol);
  const centred = $('metric-centred');
  centred.textContent = failed && metrics.centredIou == null ? '—' : formatMetric(metrics.centredIou);
  centred.dataset.grade = iouGrade(metrics.centredIou ?? null, settings.thresholds);
  const size = $('metric-size-ratio');
  size.textContent = formatSizeRatio(metrics.sizeRatio);
  // More than 1 % off in size: worth a glance, whatever the protocol's IoU says.
  size.dataset.grade = metrics.sizeRatio == null || Math.abs(metrics.sizeRatio - 1) <= 0.01 ? 'none' : 'low';
  const bucket = $('metric-bucket');
  bucket.textContent = failed ? '—' : formatBucket(metrics.iou, metrics.bucket, settings.thresholds);
  bucket.dataset.grade = metrics.bucket === 'srs' ? 'valid' : metrics.bucket === 'fda' ? 'low' : 'none';
  bucket.title = `SRS: ${settings.thresholds.valid} ≤ IoU < ${settings.thresholds.match} · FDA: ${settings.thresholds.low} ≤ IoU < ${settings.thresholds.valid}`;
  iouError.hidden = !failed;
  iouError.textContent = failed ? `IoU: ${metrics.error ?? 'failed'}` : '';
  iouError.title = iouError.textContent;
  $('metric-volume').textContent = shapeInfo ? formatLength(shapeInfo.volume) : '—';
  $('metric-bbox').textContent = formatBoundingBox(shapeInfo?.bbox);
  $('metric-reference').textContent = referenceName ?? 'none';
  $('metric-kernel').textContent = shapeInfo
    ? `${shapeInfo.ms} ms${shapeInfo.engine ? ` · ${shapeInfo.engine}` : ''}${shapeInfo.valid ? '' : ' · invalid solid'}`
    : '—';
  $('metric-kernel').dataset.grade = shapeInfo && !shapeInfo.valid ? 'bad' : 'none';
}

function showBanner(text: string, line: number | null): void {
  bannerText.textContent = text;
  banner.hidden = false;
  bannerLink.hidden = line === null;
  if (line !== null) {
    bannerLink.textContent = `Go to line ${line}`;
    bannerLink.dataset.line = String(line);
  }
}

function hideBanner(): void {
  banner.hidden = true;
  bannerText.textContent = '';
}

function setRunning(running: boolean): void {
  statusRing.hidden = !running;
  toolbar.classList.toggle('running', running);
}

function renderCandidates(): void {
  const n = candidates.items.length;
  candidateControls.hidden = n < 2;
  const c = candidates.items[candidates.current];
  const what = candidates.order === 'IoU against the reference' ? 'IoU' : candidates.order === 'image score' ? 'score' : '';
  candidateLabel.textContent = n
    ? `${candidates.current + 1} / ${n}${c?.score !== undefined ? ` · ${what ? `${what} ` : ''}${c.score.toFixed(3)}` : ''}${c?.invalid ? ' · invalid' : ''}`
    : '';
  candidateLabel.dataset.grade = c?.invalid ? 'bad' : 'none';
  candidateLabel.title = `${c?.label ?? ''}${candidates.order ? `\nCandidates in order of ${candidates.order}, best first.` : ''}`;
}

function syncToggleButtons(): void {
  for (const t of TOGGLE_NAMES) {
    const button = $(`toggle-${t}`) as HTMLElement & { checked: boolean };
    button.checked = viewer.toggles[t];
  }
  clipControls.hidden = !viewer.toggles.clip;
  // The overlay toggle and the flags (which need the IoU against it) mean nothing until a reference is set.
  $('toggle-reference').hidden = referenceName === null;
  $('toggle-rawFrame').hidden = referenceName === null;
  $('flag-srs').hidden = referenceName === null;
  $('flag-fda').hidden = referenceName === null;
}

function sceneInfo(): SceneInfo {
  const counts = viewer.counts();
  return {
    version,
    ...counts,
    banner: banner.hidden ? null : bannerText.textContent,
    bannerSeverity: banner.hidden ? null : banner.dataset.severity === 'warning' ? 'warning' : 'error',
    notice: notice.hidden ? null : noticeText.textContent,
    view: viewer.view,
    toggles: { ...viewer.toggles },
    metrics: {
      iou: $('metric-iou').textContent ?? '',
      chamfer: $('metric-chamfer').textContent ?? '',
      volume: $('metric-volume').textContent ?? '',
      bbox: $('metric-bbox').textContent ?? '',
      protocol: $('metric-protocol').textContent ?? '',
      bucket: $('metric-bucket').textContent ?? '',
      iouError: iouError.hidden ? null : iouError.textContent,
      centredIou: $('metric-centred').textContent ?? '',
      sizeRatio: $('metric-size-ratio').textContent ?? '',
      kernel: $('metric-kernel').textContent ?? '',
    },
    overlay:
      referenceName === null
        ? null
        : { frame: viewer.referenceFrame === 'placed' ? (metrics.protocol ?? settings.iouProtocol) : 'raw', box: viewer.referenceBox() },
    candidate: candidates.current,
    candidateOrder: candidates.order ?? null,
    candidateLabel: candidateLabel.title,
    candidates: candidates.items.length,
    hasSourceImage: hasImage,
    imageWarning: imageWarning.hidden ? null : imageWarning.textContent,
    imageVisible: !imagePane.hidden,
    viewport: { width: viewport.clientWidth, height: viewport.clientHeight },
  };
}

// ---------- messages from the extension ----------

function handle(m: HostMessage): void {
  if (m.kind === 'request') {
    let response: ResponseMessage;
    try {
      response = { kind: 'response', id: m.id, ok: true, result: sceneInfo() };
    } catch (e) {
      response = { kind: 'response', id: m.id, ok: false, error: (e as Error).message };
    }
    post(response);
    return;
  }
  if (m.kind === 'command') {
    if (m.method === 'setView') viewer.setView(m.params.view);
    else if (m.method === 'setToggle') {
      viewer.setToggle(m.params.toggle, m.params.on);
      syncToggleButtons();
    } else if (m.method === 'showImage') {
      imageHidden = !m.params.on;
      layoutImage();
      saveState();
    }
    return;
  }
  switch (m.method) {
    case 'document':
      document.title = m.params.title;
      notice.hidden = !m.params.gone;
      noticeText.textContent = m.params.gone ?? '';
      // A document closed unsaved is emptied first: that run's "no result" is not the program's error.
      if (m.params.gone && shapeInfo) hideBanner();
      restoreState = m.params.restore;
      saveState();
      return;
    case 'settings':
      settings = m.params;
      renderInfo();
      return;
    case 'running':
      if (m.params.version >= version) setRunning(true);
      return;
    case 'shape': {
      const s = m.params;
      if (s.version < version) return; // a stale run: a newer one already arrived
      version = s.version;
      viewer.setShape(s.mesh);
      shapeInfo = { volume: s.volume, bbox: s.bbox, valid: s.valid, ms: s.ms, engine: s.engine };
      emptyState.hidden = true;
      if (bannerVersion <= s.version && viewer.available) {
        currentError = null;
        hideBanner();
      }
      setRunning(false);
      renderInfo();
      return;
    }
    case 'error': {
      if (m.params.version < version) return;
      version = m.params.version;
      bannerVersion = version;
      currentError = m.params.error;
      // Same severity as in Problems: a feature the engine lacks is a warning, not the program's error.
      banner.dataset.severity = currentError.kind === 'unsupported' ? 'warning' : 'error';
      bannerIcon.setAttribute('name', currentError.kind === 'unsupported' ? 'warning' : 'error');
      showBanner(formatError(currentError) + (shapeInfo ? ' (showing the last good shape)' : ''), currentError.line ?? null);
      if (!shapeInfo) emptyState.hidden = true;
      setRunning(false);
      return;
    }
    case 'reference':
      referenceName = m.params.name;
      viewer.setReference(m.params.name === null ? null : m.params.mesh);
      if (m.params.name !== null && !viewer.toggles.reference) viewer.setToggle('reference', true);
      syncToggleButtons();
      renderInfo();
      return;
    case 'metrics':
      metrics = m.params;
      viewer.setReferencePlacement(metrics.overlay);
      renderInfo();
      return;
    case 'sourceImage':
      hasImage = m.params.name !== null;
      layoutImage();
      if (m.params.name !== null) {
        sourceImage.src = m.params.dataUri;
        sourceCaption.textContent = m.params.name;
      } else sourceImage.removeAttribute('src');
      imageWarning.hidden = !(m.params.name !== null && m.params.warning);
      imageWarning.textContent = m.params.name !== null ? (m.params.warning ?? '') : '';
      return;
    case 'candidates':
      candidates = m.params;
      renderCandidates();
      return;
  }
}

window.addEventListener('message', (event: MessageEvent) => {
  if (!isHostMessage(event.data)) return;
  try {
    handle(event.data);
  } catch (e) {
    post(webviewNotification('log', { level: 'error', message: `handling ${event.data.method}: ${(e as Error).stack ?? e}` }));
  }
});

// Re-read colours when the VS Code theme changes (it swaps body classes and CSS variables).
new MutationObserver(() => viewer.applyTheme()).observe(document.body, { attributes: true, attributeFilter: ['class'] });

// ---------- user input ----------

const VIEW_BY_ID: Record<string, CameraView> = { 'view-iso': 'iso', 'view-front': 'front', 'view-top': 'top', 'view-right': 'right', 'view-fit': 'fit' };
viewButtons.addEventListener('click', (e) => {
  const id = (e.target as HTMLElement).closest('vscode-toolbar-button')?.id;
  if (id && VIEW_BY_ID[id]) viewer.setView(VIEW_BY_ID[id]);
});

for (const t of TOGGLE_NAMES) {
  $(`toggle-${t}`).addEventListener('change', (e) => {
    viewer.setToggle(t, (e.target as HTMLElement & { checked: boolean }).checked);
    syncToggleButtons();
  });
}

clipAxis.addEventListener('change', () => {
  clip = { ...clip, axis: ((clipAxis as HTMLElement & { value: string }).value as ClipAxis) || 'z' };
  viewer.setClip(clip.axis, clip.fraction, clip.flipped);
});
clipSlider.addEventListener('input', () => {
  clip = { ...clip, fraction: Number(clipSlider.value) / 1000 };
  viewer.setClip(clip.axis, clip.fraction, clip.flipped);
});
$('toggle-image').addEventListener('change', (e) => {
  imageHidden = !(e.target as HTMLElement & { checked: boolean }).checked;
  layoutImage();
  saveState();
});
$('clip-flip').addEventListener('click', () => {
  clip = { ...clip, flipped: !clip.flipped };
  viewer.setClip(clip.axis, clip.fraction, clip.flipped);
});

function stepCandidate(delta: number): void {
  const n = candidates.items.length;
  if (n < 2) return;
  post(webviewCommand('selectCandidate', { index: (candidates.current + delta + n) % n }));
}
$('candidate-prev').addEventListener('click', () => stepCandidate(-1));
$('candidate-next').addEventListener('click', () => stepCandidate(1));
$('pick-reference').addEventListener('click', () => post(webviewCommand('pickReference', {})));
$('flag-srs').addEventListener('click', () => post(webviewCommand('flag', { collection: 'srs' })));
$('flag-fda').addEventListener('click', () => post(webviewCommand('flag', { collection: 'fda' })));
$('export-step').addEventListener('click', () => post(webviewCommand('exportShape', { format: 'step' })));
bannerLink.addEventListener('click', (e) => {
  e.preventDefault();
  const line = Number(bannerLink.dataset.line);
  if (line > 0) post(webviewCommand('revealLine', { line }));
});

window.addEventListener('keydown', (e) => {
  if (e.target instanceof HTMLInputElement || e.metaKey || e.ctrlKey || e.altKey) return;
  const views: Record<string, CameraView> = { '1': 'iso', '2': 'front', '3': 'top', '4': 'right', f: 'fit' };
  const view = views[e.key.toLowerCase()];
  if (view) viewer.setView(view);
  else if (e.key === '[') stepCandidate(-1);
  else if (e.key === ']') stepCandidate(1);
});

syncToggleButtons();
renderInfo();
renderCandidates();
window.addEventListener('error', (e) => post(webviewNotification('log', { level: 'error', message: `${e.message} (${e.filename}:${e.lineno})` })));
post(webviewNotification('ready', { protocol: PROTOCOL_VERSION }));
