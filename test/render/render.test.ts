import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { makeBaseBox, makeCylinder } from 'replicad';
import { loadOpenCascade } from '../../src/core/occt/occt';
import { meshShape } from '../../src/core/geometry/mesh';
import { decodePngSync, rasterize, renderMesh, renderShapePng, scoreRenderAgainstImage, VIEW_NAMES } from '../../src/core/render';
import { IMAGE_STEP_MISMATCH, loadImage, loadStep, sampleSubset } from './fixtures';

const pixel = (img: { rgba: Uint8Array; width: number }, x: number, y: number) => [...img.rgba.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 3)];

test('renders a box in the dataset style: white, flat grey faces, black edges, framed 400×300', async () => {
  await loadOpenCascade();
  const img = renderMesh(meshShape(makeBaseBox(1, 1, 1)));
  assert.equal(img.width, 448);
  assert.equal(img.height, 448);
  const colours = new Map<string, number>();
  for (let o = 0; o < img.rgba.length; o += 4) {
    const k = `${img.rgba[o]},${img.rgba[o + 1]},${img.rgba[o + 2]}`;
    colours.set(k, (colours.get(k) ?? 0) + 1);
  }
  // The three visible faces all have n·v = 1/√3 under the headlight: one grey, as in the images.
  assert.deepEqual([...colours.keys()].sort(), ['0,0,0', '141,141,138', '255,255,255'], JSON.stringify([...colours]));
  assert.deepEqual(pixel(img, 224, 150), [141, 141, 138]); // the top face
  assert.deepEqual(pixel(img, 5, 5), [255, 255, 255]);
  // The height limits a cube (√2 wide, 2 tall on screen): it covers 300 rows.
  let top = 448,
    bottom = -1;
  for (let y = 0; y < 448; y++)
    for (let x = 0; x < 448; x++)
      if (pixel(img, x, y)[0] < 255) {
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
  assert.ok(Math.abs(bottom - top + 1 - 300) <= 1, `height ${bottom - top + 1}`);
});

test('same input gives the same PNG bytes; every view renders; bad options are refused', async () => {
  await loadOpenCascade();
  const shape = makeCylinder(1, 3).cut(makeBaseBox(0.5, 0.5, 5).translate(0.8, 0, 0));
  const a = renderShapePng(shape);
  const b = renderShapePng(shape);
  assert.equal(createHash('sha256').update(a).digest('hex'), createHash('sha256').update(b).digest('hex'));
  const decoded = decodePngSync(a);
  assert.equal(decoded.width, 448);
  const mesh = meshShape(shape);
  const hashes = new Set<string>();
  for (const view of VIEW_NAMES) {
    const img = renderMesh(mesh, { view, size: 128 });
    assert.equal(img.rgba.length, 128 * 128 * 4);
    hashes.add(createHash('sha256').update(img.rgba).digest('hex'));
  }
  assert.equal(hashes.size, VIEW_NAMES.length, 'each view gives a different picture of an asymmetric part');
  assert.throws(() => renderMesh(mesh, { view: 'diagonal' as any }), /unknown view 'diagonal'/);
  assert.throws(() => renderMesh(mesh, { size: 0 }), /render size/);
  assert.throws(() => renderMesh(mesh, { size: 100_000 }), /render size/);
});

test('hidden-line removal: the edges of a box behind a bigger box are not drawn', async () => {
  await loadOpenCascade();
  // A small box straight behind a big one, as seen from the (1, −1, 1) camera.
  const front = meshShape(makeBaseBox(2, 2, 2));
  const both = meshShape(makeBaseBox(2, 2, 2).fuse(makeBaseBox(0.5, 0.5, 0.5).translate(-3, 3, -2)));
  // Same framing for both pictures (the bounding box decides it), then the edge masks must agree.
  const withHidden = rasterize(both);
  const frontOnly = rasterize({ ...front, bbox: both.bbox });
  const count = (m: Uint8Array) => m.reduce((s, v) => s + v, 0);
  assert.ok(count(frontOnly.edgeMask) > 500);
  assert.equal(count(withHidden.edgeMask), count(frontOnly.edgeMask));
  assert.deepEqual(withHidden.edgeMask, frontOnly.edgeMask);
  // Without the z-buffer test the hidden box's 12 edges would show.
  const box = meshShape(makeBaseBox(0.5, 0.5, 0.5).translate(-3, 3, -2));
  const hiddenAlone = rasterize({ ...box, bbox: both.bbox });
  assert.ok(count(hiddenAlone.edgeMask) > 50);
});

test('test100: our render of each gt STEP matches the real image (25-sample subset)', async () => {
  await loadOpenCascade();
  const silhouettes: number[] = [];
  const edges: number[] = [];
  for (const id of sampleSubset(25)) {
    const ours = renderMesh(meshShape(loadStep(id)));
    const s = scoreRenderAgainstImage(ours, await loadImage(id));
    if (IMAGE_STEP_MISMATCH.has(id)) continue;
    assert.ok(s.silhouette >= 0.9, `${id}: silhouette IoU ${s.silhouette.toFixed(3)}`);
    silhouettes.push(s.silhouette);
    edges.push(s.edges);
  }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  assert.ok(mean(silhouettes) >= 0.95, `mean silhouette IoU ${mean(silhouettes).toFixed(4)}`);
  assert.ok(mean(edges) >= 0.95, `mean edge F-score ${mean(edges).toFixed(4)}`);
});
