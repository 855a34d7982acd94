/**
 * A small synthetic imagefolder dataset for the CPU smoke model (models/): random GenCAD-style
 * programs (plates with holes, cylinders, L-profiles, a second sketch unioned or cut), quantised
 * through the tokenizer, run by the CadQuery interpreter, rendered like the dataset images.
 * Never uses test100. Real training data comes from the GIFT data engine.
 *
 *   node --import tsx training/make_smoke_dataset.ts OUT_DIR [COUNT] [SEED]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCadQuery } from '../src/core/cadquery/run';
import { loadOpenCascade } from '../src/core/geometry/occt';
import { decodeTokens, encodeProgram, vocabularyJson } from '../src/core/model/tokenizer';
import { tokenizeImagefolder } from '../src/core/model/onnx-training-data';
import { renderShapePng } from '../src/core/render';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const f = (x: number) => (Math.round(x * 128) / 128).toString().replace(/^(-?\d+)$/, '$1.0');

function randomProgram(random: () => number): string {
  const pick = <T,>(xs: T[]) => xs[Math.floor(random() * xs.length)];
  const size = () => 0.25 + random() * 1.25;
  const lines = ['import cadquery as cq'];
  const sketches = random() < 0.35 ? 2 : 1;
  let loopId = 0;
  for (let s = 0; s < sketches; s++) {
    const w = size();
    const h = size();
    const ox = -w / 2 + (s ? (random() - 0.5) * 0.5 : 0);
    const oy = -h / 2 + (s ? (random() - 0.5) * 0.5 : 0);
    const oz = s ? pick([0, 0.25, 0.5]) : 0;
    lines.push(`# Generating a workplane for sketch ${s}`);
    lines.push(`wp_sketch${s} = cq.Workplane(cq.Plane(cq.Vector(${f(ox)}, ${f(oy)}, ${f(oz)}), cq.Vector(1.0, 0.0, 0.0), cq.Vector(0.0, 0.0, 1.0)))`);
    const loops: string[] = [];
    const kind = pick(['plate', 'plate-holes', 'cylinder', 'L']);
    if (kind === 'cylinder') {
      loops.push(`loop${loopId}=wp_sketch${s}.moveTo(${f(w / 2)}, ${f(w / 2)}).circle(${f(w / 2)})`);
      loopId++;
    } else if (kind === 'L') {
      const a = w * (0.3 + random() * 0.4);
      const b = h * (0.3 + random() * 0.4);
      loops.push(`loop${loopId}=wp_sketch${s}.moveTo(${f(w)}, 0.0).lineTo(${f(w)}, ${f(b)}).lineTo(${f(a)}, ${f(b)}).lineTo(${f(a)}, ${f(h)}).lineTo(0.0, ${f(h)}).lineTo(0.0, 0.0).close()`);
      loopId++;
    } else {
      loops.push(`loop${loopId}=wp_sketch${s}.moveTo(${f(w)}, 0.0).lineTo(${f(w)}, ${f(h)}).lineTo(0.0, ${f(h)}).lineTo(0.0, 0.0).close()`);
      loopId++;
      if (kind === 'plate-holes') {
        const r = Math.min(w, h) * 0.12;
        for (const [cx, cy] of [[w * 0.25, h * 0.5], [w * 0.75, h * 0.5]]) {
          loops.push(`loop${loopId}=wp_sketch${s}.moveTo(${f(cx)}, ${f(cy)}).circle(${f(r)})`);
          loopId++;
        }
      }
    }
    lines.push(...loops);
    const depth = 0.0625 + random() * 0.6;
    const adds = loops.map((l) => `.add(${l.split('=')[0]})`).join('');
    lines.push(`solid${s}=wp_sketch${s}${adds}.extrude(${f(depth)})`);
    lines.push(s === 0 ? `solid=solid${s}` : `solid=solid.${pick(['union', 'union', 'cut'])}(solid${s})`);
  }
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const [out, countArg, seedArg] = process.argv.slice(2);
  if (!out) throw new Error('usage: make_smoke_dataset.ts OUT_DIR [COUNT] [SEED]');
  const count = Number(countArg ?? 400);
  const random = rng(Number(seedArg ?? 1));
  await loadOpenCascade();
  mkdirSync(out, { recursive: true });
  const rows: string[] = [];
  let failed = 0;
  while (rows.length < count) {
    // The tokenizer's quantised program is the target, so image and tokens describe the same part.
    const code = decodeTokens(encodeProgram(randomProgram(random))).code;
    let png: Uint8Array;
    try {
      png = renderShapePng(runCadQuery(code));
    } catch {
      failed++;
      continue;
    }
    const fileName = `smoke_${String(rows.length).padStart(5, '0')}.png`;
    writeFileSync(path.join(out, fileName), png);
    rows.push(JSON.stringify({ file_name: fileName, code }));
  }
  writeFileSync(path.join(out, 'metadata.jsonl'), rows.join('\n') + '\n');
  await tokenizeImagefolder(out, encodeProgram, vocabularyJson());
  console.log(`${rows.length} examples in ${out} (${failed} programs failed to build)`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
