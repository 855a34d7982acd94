/** Small real inputs for the training tests. */
import path from 'node:path';
import { runCadQuery } from '../../../src/core/shape/run-cadquery';
import { openDataset } from '../../../src/core/dataset';
import { loadOpenCascade } from '../../../src/core/occt/occt';
import { generateProgram, mulberry32 } from '../../../src/core/model/synthetic';
import { renderShapePng } from '../../../src/core/render';

export const repoRoot = path.resolve(__dirname, '../../..');

/**
 * A GIFT dataset of `count` generated GenCAD-style programs with their renders (sft), written
 * through the dataset store. Generated, not test100: nothing is ever trained on the test set.
 */
export async function smallDataset(dir: string, count: number): Promise<string> {
  await loadOpenCascade();
  const datasetDir = path.join(dir, 'dataset');
  const ds = await openDataset(datasetDir, { create: true, name: 'generated-subset' });
  const random = mulberry32(2026);
  const records = [];
  while (records.length < count) {
    const code = generateProgram(random);
    records.push({ id: `gen-${records.length}`, collection: 'sft', image: renderShapePng(runCadQuery(code)), code });
  }
  await ds.appendMany(records);
  return datasetDir;
}
