/** Polling a dataset for outside writes (what editors rely on where no file event arrives). */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { datasetSignature, openDataset, pollDataset } from '../../src/core/dataset';
import { TEST100_DIR } from '../helpers/test100';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-dataset-watch-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));
const image = path.join(TEST100_DIR, 'images', '00675497_0.png');
const box = 'import cadquery as cq\nsolid = cq.Workplane("XY").box(1, 2, 3)\n';
const INTERVAL = 40;

/** Counts onChange calls; `next()` resolves at the next one (or rejects after `ms`). */
function recorder() {
  let calls = 0;
  let waiting: (() => void) | undefined;
  return {
    onChange: () => {
      calls++;
      waiting?.();
    },
    get calls() {
      return calls;
    },
    next(what: string, ms = 5000): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no change noticed after ${what} within ${ms} ms`)), ms);
        waiting = () => {
          clearTimeout(timer);
          waiting = undefined;
          resolve();
        };
      });
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('another process appending, a new collection, a move and a deleted manifest are each noticed; reads are not', async () => {
  const dir = path.join(work, 'outside');
  const ds = await openDataset(dir, { create: true });
  const seen = recorder();
  const poller = pollDataset(dir, seen.onChange, INTERVAL);
  try {
    await sleep(INTERVAL * 3);
    await ds.list();
    await ds.collections();
    await sleep(INTERVAL * 5);
    assert.equal(seen.calls, 0, 'reading (which takes the lock) is not a change');

    /** Lets polls of earlier writes pass, then expects one noticed after `act`. */
    const noticed = async (what: string, act: () => unknown) => {
      await sleep(INTERVAL * 3);
      const next = seen.next(what);
      await act();
      await next;
    };
    // A real second process, as the CLI or a cluster job would be.
    await noticed('an append by another process', async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'helpers', 'append-child.ts'), dir, 'other', '1', image]);
      assert.equal(await new Promise<number | null>((resolve) => child.once('exit', resolve)), 0);
    });
    assert.ok(await ds.get('other-0'));
    await noticed('a new collection', () => ds.createCollection('holdout'));
    await noticed('a move (a manifest rewritten by rename)', () => ds.move('other-0', 'holdout'));
    await noticed('a deleted manifest', () => fs.rmSync(ds.manifestFile('fda')));
  } finally {
    poller.dispose();
  }
});

test('resync takes our own write as seen; dispose stops polling', async () => {
  const dir = path.join(work, 'own');
  const ds = await openDataset(dir, { create: true });
  const seen = recorder();
  const poller = pollDataset(dir, seen.onChange, INTERVAL);
  await sleep(INTERVAL * 2);
  await ds.append({ id: 'mine', collection: 'sft', image, code: box });
  await poller.resync();
  // A poll that lands between the write and resync may report it once (an extra refresh, by design).
  const beforeResync = seen.calls;
  assert.ok(beforeResync <= 1, `reported ${beforeResync} times before resync`);
  await sleep(INTERVAL * 5);
  assert.equal(seen.calls, beforeResync, 'a write this process announced is not reported after resync');

  poller.dispose();
  await ds.append({ id: 'after', collection: 'sft', image, code: box });
  await sleep(INTERVAL * 5);
  assert.equal(seen.calls, beforeResync, 'nothing after dispose');
});

test('the signature names what readers depend on, and a missing dataset is a state too', async () => {
  const dir = path.join(work, 'signature');
  assert.match(await datasetSignature(dir), /^ENOENT\ncollections:ENOENT$/);
  const ds = await openDataset(dir, { create: true });
  const empty = await datasetSignature(dir);
  assert.deepEqual(
    empty
      .split('\n')
      .slice(1)
      .map((l) => l.split(':')[0]),
    ['fda.jsonl', 'sft.jsonl', 'srs.jsonl'],
  );
  fs.writeFileSync(path.join(dir, '.lock.other'), 'x');
  fs.writeFileSync(path.join(dir, 'collections', '.sft.jsonl.1.ab.tmp'), 'x');
  assert.equal(await datasetSignature(dir), empty, 'locks and temp files are not manifests');
  await ds.append({ id: 'one', collection: 'srs', image, code: box });
  assert.notEqual(await datasetSignature(dir), empty);
});
