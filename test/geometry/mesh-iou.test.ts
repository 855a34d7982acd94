/**
 * Mesh references (#16): a test100 program against an STL of itself must score ≈1. Through the
 * B-rep path (the STL sewn into a faceted OCCT solid, then OCCT's boolean) several such pairs
 * scored IoU 0 with status ok: the booleans of nearly coincident faceted and analytic faces fail
 * silently. These run through the `shape.iou` job, as `gift verify` does.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadOpenCascade } from '../../src/core/occt/occt';
import { writeStl } from '../../src/core/geometry/io';
import type { IouJobResult } from '../../src/core/jobs/geometry';
import { jobHandlers } from '../../src/core/jobs/registry';
import { runCadQuery } from '../../src/core/shape/run-cadquery';
import { loadTest100 } from '../helpers/test100';

let oc: any;
before(async () => {
  oc = await loadOpenCascade();
});

const samples = new Map(loadTest100().map((s) => [s.id, s]));

// Ids that gave IoU 0 with status ok under raw (00827834, 00319779), and one whose STL was refused.
for (const id of ['00827834', '00319779']) {
  test(`${id}: the program against its own STL scores ≈1 under raw`, async () => {
    const code = samples.get(id)!.code;
    const stl = writeStl(runCadQuery(code));
    const out = (await jobHandlers['shape.iou'](
      { candidate: { kind: 'code', source: code }, reference: { kind: 'stl', bytes: stl, name: `${id}.stl` }, protocol: 'raw' },
      { oc },
    )) as IouJobResult;
    assert.ok(out.results[0].iou >= 0.98, `IoU ${out.results[0].iou}`);
  });
}
