/**
 * Every message between the extension host and the CAD preview webview. Imported by both sides
 * (the webview bundle takes only types and the guards, so keep this file free of node/vscode/DOM).
 *
 * Three shapes of message travel each way:
 * - notification: fire-and-forget state ("here is a new shape", "the webview is ready");
 * - command: asks the other side to do something ("show the top view", "pick a reference");
 * - request/response: asks for an answer, matched by `id` (the tests read the scene this way).
 */

import type { Bucket } from '../core/dataset/thresholds';
import type { CadErrorInfo } from '../core/errors';
import type { Affine } from '../core/geometry/linalg';
import type { IouProtocol } from '../core/geometry/protocols';

export type { Affine, CadErrorInfo, IouProtocol };

export const PROTOCOL_VERSION = 1;

// ---------- payload types ----------

/** A triangulated B-rep for display. Typed arrays survive VS Code's postMessage intact. */
export interface PreviewMesh {
  positions: Float32Array;
  normals?: Float32Array;
  indices: Uint32Array;
  /** Line segments (pairs of xyz points) along the B-rep edges. */
  edges?: Float32Array;
}

export type BoundingBox = [xmin: number, ymin: number, zmin: number, xmax: number, ymax: number, zmax: number];

/** Where the preview's camera looks ('fit' frames the part); not the renderer's image views. */
export type CameraView = 'iso' | 'front' | 'top' | 'right' | 'fit';

export interface ShapeUpdate {
  /** Increases with every run of the document; the webview ignores anything older than it has. */
  version: number;
  mesh: PreviewMesh;
  volume: number;
  bbox: BoundingBox;
  valid: boolean;
  /** Milliseconds the kernel took. */
  ms: number;
  /** The engine that built it when not the built-in one, e.g. "CadQuery 2.8.0 (Python)" (gift.cadquery.engine). */
  engine?: string;
}

export interface Candidate {
  rank: number;
  label: string;
  score?: number;
  /** It failed, or its solid is invalid: shown with the reason in its label. */
  invalid?: boolean;
}

export interface PreviewSettings {
  thresholds: { low: number; valid: number; match: number };
  iouProtocol: IouProtocol;
}

/** Which GIFT collection an IoU would put a program in (null: neither; see core/dataset/thresholds). */
export type IouBucket = Bucket | null;

/**
 * IoU and Chamfer distance against the reference. `state`: 'none' (no reference or not run yet),
 * 'computing' (a job is in flight; the numbers are the previous ones), 'done', 'error' (`error` says why).
 */
export interface Metrics {
  iou: number | null;
  /** Chamfer distance × 1000 (the number papers print). */
  chamfer: number | null;
  protocol?: IouProtocol;
  bucket?: IouBucket;
  state?: 'none' | 'computing' | 'done' | 'error';
  error?: string;
  /** Milliseconds the IoU job took. */
  ms?: number;
  /**
   * The scale-aware figures beside `iou` (the same job, protocol `centred`): the raw IoU after
   * moving the candidate's centre of mass onto the reference's (no scaling, no rotation), and the
   * size ratio candidate / reference as the cube root of their volumes. A copy at half the size:
   * iou ≈ 1 under the aligned protocols, centredIou 1/8, sizeRatio 0.5.
   */
  centredIou?: number | null;
  sizeRatio?: number | null;
  /** Where `protocol` compared the reference, in the candidate's coordinates (the ghost is drawn there unless the raw frame is on). */
  overlay?: Affine;
}

