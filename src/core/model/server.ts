/**
 * `gift serve`: an OpenAI-compatible HTTP server (GET /v1/models, POST /v1/chat/completions with
 * an image and `n`) over an image→CadQuery model, so one GPU node or teammate's machine can serve
 * a trained model to every editor. Loopback only unless a token is set; with a token every request
 * must carry `Authorization: Bearer <token>`. Errors use OpenAI's shape:
 *   {"error": {"message", "type", "param", "code"}}.
 */
import { randomUUID, timingSafeEqual, createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CadModel, type LoadOptions } from './onnx';
import { imageMimeType } from './openai';
import { UserError, errorMessage } from '../errors';

/** One sampled program. */
export interface ServedSample {
  code: string;
  /** 'stop': the model ended the program; 'length': it hit the token limit. */
  finishReason: 'stop' | 'length';
  tokens: number;
}

export interface ServedGenerateOptions {
  samples: number;
  temperature: number;
  topP?: number;
  maxTokens?: number;
  seed?: number;
  signal: AbortSignal;
}

/** What the server serves: anything that turns an image into programs. */
export interface ServedModel {
  readonly id: string;
  generate(image: Uint8Array, options: ServedGenerateOptions): Promise<ServedSample[]>;
  close?(): Promise<void>;
}

/** A bundled/trained ONNX model (onnx.ts), run in this process (onnxruntime uses its own threads). */
export async function loadOnnxServedModel(dir: string, options: LoadOptions & { id?: string } = {}): Promise<ServedModel> {
  const model = await CadModel.load(dir, options);
  return {
    id: options.id ?? model.card.name,
    async generate(image, o) {
      // Greedy decoding yields one program; like vLLM, answer n identical choices.
      const { programs } = await model.generate(image, {
        samples: o.samples,
        temperature: o.temperature,
        topP: o.topP,
        maxTokens: o.maxTokens,
        seed: o.seed,
        signal: o.signal,
      });
      const samples = programs.map(
        (p): ServedSample => ({ code: p.code, finishReason: p.stop === 'eos' ? 'stop' : 'length', tokens: p.tokens.length + (p.stop === 'eos' ? 1 : 0) }),
      );
      while (samples.length < o.samples && samples.length > 0) samples.push(samples[samples.length % programs.length]);
      return samples;
    },
    close: () => model.dispose(),
  };
}

export interface ServerOptions {
  model: ServedModel;
  /** Default 127.0.0.1. Anything but loopback requires `token`. */
  host?: string;
  /** Default 8000; 0 picks a free port. */
  port?: number;
  /** Required Bearer token; required when not bound to loopback. */
  token?: string;
  /** Largest decoded image (default 20 MB). */
  maxImageBytes?: number;
  /** Largest `n` (default 64). */
  maxSamples?: number;
  /** One line per request (method, path, status, ms); never the token or the image. */
  log?: (line: string) => void;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:8000/v1 */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export class ServerConfigError extends UserError {}

const LOOPBACK_HOSTS = new Set(['localhost', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase()) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || /^::ffff:127\./i.test(host);
}

/** Refuses configurations that would expose the model without a token. */
export function checkServerConfig(options: { host?: string; token?: string }): void {
  const host = options.host ?? '127.0.0.1';
  if (options.token !== undefined && options.token.length < 8) throw new ServerConfigError('the token must be at least 8 characters');
  if (!isLoopbackHost(host) && !options.token) {
    throw new ServerConfigError(
      `refusing to listen on ${host} without a token: anyone who can reach it could use the model. Pass --token (or GIFT_SERVE_TOKEN), or bind 127.0.0.1`,
    );
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: http.ServerResponse, e: HttpError): void {
  const headers: Record<string, string> = e.status === 401 ? { 'www-authenticate': 'Bearer' } : {};
  sendJson(res, e.status, { error: { message: e.message, type: e.type, param: e.param, code: e.code } }, headers);
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(
        new HttpError(
          413,
          `request body of ${declared} bytes is over the ${limit}-byte limit (images may be at most ${Math.floor((limit * 3) / 4 / 1e6)} MB)`,
          'invalid_request_error',
          'request_too_large',
        ),
      );
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpError(413, `request body is over the ${limit}-byte limit`, 'invalid_request_error', 'request_too_large'));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!match) return false;
  // Hash both so the comparison is constant-time whatever the lengths.
  const a = createHash('sha256').update(match[1].trim()).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

interface ParsedChatRequest {
  image: Uint8Array;
  samples: number;
  temperature: number;
  topP?: number;
  maxTokens?: number;
  seed?: number;
}

function numberParam(body: Record<string, unknown>, name: string, min: number, max: number, integer = false): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new HttpError(
      400,
      `'${name}' must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(value)}`,
      'invalid_request_error',
      'invalid_value',
      name,
    );
  }
  return value;
}

