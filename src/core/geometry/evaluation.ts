/**
 * Summary statistics over verification results, as the authors report them: VSR (valid sample
 * ratio), mean/median IoU over valid samples, and "adjusted" mean/median where a failure counts 0.
 */
export interface VerifyOutcome {
  ok: boolean;
  iou?: number;
  chamfer?: number;
}

export interface VerifySummary {
  total: number;
  valid: number;
  vsr: number;
  meanIou: number;
  medianIou: number;
  adjustedMeanIou: number;
  adjustedMedianIou: number;
  meanChamfer: number;
  medianChamfer: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

export function summarize(outcomes: readonly VerifyOutcome[]): VerifySummary {
  const valid = outcomes.filter((o) => o.ok && typeof o.iou === 'number');
  const ious = valid.map((o) => o.iou!);
  const adjusted = outcomes.map((o) => (o.ok && typeof o.iou === 'number' ? o.iou : 0));
  const chamfers = valid.map((o) => o.chamfer).filter((c): c is number => typeof c === 'number' && Number.isFinite(c));
  return {
    total: outcomes.length,
    valid: valid.length,
    vsr: outcomes.length ? valid.length / outcomes.length : NaN,
    meanIou: mean(ious),
    medianIou: median(ious),
    adjustedMeanIou: mean(adjusted),
    adjustedMedianIou: median(adjusted),
    meanChamfer: mean(chamfers),
    medianChamfer: median(chamfers),
  };
}

export function formatSummary(s: VerifySummary): string {
  const f = (x: number, d = 4) => (Number.isFinite(x) ? x.toFixed(d) : '—');
  return [
    `samples ${s.total}, valid ${s.valid}, VSR ${f(s.vsr * 100, 1)}%`,
    `IoU (valid only): mean ${f(s.meanIou)}, median ${f(s.medianIou)}`,
    `IoU (failures as 0): mean ${f(s.adjustedMeanIou)}, median ${f(s.adjustedMedianIou)}`,
    `Chamfer ×1000 (valid only): mean ${f(s.meanChamfer)}, median ${f(s.medianChamfer)}`,
  ].join('\n');
}
