import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CADCODER_PROMPT, extractCode, imageMimeType, normaliseEndpoint, OpenAiClient, OpenAiError } from '../../src/core/model/openai';
import { loadTest100 } from '../helpers/test100';
import { answerWith, closedPort, startPeer, vllmCompletion, vllmError, VLLM_MODEL } from './openai-peer';

const sample = loadTest100()[0];
const imageBytes = readFileSync(sample.image);
const PROGRAM = 'import cadquery as cq\nsolid = cq.Workplane("XY").box(1, 2, 3)\n';
const fast = { retries: 3, backoffMs: 5, maxBackoffMs: 50 };

async function rejection(p: Promise<unknown>): Promise<OpenAiError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof OpenAiError, `expected an OpenAiError, got ${e}`);
    return e;
  }
  assert.fail('expected a rejection');
}

test('extractCode: fenced python, other fences, unclosed fence, bare code, prose, reasoning', () => {
  assert.equal(extractCode('```python\nimport cadquery as cq\nr = cq.Workplane()\n```'), 'import cadquery as cq\nr = cq.Workplane()\n');
  assert.equal(extractCode('Here you go:\n\n```py\nx = 1\n```\nThat builds it.'), 'x = 1\n');
  assert.equal(extractCode('```\nsolid = cq.Workplane("XY").box(1,1,1)\n```'), 'solid = cq.Workplane("XY").box(1,1,1)\n');
  // A python block wins over an earlier shell block.
  assert.equal(extractCode('```sh\npip install cadquery\n```\n```python\nx = 2\n```'), 'x = 2\n');
  // Cut at max_tokens: the unclosed block runs to the end.
  assert.equal(extractCode('```python\nimport cadquery as cq\nsolid = cq.Workplane("XY").bo'), 'import cadquery as cq\nsolid = cq.Workplane("XY").bo\n');
  assert.equal(extractCode(PROGRAM), PROGRAM);
  assert.equal(extractCode('<think>A plate with two holes.</think>\n```python\ny = 3\n```'), 'y = 3\n');
  assert.equal(extractCode("I'm sorry, I can't help with that."), null);
  assert.equal(extractCode(''), null);
  assert.equal(extractCode('```python\n```'), null);
});

test('normaliseEndpoint accepts base URLs, /v1 and full paths; rejects non-http and inline keys', () => {
  assert.equal(normaliseEndpoint('http://127.0.0.1:8000'), 'http://127.0.0.1:8000/v1');
  assert.equal(normaliseEndpoint('http://127.0.0.1:8000/v1/'), 'http://127.0.0.1:8000/v1');
  assert.equal(normaliseEndpoint('http://h:11434/v1/chat/completions'), 'http://h:11434/v1');
  assert.equal(normaliseEndpoint('https://api.example.com/openai/v1'), 'https://api.example.com/openai/v1');
  assert.throws(() => normaliseEndpoint('ftp://h/v1'), /http:\/\/ or https:\/\//);
  assert.throws(() => normaliseEndpoint('localhost 8000'), /not a URL/);
  assert.throws(() => normaliseEndpoint('http://user:sk-secret@h/v1'), /not in the endpoint URL/);
  assert.equal(imageMimeType(imageBytes), 'image/png');
});

test('vLLM: the paper prompt, the image as a data URL, n choices, fenced code extracted, the key sent', async () => {
  const peer = await startPeer(
    answerWith((i) => `\`\`\`python\n${PROGRAM.replace('3)', `${3 + i})`)}\`\`\``),
    { apiKey: 'sk-test-key-123' },
  );
  try {
    const client = new OpenAiClient({ endpoint: peer.url, apiKey: 'sk-test-key-123', ...fast });
    assert.deepEqual(await client.listModels(), [VLLM_MODEL]);
    const result = await client.sample({ image: sample.image, samples: 3, temperature: 0.7, topP: 0.95, maxTokens: 1024, seed: 7 });
    assert.equal(result.model, VLLM_MODEL, 'the model defaults to the first listed');
    assert.equal(result.requests, 1);
    assert.deepEqual(
      result.samples.map((s) => s.code),
      [0, 1, 2].map((i) => PROGRAM.replace('3)', `${3 + i})`)),
    );
    assert.ok(result.samples.every((s) => s.finishReason === 'stop'));
    const [chat] = peer.chatRequests();
    assert.equal(chat.headers.authorization, 'Bearer sk-test-key-123');
    assert.equal(chat.body.model, VLLM_MODEL);
    assert.equal(chat.body.n, 3);
    assert.equal(chat.body.temperature, 0.7);
    assert.equal(chat.body.top_p, 0.95);
    assert.equal(chat.body.max_tokens, 1024);
    assert.equal(chat.body.seed, 7);
    const [message] = chat.body.messages;
    assert.equal(message.role, 'user');
    const image = message.content.find((p: any) => p.type === 'image_url');
    const text = message.content.find((p: any) => p.type === 'text');
    assert.equal(image.image_url.url, `data:image/png;base64,${imageBytes.toString('base64')}`);
    assert.equal(text.text, CADCODER_PROMPT);
    assert.equal(text.text, JSON.parse(readFileSync(`${__dirname}/../fixtures/gencad-test100/samples.jsonl`, 'utf8').split('\n')[0]).text);
  } finally {
    await peer.close();
  }
});

