/**
 * Training recipes: what data format a recipe trains on, which training/ scripts it needs on the
 * cluster, the shell command its job runs, and what comes back afterwards.
 *  - bundled: training/train_bundled.py, the model the extension ships (ONNX + model card back).
 *  - vlm: training/recipe_vlm.py, the paper's setting: SFT of a Qwen2.5-VL CAD-Coder checkpoint
 *    with transformers via torchrun (the checkpoint stays on the cluster; a `vllm serve` command
 *    comes back).
 *  - command: any shell command run in the run folder (data/ in, out/ out), for custom scripts.
 */
import { TrainError } from '../errors';
import type { ClusterProfile } from './profile';
import { shellQuote } from './slurm';

export type RecipeName = 'bundled' | 'vlm' | 'command';
export const RECIPE_NAMES: readonly RecipeName[] = ['bundled', 'vlm', 'command'];

export interface RecipeOptions {
  /** bundled: model size (tiny for tests and CPU, small = the shipped model). */
  config?: 'tiny' | 'compact' | 'small' | 'base';
  /** bundled: optimizer steps; vlm: max steps (overrides epochs). */
  steps?: number;
  batchSize?: number;
  learningRate?: number;
  /** vlm: the checkpoint to fine-tune (a Hugging Face id or a path on the cluster). */
  baseModel?: string;
  /** vlm: train LoRA adapters instead of the full language model. */
  lora?: boolean;
  epochs?: number;
  /** vlm: the name `vllm serve` gives the model. */
  servedName?: string;
  /** command: the shell command to run. */
  command?: string;
  /** More arguments for the recipe's script, appended as given. */
  extraArgs?: string[];
}

export interface RecipeContext {
  profile: ClusterProfile;
  options: RecipeOptions;
  /** GPUs per node the job gets. */
  gpus: number;
  nodes: number;
}

export interface Recipe {
  name: RecipeName;
  /** The export format the recipe reads (null: the data folder is uploaded as it is). */
  dataFormat: 'imagefolder' | 'chat' | null;
  /** bundled: metadata.jsonl needs `tokens` from the TypeScript tokenizer and vocab.json. */
  needsTokens: boolean;
  /** training/ files uploaded to code/ (relative to training/). */
  codeFiles: string[];
  /** Shell lines the job runs in the run folder (data/, code/, out/ relative). */
  command(ctx: RecipeContext): string;
  /** Files of out/ brought back by fetch (globs: * only); empty = everything. */
  fetch: string[];
  /** Environment for the job. */
  env(ctx: RecipeContext): Record<string, string>;
}

function args(list: (string | undefined | false)[]): string {
  return list
    .filter((a): a is string => typeof a === 'string')
    .map(shellQuote)
    .join(' ');
}

function python(profile: ClusterProfile): string {
  // The profile's python may be a path or a command with words ("conda run -n x python").
  return profile.python ?? 'python3';
}

const bundled: Recipe = {
  name: 'bundled',
  dataFormat: 'imagefolder',
  needsTokens: true,
  codeFiles: ['train_bundled.py', 'gift_model.py', 'export_onnx.py', 'gift_preprocess.py', 'onnx_weights.py'],
  command({ profile, options, gpus }) {
    const o = options;
    return `${python(profile)} code/train_bundled.py ${args([
      '--data',
      'data',
      '--out',
      'out',
      '--config',
      o.config ?? 'small',
      '--device',
      gpus > 0 ? 'cuda' : 'cpu',
      ...(o.steps !== undefined ? ['--steps', String(o.steps)] : []),
      ...(o.batchSize !== undefined ? ['--batch-size', String(o.batchSize)] : []),
      ...(o.learningRate !== undefined ? ['--lr', String(o.learningRate)] : []),
      ...(o.extraArgs ?? []),
    ])}`;
  },
  fetch: ['model.onnx', 'model.json', 'vocab.json', 'reference.json'],
  env({ gpus, profile }): Record<string, string> {
    // Many threads on a shared CPU node are far slower than one per allotted core.
    return gpus > 0 ? {} : { OMP_NUM_THREADS: String(profile.cpus ?? 1) };
  },
};

const vlm: Recipe = {
  name: 'vlm',
  dataFormat: 'chat',
  needsTokens: false,
  codeFiles: ['recipe_vlm.py'],
  command({ profile, options, gpus, nodes }) {
    const o = options;
    const script = args([
      'code/recipe_vlm.py',
      '--data',
      'data/chat.jsonl',
      '--image-root',
      'data',
      '--model',
      o.baseModel ?? 'Qwen/Qwen2.5-VL-7B-Instruct',
      '--out',
      'out',
      '--resume',
      'auto',
      ...(o.lora ? ['--lora'] : []),
      ...(o.epochs !== undefined ? ['--epochs', String(o.epochs)] : []),
      ...(o.steps !== undefined ? ['--max-steps', String(o.steps)] : []),
      ...(o.batchSize !== undefined ? ['--batch-size', String(o.batchSize)] : []),
      ...(o.learningRate !== undefined ? ['--lr', String(o.learningRate)] : []),
      ...(o.extraArgs ?? []),
    ]);
    const perNode = Math.max(1, gpus);
    if (nodes > 1) {
      // One torchrun per node (srun starts them), rendezvous on the first node.
      return [
        'MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
        `srun --ntasks-per-node=1 ${python(profile)} -m torch.distributed.run --nnodes=${nodes} --nproc-per-node=${perNode} ` +
          `--rdzv-backend=c10d --rdzv-endpoint="$MASTER_ADDR:29500" --rdzv-id="$SLURM_JOB_ID" ${script}`,
      ].join('\n');
    }
    return `${python(profile)} -m torch.distributed.run --standalone --nproc-per-node=${perNode} ${script}`;
  },
  // The checkpoint itself stays on the cluster (GBs); the card, plan and training log come back.
  fetch: ['model_card.json', 'plan.json', 'trainer_log.jsonl', 'final/config.json'],
  env() {
    return { TOKENIZERS_PARALLELISM: 'false' };
  },
};

const command: Recipe = {
  name: 'command',
  dataFormat: null,
  needsTokens: false,
  codeFiles: [],
  command({ options }) {
    if (!options.command?.trim()) throw new TrainError("the 'command' recipe needs a command (gift train submit --recipe command --command '…')");
    return options.command;
  },
  fetch: [],
  env() {
    return {};
  },
};

export const RECIPES: Record<RecipeName, Recipe> = { bundled, vlm, command };

export function getRecipe(name: string): Recipe {
  const r = RECIPES[name as RecipeName];
  if (!r) throw new TrainError(`unknown recipe '${name}' (use ${RECIPE_NAMES.join(', ')})`);
  return r;
}

/** The `vllm serve` command for a VLM run's final checkpoint on the cluster. */
export function vllmServeCommand(checkpointDir: string, servedName = 'gift-cadcoder', gpus = 1): string {
  return [
    'vllm serve',
    shellQuote(checkpointDir),
    '--served-model-name',
    shellQuote(servedName),
    '--max-model-len 8192',
    `--limit-mm-per-prompt '{"image": 1}'`,
    ...(gpus > 1 ? [`--tensor-parallel-size ${gpus}`] : []),
  ].join(' ');
}

/** Whether a file of out/ matches a recipe's fetch list (`*` matches within one path segment). */
export function matchesFetchList(relPath: string, patterns: string[]): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((p) =>
    new RegExp(
      `^${p
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*')}$`,
    ).test(relPath),
  );
}
