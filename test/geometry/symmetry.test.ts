import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeBaseBox, makeBox, makeCylinder, type Shape3D } from 'replicad';
import { loadOpenCascade } from '../../src/core/occt/occt';
import { readShape } from '../../src/core/geometry/io';
import { inertiaFrame, intersectionVolume, transformShape } from '../../src/core/geometry/iou';
import { apply3, multiply3, scaleColumns3, transpose3 } from '../../src/core/geometry/linalg';
import { halfTurnSymmetries } from '../../src/core/geometry/symmetry';
import { runCadQuery } from '../../src/core/shape/run-cadquery';

const stepDir = path.join(__dirname, '..', 'fixtures', 'gencad-test100', 'gt_steps');

before(async () => {
  await loadOpenCascade();
});

function symmetries(shape: Shape3D) {
  const f = inertiaFrame(shape, 'shape');
  return { found: halfTurnSymmetries(shape, f), frame: f };
}

/** The principal axis (column) closest to a world direction. */
function axisAlong(axes: number[], world: [number, number, number]): number {
  const dots = [0, 1, 2].map((k) => Math.abs(axes[k] * world[0] + axes[3 + k] * world[1] + axes[6 + k] * world[2]));
  return dots.indexOf(Math.max(...dots));
}

/** The truth by exact boolean: the half-turn about principal axis k moves no volume. */
function keepsVolume(shape: Shape3D, k: number): boolean {
  const f = inertiaFrame(shape, 'shape');
  const signs = [-1, -1, -1];
  signs[k] = 1;
  const matrix = multiply3(scaleColumns3(f.axes, signs), transpose3(f.axes));
  const c = apply3(matrix, f.centre);
  const turned = transformShape(shape, { matrix, translation: [f.centre[0] - c[0], f.centre[1] - c[1], f.centre[2] - c[2]] });
  try {
    return intersectionVolume(shape, turned) / f.volume > 1 - 1e-6;
  } finally {
    turned.delete();
  }
}

test('a box, and a plate with a centred round hole (a seam edge), are unchanged by all three half-turns', () => {
  assert.deepEqual(symmetries(makeBaseBox(1, 2, 3)).found, [true, true, true]);
  const plate = runCadQuery('import cadquery as cq\nresult = cq.Workplane("XY").box(4, 6, 1).faces(">Z").workplane().hole(1.5)');
  assert.deepEqual(symmetries(plate).found, [true, true, true]);
});

test('an off-centre hole leaves only the half-turn about the axis it is offset along', () => {
  const plate = runCadQuery('import cadquery as cq\nresult = cq.Workplane("XY").box(2, 3, 4).faces(">Z").workplane().center(0.3, 0).hole(0.5)');
  const { found, frame } = symmetries(plate);
  const x = axisAlong(frame.axes, [1, 0, 0]);
  assert.deepEqual(
    found,
    [0, 1, 2].map((k) => k === x),
  );
});

test('shapes without a half-turn symmetry are found to have none', () => {
  const chiral = makeBox([0, 0, 0], [4, 1, 1])
    .fuse(makeBox([0, 0, 0], [1, 2, 1]))
    .fuse(makeBox([0, 0, 0], [1, 1, 3]));
  assert.deepEqual(symmetries(chiral).found, [false, false, false]);
  // A cylinder with a box on one end: symmetric under no half-turn, though its outline nearly is.
  const capped = makeCylinder(1, 4).fuse(makeBox([-0.5, -0.5, 4], [0.5, 0.5, 4.2]));
  const { found, frame } = symmetries(capped);
  assert.equal(found[axisAlong(frame.axes, [1, 0, 0])], false);
  assert.equal(found[axisAlong(frame.axes, [0, 1, 0])], false);
  // About its own axis the box-capped cylinder is symmetric: a half-turn maps the square cap to itself.
  assert.equal(found[axisAlong(frame.axes, [0, 0, 1])], true);
});

test('on 40 test100 parts every symmetry found is confirmed by an exact boolean, and most real ones are found', () => {
  const files = fs
    .readdirSync(stepDir)
    .filter((f) => f.endsWith('.step'))
    .sort()
    .slice(0, 40);
  let found = 0;
  let real = 0;
  for (const file of files) {
    const shape = readShape(fs.readFileSync(path.join(stepDir, file)), 'step', file);
    const claimed = symmetries(shape).found;
    for (let k = 0; k < 3; k++) {
      const truth = keepsVolume(shape, k);
      if (claimed[k]) assert.ok(truth, `${file}: half-turn ${k} claimed but the boolean moves volume`);
      found += claimed[k] ? 1 : 0;
      real += truth ? 1 : 0;
    }
  }
  // The check may miss a symmetry (it then only costs a boolean), never invent one.
  assert.ok(found >= 0.8 * real, `found ${found} of ${real} symmetries`);
});
