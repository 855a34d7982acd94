import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadOpenCascade } from '../../src/core/occt/occt';
import { meshShape, type MeshData } from '../../src/core/geometry/mesh';
import { renderMesh, scoreRenderAgainstImage } from '../../src/core/render';
import { MESH_PERTURBATIONS, perturbMesh } from '../../src/core/render/perturb';
import { IMAGE_STEP_MISMATCH, loadImage, loadStep, sampleSubset } from './fixtures';

test('score: identical pictures score 1, a blank picture 0, and the frame does not matter', async () => {
  await loadOpenCascade();
  const id = sampleSubset(5)[1];
  const mesh = meshShape(loadStep(id));
  const big = renderMesh(mesh, { size: 448 });
  assert.deepEqual(scoreRenderAgainstImage(big, big), { score: 1, silhouette: 1, edges: 1 });
  const blank = { width: 64, height: 64, rgba: new Uint8Array(64 * 64 * 4).fill(255) };
  assert.equal(scoreRenderAgainstImage(big, blank).score, 0);
  // The same part drawn at another size is fitted to the common frame before comparing.
  const small = renderMesh(mesh, { size: 224 });
  const s = scoreRenderAgainstImage(small, big);
  assert.ok(s.silhouette > 0.95 && s.edges > 0.9, JSON.stringify(s));
});

test('score ranks the image own STEP above perturbed candidates (test100 subset)', async () => {
  await loadOpenCascade();
  const ids = sampleSubset(16).filter((id) => !IMAGE_STEP_MISMATCH.has(id));
  const meshes = new Map<string, MeshData>(ids.map((id) => [id, meshShape(loadStep(id))]));
  let wins = 0,
    total = 0;
  const losses: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    const image = await loadImage(ids[i]);
    const mesh = meshes.get(ids[i])!;
    const own = scoreRenderAgainstImage(renderMesh(mesh), image).score;
    const candidates: [string, MeshData][] = [
      ...MESH_PERTURBATIONS.map((k) => [k, perturbMesh(mesh, k)] as [string, MeshData]),
      ['other shape', meshes.get(ids[(i + 1) % ids.length])!],
    ];
    for (const [kind, candidate] of candidates) {
      const other = scoreRenderAgainstImage(renderMesh(candidate), image).score;
      total++;
      if (own > other) wins++;
      else losses.push(`${ids[i]} ${kind}: ${own.toFixed(4)} ≤ ${other.toFixed(4)}`);
    }
  }
  // Rotation about Z can leave a square or round part's picture unchanged: a tie, not a win.
  assert.ok(wins / total >= 0.95, `won ${wins}/${total}; not above: ${losses.join('; ')}`);
});
