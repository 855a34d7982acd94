import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mergeShards } from '../../src/core/train/bootstrap';
import { RunStore, newRunId, type RunRecord } from '../../src/core/train/runs';

function shard(root: string, i: number, files: Record<string, string>, done = true): void {
  const dir = path.join(root, `shard-${i}`);
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  if (done) fs.writeFileSync(path.join(dir, 'DONE'), 'x');
}

test('shards merge in order, duplicate ids dropped, unfinished shards reported, conflicting files refused', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-merge-'));
  const shards = path.join(dir, 'shards');
  const rec = (id: string, iou: number) => JSON.stringify({ id, iou });
  shard(shards, 0, { 'records.jsonl': `${[rec('a', 0.95), rec('b', 0.7)].join('\n')}\n`, 'images/1.png': 'png1' });
  shard(shards, 1, { 'records.jsonl': `${[rec('c', 0.91), rec('a', 0.2)].join('\n')}\n`, 'images/1.png': 'png1', 'images/2.png': 'png2' });
  shard(shards, 2, { 'records.jsonl': `${rec('z', 0.5)}\n` }, false);
  const out = path.join(dir, 'merged');
  const report = await mergeShards(shards, out, 4);
  assert.deepEqual(report.missing, [2, 3]);
  assert.deepEqual(report.jsonl, { 'records.jsonl': 3 });
  assert.equal(report.duplicates, 1);
  assert.equal(report.copied, 2);
  assert.deepEqual(
    fs
      .readFileSync(path.join(out, 'records.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id),
    ['a', 'b', 'c'],
  );
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'records.jsonl'), 'utf8').split('\n')[0]).iou, 0.95, 'first shard wins');
  await assert.rejects(mergeShards(shards, path.join(dir, 'm2'), 4, { requireAll: true }), /shards 2, 3 of 4 did not finish/);

  shard(shards, 3, { 'images/2.png': 'different' });
  await assert.rejects(mergeShards(shards, path.join(dir, 'm3'), 4), /shards 1 and 3 both have images\/2\.png with different content/);
});

test('run state file: add, find by run id / job id / prefix, update; survives a new store object', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gift-runs-')), 'nested', 'runs.json');
  const store = new RunStore(file);
  const run = (id: string, jobId: string): RunRecord => ({
    id,
    jobId,
    kind: 'train',
    recipe: 'bundled',
    profile: { host: 'h', workDir: '/w' },
    remoteDir: `/w/runs/${id}`,
    logFile: `/w/runs/${id}/slurm-${jobId}.out`,
    submitted: new Date().toISOString(),
    state: 'PENDING',
    updated: new Date().toISOString(),
  });
  const id1 = newRunId('bundled', new Date('2026-01-02T03:04:05Z'));
  assert.match(id1, /^20260102-030405-bundled-[0-9a-f]{4}$/);
  store.add(run(id1, '41'));
  store.add(run('20260103-000000-vlm-beef', '42'));
  const again = new RunStore(file);
  assert.equal(again.get('41').id, id1);
  assert.equal(again.get('20260103').jobId, '42');
  assert.throws(() => again.get('2026'), /no run '2026'/);
  again.update(id1, { state: 'FAILED', exitCode: 3 });
  assert.deepEqual([store.get(id1).state, store.get(id1).exitCode], ['FAILED', 3]);
  assert.equal((fs.statSync(file).mode & 0o777).toString(8), '600');
});
