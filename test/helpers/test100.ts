/** The GenCAD-Code test subset shipped with the tests (test/fixtures/gencad-test100). */
import fs from 'node:fs';
import path from 'node:path';

export const TEST100_DIR = path.join(__dirname, '..', 'fixtures', 'gencad-test100');

export interface Test100Sample {
  id: string;
  image: string;
  code: string;
  step: string;
}

export function loadTest100(): Test100Sample[] {
  const lines = fs.readFileSync(path.join(TEST100_DIR, 'samples.jsonl'), 'utf8').split('\n').filter(Boolean);
  return lines.map((line) => {
    const s = JSON.parse(line) as { image: string; ground_truth: string };
    const id = s.image.replace(/_0\.png$/, '');
    return {
      id,
      image: path.join(TEST100_DIR, 'images', s.image),
      code: s.ground_truth,
      step: path.join(TEST100_DIR, 'gt_steps', `${id}.step`),
    };
  });
}

/** A seeded RNG so fuzzing and sampling tests are repeatable (the generator's own). */
export { mulberry32 as seededRandom } from '../../src/core/model/synthetic';