test('a wrong API key: auth error naming the status, the key never appears in the message', async () => {
  const key = 'sk-wrong-key-456';
  // A server that echoes the key back in its error must not get it into our message.
  const echo = await startPeer(() => ({ status: 401, json: vllmError(`invalid key ${key}`, 401, true) }));
  const strict = await startPeer(answerWith(PROGRAM), { apiKey: 'sk-right-key' });
  try {
    const e1 = await rejection(new OpenAiClient({ endpoint: echo.url, model: 'm', apiKey: key, ...fast }).sample({ image: imageBytes }));
    assert.equal(e1.kind, 'auth');
    assert.equal(e1.status, 401);
    assert.doesNotMatch(e1.message, /sk-wrong-key-456/);
    assert.match(e1.message, /invalid key \*\*\*/);
    assert.equal(echo.chatRequests().length, 1, 'a 401 is not retried');
    const e2 = await rejection(new OpenAiClient({ endpoint: strict.url, apiKey: key, ...fast }).listModels());
    assert.match(e2.message, /refused the request \(401, check the API key\): Unauthorized/);
  } finally {
    await echo.close();
    await strict.close();
  }
});

test('Ollama ignores n: the rest come from sequential requests', async () => {
  // One choice per request whatever `n` says, as Ollama's OpenAI endpoint does.
  const peer = await startPeer((_req, i) => ({ json: vllmCompletion([`\`\`\`python\nsolid = cq.Workplane().box(${i + 1}, 1, 1)\n\`\`\``]) }));
  try {
    const client = new OpenAiClient({ endpoint: `http://127.0.0.1:${peer.port}`, model: 'qwen2.5vl', ...fast });
    const result = await client.sample({ image: imageBytes, samples: 3, temperature: 1, seed: 10 });
    assert.equal(result.requests, 3);
    assert.deepEqual(
      result.samples.map((s) => s.code),
      [1, 2, 3].map((w) => `solid = cq.Workplane().box(${w}, 1, 1)\n`),
    );
    assert.deepEqual(
      peer.chatRequests().map((r) => [r.body.n, r.body.seed]),
      [
        [3, 10],
        [2, 11],
        [1, 12],
      ],
      'asks for the remainder, with a fresh seed each time',
    );
  } finally {
    await peer.close();
  }
});