/** The one image of the last user message, as bytes; only data: URLs (the server fetches nothing). */
function imageOf(messages: unknown, maxImageBytes: number): Uint8Array {
  if (!Array.isArray(messages) || messages.length === 0)
    throw new HttpError(400, "'messages' must be a non-empty list", 'invalid_request_error', 'invalid_value', 'messages');
  const user = [...messages].reverse().find((m) => m && typeof m === 'object' && (m as { role?: unknown }).role === 'user') as
    | { content?: unknown }
    | undefined;
  if (!user) throw new HttpError(400, "'messages' has no user message", 'invalid_request_error', 'invalid_value', 'messages');
  const parts = Array.isArray(user.content) ? user.content : [];
  const urls: string[] = [];
  for (const part of parts) {
    if (part?.type !== 'image_url' && part?.type !== 'input_image') continue;
    const ref = part.image_url ?? part.url;
    const url = typeof ref === 'string' ? ref : ref?.url;
    if (typeof url !== 'string') throw new HttpError(400, 'an image_url part has no url', 'invalid_request_error', 'invalid_value', 'messages');
    urls.push(url);
  }
  if (urls.length === 0)
    throw new HttpError(
      400,
      'the user message has no image: send one image_url part with a data: URL (data:image/png;base64,…)',
      'invalid_request_error',
      'invalid_value',
      'messages',
    );
  if (urls.length > 1)
    throw new HttpError(400, `the user message has ${urls.length} images; this model takes exactly one`, 'invalid_request_error', 'invalid_value', 'messages');
  const match = /^data:([\w.+-]+\/[\w.+-]+)?(;[^,]*)?,/.exec(urls[0]);
  if (!match)
    throw new HttpError(400, 'only data: URLs are accepted for images (this server does not fetch URLs)', 'invalid_request_error', 'invalid_value', 'messages');
  if (!/;base64/i.test(match[2] ?? ''))
    throw new HttpError(400, 'the image data: URL must be base64-encoded', 'invalid_request_error', 'invalid_value', 'messages');
  const base64 = urls[0].slice(match[0].length);
  if (base64.length > Math.ceil((maxImageBytes * 4) / 3) + 4) {
    throw new HttpError(413, `the image is over the ${maxImageBytes / 1e6} MB limit`, 'invalid_request_error', 'request_too_large', 'messages');
  }
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length > maxImageBytes)
    throw new HttpError(413, `the image is over the ${maxImageBytes / 1e6} MB limit`, 'invalid_request_error', 'request_too_large', 'messages');
  if (!imageMimeType(bytes))
    throw new HttpError(400, 'the image is not a PNG, JPEG, WebP, GIF or BMP file', 'invalid_request_error', 'invalid_value', 'messages');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function parseChatRequest(raw: Buffer, modelId: string, maxImageBytes: number, maxSamples: number): ParsedChatRequest {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `the request body is not valid JSON: ${errorMessage(e)}`);
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'the request body must be a JSON object');
  if (body.model !== undefined && body.model !== modelId) {
    throw new HttpError(
      404,
      `The model '${String(body.model)}' does not exist; this server serves '${modelId}'`,
      'invalid_request_error',
      'model_not_found',
      'model',
    );
  }
  if (body.stream === true) throw new HttpError(400, "'stream' is not supported by this server", 'invalid_request_error', 'unsupported_value', 'stream');
  const samples = numberParam(body, 'n', 1, maxSamples, true) ?? 1;
  // OpenAI's default temperature is 1.
  const temperature = numberParam(body, 'temperature', 0, 2) ?? 1;
  const topP = numberParam(body, 'top_p', 0, 1);
  const maxTokens = numberParam(body, 'max_completion_tokens', 1, 1e6, true) ?? numberParam(body, 'max_tokens', 1, 1e6, true);
  const seed = numberParam(body, 'seed', -(2 ** 53), 2 ** 53, true);
  return { image: imageOf(body.messages, maxImageBytes), samples, temperature, topP: topP === 0 ? undefined : topP, maxTokens, seed };
}

