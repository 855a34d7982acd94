import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CadModel } from '../../src/core/model/onnx';
import { OpenAiClient, OpenAiError } from '../../src/core/model/openai';
import {
  checkServerConfig,
  isLoopbackHost,
  loadOnnxServedModel,
  ServerConfigError,
  startServer,
  type RunningServer,
  type ServedModel,
} from '../../src/core/model/server';
import { servedModel, servedModelMissing, type ServedFixture } from './server-fixture';

const skip = servedModelMissing();
const repoRoot = path.resolve(__dirname, '../..');

function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'generate-cli.ts'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, GIFT_SERVE_TOKEN: '', ...env },
    timeout: 60_000,
  });
}

test('loopback hosts; a non-loopback bind without a token is refused', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) assert.ok(isLoopbackHost(host), host);
  for (const host of ['0.0.0.0', '::', '192.168.1.20', 'example.org']) assert.ok(!isLoopbackHost(host), host);
  assert.throws(
    () => checkServerConfig({ host: '0.0.0.0' }),
    (e: Error) => e instanceof ServerConfigError && /refusing to listen on 0\.0\.0\.0 without a token/.test(e.message),
  );
  assert.throws(() => checkServerConfig({ host: '192.168.1.20', token: 'short' }), /at least 8 characters/);
  assert.doesNotThrow(() => checkServerConfig({ host: '0.0.0.0', token: 'a-long-enough-token' }));
  assert.doesNotThrow(() => checkServerConfig({}));
});

test('gift serve --host 0.0.0.0 without a token exits 2 before loading anything', () => {
  const run = runCli(['serve', '--host', '0.0.0.0', '--model', '/nonexistent']);
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /refusing to listen on 0\.0\.0\.0 without a token/);
});

let fixture: ServedFixture;
let model: ServedModel;
let open: RunningServer;
let guarded: RunningServer;
const TOKEN = 'team-token-0123456789';

before(async () => {
  if (skip) return;
  fixture = await servedModel();
  model = await loadOnnxServedModel(fixture.modelDir);
  open = await startServer({ model, port: 0 });
  guarded = await startServer({ model, host: '0.0.0.0', port: 0, token: TOKEN });
});

after(async () => {
  await open?.close();
  await guarded?.close();
  await model?.close?.();
});

const guardedUrl = () => `http://127.0.0.1:${guarded.port}/v1`;

function chatBody(image: Buffer | Uint8Array, extra: Record<string, unknown> = {}) {
  return {
    model: model.id,
    messages: [
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: `data:image/png;base64,${Buffer.from(image).toString('base64')}` } },
          { type: 'text', text: 'Generate the CADQuery code needed to create the CAD for the provided image. Just the code, no other words.' },
        ],
      },
    ],
    ...extra,
  };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

