import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LiveRunner } from '../../src/extension/preview/live-run';
import {
  formatBoundingBox,
  formatMetric,
  hostNotification,
  iouGrade,
  isHostMessage,
  isPanelRestoreState,
  isWebviewMessage,
  webviewCommand,
} from '../../src/protocol/messages';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A job that takes `ms` and honours its abort signal like a kernel run does. */
function slowJob(log: string[]) {
  return (input: { text: string; ms: number }, signal: AbortSignal) =>
    new Promise<string>((resolve, reject) => {
      log.push(`start ${input.text}`);
      const timer = setTimeout(() => resolve(input.text), input.ms);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        log.push(`abort ${input.text}`);
        reject(Object.assign(new Error('cancelled'), { name: 'AbortError' }));
      });
    });
}

test('edits within the debounce delay run once, with the last text', async () => {
  const log: string[] = [];
  const results: string[] = [];
  const runner = new LiveRunner({ run: slowJob(log), onResult: (r) => results.push(r), delayMs: 40 });
  runner.schedule({ text: 'a', ms: 5 });
  runner.schedule({ text: 'ab', ms: 5 });
  runner.schedule({ text: 'abc', ms: 5 });
  await runner.idle();
  assert.deepEqual(log, ['start abc']);
  assert.deepEqual(results, ['abc']);
  assert.equal(runner.version, 3);
});

test('a newer edit aborts the running one and only the newer result arrives', async () => {
  const log: string[] = [];
  const results: [string, number][] = [];
  const errors: unknown[] = [];
  const runner = new LiveRunner({ run: slowJob(log), onResult: (r, v) => results.push([r, v]), onError: (e) => errors.push(e), delayMs: 10 });
  runner.schedule({ text: 'slow', ms: 300 });
  await sleep(60); // 'slow' is running now
  runner.schedule({ text: 'fast', ms: 5 });
  await runner.idle();
  assert.deepEqual(log, ['start slow', 'abort slow', 'start fast']);
  assert.deepEqual(results, [['fast', 2]]);
  assert.deepEqual(errors, [], 'a run cancelled by a newer one is not an error');
});

test('a stale result that ignores its abort signal never replaces a newer one', async () => {
  const results: string[] = [];
  // This job ignores the signal, like a kernel answer already in flight when the edit came.
  const stubborn = (input: { text: string; ms: number }) => new Promise<string>((r) => setTimeout(() => r(input.text), input.ms));
  const runner = new LiveRunner({ run: stubborn, onResult: (r) => results.push(r), delayMs: 5 });
  void runner.runNow({ text: 'old', ms: 150 });
  await sleep(20);
  await runner.runNow({ text: 'new', ms: 10 });
  await sleep(200); // 'old' resolves now, after 'new'
  assert.deepEqual(results, ['new']);
});

test('failures reach onError; dispose stops everything', async () => {
  const errors: string[] = [];
  const results: string[] = [];
  const runner = new LiveRunner<string, string>({
    run: async (text) => {
      if (text === 'bad') throw new Error('line 2: boom');
      return text;
    },
    onResult: (r) => results.push(r),
    onError: (e) => errors.push((e as Error).message),
    delayMs: 5,
  });
  await runner.runNow('bad');
  assert.deepEqual(errors, ['line 2: boom']);
  runner.schedule('good');
  runner.dispose();
  await sleep(30);
  assert.deepEqual(results, []);
  assert.equal(runner.busy, false);
});

test('protocol guards accept real messages and reject malformed ones', () => {
  assert.ok(isHostMessage(hostNotification('metrics', { iou: null, chamfer: null })));
  assert.ok(isHostMessage({ kind: 'request', id: 3, method: 'sceneInfo', params: {} }));
  assert.ok(!isHostMessage({ kind: 'request', id: 'x', method: 'sceneInfo', params: {} }));
  assert.ok(!isHostMessage({ kind: 'notification', method: 'nope', params: {} }));
  assert.ok(!isHostMessage({ kind: 'notification', method: 'shape' }));
  assert.ok(!isHostMessage(null));
  assert.ok(isWebviewMessage(webviewCommand('selectCandidate', { index: 1 })));
  assert.ok(isWebviewMessage({ kind: 'response', id: 1, ok: true, result: {} }));
  assert.ok(!isWebviewMessage({ kind: 'command', method: 'setView', params: { view: 'top' } }), 'setView is host → webview only');
  assert.ok(isPanelRestoreState({ documentUri: 'file:///a.py' }));
  assert.ok(!isPanelRestoreState({ documentUri: 3 }));
});

test('metric formatting shows "—" until a value arrives and grades IoU by the thresholds', () => {
  assert.equal(formatMetric(null), '—');
  assert.equal(formatMetric(0.98765), '0.9877');
  assert.equal(formatBoundingBox(null), '—');
  assert.equal(formatBoundingBox([0, 0, 0, 2, 1, 0.5]), '2 × 1 × 0.5');
  const t = { low: 0.5, valid: 0.9, match: 0.99 };
  assert.deepEqual(
    [null, 0.2, 0.6, 0.95, 0.995].map((v) => iouGrade(v, t)),
    ['none', 'bad', 'low', 'valid', 'match'],
  );
});

test('cancel drops the queued run and aborts the running one; nothing is delivered', async () => {
  const log: string[] = [];
  const results: string[] = [];
  const errors: unknown[] = [];
  const runner = new LiveRunner({ run: slowJob(log), onResult: (r) => results.push(r), onError: (e) => errors.push(e), delayMs: 10 });
  void runner.runNow({ text: 'running', ms: 200 });
  runner.cancel();
  runner.schedule({ text: 'queued', ms: 5 });
  runner.cancel();
  await sleep(40);
  await runner.idle();
  assert.deepEqual(log, ['start running', 'abort running']);
  assert.deepEqual(results, []);
  assert.deepEqual(errors, [], 'a cancelled run is not an error');
  // The runner still works after a cancel.
  await runner.runNow({ text: 'after', ms: 5 });
  assert.deepEqual(results, ['after']);
});