export interface SceneInfo {
  version: number;
  triangles: number;
  edgeSegments: number;
  referenceTriangles: number;
  banner: string | null;
  bannerSeverity: 'error' | 'warning' | null;
  /** The notice that the document is gone (closed unsaved, deleted), if shown. */
  notice: string | null;
  view: CameraView | 'custom';
  toggles: Record<ToggleName, boolean>;
  metrics: {
    iou: string;
    chamfer: string;
    volume: string;
    bbox: string;
    protocol: string;
    bucket: string;
    iouError: string | null;
    /** The raw IoU after centring, and the size ratio (candidate / reference, e.g. "×0.500"), as shown. */
    centredIou: string;
    sizeRatio: string;
    /** The run row: its time, the engine when not the built-in one, and "invalid solid" for a result that is not a valid B-rep. */
    kernel: string;
  };
  /**
   * The ghost as drawn: in which frame (the IoU protocol's, or `raw`: the reference where it is) and
   * its bounding box in the candidate's coordinates; null without a reference.
   */
  overlay: { frame: IouProtocol | 'raw'; box: BoundingBox | null } | null;
  candidate: number;
  candidates: number;
  /** The order the candidates are in, and the shown one's label, as the panel says them. */
  candidateOrder: string | null;
  candidateLabel: string;
  hasSourceImage: boolean;
  /** The warning shown under the source image, if any. */
  imageWarning: string | null;
  /** Whether the source image is on screen (the user can hide it), and the 3D view's size in CSS pixels. */
  imageVisible: boolean;
  viewport: { width: number; height: number };
}

/** Where a previewed program came from in a GIFT dataset (so flags know the image and the source). */
export interface DatasetSampleLink {
  /** The dataset folder, absolute. */
  dataset: string;
  id: string;
  /** The sft record whose code is the reference (ground truth); null when unknown. */
  referenceId: string | null;
  /** Absolute path of the reference record's image. */
  referenceImage: string | null;
}

function isDatasetSampleLink(value: unknown): value is DatasetSampleLink {
  return (
    isRecord(value) &&
    typeof value.dataset === 'string' &&
    typeof value.id === 'string' &&
    (value.referenceId === null || typeof value.referenceId === 'string') &&
    (value.referenceImage === null || typeof value.referenceImage === 'string')
  );
}

/** What a panel needs to come back after a window reload (kept by the webview via setState). */
export interface PanelRestoreState {
  documentUri: string;
  referenceUri?: string;
  imageUri?: string;
  /** Whether the image is the one the code was generated from (Image to CAD), so flags may use it. */
  imageIsSource?: boolean;
  /** The caption of the image, when not its file name (dataset images are named by their hash). */
  imageName?: string;
  /** The backend that generated the code (Image to CAD), recorded with flags. */
  model?: string;
  sample?: DatasetSampleLink;
  /** The candidates (with the user's edits), the one shown and their order: a reloaded window gets them back. */
  candidates?: { code: string; label?: string; score?: number; ok?: boolean; valid?: boolean }[];
  candidate?: number;
  candidateOrder?: string;
  imageWarning?: string;
  /** The webview's own layout, kept with the panel: the image hidden, its pane's size in CSS pixels. */
  imageHidden?: boolean;
  imageSize?: number;
}

export function isPanelRestoreState(value: unknown): value is PanelRestoreState {
  return (
    isRecord(value) &&
    typeof value.documentUri === 'string' &&
    (value.referenceUri === undefined || typeof value.referenceUri === 'string') &&
    (value.imageUri === undefined || typeof value.imageUri === 'string') &&
    (value.imageIsSource === undefined || typeof value.imageIsSource === 'boolean') &&
    (value.imageName === undefined || typeof value.imageName === 'string') &&
    (value.model === undefined || typeof value.model === 'string') &&
    (value.sample === undefined || isDatasetSampleLink(value.sample)) &&
    (value.candidates === undefined || (Array.isArray(value.candidates) && value.candidates.every((c) => isRecord(c) && typeof c.code === 'string'))) &&
    (value.candidate === undefined || typeof value.candidate === 'number') &&
    (value.candidateOrder === undefined || typeof value.candidateOrder === 'string') &&
    (value.imageWarning === undefined || typeof value.imageWarning === 'string') &&
    (value.imageHidden === undefined || typeof value.imageHidden === 'boolean') &&
    (value.imageSize === undefined || typeof value.imageSize === 'number')
  );
}

