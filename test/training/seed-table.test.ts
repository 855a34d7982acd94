/**
 * training/seed_table.ts on committed gift eval reports (pilot 4's four seeds): the per-seed rows,
 * the seed-averaged ratio docs/gift-results.md quotes, and a clear error for a file that is not a report.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');
const dir = path.join(root, 'docs', 'gift-results', 'pilot4');
const run = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'training', 'seed_table.ts'), ...args], { cwd: dir, encoding: 'utf8' });

test('seed_table: one row per seed and the seed-averaged paired difference', () => {
  const r = run([
    'SFT=sft.json,sft-s1.json,sft-s2.json,sft-s3.json',
    'GIFT=gift.json,gift-s1.json,gift-s2.json,gift-s3.json',
    'REJ=rej.json,rej-s1.json,rej-s2.json',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split('\n');
  assert.equal(rows.length, 2 + 4 + 1);
  assert.match(rows[2], /^\| 0 \| 0\.256 \| 0\.287 \| \+12\.0 % \| 0\.293 \| \+14\.4 % \|/);
  assert.match(rows[5], /^\| 3 \| 0\.251 \| 0\.298 \| \+18\.7 % \| — \|/);
  assert.match(rows[6], /0\.291 \(1\.12 × SFT\) \| \+0\.031 ± 0\.00\d/);
  assert.match(rows[6], /1\.10 × SFT, seeds 0–2/);
});

test('seed_table: a file that is not a gift eval report is named', () => {
  const r = run(['SFT=sft.json', 'X=../../../package.json']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /package\.json: not a gift eval report/);
});
