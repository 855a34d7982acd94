/**
 * Aggregate statistics of GenCAD programs, to compare generated data with the real dataset
 * (aggregates only: the generator is never fitted to individual test programs).
 */
import { programTokens, type QProgram } from './tokenizer';

export interface ProgramStatistics {
  programs: number;
  sketchesMean: number;
  singleSketchFraction: number;
  /** Of the booleans after the first sketch. */
  unionFraction: number;
  cutFraction: number;
  intersectFraction: number;
  negativeExtrudeFraction: number;
  bothExtrudeFraction: number;
  twoSidedExtrudeFraction: number;
  meanAbsDistance: number;
  loopsPerSketch: number;
  sketchesWithInnerLoops: number;
  circleLoopFraction: number;
  segmentsPerPath: number;
  arcSegmentFraction: number;
  /** Share of sketches on each of the four common GenCAD planes, other axis planes, tilted planes. */
  planeXY: number;
  planeXZ: number;
  planeYZ: number;
  planeXZflipped: number;
  planeOtherAxis: number;
  planeTilted: number;
  meanScale: number;
  tokensMedian: number;
  tokensP90: number;
  tokensMax: number;
}

export function programStatistics(programs: readonly QProgram[]): ProgramStatistics {
  let sketches = 0,
    single = 0,
    ops = 0,
    unions = 0,
    cuts = 0,
    intersects = 0;
  let negative = 0,
    both = 0,
    two = 0,
    distance = 0,
    loops = 0,
    inner = 0,
    circles = 0,
    paths = 0,
    segments = 0,
    arcs = 0;
  const planes = [0, 0, 0, 0, 0, 0];
  let scale = 0;
  const lengths: number[] = [];
  for (const program of programs) {
    lengths.push(programTokens(program).length);
    if (program.sketches.length === 1) single++;
    for (const s of program.sketches) {
      sketches++;
      if (s.op !== 'new') {
        ops++;
        if (s.op === 'union') unions++;
        else if (s.op === 'cut') cuts++;
        else intersects++;
      }
      if (s.extrude.kind === 'both') both++;
      else if (s.extrude.kind === 'two') two++;
      else if (s.extrude.distance < 0) negative++;
      distance += Math.abs(s.extrude.distance) / 128;
      loops += s.loops.length;
      if (s.loops.length > 1) inner++;
      for (const loop of s.loops) {
        if (loop.kind === 'circle') circles++;
        else {
          paths++;
          segments += loop.segments.length;
          arcs += loop.segments.filter((g) => g.kind === 'arc').length;
        }
      }
      planes[s.plane.kind === 'angles' ? 5 : Math.min(4, s.plane.index)]++;
      scale += s.scale / 128;
    }
  }
  lengths.sort((a, b) => a - b);
  const at = (q: number) => lengths[Math.min(lengths.length - 1, Math.floor(q * lengths.length))];
  const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
  return {
    programs: programs.length,
    sketchesMean: ratio(sketches, programs.length),
    singleSketchFraction: ratio(single, programs.length),
    unionFraction: ratio(unions, ops),
    cutFraction: ratio(cuts, ops),
    intersectFraction: ratio(intersects, ops),
    negativeExtrudeFraction: ratio(negative, sketches),
    bothExtrudeFraction: ratio(both, sketches),
    twoSidedExtrudeFraction: ratio(two, sketches),
    meanAbsDistance: ratio(distance, sketches),
    loopsPerSketch: ratio(loops, sketches),
    sketchesWithInnerLoops: ratio(inner, sketches),
    circleLoopFraction: ratio(circles, loops),
    segmentsPerPath: ratio(segments, paths),
    arcSegmentFraction: ratio(arcs, segments),
    planeXY: ratio(planes[0], sketches),
    planeXZ: ratio(planes[1], sketches),
    planeYZ: ratio(planes[2], sketches),
    planeXZflipped: ratio(planes[3], sketches),
    planeOtherAxis: ratio(planes[4], sketches),
    planeTilted: ratio(planes[5], sketches),
    meanScale: ratio(scale, sketches),
    tokensMedian: at(0.5),
    tokensP90: at(0.9),
    tokensMax: lengths[lengths.length - 1] ?? 0,
  };
}

/** Two statistics side by side, one row per field. */
export function statisticsTable(columns: Record<string, ProgramStatistics>): string {
  const names = Object.keys(columns);
  const fields = Object.keys(columns[names[0]]) as (keyof ProgramStatistics)[];
  const rows = fields.map((field) => [field, ...names.map((n) => formatStat(columns[n][field]))]);
  const header = ['statistic', ...names];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

function formatStat(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}
