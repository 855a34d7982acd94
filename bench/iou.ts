/**
 * IoU cost per protocol on the test100 ground-truth STEP files: each part against a copy of itself
 * scaled by 1.02 and shifted by 1 % of its bounding-box diagonal (so `raw` is < 1 and the
 * booleans have real work to do). Prints time per pair (median, p95, max), mean IoU, and the WASM
 * heap growth per IoU (the heap never shrinks, so this bounds what each IoU leaks). Wall times
 * suffer when other processes share the cores; the CPU column does not.
 *
 * Run: node --import tsx bench/iou.ts [count]
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadOpenCascade, wasmHeapBytes } from '../src/core/occt/occt';
import { readShape } from '../src/core/geometry/io';
import { IOU_PROTOCOLS, iou, transformShape, type IouProtocol } from '../src/core/geometry/iou';
import { chamferDistance } from '../src/core/geometry/chamfer';
import { boundingBox } from '../src/core/geometry/measure';
import { printTable, quantile } from './table';

const stepDir = path.join(__dirname, '..', 'test', 'fixtures', 'gencad-test100', 'gt_steps');

async function main() {
  const oc = await loadOpenCascade();
  const limit = Number(process.argv[2] ?? Infinity);
  const files = fs
    .readdirSync(stepDir)
    .filter((f) => f.endsWith('.step'))
    .sort()
    .slice(0, limit);
  const pairs = files.map((file) => {
    const reference = readShape(fs.readFileSync(path.join(stepDir, file)), 'step', file);
    const b = boundingBox(reference);
    const shift = 0.01 * Math.hypot(b[3] - b[0], b[4] - b[1], b[5] - b[2]);
    const s = 1.02;
    const candidate = transformShape(reference, { matrix: [s, 0, 0, 0, s, 0, 0, 0, s], translation: [shift, shift / 2, -shift] });
    return { file, reference, candidate };
  });

  // Warm up OCCT's code paths so the first protocol isn't charged for them.
  iou(pairs[0].candidate, pairs[0].reference, 'raw');

  const rows: (string | number)[][] = [];
  type Kind = IouProtocol | 'chamfer (unit-cube)';
  for (const kind of [...IOU_PROTOCOLS, 'chamfer (unit-cube)'] as Kind[]) {
    const times: number[] = [];
    const cpuTimes: number[] = [];
    const values: number[] = [];
    let failures = 0;
    const heapBefore = wasmHeapBytes(oc);
    for (const { file, reference, candidate } of pairs) {
      const started = performance.now();
      const cpuStarted = process.cpuUsage();
      try {
        if (kind === 'chamfer (unit-cube)') values.push(chamferDistance(candidate, reference, 'unit-cube').chamferX1000);
        else values.push(iou(candidate, reference, kind).iou);
      } catch (e) {
        failures++;
        console.error(`${file} ${kind}: ${(e as Error).message}`);
      }
      times.push(performance.now() - started);
      const cpu = process.cpuUsage(cpuStarted);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
    }
    const heapGrowth = (wasmHeapBytes(oc) - heapBefore) / pairs.length;
    rows.push([
      kind,
      pairs.length,
      quantile(times, 0.5).toFixed(1),
      quantile(times, 0.95).toFixed(1),
      Math.max(...times).toFixed(1),
      quantile(cpuTimes, 0.5).toFixed(1),
      (values.reduce((a, v) => a + v, 0) / Math.max(1, values.length)).toFixed(4),
      failures,
      (heapGrowth / 1024).toFixed(0),
    ]);
  }
  printTable(
    `IoU per protocol — test100 gt_steps vs a 1.02× scaled, shifted copy (one thread, ${process.version})`,
    ['protocol', 'pairs', 'median ms', 'p95 ms', 'max ms', 'median CPU ms', 'mean value', 'failed', 'heap growth KiB/pair'],
    rows,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
