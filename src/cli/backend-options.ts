/**
 * The model options every sampling command shares (generate, bootstrap, eval): --backend,
 * --endpoint, --model, and the one function that turns them into an ImageToCadBackend.
 */
import { onnxBackend, openAiBackend, type ImageToCadBackend } from '../core/generate';
import { stringOptions, UsageError } from './args';

export const BACKEND_OPTIONS = stringOptions('backend', 'endpoint', 'model');

export const BACKEND_HELP = `  --backend B       onnx (the bundled model, default) or openai (any OpenAI-compatible endpoint:
                    vLLM, Ollama, a hosted API, gift serve); --endpoint implies openai
  --endpoint URL    e.g. http://127.0.0.1:8000/v1; the API key comes from env GIFT_API_KEY
  --model NAME      onnx: model directory; openai: model id (default: the endpoint's first model)`;

export interface BackendValues {
  backend?: string;
  endpoint?: string;
  model?: string;
}

export interface BackendSpec {
  kind: 'onnx' | 'openai';
  endpoint?: string;
  model?: string;
}

/** Checks the options; a UsageError names the wrong one. */
export function backendSpec(values: BackendValues): BackendSpec {
  const kind = values.backend ?? (values.endpoint ? 'openai' : 'onnx');
  if (kind !== 'onnx' && kind !== 'openai') throw new UsageError(`unknown --backend '${kind}': expected onnx or openai`);
  const endpoint = values.endpoint ?? (process.env.GIFT_ENDPOINT || undefined);
  if (kind === 'openai' && !endpoint) throw new UsageError('--backend openai needs --endpoint URL (e.g. http://127.0.0.1:8000/v1)');
  return { kind, endpoint, model: values.model };
}

/** The backend the options name (loading a model can fail: a missing model folder is a UserError). */
export function createBackend(spec: BackendSpec, openai: { timeoutMs?: number; log?: (line: string) => void } = {}): ImageToCadBackend {
  if (spec.kind === 'onnx') return onnxBackend({ model: spec.model, threads: 0 });
  return openAiBackend({ endpoint: spec.endpoint!, model: spec.model, apiKey: process.env.GIFT_API_KEY || undefined, ...openai });
}
