/**
 * The two real Image to CAD backends: 'onnx' (the bundled or a trained ONNX model, run as the
 * kernel job 'model.generate' so inference stays off the extension host's thread) and 'openai'
 * (any OpenAI-compatible endpoint: vLLM, Ollama, `gift serve`; its key from SecretStorage).
 * Both sample K programs, run them in the kernel pool and return them ranked best first.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CandidateBackend } from '../../core/generate/generate';
import { BackendUnavailableError, type CadCandidate, type GenerateOptions, type ImageToCadBackend } from './backends';
import type { KernelService } from '../kernel';
import { log } from '../log';
import type { GiftSecrets } from '../secrets';
import { readSettings } from '../settings';
import { errorMessage } from '../../core/errors';

// Loaded on first use: the model code pulls in onnxruntime's loader and the ranking jobs.
type GenerateModule = typeof import('../../core/generate/generate');
let generateModule: Promise<GenerateModule> | undefined;
const loadGenerate = () => (generateModule ??= import('../../core/generate/generate'));

/** gift.onnx.model as an absolute folder: ~ expanded, relative paths from the first workspace folder. */
export function resolveModelSetting(value: string): string {
  if (value === '~' || value.startsWith('~/')) return path.join(os.homedir(), value.slice(1));
  if (path.isAbsolute(value)) return value;
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder?.uri.scheme === 'file' ? path.join(folder.uri.fsPath, value) : path.resolve(value);
}

async function runRanked(
  backend: CandidateBackend,
  kernel: KernelService,
  imagePath: string,
  options: GenerateOptions,
): Promise<CadCandidate[]> {
  const { generateCandidates, labelCandidates } = await loadGenerate();
  const settings = readSettings();
  const pool = await kernel.pool();
  const outcome = await generateCandidates({
    backend,
    pool,
    image: imagePath,
    samples: options.samples,
    signal: options.signal,
    report: options.report,
    protocol: settings.iouProtocol,
    timeoutMs: settings.kernel.timeoutMs,
  });
  const ran = outcome.candidates.filter((c) => c.ok).length;
  log().info(
    `${outcome.backend}: ${outcome.candidates.length} candidate(s), ${ran} ran; ranked by ${outcome.rankedBy}; sampling ${Math.round(outcome.sampleMs)} ms, ranking ${Math.round(outcome.rankMs)} ms`,
  );
  if (outcome.candidates.length > 0 && outcome.candidates.every((c) => !c.code.trim())) {
    throw new BackendUnavailableError(`Image to CAD: ${outcome.backend} answered without code (${outcome.candidates[0].error?.message ?? 'empty answers'}).`);
  }
  return labelCandidates(outcome).filter((c) => c.code.trim() !== '');
}

/** 'onnx': gift.onnx.model, else the model bundled under models/. */
export function onnxImageBackend(kernel: KernelService, modelsDir: string): ImageToCadBackend {
  return {
    name: 'onnx',
    async generate(imagePath, options) {
      const { bundledModelDir, onnxBackend } = await loadGenerate();
      const configured = readSettings().onnxModel;
      let dir: string;
      if (configured) {
        dir = resolveModelSetting(configured);
        const card = dir.endsWith('.json') ? dir : path.join(dir, 'model.json');
        if (!fs.existsSync(card)) {
          throw new BackendUnavailableError(`Image to CAD: gift.onnx.model is '${configured}', but ${card} does not exist. Point it at a model folder (model.json + model.onnx) or clear it to use the bundled model.`);
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
      const pool = await kernel.pool();
      return runRanked(onnxBackend({ model: dir, pool }), kernel, imagePath, options);
    },
  };
}

/** 'openai': gift.openai.endpoint / gift.openai.model, the key from SecretStorage. */
export function openAiImageBackend(kernel: KernelService, secrets: GiftSecrets): ImageToCadBackend {
  return {
    name: 'openai',
    async generate(imagePath, options) {
      const { openAiBackend } = await loadGenerate();
      const { OpenAiError } = await import('../../core/model/openai');
      const { endpoint, model, timeoutMs } = readSettings().openai;
      if (!endpoint) {
        throw new BackendUnavailableError('Image to CAD: gift.backend is "openai" but gift.openai.endpoint is not set (e.g. http://127.0.0.1:8000/v1).');
      }
      const apiKey = (await secrets.openAiKey()) || undefined;
      log().info(`openai backend: ${endpoint}${model ? `, model ${model}` : ''}, ${apiKey ? 'with' : 'without'} an API key`);
      let backend: CandidateBackend;
      try {
        // The client's log lines never hold the key (it scrubs it from anything echoed back, too).
        backend = openAiBackend({ endpoint, model, apiKey, timeoutMs, log: (line) => log().info(`openai: ${line}`) });
      } catch (e) {
        throw new BackendUnavailableError(`Image to CAD: gift.openai.endpoint: ${errorMessage(e)}`);
      }
      try {
        return await runRanked(backend, kernel, imagePath, options);
      } catch (e) {
        if (!(e instanceof OpenAiError) || options.signal.aborted) throw e;
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
