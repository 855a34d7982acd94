/** The GenCAD test100 fixtures for render tests and bench/render.ts: ids, images, STEP shapes. */
import fs from 'node:fs';
import path from 'node:path';
import type { Shape3D } from 'replicad';
import { readShape } from '../../src/core/geometry/io';
import { readImageFile, type RgbaImage } from '../../src/core/render/image';

export const FIXTURE_DIR = path.join(__dirname, '..', 'fixtures', 'gencad-test100');

/**
 * Samples whose image does not show the geometry of their STEP file (looked at side by side):
 * - 00129614: the image shows two thin strips of a part that the STEP has whole;
 * - 00773053: four separate bars; in the image they sit 2–3 px closer together and are 7% larger
 *   in area than the STEP's (connected-component centroids), while every other sample's outline
 *   matches its STEP to within 1 px.
 * Excluded from the per-sample silhouette bound, still reported by bench/render.ts.
 */
export const IMAGE_STEP_MISMATCH = new Set(['00129614', '00773053']);

/** All sample ids (image 'ID_0.png' ↔ 'gt_steps/ID.step'), sorted. */
export function sampleIds(): string[] {
  return fs
    .readdirSync(path.join(FIXTURE_DIR, 'images'))
    .filter((f) => f.endsWith('_0.png'))
    .map((f) => f.slice(0, -'_0.png'.length))
    .sort();
}

/** Every k-th id: a spread-out subset for tests. */
export function sampleSubset(count: number): string[] {
  const ids = sampleIds();
  const step = ids.length / count;
  return Array.from({ length: count }, (_, i) => ids[Math.floor(i * step)]);
}

export function imagePath(id: string): string {
  return path.join(FIXTURE_DIR, 'images', `${id}_0.png`);
}

export function loadImage(id: string): Promise<RgbaImage> {
  return readImageFile(imagePath(id));
}

export function loadStep(id: string): Shape3D {
  const file = path.join(FIXTURE_DIR, 'gt_steps', `${id}.step`);
  return readShape(fs.readFileSync(file), 'step', file);
}
