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
  thresholds: PreviewSettings['thresholds'];
}

export function readSettings(): GiftSettings {
  const c = vscode.workspace.getConfiguration('gift');
  const tessellation = c.get<number>('preview.tessellation', 0);
  return {
    backend: c.get<string>('backend', 'auto'),
    samples: clampInt(c.get<number>('samples', 4), 1, 64),
    kernel: {
      timeoutMs: clampInt(c.get<number>('kernel.timeoutMs', 10000), 100, 600_000),
      workers: clampInt(c.get<number>('kernel.workers', 2), 1, 16),
    },
    iouProtocol: c.get<IouProtocol>('iou.protocol', 'aligned'),
    tessellation: tessellation > 0 ? tessellation : undefined,
    autoOpenPreview: c.get<boolean>('preview.autoOpen', true),
    thresholds: {
      low: c.get<number>('thresholds.low', 0.5),
      valid: c.get<number>('thresholds.valid', 0.9),
      match: c.get<number>('thresholds.match', 0.99),
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
