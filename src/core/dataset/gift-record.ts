/**
 * The GIFT record rule, in one place (the bootstrap and the editor's Flag as SRS/FDA both call it):
 *   SRS  (the image the program was sampled from, the sampled program): a new valid program for
 *        the original image;
 *   FDA  (the sampled program rendered in the dataset's style, the ground-truth code): the near
 *        miss's own picture paired with the code that should have come out.
 * Both record where they came from (the ground truth's id), the IoU, its protocol and the model.
 */
import type { Bucket } from './thresholds';
import { DatasetError, type NewRecord } from './types';

export interface SampledCode {
  /** The sampled (generated) program. */
  code: string;
  /** The image it was sampled from: a file path, a stored image, or bytes. */
  image: string | Uint8Array;
  /** Draws the program in the dataset's style; only FDA asks for it. */
  render: () => Promise<Uint8Array>;
  iou: number | null;
  protocol: string | null;
  model: string | null;
}

export interface GroundTruth {
  /** The ground truth's record id in the dataset, when it has one. */
  id: string | null;
  /** Its CadQuery code; FDA needs it. */
  code?: string;
}

export async function giftRecord(bucket: Bucket, sample: SampledCode, truth: GroundTruth, id?: string): Promise<NewRecord> {
  const common = { id, source: truth.id, iou: sample.iou, protocol: sample.protocol, model: sample.model };
  if (bucket === 'srs') return { collection: 'srs', image: sample.image, code: sample.code, ...common };
  if (truth.code === undefined) {
    throw new DatasetError(
      "FDA pairs the program's render with the ground truth's CadQuery code, but the reference has no code (a STEP or mesh file): use a .py reference",
    );
  }
  return { collection: 'fda', image: await sample.render(), code: truth.code, ...common };
}
