/**
 * The two real Image to CAD backends, as the editor configures them: 'onnx' (gift.onnx.model or
 * the bundled model, run as the kernel job 'model.generate' so inference stays off the extension
 * host's thread) and 'openai' (any OpenAI-compatible endpoint: vLLM, Ollama, `gift serve`; its
 * key from SecretStorage). Each reads its settings when it samples and wraps core's backend of the
 * same kind, turning configuration problems into BackendUnavailableError with what to do.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { errorMessage } from '../../core/errors';
import type { ImageToCadBackend } from '../../core/generate/backend';
import type { KernelService } from '../kernel';
import { log } from '../log';
import type { GiftSecrets } from '../secrets';
import { readSettings } from '../settings';
import { BackendUnavailableError } from './backends';

// Loaded on first use: the backends pull in onnxruntime's loader and the OpenAI client.
type BackendsModule = typeof import('../../core/generate/backends');
let backendsModule: Promise<BackendsModule> | undefined;
const loadBackends = () => (backendsModule ??= import('../../core/generate/backends'));

/** gift.onnx.model as an absolute folder: ~ expanded, relative paths from the first workspace folder. */
export function resolveModelSetting(value: string): string {
  if (value === '~' || value.startsWith('~/')) return path.join(os.homedir(), value.slice(1));
  if (path.isAbsolute(value)) return value;
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder?.uri.scheme === 'file' ? path.join(folder.uri.fsPath, value) : path.resolve(value);
}

/** 'onnx': gift.onnx.model, else the model bundled under models/. */
export function onnxImageBackend(kernel: KernelService, modelsDir: string): ImageToCadBackend {
  let provenance = 'onnx';
  return {
    name: 'onnx',
    provenance: () => provenance,
    async sample(image, imageName, options) {
      const { bundledModelDir, onnxBackend } = await loadBackends();
      const configured = readSettings().onnxModel;
      let dir: string;
      if (configured) {
        dir = resolveModelSetting(configured);
        const card = dir.endsWith('.json') ? dir : path.join(dir, 'model.json');
        if (!fs.existsSync(card)) {
          throw new BackendUnavailableError(
            `Image to CAD: gift.onnx.model is '${configured}', but ${card} does not exist. Point it at a model folder (model.json + model.onnx) or clear it to use the bundled model.`,
          );
        }
      } else {
        try {
          dir = bundledModelDir(modelsDir);
        } catch (e) {
          throw new BackendUnavailableError(
            `Image to CAD: no ONNX model is bundled with this installation (${errorMessage(e)}). Set gift.onnx.model to a trained model folder, or use gift.backend "openai" with a served model.`,
          );
        }
      }
      log().info(`onnx backend: model ${dir}`);
      options.report?.(`sampling ${options.samples} program(s) with ${path.basename(dir)}…`);
      const backend = onnxBackend({ model: dir, pool: await kernel.pool() });
      provenance = backend.name;
      return backend.sample(image, imageName, options);
    },
  };
}

/** 'openai': gift.openai.endpoint / gift.openai.model, the key from SecretStorage. */
export function openAiImageBackend(secrets: GiftSecrets): ImageToCadBackend {
  let provenance = 'openai';
  return {
    name: 'openai',
    provenance: () => provenance,
    async sample(image, imageName, options) {
      const { openAiBackend } = await loadBackends();
      const { OpenAiError } = await import('../../core/model/openai');
      const { endpoint, model, timeoutMs } = readSettings().openai;
      if (!endpoint) {
        throw new BackendUnavailableError('Image to CAD: gift.backend is "openai" but gift.openai.endpoint is not set (e.g. http://127.0.0.1:8000/v1).');
      }
      const apiKey = (await secrets.openAiKey()) || undefined;
      log().info(`openai backend: ${endpoint}${model ? `, model ${model}` : ''}, ${apiKey ? 'with' : 'without'} an API key`);
      let backend: ImageToCadBackend;
      try {
        // The client's log lines never hold the key (it scrubs it from anything echoed back, too).
        backend = openAiBackend({ endpoint, model, apiKey, timeoutMs, log: (line) => log().info(`openai: ${line}`) });
      } catch (e) {
        throw new BackendUnavailableError(`Image to CAD: gift.openai.endpoint: ${errorMessage(e)}`);
      }
      provenance = backend.name;
      try {
        return await backend.sample(image, imageName, options);
      } catch (e) {
        if (!(e instanceof OpenAiError) || options.signal?.aborted) throw e;
        const what = `the endpoint ${endpoint}`;
        switch (e.kind) {
          case 'unreachable':
          case 'timeout':
            throw new BackendUnavailableError(`Image to CAD: ${what} is not answering (${e.message}). Start the model server or fix gift.openai.endpoint.`);
          case 'auth':
            throw new BackendUnavailableError(`Image to CAD: ${what} refused the API key (${e.message}). Use GIFT: Set API Key… to store the right one.`);
          case 'no-code':
            throw new BackendUnavailableError(`Image to CAD: the model at ${what} answered without code (${e.message}).`);
          default:
            throw new BackendUnavailableError(`Image to CAD: ${what} failed: ${e.message}`);
        }
      }
    },
  };
}
