/**
 * Training data for the bundled model: procedurally generated GenCAD-style programs
 * (src/core/model/generator.ts, statistics modelled on the paper's dataset), run by the CadQuery
 * interpreter and rendered in the dataset's image style, as an imagefolder with token ids.
 * Never uses test100.
 *
 *   node --import tsx training/make_dataset.ts OUT_DIR [COUNT] [SEED]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCadQuery } from '../src/core/cadquery/run';
import { loadOpenCascade } from '../src/core/geometry/occt';
import { generateProgram, mulberry32 } from '../src/core/model/generator';
import { tokenizeImagefolder } from '../src/core/model/onnx-training-data';
import { encodeProgram, vocabularyJson } from '../src/core/model/tokenizer';
import { renderShapePng } from '../src/core/render';

async function main(): Promise<void> {
  const [out, countArg, seedArg] = process.argv.slice(2);
  if (!out) throw new Error('usage: make_dataset.ts OUT_DIR [COUNT] [SEED]');
  const count = Number(countArg ?? 1000);
  const random = mulberry32(Number(seedArg ?? 1));
  await loadOpenCascade();
  mkdirSync(out, { recursive: true });
  const rows: string[] = [];
  let failed = 0;
  const started = Date.now();
  while (rows.length < count) {
    const code = generateProgram(random);
    let png: Uint8Array;
    try {
      png = renderShapePng(runCadQuery(code));
    } catch {
      failed++;
      continue;
    }
    const fileName = `gen_${String(rows.length).padStart(6, '0')}.png`;
    writeFileSync(path.join(out, fileName), png);
    rows.push(JSON.stringify({ file_name: fileName, code }));
    if (rows.length % 500 === 0) console.log(`${rows.length}/${count} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  writeFileSync(path.join(out, 'metadata.jsonl'), rows.join('\n') + '\n');
  await tokenizeImagefolder(out, encodeProgram, vocabularyJson());
  console.log(`${rows.length} examples in ${out} (${failed} programs failed to build) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
