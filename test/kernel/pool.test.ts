import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { KernelPool, type JobKind } from '../../src/core/pool/pool';

const pool = new KernelPool({ workers: 2, timeoutMs: 5_000, maxHeapBytes: 400 * 1024 ** 2 });
after(() => pool.close());

test('runs jobs in worker threads and returns their values', async () => {
  const results = await Promise.all([1, 2, 3, 4].map((n) => pool.run('test.echo', { n })));
  assert.deepEqual(
    results.map((r) => (r.ok ? r.value : r.error)),
    [1, 2, 3, 4].map((n) => ({ n })),
  );
  assert.ok(pool.stats().workers <= 2);
});

test('a hung job becomes a timeout and its worker is replaced', async () => {
  const hung = await pool.run('test.spin', {}, { timeoutMs: 300 });
  assert.equal(hung.ok, false);
  assert.equal(!hung.ok && hung.error.kind, 'timeout');
  const after = await pool.run('test.echo', 'still alive');
  assert.deepEqual(after.ok && after.value, 'still alive');
  assert.ok(pool.stats().timeouts >= 1);
});

test('a crashed worker fails only its own job', async () => {
  const [crashed, fine] = await Promise.all([pool.run('test.crash', {}), pool.run('test.echo', 7)]);
  assert.equal(crashed.ok, false);
  assert.match(!crashed.ok ? crashed.error.message : '', /exited|crashed/);
  assert.deepEqual(fine.ok && fine.value, 7);
  const later = await pool.run('test.echo', 8);
  assert.deepEqual(later.ok && later.value, 8);
});

test('cancelling stops a running job at once and drops a queued one', async () => {
  const controller = new AbortController();
  const started = Date.now();
  const running = pool.run('test.sleep', { ms: 4_000 }, { signal: controller.signal });
  const running2 = pool.run('test.sleep', { ms: 4_000 }, { signal: controller.signal });
  const queued = pool.run('test.sleep', { ms: 4_000 }, { signal: controller.signal });
  setTimeout(() => controller.abort(), 100);
  for (const r of await Promise.all([running, running2, queued])) {
    assert.equal(!r.ok && r.error.kind, 'cancelled');
  }
  assert.ok(Date.now() - started < 2_000);
  const alreadyAborted = await pool.run('test.echo', 1, { signal: AbortSignal.abort() });
  assert.equal(!alreadyAborted.ok && alreadyAborted.error.kind, 'cancelled');
});

test('a worker whose WASM heap passes the bound is recycled after its job', async () => {
  const before = pool.stats().recycled;
  const grown = await pool.run('test.leak', { bytes: 450 * 1024 ** 2 });
  assert.equal(grown.ok, true);
  assert.equal(pool.stats().recycled, before + 1);
  const next = await pool.run('test.echo', 'fresh');
  assert.deepEqual(next.ok && next.value, 'fresh');
});

test('unknown job kinds and a closed pool give clear errors', async () => {
  // A kind outside the catalogue does not compile; a stale worker bundle could still be sent one.
  const unknown = await pool.run('no-such-kind' as JobKind, {});
  assert.match(!unknown.ok ? unknown.error.message : '', /unknown kernel job kind 'no-such-kind'/);
  const closed = new KernelPool({ workers: 1 });
  await closed.close();
  const r = await closed.run('test.echo', 1);
  assert.match(!r.ok ? r.error.message : '', /closed/);
});
