/**
 * Runs the benchmarks: `npm run bench` (all) or `npm run bench -- execute iou` (by name).
 * Each bench/<name>.ts prints its own table.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const available = fs
  .readdirSync(__dirname)
  .filter((f) => f.endsWith('.ts') && !['index.ts', 'table.ts'].includes(f))
  .map((f) => f.replace(/\.ts$/, ''));
const chosen = process.argv.slice(2).length ? process.argv.slice(2) : available;
for (const name of chosen) {
  if (!available.includes(name)) {
    console.error(`no bench named '${name}'; available: ${available.join(', ')}`);
    process.exit(2);
  }
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, `${name}.ts`)], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = 1;
}
