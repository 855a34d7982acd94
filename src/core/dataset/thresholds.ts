/**
 * IoU buckets of the GIFT loop: a sampled program whose solid nearly matches the ground truth is a
 * new code variant for the same image (SRS, valid ≤ IoU < match); one that is clearly wrong but
 * close is a new image–code pair once its own render is used (FDA, low ≤ IoU < valid). At or above
 * `match` it adds nothing; below `low` it is too far off to be useful.
 */
import { DatasetError } from './types';

export interface IouThresholds {
  low: number;
  valid: number;
  match: number;
}

export const DEFAULT_THRESHOLDS: Readonly<IouThresholds> = Object.freeze({ low: 0.5, valid: 0.9, match: 0.99 });

export type Bucket = 'srs' | 'fda';

export function validateThresholds(t: IouThresholds): void {
  const ok = [t.low, t.valid, t.match].every((v) => typeof v === 'number' && v >= 0 && v <= 1) && t.low < t.valid && t.valid < t.match;
  if (!ok) throw new DatasetError(`IoU thresholds must satisfy 0 ≤ low < valid < match ≤ 1, got low ${t.low}, valid ${t.valid}, match ${t.match}`);
}

export function bucketForIou(iou: number | null | undefined, thresholds: IouThresholds = DEFAULT_THRESHOLDS): Bucket | null {
  validateThresholds(thresholds);
  if (typeof iou !== 'number' || !Number.isFinite(iou)) return null;
  if (iou >= thresholds.valid && iou < thresholds.match) return 'srs';
  if (iou >= thresholds.low && iou < thresholds.valid) return 'fda';
  return null;
}

export interface FlagCheck {
  allowed: boolean;
  /** Why the IoU does not fit the collection (also set when `force` overrode it). */
  reason?: string;
  forced?: boolean;
}

function range(t: IouThresholds, bucket: Bucket): string {
  return bucket === 'srs' ? `[${t.valid}, ${t.match})` : `[${t.low}, ${t.valid})`;
}

/**
 * Whether a record with this IoU may be flagged into `collection`. Only srs and fda have an IoU
 * rule; other collections accept anything. `force` lets the user override with the reason kept.
 */
export function checkFlag(collection: string, iou: number | null | undefined, thresholds: IouThresholds = DEFAULT_THRESHOLDS, force = false): FlagCheck {
  validateThresholds(thresholds);
  if (collection !== 'srs' && collection !== 'fda') return { allowed: true };
  const name = collection.toUpperCase();
  let reason: string | undefined;
  if (typeof iou !== 'number' || !Number.isFinite(iou)) {
    reason = `no IoU measured: verify the code against its source before flagging it ${name}`;
  } else {
    const bucket = bucketForIou(iou, thresholds);
    if (bucket !== collection) {
      const where =
        bucket !== null
          ? `it belongs in ${bucket.toUpperCase()} ${range(thresholds, bucket)}`
          : iou >= thresholds.match
            ? `at or above match ${thresholds.match} it already matches and adds nothing`
            : `below low ${thresholds.low} it is too far off`;
      reason = `IoU ${iou} is outside ${name}'s range ${range(thresholds, collection)}: ${where}`;
    }
  }
  if (!reason) return { allowed: true };
  return force ? { allowed: true, forced: true, reason } : { allowed: false, reason };
}
