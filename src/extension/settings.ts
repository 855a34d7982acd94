/** Typed access to the `gift.*` settings (defaults live in package.json's contributes.configuration). */
import * as vscode from 'vscode';
import type { IouProtocol, PreviewSettings } from '../protocol/messages';

export interface GiftSettings {
  backend: string;
  samples: number;
  kernel: { timeoutMs: number; workers: number };
  iouProtocol: IouProtocol;
  /** Absolute chordal tolerance of the preview mesh; undefined = automatic (relative to the part's size). */
  tessellation: number | undefined;
  autoOpenPreview: boolean;
  /** Where Image to CAD writes its program: undefined = beside the image; else a folder (absolute or workspace-relative). */
  imageToCadFolder: string | undefined;
  thresholds: PreviewSettings['thresholds'];
  /** The ONNX model directory for the 'onnx' backend; undefined = the bundled one. */
  onnxModel: string | undefined;
  /** The 'openai' backend's endpoint and model (the API key lives in SecretStorage, never here). */
  openai: { endpoint: string; model: string | undefined; timeoutMs: number };
  train: { pollSeconds: number };
  /**
   * Which CadQuery runs the preview's program: the built-in one, or a Python with CadQuery
   * (`python`: that interpreter, or '' for $GIFT_PYTHON, python3, python); `generated`: whether
   * programs Image to CAD wrote may run there too (off: they stay in the built-in engine).
   */
  cadquery: { engine: 'builtin' | 'python'; python: string; generated: boolean };
}

export function readSettings(): GiftSettings {
  const c = vscode.workspace.getConfiguration('gift');
  const tessellation = c.get<number>('preview.tessellation', 0);
  return {
    backend: c.get<string>('backend', 'onnx'),
    samples: clampInt(c.get<number>('samples', 4), 1, 64),
    kernel: {
      timeoutMs: clampInt(c.get<number>('kernel.timeoutMs', 10000), 100, 600_000),
      workers: clampInt(c.get<number>('kernel.workers', 2), 1, 16),
    },
    iouProtocol: c.get<IouProtocol>('iou.protocol', 'aligned-robust'),
    tessellation: tessellation > 0 ? tessellation : undefined,
    autoOpenPreview: c.get<boolean>('preview.autoOpen', true),
    imageToCadFolder: c.get<string>('imageToCad.folder', '').trim() || undefined,
    thresholds: {
      low: c.get<number>('thresholds.low', 0.5),
      valid: c.get<number>('thresholds.valid', 0.9),
      match: c.get<number>('thresholds.match', 0.99),
    },
    onnxModel: c.get<string>('onnx.model', '').trim() || undefined,
    openai: {
      endpoint: c.get<string>('openai.endpoint', '').trim(),
      model: c.get<string>('openai.model', '').trim() || undefined,
      timeoutMs: clampInt(c.get<number>('openai.timeoutMs', 180_000), 1000, 3_600_000),
    },
    train: { pollSeconds: clampInt(c.get<number>('train.pollSeconds', 10), 1, 3600) },
    cadquery: {
      engine: c.get<string>('cadquery.engine', 'builtin') === 'python' ? 'python' : 'builtin',
      python: c.get<string>('cadquery.python', '').trim(),
      generated: c.get<boolean>('cadquery.pythonForGenerated', false),
    },
  };
}

export function previewSettings(s: GiftSettings = readSettings()): PreviewSettings {
  return { thresholds: s.thresholds, iouProtocol: s.iouProtocol };
}

function clampInt(value: number, min: number, max: number): number {
  if (!Number.isFinite(value)) return min;
  return Math.min(max, Math.max(min, Math.round(value)));
}
