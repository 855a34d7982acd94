import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadOpenCascade } from '../../src/core/occt/occt';
import { CadError } from '../../src/core/errors';
import { jobHandlers } from '../../src/core/jobs/registry';
import { decodePngSync } from '../../src/core/render/image';
import { FIXTURE_DIR, imagePath } from './fixtures';

const stepSource = (id: string) => {
  const file = path.join(FIXTURE_DIR, 'gt_steps', `${id}.step`);
  return { kind: 'step' as const, bytes: new Uint8Array(fs.readFileSync(file)), name: file };
};
const unwrap = (out: any) => (out?.__jobOutput ? out.value : out);

test('render jobs: PNG of a STEP, mesh with transferables (shape.execute), score against the real image', async () => {
  const oc = await loadOpenCascade();
  const png = jobHandlers['render.image']({ shape: stepSource('00442545'), view: 'iso', size: 200 }, { oc }) as any;
  assert.equal(png.__jobOutput, true);
  assert.equal(png.transfer.length, 1);
  const decoded = decodePngSync(png.value.png);
  assert.deepEqual([decoded.width, decoded.height], [200, 200]);

  const mesh = jobHandlers['shape.execute']({ input: stepSource('00442545'), mesh: {} }, { oc }) as any;
  assert.ok(mesh.value.mesh.indices.length > 0 && mesh.transfer.length === 6);

  const score = unwrap(
    await jobHandlers['render.score'](
      { shape: stepSource('00442545'), image: new Uint8Array(fs.readFileSync(imagePath('00442545'))), imageName: '00442545_0.png' },
      { oc },
    ),
  );
  assert.ok(score.silhouette > 0.97 && score.edges > 0.95, JSON.stringify(score));
  const wrong = unwrap(
    await jobHandlers['render.score']({ shape: stepSource('00675497'), image: new Uint8Array(fs.readFileSync(imagePath('00442545'))) }, { oc }),
  );
  assert.ok(wrong.score < score.score - 0.1, `a different part scores ${wrong.score} vs ${score.score}`);
});

test('render jobs: CadQuery code renders; bad views and images are clear errors', async () => {
  const oc = await loadOpenCascade();
  const code = { kind: 'code' as const, source: 'import cadquery as cq\nsolid = cq.Workplane("XY").box(1, 2, 3)\n' };
  const png = jobHandlers['render.image']({ shape: code, size: 64 }, { oc }) as any;
  assert.equal(decodePngSync(png.value.png).width, 64);
  assert.throws(
    () => jobHandlers['render.image']({ shape: code, view: 'sideways' as any }, { oc }),
    (e: unknown) => e instanceof CadError && e.kind === 'unsupported' && /unknown view 'sideways'/.test(e.message),
  );
  await assert.rejects(
    async () => jobHandlers['render.score']({ shape: code, image: new TextEncoder().encode('not an image'), imageName: 'photo.png' }, { oc }),
    /photo\.png: not a readable image/,
  );
});
