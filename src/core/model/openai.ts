/**
 * Image → CadQuery programs from any OpenAI-compatible chat-completions endpoint with image input:
 * vLLM serving CADCODER/Qwen2.5-VL-7B-CadCoder, Ollama, a hosted API, or our own `gift serve`.
 * Uses Node 20's fetch. The API key is only ever put in the Authorization header: it never appears
 * in errors or logs (it is scrubbed from anything the server echoes back, too).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError, errorMessage } from '../errors';
import { IMAGE_TO_CAD_PROMPT } from './prompt';

/** The prompt sent with each image (model/prompt.ts; the chat export trains with the same one). */
export { IMAGE_TO_CAD_PROMPT as CADCODER_PROMPT } from './prompt';

export interface OpenAiClientOptions {
  /** Base URL: `http://host:8000/v1`, `http://host:8000` (→ /v1) or the full …/chat/completions URL. */
  endpoint: string;
  /** Model id; when absent the first one `/models` lists is used. */
  model?: string;
  /** Sent as `Authorization: Bearer …`; never logged. */
  apiKey?: string;
  /** Per HTTP request, in ms (default 180 000: K samples of a 7B model take a while). */
  timeoutMs?: number;
  /** Retries after a 429, a 5xx or a dropped connection (default 3). 4xx other than 429 are not retried. */
  retries?: number;
  /** First backoff in ms, doubled each retry, with ±25% jitter (default 500). */
  backoffMs?: number;
  /** Longest single wait, also capping a server's Retry-After (default 30 000). */
  maxBackoffMs?: number;
  /** Progress lines ("retrying in 1.0 s: 503 …"); never contain the key. */
  log?: (line: string) => void;
}

export interface ChatSampleRequest {
  /** Image file path, or its encoded bytes (PNG, JPEG, WebP, GIF, BMP). */
  image: string | Uint8Array;
  /** Choices wanted (the request's `n`). Default 1. */
  samples?: number;
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  seed?: number;
  /** Default: CADCODER_PROMPT. */
  prompt?: string;
  signal?: AbortSignal;
}

export interface ChatSample {
  /** The program, from the fenced block or the bare answer; null when the answer held no code. */
  code: string | null;
  /** The message content as received. */
  text: string;
  finishReason?: string;
}

export interface ChatSampleResult {
  model: string;
  samples: ChatSample[];
  /** HTTP requests made for the samples (more than one when the server ignores `n`, e.g. Ollama). */
  requests: number;
}

export type OpenAiErrorKind = 'unreachable' | 'timeout' | 'cancelled' | 'http' | 'auth' | 'bad-response' | 'no-code' | 'bad-request';

export class OpenAiError extends UserError {
  constructor(
    readonly kind: OpenAiErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** `http://h:8000`, `http://h:8000/v1/`, `http://h:8000/v1/chat/completions` → `http://h:8000/v1`. */
export function normaliseEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint.trim());
  } catch {
    throw new OpenAiError('bad-request', `endpoint '${endpoint}' is not a URL (expected e.g. http://127.0.0.1:8000/v1)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OpenAiError('bad-request', `endpoint '${endpoint}' must be an http:// or https:// URL`);
  }
  if (url.username || url.password) throw new OpenAiError('bad-request', 'put the API key in GIFT_API_KEY / the key setting, not in the endpoint URL');
  let p = url.pathname.replace(/\/+$/, '');
  p = p.replace(/\/(chat\/completions|completions|models)$/, '');
  if (p === '') p = '/v1';
  return `${url.origin}${p}`;
}

/**
 * The program in a model's answer: the first ```python (or ```py / ```) block — an unclosed one
 * (the answer was cut at max_tokens) runs to the end — or the bare answer when it reads as
 * CadQuery. Reasoning (<think>…</think>) is skipped. Null for prose without code.
 */
