/** `gift bootstrap` end to end with the bundled smoke model: records land, a rerun skips, shards split. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');
const gift = (...args: string[]) =>
  execFileSync(process.execPath, [path.join(root, 'bin', 'gift.js'), ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('bootstrap runs the model over sft samples, resumes, and shards', { timeout: 300_000 }, () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gift-bootstrap-cli-')), 'ds');
  gift('dataset', 'import', path.join(root, 'test/fixtures/gencad-test100/samples.jsonl'), '--out', dir);
  const first = gift('bootstrap', dir, '--samples', '3', '--limit', '2', '--shard', '1/2', '--model', path.join(root, 'models/smoke'), '--timeout', '120000');
  assert.match(first, /done: 2\/2 samples \(0 from an earlier run\)/);
  const log = fs
    .readFileSync(path.join(dir, 'bootstrap.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(log.length, 2);
  const sftIds = fs
    .readFileSync(path.join(dir, 'collections', 'sft.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).id)
    .sort();
  // Shard 1/2 takes the odd positions of the id-sorted list.
  assert.deepEqual(log.map((s) => s.id).sort(), [sftIds[1], sftIds[3]]);
  for (const s of log) assert.equal(s.samples, 3);
  const again = gift('bootstrap', dir, '--samples', '3', '--limit', '2', '--shard', '1/2', '--model', path.join(root, 'models/smoke'));
  assert.match(again, /2 from an earlier run/);
  assert.throws(() => gift('bootstrap', dir, '--samples', '3', '--shard', '2/2'), /invalid shard/);
});