/** Starts listening; resolves once bound. Throws ServerConfigError for an unsafe configuration. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  checkServerConfig(options);
  const host = options.host ?? '127.0.0.1';
  const maxImageBytes = options.maxImageBytes ?? 20 * 1024 * 1024;
  const maxSamples = options.maxSamples ?? 64;
  // base64 grows the image by 4/3; leave room for the JSON around it.
  const maxBodyBytes = Math.ceil((maxImageBytes * 4) / 3) + 256 * 1024;
  const model = options.model;
  const created = Math.floor(Date.now() / 1000);
  // One generation at a time: the model already uses every core it is given.
  let queue: Promise<unknown> = Promise.resolve();

  const modelObject = { id: model.id, object: 'model', created, owned_by: 'gift' };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<number> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = url.pathname.replace(/\/+$/, '') || '/';
    if (route === '/health' && req.method === 'GET') {
      sendJson(res, 200, { status: 'ok' });
      return 200;
    }
    if (options.token && !tokenMatches(req.headers.authorization, options.token)) {
      throw new HttpError(
        401,
        req.headers.authorization ? 'Incorrect API key provided' : 'Missing API key: send Authorization: Bearer <token>',
        'invalid_request_error',
        'invalid_api_key',
      );
    }
    if (route === '/v1/models' || route === '/models') {
      if (req.method !== 'GET') throw new HttpError(405, `${req.method} is not allowed on ${route}: use GET`);
      sendJson(res, 200, { object: 'list', data: [modelObject] });
      return 200;
    }
    const modelRoute = /^\/(?:v1\/)?models\/(.+)$/.exec(route);
    if (modelRoute) {
      if (decodeURIComponent(modelRoute[1]) !== model.id)
        throw new HttpError(404, `The model '${decodeURIComponent(modelRoute[1])}' does not exist`, 'invalid_request_error', 'model_not_found');
      sendJson(res, 200, modelObject);
      return 200;
    }
    if (route === '/v1/chat/completions' || route === '/chat/completions') {
      if (req.method !== 'POST') throw new HttpError(405, `${req.method} is not allowed on ${route}: use POST`);
      const request = parseChatRequest(await readBody(req, maxBodyBytes), model.id, maxImageBytes, maxSamples);
      // Stop generating when the client goes away.
      const abort = new AbortController();
      const onClose = () => {
        if (!res.writableFinished) abort.abort();
      };
      res.on('close', onClose);
      const run = queue.then(() => {
        if (abort.signal.aborted) throw new Error('client disconnected');
        return model.generate(request.image, { ...request, signal: abort.signal });
      });
      queue = run.catch(() => undefined);
      let samples: ServedSample[];
      try {
        samples = await run;
      } catch (e) {
        if (abort.signal.aborted) return 499;
        throw new HttpError(500, `generation failed: ${e instanceof Error ? e.message : String(e)}`, 'server_error');
      } finally {
        res.off('close', onClose);
      }
      const completionTokens = samples.reduce((sum, s) => sum + s.tokens, 0);
      sendJson(res, 200, {
        id: `chatcmpl-${randomUUID().replace(/-/g, '')}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: model.id,
        choices: samples.map((s, index) => ({ index, message: { role: 'assistant', content: s.code }, logprobs: null, finish_reason: s.finishReason })),
        usage: { prompt_tokens: 0, completion_tokens: completionTokens, total_tokens: completionTokens },
      });
      return 200;
    }
    throw new HttpError(
      404,
      `no route ${req.method} ${route}: this server has GET /v1/models and POST /v1/chat/completions`,
      'invalid_request_error',
      'not_found',
    );
  }

  const server = http.createServer((req, res) => {
    const started = Date.now();
    handle(req, res).then(
      (status) => options.log?.(`${req.method} ${req.url} ${status} ${Date.now() - started} ms`),
      (e) => {
        const error = e instanceof HttpError ? e : new HttpError(500, `internal error: ${e instanceof Error ? e.message : String(e)}`, 'server_error');
        if (!res.headersSent && !res.destroyed) sendError(res, error);
        // After a rejected oversized body, stop reading the rest of it.
        if (error.status === 413) res.on('finish', () => req.destroy());
        options.log?.(`${req.method} ${req.url} ${error.status} ${Date.now() - started} ms: ${error.message}`);
      },
    );
  });
  server.requestTimeout = 0; // generation can take minutes
  server.headersTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new ServerConfigError(
          e.code === 'EADDRINUSE' ? `port ${options.port} on ${host} is already in use` : `cannot listen on ${host}:${options.port}: ${e.message}`,
        ),
      ),
    );
    server.listen(options.port ?? 8000, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}/v1`,
    host: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