export function extractCode(text: string): string | null {
  const answer = text.replace(/<think>[\s\S]*?(<\/think>|$)/g, '').trim();
  if (!answer) return null;
  const fence = /(^|\n)[ \t]*(```|~~~)[ \t]*([\w+-]*)[^\n]*\n([\s\S]*?)((?<=\n)[ \t]*\2[ \t]*(?=\n|$)|$)/g;
  const blocks: { lang: string; body: string }[] = [];
  for (let m = fence.exec(answer); m; m = fence.exec(answer)) blocks.push({ lang: m[3].toLowerCase(), body: m[4] });
  if (blocks.length > 0) {
    const python = blocks.find((b) => b.lang === 'python' || b.lang === 'py' || b.lang === 'python3');
    const chosen = (python ?? blocks.find((b) => b.lang === '') ?? blocks[0]).body.replace(/\s+$/, '');
    return chosen.trim() ? `${chosen}\n` : null;
  }
  return looksLikeCadQuery(answer) ? `${answer}\n` : null;
}

function looksLikeCadQuery(text: string): boolean {
  return /\bimport\s+cadquery\b|\bcq\.\w|\bWorkplane\s*\(/.test(text);
}

const IMAGE_TYPES: [string, (b: Uint8Array) => boolean][] = [
  ['image/png', (b) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47],
  ['image/jpeg', (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ['image/webp', (b) => b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50],
  ['image/gif', (b) => b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46],
  ['image/bmp', (b) => b[0] === 0x42 && b[1] === 0x4d],
];

/** The MIME type of encoded image bytes, from their signature; undefined when not an image we know. */
export function imageMimeType(bytes: Uint8Array): string | undefined {
  return bytes.length >= 12 ? IMAGE_TYPES.find(([, is]) => is(bytes))?.[0] : undefined;
}

export function imageDataUrl(bytes: Uint8Array, name = 'image'): string {
  const mime = imageMimeType(bytes);
  if (!mime) throw new OpenAiError('bad-request', `${name}: not a PNG, JPEG, WebP, GIF or BMP image`);
  return `data:${mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}

async function imageBytes(image: string | Uint8Array): Promise<{ bytes: Uint8Array; name: string }> {
  if (typeof image !== 'string') return { bytes: image, name: 'image' };
  try {
    return { bytes: await readFile(image), name: path.basename(image) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OpenAiError('bad-request', `${image}: ${code === 'ENOENT' ? 'no such file' : errorMessage(e)}`);
  }
}

/** Connection failures worth another try; refused / unknown host mean the endpoint is down or wrong. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function networkCode(e: unknown): string | undefined {
  const cause = (e as { cause?: { code?: string; errors?: { code?: string }[] } })?.cause;
  return cause?.code ?? cause?.errors?.find((x) => x.code)?.code;
}

function describeNetworkError(url: string, e: unknown): string {
  const code = networkCode(e);
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connection refused (is the server running on that port?)',
    ENOTFOUND: 'no such host',
    EAI_AGAIN: 'the host name could not be resolved (DNS)',
    ECONNRESET: 'the connection was reset',
    UND_ERR_SOCKET: 'the server closed the connection',
    ETIMEDOUT: 'the connection timed out',
    UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    CERT_HAS_EXPIRED: 'its TLS certificate has expired',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed',
  };
  const cause = (e as { cause?: { message?: string } })?.cause?.message;
  const reason = (code && reasons[code]) ?? cause ?? (e instanceof Error ? e.message : String(e));
  return `cannot reach ${url}: ${reason}`;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

const cancelled = () => new OpenAiError('cancelled', 'cancelled');

/** The message of an OpenAI-shaped error body ({error:{message}}), vLLM's older {message}, or the text. */
function errorBodyMessage(body: string): string {
  try {
    const json = JSON.parse(body) as { error?: { message?: string } | string; message?: string; detail?: unknown };
    if (typeof json.error === 'object' && json.error?.message) return json.error.message;
    if (typeof json.error === 'string') return json.error;
    if (typeof json.message === 'string') return json.message;
    if (json.detail !== undefined) return typeof json.detail === 'string' ? json.detail : JSON.stringify(json.detail);
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.trim().slice(0, 500) || '(empty body)';
}

export class OpenAiClient {
  readonly baseUrl: string;
  private resolvedModel?: string;

  constructor(private readonly options: OpenAiClientOptions) {
    this.baseUrl = normaliseEndpoint(options.endpoint);
    this.resolvedModel = options.model;
  }

  /** Model ids the endpoint serves (GET /models). */
  async listModels(signal?: AbortSignal): Promise<string[]> {
    const body = (await this.request('GET', '/models', undefined, signal)) as { data?: { id?: unknown }[] };
    if (!Array.isArray(body?.data)) throw new OpenAiError('bad-response', `${this.baseUrl}/models: the answer has no 'data' list`);
    return body.data.map((m) => m.id).filter((id): id is string => typeof id === 'string');
  }

  /** The model to ask: the configured one, else the first the endpoint lists. */
  async model(signal?: AbortSignal): Promise<string> {
    if (this.resolvedModel) return this.resolvedModel;
    const models = await this.listModels(signal);
    if (models.length === 0) throw new OpenAiError('bad-response', `${this.baseUrl}/models lists no model: name one explicitly`);
    this.resolvedModel = models[0];
    return models[0];
  }

  /**
   * K programs for one image. Asks for `n` choices; a server that returns fewer (Ollama ignores `n`)
   * is asked again, one request at a time, for the rest. Throws 'no-code' when no answer held code.
   */
  async sample(request: ChatSampleRequest): Promise<ChatSampleResult> {
    const wanted = request.samples ?? 1;
    if (!Number.isInteger(wanted) || wanted < 1) throw new OpenAiError('bad-request', `samples must be a positive integer, got ${wanted}`);
    const { bytes, name } = await imageBytes(request.image);
    const url = imageDataUrl(bytes, name);
    const model = await this.model(request.signal);
    const samples: ChatSample[] = [];
    let requests = 0;
    // Bounded: a server that keeps answering with no choices must not loop forever.
    while (samples.length < wanted && requests < wanted + 2) {
      const n = wanted - samples.length;
      const body: Record<string, unknown> = {
        model,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url } },
              { type: 'text', text: request.prompt ?? IMAGE_TO_CAD_PROMPT },
            ],
          },
        ],
        n,
      };
      if (request.temperature !== undefined) body.temperature = request.temperature;
      if (request.topP !== undefined) body.top_p = request.topP;
      if (request.maxTokens !== undefined) body.max_tokens = request.maxTokens;
      // Distinct seeds per follow-up request, so servers that ignore `n` still give different samples.
      if (request.seed !== undefined) body.seed = request.seed + requests;
      requests++;
      const answer = await this.request('POST', '/chat/completions', body, request.signal);
      const choices = (answer as { choices?: unknown })?.choices;
      if (!Array.isArray(choices)) throw new OpenAiError('bad-response', `${this.baseUrl}/chat/completions: the answer has no 'choices' list`);
      for (const choice of choices.slice(0, n)) {
        const text = messageText((choice as { message?: { content?: unknown } })?.message?.content);
        samples.push({ code: extractCode(text), text, finishReason: (choice as { finish_reason?: string }).finish_reason ?? undefined });
      }
    }
    if (samples.length === 0) throw new OpenAiError('bad-response', `${this.baseUrl}/chat/completions returned no choices`);
    if (samples.every((s) => s.code === null)) {
      const first = samples[0].text.trim();
      throw new OpenAiError(
        'no-code',
        `${model} at ${this.baseUrl} answered without code${first ? `: "${first.slice(0, 200)}${first.length > 200 ? '…' : ''}"` : ' (empty answer)'}`,
      );
    }
    return { model, samples, requests };
  }

  /** One JSON request with timeout, retries and cancellation; returns the parsed body. */
  private async request(method: 'GET' | 'POST', route: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const url = `${this.baseUrl}${route}`;
    const retries = this.options.retries ?? 3;
    const timeoutMs = this.options.timeoutMs ?? 180_000;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw cancelled();
      const timeout = AbortSignal.timeout(timeoutMs);
      let retryReason: string;
      let retryAfterMs: number | undefined;
      try {
        const response = await fetch(url, { method, headers, body: payload, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
        const text = await response.text();
        if (response.ok) {
          try {
            return JSON.parse(text);
          } catch {
            throw new OpenAiError('bad-response', `${url} answered ${response.status} with a body that is not JSON: ${this.scrub(text.slice(0, 200))}`);
          }
        }
        const message = this.scrub(errorBodyMessage(text));
        const status = response.status;
        if (status !== 429 && status < 500) {
          if (status === 401 || status === 403)
            throw new OpenAiError(
              'auth',
              `${url} refused the request (${status}${this.options.apiKey ? ', check the API key' : ', an API key is needed'}): ${message}`,
              status,
            );
          throw new OpenAiError('http', `${url} answered ${status}: ${message}`, status);
        }
        if (attempt >= retries)
          throw new OpenAiError('http', `${url} answered ${status}: ${message}${retries > 0 ? ` (after ${retries + 1} attempts)` : ''}`, status);
        retryReason = `${status}: ${message}`;
        retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      } catch (e) {
        if (e instanceof OpenAiError) throw e;
        if (signal?.aborted) throw cancelled();
        if (timeout.aborted) {
          // A timed-out generation is not retried: the next try would most likely time out too.
          throw new OpenAiError('timeout', `${url} gave no answer within ${timeoutMs} ms`);
        }
        const code = networkCode(e);
        const description = this.scrub(describeNetworkError(url, e));
        if (!code || !TRANSIENT_NETWORK_CODES.has(code)) throw new OpenAiError('unreachable', description);
        if (attempt >= retries) throw new OpenAiError('unreachable', `${description}${retries > 0 ? ` (after ${retries + 1} attempts)` : ''}`);
        retryReason = description;
      }
      const base = this.options.backoffMs ?? 500;
      const cap = this.options.maxBackoffMs ?? 30_000;
      const jittered = base * 2 ** attempt * (0.75 + 0.5 * Math.random());
      const waitMs = Math.min(cap, Math.max(retryAfterMs ?? 0, jittered));
      this.options.log?.(`retrying in ${(waitMs / 1000).toFixed(1)} s (attempt ${attempt + 2} of ${retries + 1}): ${retryReason}`);
      await sleep(waitMs, signal);
    }
  }

  private scrub(text: string): string {
    const key = this.options.apiKey;
    return key && key.length >= 4 ? text.split(key).join('***') : text;
  }
}

/** Retry-After as seconds or an HTTP date → ms. */
function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/** A message's content as text: a string, or the text parts of a content list. */
function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((p) => (typeof p === 'string' ? p : typeof p?.text === 'string' ? p.text : '')).join('');
  }
  return '';
}