test('retries 429 and 5xx with backoff (Retry-After honoured), then succeeds; 400 is not retried', async () => {
  const peer = await startPeer((req, i) => {
    if (i === 0) return { status: 429, json: vllmError('rate limited', 429, true), headers: { 'retry-after': '0' } };
    if (i === 1) return { status: 503, json: vllmError('overloaded', 503) };
    if (i === 2) return { status: 500, json: vllmError('engine hiccup', 500) };
    return answerWith(`\`\`\`python\n${PROGRAM}\`\`\``)(req, i);
  });
  try {
    const logs: string[] = [];
    const client = new OpenAiClient({ endpoint: peer.url, model: VLLM_MODEL, ...fast, log: (l) => logs.push(l) });
    const result = await client.sample({ image: imageBytes, samples: 2 });
    assert.equal(result.samples.length, 2);
    assert.equal(peer.chatRequests().length, 4);
    assert.equal(logs.length, 3);
    assert.match(logs[1], /retrying in .* \(attempt 3 of 4\): 503: overloaded/);
  } finally {
    await peer.close();
  }

  const bad = await startPeer(() => ({ status: 400, json: vllmError("This model's maximum context length is 32768 tokens.", 400) }));
  try {
    const e = await rejection(new OpenAiClient({ endpoint: bad.url, model: VLLM_MODEL, ...fast }).sample({ image: imageBytes }));
    assert.equal(e.kind, 'http');
    assert.equal(e.status, 400);
    assert.match(e.message, /chat\/completions answered 400: This model's maximum context length is 32768 tokens\./);
    assert.equal(bad.chatRequests().length, 1);
  } finally {
    await bad.close();
  }
});

test('5xx until the retries run out: the last error, with the attempt count', async () => {
  const peer = await startPeer(() => ({ status: 502, json: vllmError('bad gateway', 502, true) }));
  try {
    const e = await rejection(new OpenAiClient({ endpoint: peer.url, model: 'm', ...fast, retries: 2 }).sample({ image: imageBytes }));
    assert.match(e.message, /answered 502: bad gateway \(after 3 attempts\)/);
    assert.equal(peer.chatRequests().length, 3);
  } finally {
    await peer.close();
  }
});

test('a reset connection (ECONNRESET) is retried', async () => {
  const peer = await startPeer((req, i) => (i < 2 ? { reset: true } : answerWith(PROGRAM)(req, i)));
  try {
    const result = await new OpenAiClient({ endpoint: peer.url, model: 'm', ...fast }).sample({ image: imageBytes });
    assert.equal(result.samples[0].code, PROGRAM);
    assert.equal(peer.chatRequests().length, 3);
  } finally {
    await peer.close();
  }
});

test('an endpoint that is down: "cannot reach …: connection refused", at once, not retried', async () => {
  const port = await closedPort();
  const started = Date.now();
  const e = await rejection(
    new OpenAiClient({ endpoint: `http://127.0.0.1:${port}/v1`, model: 'm', retries: 3, backoffMs: 1000 }).sample({ image: imageBytes }),
  );
  assert.equal(e.kind, 'unreachable');
  assert.match(e.message, new RegExp(`^cannot reach http://127\\.0\\.0\\.1:${port}/v1/chat/completions: connection refused`));
  assert.ok(Date.now() - started < 900, 'a refused connection does not wait out backoffs');
});

test('an answer without code is a clear error quoting the answer; mixed answers keep the code ones', async () => {
  const prose = await startPeer(answerWith('I cannot determine the dimensions from this image.'));
  try {
    const e = await rejection(new OpenAiClient({ endpoint: prose.url, model: VLLM_MODEL, ...fast }).sample({ image: imageBytes, samples: 2 }));
    assert.equal(e.kind, 'no-code');
    assert.match(e.message, /answered without code: "I cannot determine the dimensions from this image\."/);
  } finally {
    await prose.close();
  }
  const mixed = await startPeer(answerWith((i) => (i === 0 ? 'No idea.' : `\`\`\`python\n${PROGRAM}\`\`\``)));
  try {
    const result = await new OpenAiClient({ endpoint: mixed.url, model: VLLM_MODEL, ...fast }).sample({ image: imageBytes, samples: 2 });
    assert.deepEqual(
      result.samples.map((s) => s.code),
      [null, PROGRAM],
    );
    assert.equal(result.samples[0].text, 'No idea.');
  } finally {
    await mixed.close();
  }
});

test('timeout: a silent server fails after timeoutMs with a clear message', async () => {
  const peer = await startPeer(() => ({ hang: true }));
  try {
    const started = Date.now();
    const e = await rejection(new OpenAiClient({ endpoint: peer.url, model: 'm', timeoutMs: 300, ...fast }).sample({ image: imageBytes }));
    assert.equal(e.kind, 'timeout');
    assert.match(e.message, /chat\/completions gave no answer within 300 ms/);
    assert.ok(Date.now() - started < 3000);
  } finally {
    await peer.close();
  }
});

test('cancellation: aborting stops a pending request and a backoff wait', async () => {
  const silent = await startPeer(() => ({ hang: true }));
  const failing = await startPeer(() => ({ status: 503, json: vllmError('overloaded', 503) }));
  try {
    const abort = new AbortController();
    const pending = new OpenAiClient({ endpoint: silent.url, model: 'm', ...fast }).sample({ image: imageBytes, signal: abort.signal });
    setTimeout(() => abort.abort(), 100);
    const started = Date.now();
    assert.equal((await rejection(pending)).kind, 'cancelled');
    assert.ok(Date.now() - started < 2000);

    const abort2 = new AbortController();
    const backingOff = new OpenAiClient({ endpoint: failing.url, model: 'm', retries: 5, backoffMs: 10_000 }).sample({
      image: imageBytes,
      signal: abort2.signal,
    });
    setTimeout(() => abort2.abort(), 200);
    const started2 = Date.now();
    assert.equal((await rejection(backingOff)).kind, 'cancelled');
    assert.ok(Date.now() - started2 < 2000, 'the backoff wait ends on abort');
    assert.equal(failing.chatRequests().length, 1);

    const already = AbortSignal.abort();
    assert.equal((await rejection(new OpenAiClient({ endpoint: failing.url, model: 'm' }).sample({ image: imageBytes, signal: already }))).kind, 'cancelled');
  } finally {
    await silent.close();
    await failing.close();
  }
});

test('bad input: a missing image file and a non-image are named', async () => {
  const client = new OpenAiClient({ endpoint: 'http://127.0.0.1:1/v1', model: 'm' });
  assert.match((await rejection(client.sample({ image: '/nonexistent/part.png' }))).message, /\/nonexistent\/part\.png: no such file/);
  assert.match((await rejection(client.sample({ image: new TextEncoder().encode('not an image at all') }))).message, /not a PNG, JPEG, WebP, GIF or BMP image/);
  assert.match((await rejection(client.sample({ image: imageBytes, samples: 0 }))).message, /samples must be a positive integer/);
});
