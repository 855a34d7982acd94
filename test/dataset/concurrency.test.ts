/** Several processes on one dataset: concurrent appends, kill -9 durability, stale and held locks. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatasetLockError, openDataset } from '../../src/core/dataset';
import { TEST100_DIR } from '../helpers/test100';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-dataset-proc-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));
const image = path.join(TEST100_DIR, 'images', '00675497_0.png');
const child = path.join(__dirname, 'helpers', 'append-child.ts');

function startAppender(dir: string, prefix: string, count: number): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', child, dir, prefix, String(count), image], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exited(proc: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve({ code: proc.exitCode, signal: proc.signalCode });
    else proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

function collect(proc: ChildProcess): { acks: string[]; stderr: () => string } {
  const acks: string[] = [];
  let pending = '';
  let stderr = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) if (line.startsWith('ACK ')) acks.push(line.slice(4));
  });
  proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { acks, stderr: () => stderr };
}

test('two processes appending at once: no lost or torn lines', { timeout: 60_000 }, async () => {
  const dir = path.join(work, 'concurrent');
  const ds = await openDataset(dir, { create: true });
  const perChild = 120;
  const a = startAppender(dir, 'a', perChild);
  const b = startAppender(dir, 'b', perChild);
  const outA = collect(a);
  const outB = collect(b);
  // This process appends too, in between the children.
  for (let n = 0; n < 20; n++) await ds.append({ id: `main-${n}`, collection: 'sft', image, code: `# ${n}\n` });
  const [ea, eb] = await Promise.all([exited(a), exited(b)]);
  assert.equal(ea.code, 0, outA.stderr());
  assert.equal(eb.code, 0, outB.stderr());
  assert.equal(outA.acks.length, perChild);
  assert.equal(outB.acks.length, perChild);

  const { records, warnings } = await ds.list('sft');
  assert.deepEqual(warnings, []);
  assert.equal(records.length, 2 * perChild + 20);
  const ids = new Set(records.map((r) => r.id));
  for (const id of [...outA.acks, ...outB.acks]) assert.ok(ids.has(id), `${id} lost`);
  // Each writer's records stay in its own order.
  const order = records.filter((r) => r.id.startsWith('a-')).map((r) => Number(r.id.slice(2)));
  assert.deepEqual(
    order,
    [...order].sort((x, y) => x - y),
  );
  const lines = fs.readFileSync(ds.manifestFile('sft'), 'utf8').split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, 2 * perChild + 20);
  for (const line of lines) assert.doesNotThrow(() => JSON.parse(line));
  assert.equal(fs.existsSync(path.join(dir, '.lock')), false);
});

test('kill -9 while appending: every acknowledged record survives; the stale lock is broken', { timeout: 60_000 }, async () => {
  const dir = path.join(work, 'killed');
  await openDataset(dir, { create: true });
  for (let round = 0; round < 3; round++) {
    const proc = startAppender(dir, `r${round}`, 0);
    const out = collect(proc);
    const target = 15 + round * 7;
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (out.acks.length >= target) {
          clearInterval(timer);
          resolve();
        } else if (proc.exitCode !== null) {
          clearInterval(timer);
          reject(new Error(`appender exited early: ${out.stderr()}`));
        }
      }, 1);
    });
    proc.kill('SIGKILL');
    const { signal } = await exited(proc);
    assert.equal(signal, 'SIGKILL');
    const acknowledged = [...out.acks];

    // A fresh reader in this process: the killed child may have died holding the lock.
    const ds = await openDataset(dir, { lockTimeoutMs: 5_000 });
    const { records, warnings } = await ds.list('sft');
    const ids = new Set(records.map((r) => r.id));
    for (const id of acknowledged) assert.ok(ids.has(id), `acknowledged ${id} lost after kill -9`);
    // At most the one line being written when it died is damaged, and it is reported.
    assert.ok(warnings.length <= round + 1, JSON.stringify(warnings));
    for (const w of warnings) assert.match(w.message, /incomplete last line|not valid JSON/);
  }
});

test('a lock held by a live process makes writers wait, then fail naming the holder', { timeout: 30_000 }, async () => {
  const dir = path.join(work, 'held');
  const ds = await openDataset(dir, { create: true, lockTimeoutMs: 400 });
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  const lockFile = path.join(dir, '.lock');
  try {
    fs.writeFileSync(lockFile, JSON.stringify({ pid: holder.pid, host: os.hostname(), time: new Date().toISOString(), nonce: 'n' }));
    const started = Date.now();
    await assert.rejects(ds.append({ collection: 'sft', image, code: '# x\n' }), (e: Error) => {
      assert.ok(e instanceof DatasetLockError);
      assert.match(e.message, new RegExp(`held by pid ${holder.pid} on .*gave up after 0\\.\\d s.*delete ${lockFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      return true;
    });
    assert.ok(Date.now() - started >= 400);
  } finally {
    holder.kill('SIGKILL');
    await exited(holder);
  }
  // The holder is gone: its lock is stale and the next write breaks it.
  const record = await ds.append({ collection: 'sft', image, code: '# y\n' });
  assert.equal((await ds.get(record.id))?.code, '# y\n');
  assert.equal(fs.existsSync(lockFile), false);
});
