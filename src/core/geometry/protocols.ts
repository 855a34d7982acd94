/**
 * The IoU protocols' names, on their own so the webview protocol can share the type without
 * pulling in OpenCascade (iou.ts re-exports them). What each one does: iou.ts.
 */
export type IouProtocol = 'aligned' | 'aligned-proper' | 'aligned-robust' | 'unit-cube' | 'centred' | 'raw';
export const IOU_PROTOCOLS: readonly IouProtocol[] = ['aligned', 'aligned-proper', 'aligned-robust', 'unit-cube', 'centred', 'raw'];

/** What buckets (SRS/FDA) and ranking use unless told otherwise: the same shape from two sources scores ≈1. */
export const DEFAULT_BUCKET_PROTOCOL: IouProtocol = 'aligned-robust';

export function isIouProtocol(p: unknown): p is IouProtocol {
  return typeof p === 'string' && (IOU_PROTOCOLS as readonly string[]).includes(p);
}