/** rawFrame: draw the reference where it is, instead of where the IoU protocol placed it. */
export type ToggleName = 'wireframe' | 'edges' | 'transparent' | 'clip' | 'reference' | 'rawFrame';
export const TOGGLE_NAMES: readonly ToggleName[] = ['wireframe', 'edges', 'transparent', 'clip', 'reference', 'rawFrame'];

// ---------- host → webview ----------

export interface HostNotifications {
  /** Which document the panel shows; the webview keeps `restore` as its state for the panel serializer. */
  document: { uri: string; title: string; restore: PanelRestoreState; gone?: string | null };
  running: { version: number };
  shape: ShapeUpdate;
  /** The run failed: show a banner, keep the last good shape. */
  error: { version: number; error: CadErrorInfo };
  reference: { name: string; mesh: PreviewMesh } | { name: null };
  /** IoU/Chamfer against the reference; null means "not computed" and shows "—". */
  metrics: Metrics;
  /** warning: the picture does not look like a render of a part (what is off, what to try). */
  sourceImage: { name: string; dataUri: string; warning?: string } | { name: null };
  candidates: { items: Candidate[]; current: number; order?: string };
  settings: PreviewSettings;
}

export interface HostCommands {
  setView: { view: CameraView };
  setToggle: { toggle: ToggleName; on: boolean };
  /** Show or hide the source image beside the 3D view. */
  showImage: { on: boolean };
}

/** Requests the host sends and the webview answers: [params, result]. */
export interface WebviewRequests {
  sceneInfo: [Record<string, never>, SceneInfo];
}

// ---------- webview → host ----------

export interface WebviewNotifications {
  ready: { protocol: number };
  log: { level: 'info' | 'warn' | 'error'; message: string };
}

export interface WebviewCommands {
  selectCandidate: { index: number };
  pickReference: Record<string, never>;
  exportShape: { format: 'step' | 'stl' };
  revealLine: { line: number };
  /** Add the program to the open GIFT dataset's SRS or FDA collection (gift.flagSrs / gift.flagFda). */
  flag: { collection: Bucket };
}

// ---------- envelopes ----------

type NotificationOf<M> = { [K in keyof M]: { kind: 'notification'; method: K; params: M[K] } }[keyof M];
type CommandOf<M> = { [K in keyof M]: { kind: 'command'; method: K; params: M[K] } }[keyof M];
type RequestOf<M extends { [K in keyof M]: [unknown, unknown] }> = {
  [K in keyof M]: { kind: 'request'; id: number; method: K; params: M[K][0] };
}[keyof M];

export type ResponseMessage<R = unknown> = { kind: 'response'; id: number; ok: true; result: R } | { kind: 'response'; id: number; ok: false; error: string };

export type HostMessage = NotificationOf<HostNotifications> | CommandOf<HostCommands> | RequestOf<WebviewRequests>;
export type WebviewMessage = NotificationOf<WebviewNotifications> | CommandOf<WebviewCommands> | ResponseMessage;

export type HostNotification<K extends keyof HostNotifications> = Extract<HostMessage, { kind: 'notification'; method: K }>;

// ---------- constructors (so call sites never build envelopes by hand) ----------

export function hostNotification<K extends keyof HostNotifications>(method: K, params: HostNotifications[K]): HostMessage {
  return { kind: 'notification', method, params } as HostMessage;
}

export function hostCommand<K extends keyof HostCommands>(method: K, params: HostCommands[K]): HostMessage {
  return { kind: 'command', method, params } as HostMessage;
}

export function hostRequest<K extends keyof WebviewRequests>(id: number, method: K, params: WebviewRequests[K][0]): HostMessage {
  return { kind: 'request', id, method, params } as HostMessage;
}

export function webviewNotification<K extends keyof WebviewNotifications>(method: K, params: WebviewNotifications[K]): WebviewMessage {
  return { kind: 'notification', method, params } as WebviewMessage;
}

export function webviewCommand<K extends keyof WebviewCommands>(method: K, params: WebviewCommands[K]): WebviewMessage {
  return { kind: 'command', method, params } as WebviewMessage;
}

