/**
 * The one interface for "an image in, K programs out", used by Image to CAD in the editor,
 * `gift generate`, `gift bootstrap` and the extension's Run Bootstrap alike. A backend only samples;
 * running, verifying and ranking the programs is the pipeline's (generate.ts, rank.ts, the
 * bootstrap), so no caller runs a program twice. The real backends: backends.ts.
 */
import type { CadErrorInfo } from '../errors';

export interface SampleOptions {
  samples: number;
  /** Default: 0 (greedy) for one sample, DEFAULT_SAMPLING_TEMPERATURE for several. */
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  seed?: number;
  signal?: AbortSignal;
  /** Progress text for people ("loading the model…"). */
  report?: (message: string) => void;
}

export interface SampledProgram {
  /** null: the model answered without code (see `error`). */
  code: string | null;
  error?: CadErrorInfo;
  /** Log-probability under the model, when the backend knows it. */
  logprob?: number;
}

/** Anything that samples programs for an image: the bundled ONNX model, an endpoint, a test double. */
export interface ImageToCadBackend {
  /** How users pick it (the `gift.backend` setting, `--backend`): `onnx`, `openai`, … */
  readonly name: string;
  /**
   * What produced the programs, recorded with every sample the dataset keeps (`onnx:compact`,
   * `openai:http://…`). Known once the backend has sampled; default: `name`.
   */
  provenance?(): string;
  sample(image: Uint8Array, imageName: string, options: SampleOptions): Promise<SampledProgram[]>;
  close?(): Promise<void>;
}

export function provenanceOf(backend: ImageToCadBackend): string {
  return backend.provenance?.() ?? backend.name;
}

/** K > 1 samples need some randomness to differ. */
export const DEFAULT_SAMPLING_TEMPERATURE = 0.8;

export function samplingTemperature(options: Pick<SampleOptions, 'samples' | 'temperature'>): number {
  return options.temperature ?? (options.samples > 1 ? DEFAULT_SAMPLING_TEMPERATURE : 0);
}

/**
 * Models often leave out `import cadquery as cq` (CQ-editor pre-imports it); the program is only
 * runnable — and copyable into a real CadQuery — with it.
 */
export function withCadQueryImport(code: string): string {
  if (!/\bcq\./.test(code) || /^\s*import\s+cadquery\s+as\s+cq\b/m.test(code)) return code;
  return `import cadquery as cq\n${code}`;
}

/** The backend's programs with the import each needs; answers without code keep their error. */
export async function samplePrograms(backend: ImageToCadBackend, image: Uint8Array, imageName: string, options: SampleOptions): Promise<SampledProgram[]> {
  const programs = await backend.sample(image, imageName, options);
  return programs.map((p) => (p.code === null ? p : { ...p, code: withCadQueryImport(p.code) }));
}
