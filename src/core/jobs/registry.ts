/** Every job kind's handler, complete by construction: a kind of the catalogue without one does not compile. */
import type { JobCatalog, JobKind } from './catalog';
import { testCrash, testEcho, testLeak, testSleep, testSpin } from './diagnostics';
import { execute } from './execute';
import { iouJob } from './geometry';
import { modelGenerateJob } from './model';
import { renderImage, renderScore } from './render';
import type { JobHandler } from './types';

export type JobHandlers = { [K in JobKind]: JobHandler<JobCatalog[K][0], JobCatalog[K][1]> };

export const jobHandlers: JobHandlers = {
  'shape.execute': execute,
  'shape.iou': iouJob,
  'render.image': renderImage,
  'render.score': renderScore,
  'model.generate': modelGenerateJob(),
  'test.echo': testEcho,
  'test.sleep': testSleep,
  'test.spin': testSpin,
  'test.crash': testCrash,
  'test.leak': testLeak,
};
