/**
 * A small real HTTP server that answers like vLLM's OpenAI-compatible server does (response and
 * error shapes copied from vLLM), with scripted behaviour per request: answers, errors, dropped
 * connections, silence. The client under test talks to it over real sockets.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const VLLM_MODEL = 'CADCODER/Qwen2.5-VL-7B-CadCoder';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

export type Reply = { status?: number; json: unknown; headers?: Record<string, string> } | { reset: true } | { hang: true };

/** What the next chat request gets; the last script entry repeats. */
export type Script = (request: RecordedRequest, index: number) => Reply;

export interface Peer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  chatRequests(): RecordedRequest[];
  close(): Promise<void>;
}

/** A vLLM chat.completion with one choice per content string. */
export function vllmCompletion(contents: string[], finish: string = 'stop'): unknown {
  return {
    id: 'chatcmpl-8f1c2e0a7d6b4f0e9c3b2a1d0e9f8a7b',
    object: 'chat.completion',
    created: 1732500000,
    model: VLLM_MODEL,
    choices: contents.map((content, index) => ({
      index,
      message: { role: 'assistant', reasoning_content: null, content, tool_calls: [] },
      logprobs: null,
      finish_reason: finish,
      stop_reason: null,
    })),
    usage: { prompt_tokens: 512, total_tokens: 512 + 100 * contents.length, completion_tokens: 100 * contents.length, prompt_tokens_details: null },
    prompt_logprobs: null,
  };
}

/** vLLM's error body (ErrorResponse): older releases put the fields at the top level. */
export function vllmError(message: string, status: number, nested = false): unknown {
  const type = status === 404 ? 'NotFoundError' : status >= 500 ? 'InternalServerError' : 'BadRequestError';
  const fields = { message, type, param: null, code: status };
  return nested ? { error: fields } : { object: 'error', ...fields };
}

/** Honours `n` like vLLM: n copies of the content (one per choice). */
export const answerWith =
  (content: string | ((i: number) => string)): Script =>
  (req) => {
    const n = req.body?.n ?? 1;
    return { json: vllmCompletion(Array.from({ length: n }, (_, i) => (typeof content === 'string' ? content : content(i)))) };
  };

export async function startPeer(script: Script, options: { apiKey?: string } = {}): Promise<Peer> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<import('node:net').Socket>();
  let chatIndex = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const record: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: text ? JSON.parse(text) : undefined };
      requests.push(record);
      const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(json));
      };
      // vLLM started with --api-key answers 401 {"error": "Unauthorized"}.
      if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) return send(401, { error: 'Unauthorized' });
      if (req.url === '/v1/models' && req.method === 'GET') {
        return send(200, {
          object: 'list',
          data: [{ id: VLLM_MODEL, object: 'model', created: 1732500000, owned_by: 'vllm', root: VLLM_MODEL, parent: null, max_model_len: 32768 }],
        });
      }
      if (req.url !== '/v1/chat/completions') return send(404, { detail: 'Not Found' });
      const reply = script(record, chatIndex++);
      if ('reset' in reply) return req.socket.resetAndDestroy();
      if ('hang' in reply) return;
      send(reply.status ?? 200, reply.json, reply.headers);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    chatRequests: () => requests.filter((r) => r.url === '/v1/chat/completions'),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port with nothing listening on it (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