test('with a token: no or a wrong Authorization is 401 in OpenAI error shape; the right one works', { skip }, async () => {
  assert.equal(guarded.host, '0.0.0.0');
  const none = await fetch(`${guardedUrl()}/models`);
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  const noneBody = (await none.json()) as any;
  assert.equal(noneBody.error.code, 'invalid_api_key');
  assert.match(noneBody.error.message, /Missing API key/);
  const wrong = await post(guardedUrl(), chatBody(readFileSync(fixture.images[0].file)), { authorization: 'Bearer not-the-token' });
  assert.equal(wrong.status, 401);
  assert.deepEqual(Object.keys(wrong.body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(wrong.body.error.type, 'invalid_request_error');

  // Our own client: a wrong key is an auth error, the right one lists the model.
  const e = await new OpenAiClient({ endpoint: guardedUrl(), apiKey: 'not-the-token', retries: 0 }).listModels().catch((x) => x);
  assert.ok(e instanceof OpenAiError && e.kind === 'auth' && e.status === 401, String(e));
  assert.deepEqual(await new OpenAiClient({ endpoint: guardedUrl(), apiKey: TOKEN }).listModels(), [model.id]);
  // /health answers without the token (for load balancers), and says nothing else.
  assert.deepEqual(await (await fetch(`http://127.0.0.1:${guarded.port}/health`)).json(), { status: 'ok' });
});

test('the OpenAI client against gift serve: greedy n choices equal the model run directly', { skip }, async () => {
  const image = fixture.images[3];
  const direct = await CadModel.load(fixture.modelDir);
  const expected = (await direct.generate(image.file)).programs[0].code;
  await direct.dispose();
  assert.match(expected, /^solid = cq\.Workplane\("XY"\)\.box\(\d+, \d+, 1\)\n$/, 'the tiny model writes a box program');

  const client = new OpenAiClient({ endpoint: open.url });
  assert.deepEqual(await client.listModels(), [model.id]);
  const result = await client.sample({ image: image.file, samples: 3, temperature: 0 });
  assert.equal(result.model, model.id);
  assert.equal(result.requests, 1);
  assert.deepEqual(
    result.samples.map((s) => [s.code, s.finishReason]),
    [0, 1, 2].map(() => [expected, 'stop']),
  );
});

test('chat completions answer in OpenAI shape: n sampled choices, usage, finish reasons', { skip }, async () => {
  const { status, body } = await post(open.url, chatBody(readFileSync(fixture.images[0].file), { n: 3, temperature: 1, seed: 5, max_tokens: 20 }));
  assert.equal(status, 200);
  assert.equal(body.object, 'chat.completion');
  assert.match(body.id, /^chatcmpl-/);
  assert.equal(body.model, model.id);
  assert.equal(body.choices.length, 3);
  for (const [i, choice] of body.choices.entries()) {
    assert.equal(choice.index, i);
    assert.equal(choice.message.role, 'assistant');
    assert.equal(typeof choice.message.content, 'string');
    assert.ok(['stop', 'length'].includes(choice.finish_reason));
  }
  assert.ok(body.usage.completion_tokens > 0 && body.usage.completion_tokens <= 60, `${body.usage.completion_tokens} tokens for 3×max_tokens 20`);
  assert.equal(body.usage.total_tokens, body.usage.completion_tokens);
});

test('bad requests get OpenAI-shaped 4xx errors that name the problem', { skip }, async () => {
  const png = readFileSync(fixture.images[0].file);
  const cases: [unknown, number, RegExp][] = [
    ['{not json', 400, /not valid JSON/],
    [{ messages: [{ role: 'user', content: 'just text' }] }, 400, /has no image/],
    [chatBody(png, { model: 'gpt-4o' }), 404, /The model 'gpt-4o' does not exist/],
    [chatBody(png, { stream: true }), 400, /'stream' is not supported/],
    [chatBody(png, { n: 0 }), 400, /'n' must be an integer from 1 to 64/],
    [chatBody(png, { temperature: 'hot' }), 400, /'temperature' must be a number/],
    [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/part.png' } }] }] }, 400, /only data: URLs/],
    [chatBody(Buffer.from('definitely not a picture, just text bytes')), 400, /not a PNG, JPEG/],
    [{ messages: [] }, 400, /non-empty list/],
  ];
  for (const [body, status, message] of cases) {
    const answer = await post(open.url, body);
    assert.equal(answer.status, status, JSON.stringify(answer.body));
    assert.match(answer.body.error.message, message);
    assert.equal(typeof answer.body.error.type, 'string');
  }
  const wrongMethod = await fetch(`${open.url}/chat/completions`);
  assert.equal(wrongMethod.status, 405);
  const unknown = await fetch(`${open.url}/embeddings`, { method: 'POST', body: '{}' });
  assert.equal(unknown.status, 404);
  assert.match(((await unknown.json()) as any).error.message, /GET \/v1\/models and POST \/v1\/chat\/completions/);
});

test('an image over 20 MB is refused with 413 (and the server keeps serving)', { skip }, async () => {
  // A PNG signature followed by 21 MB: the size is checked before the bytes are decoded.
  const big = Buffer.alloc(21 * 1024 * 1024);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(big);
  const answer = await post(open.url, chatBody(big));
  assert.equal(answer.status, 413);
  assert.equal(answer.body.error.code, 'request_too_large');
  const models = await fetch(`${open.url}/models`);
  assert.equal(models.status, 200);
});

test('a client that goes away is not served: its queued generation is dropped (499 in the log)', { skip }, async () => {
  const logs: string[] = [];
  const server = await startServer({ model, port: 0, log: (line) => logs.push(line) });
  try {
    const png = readFileSync(fixture.images[1].file);
    // A long generation holds the model while the second request waits in the queue.
    const long = post(server.url, chatBody(png, { n: 64, temperature: 2 }));
    const abort = new AbortController();
    const dropped = fetch(`${server.url}/chat/completions`, { method: 'POST', body: JSON.stringify(chatBody(png)), signal: abort.signal }).catch(
      (e: Error) => e.name,
    );
    setTimeout(() => abort.abort(), 20);
    assert.equal(await dropped, 'AbortError');
    assert.equal((await long).status, 200);
    const next = await post(server.url, chatBody(png, { temperature: 0 }));
    assert.equal(next.status, 200);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(
      logs.some((l) => / 499 /.test(l)),
      logs.join('\n'),
    );
    assert.equal(logs.filter((l) => / 200 /.test(l)).length, 2);
  } finally {
    await server.close();
  }
});