// ---------- type guards (messages cross a trust boundary: check before use) ----------

/**
 * The method names each side accepts. Each table must list every method of its interface (the
 * compiler checks `satisfies Record<keyof …, true>`), so a new message cannot be forgotten here and
 * silently dropped by the guard.
 */
function methods<M>(table: Record<keyof M, true>): ReadonlySet<string> {
  return new Set(Object.keys(table));
}

const HOST_NOTIFICATIONS = methods<HostNotifications>({
  document: true,
  running: true,
  shape: true,
  error: true,
  reference: true,
  metrics: true,
  sourceImage: true,
  candidates: true,
  settings: true,
});
const HOST_COMMANDS = methods<HostCommands>({ setView: true, setToggle: true, showImage: true });
const WEBVIEW_REQUESTS = methods<WebviewRequests>({ sceneInfo: true });
const WEBVIEW_NOTIFICATIONS = methods<WebviewNotifications>({ ready: true, log: true });
const WEBVIEW_COMMANDS = methods<WebviewCommands>({ selectCandidate: true, pickReference: true, exportShape: true, revealLine: true, flag: true });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasParams(m: Record<string, unknown>): boolean {
  return isRecord(m.params);
}

export function isHostMessage(value: unknown): value is HostMessage {
  if (!isRecord(value) || typeof value.method !== 'string') return false;
  switch (value.kind) {
    case 'notification':
      return HOST_NOTIFICATIONS.has(value.method) && hasParams(value);
    case 'command':
      return HOST_COMMANDS.has(value.method) && hasParams(value);
    case 'request':
      return WEBVIEW_REQUESTS.has(value.method) && Number.isInteger(value.id) && hasParams(value);
    default:
      return false;
  }
}

export function isWebviewMessage(value: unknown): value is WebviewMessage {
  if (!isRecord(value)) return false;
  if (value.kind === 'response') return Number.isInteger(value.id) && typeof value.ok === 'boolean';
  if (typeof value.method !== 'string' || !hasParams(value)) return false;
  if (value.kind === 'notification') return WEBVIEW_NOTIFICATIONS.has(value.method);
  if (value.kind === 'command') return WEBVIEW_COMMANDS.has(value.method);
  return false;
}

// ---------- shared formatting (host tests and the webview panel agree on the text) ----------

/** "—" until a value exists; otherwise a short fixed-precision number. */
export function formatMetric(value: number | null | undefined, digits = 4): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits);
}

export function formatBoundingBox(bbox: BoundingBox | null | undefined): string {
  if (!bbox) return '—';
  const size = [bbox[3] - bbox[0], bbox[4] - bbox[1], bbox[5] - bbox[2]];
  return size.map((s) => formatLength(s)).join(' × ');
}

export function formatLength(value: number): string {
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e5)) return value.toExponential(3);
  return Number(value.toPrecision(4)).toString();
}

/** A size ratio as the panel shows it: "×0.500". */
export function formatSizeRatio(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : `×${value.toFixed(3)}`;
}

/** The bucket as the panel shows it: SRS / FDA, or why neither. */
export function formatBucket(iou: number | null | undefined, bucket: IouBucket | undefined, t: PreviewSettings['thresholds']): string {
  if (iou === null || iou === undefined || !Number.isFinite(iou) || bucket === undefined) return '—';
  if (bucket === 'srs') return 'SRS';
  if (bucket === 'fda') return 'FDA';
  return iou >= t.match ? 'none (match)' : iou < t.low ? 'none (< low)' : 'none';
}

/** How an IoU compares with the configured thresholds. */
export function iouGrade(iou: number | null, t: PreviewSettings['thresholds']): 'none' | 'bad' | 'low' | 'valid' | 'match' {
  if (iou === null || !Number.isFinite(iou)) return 'none';
  if (iou >= t.match) return 'match';
  if (iou >= t.valid) return 'valid';
  if (iou >= t.low) return 'low';
  return 'bad';
}
