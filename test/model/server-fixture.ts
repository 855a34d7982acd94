/**
 * A real ONNX model for the serve / OpenAI-client / generate tests: H7's tiny rectangle model
 * (onnx-fixture.ts: white images of a dark rectangle → `solid = cq.Workplane("XY").box(w, h, 1)`),
 * trained once and cached across test processes in the temp folder (training costs a minute or
 * more on a busy 2-core machine). Tests that need it skip without torch.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot, runTraining, torchMissing, writeSyntheticDataset } from './onnx-fixture';

export interface ServedFixture {
  modelDir: string;
  /** Images the model was trained on, with the program each one shows. */
  images: { file: string; code: string }[];
}

function fixtureKey(): string {
  const hash = createHash('sha256');
  for (const file of ['training/train_bundled.py', 'test/model/onnx-fixture.ts']) hash.update(readFileSync(path.join(repoRoot, file)));
  return hash.digest('hex').slice(0, 12);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function trainCached(): Promise<ServedFixture> {
  const root = path.join(tmpdir(), `gift-h9-tiny-model-${fixtureKey()}`);
  const done = path.join(root, 'model', 'model.json');
  const lock = `${root}.lock`;
  for (;;) {
    if (existsSync(done)) break;
    try {
      mkdirSync(lock);
    } catch {
      // Another test process is training; a lock older than 10 minutes is from a dead one.
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 600_000) rmSync(lock, { recursive: true, force: true });
      await sleep(1000);
      continue;
    }
    try {
      const staging = `${root}.staging-${process.pid}`;
      rmSync(staging, { recursive: true, force: true });
      const dataset = await writeSyntheticDataset(path.join(staging, 'data'));
      const run = runTraining([
        '--data',
        dataset.dir,
        '--out',
        path.join(staging, 'model'),
        '--config',
        'tiny',
        '--steps',
        '80',
        '--batch-size',
        '12',
        '--device',
        'cpu',
      ]);
      if (run.status !== 0) throw new Error(`training failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
      rmSync(root, { recursive: true, force: true });
      renameSync(staging, root);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  const lines = readFileSync(path.join(root, 'data', 'metadata.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean);
  const images = lines
    .map((l) => JSON.parse(l) as { file_name: string; code: string })
    .map((e) => ({ file: path.join(root, 'data', e.file_name), code: e.code }));
  return { modelDir: path.join(root, 'model'), images };
}

let fixture: Promise<ServedFixture> | undefined;

/** Why the model cannot be trained here (no torch), or undefined. */
export const servedModelMissing = torchMissing;

export function servedModel(): Promise<ServedFixture> {
  fixture ??= trainCached();
  return fixture;
}
