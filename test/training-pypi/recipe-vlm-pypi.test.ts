/**
 * The paper's own setting for real, offline and on CPU: training/recipe_vlm.py fine-tunes a tiny
 * Qwen2.5-VL (random weights from a tiny config, a tokenizer trained on the spot with `tokenizers`,
 * the Qwen2-VL processor and chat template: make_tiny_qwen25vl.py) on a chat-format export with
 * PyPI transformers, resumes from its checkpoint, saves OUT/final, and the reloaded checkpoint
 * generates CadQuery from an image (vlm_generate.py). Skips without scripts/install-python-pypi.sh's venv.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lastJson, pypiMissing, repoRoot, runPython, VENV_PYTHON } from './pypi-env';

const skip = pypiMissing(['torch', 'torchvision', 'transformers', 'tokenizers', 'accelerate', 'safetensors', 'PIL']);
const skipLora = skip ?? pypiMissing(['peft']);
const recipe = path.join(repoRoot, 'training/recipe_vlm.py');
const helpers = __dirname;
const BOX = /^import cadquery as cq\nresult = cq\.Workplane\("XY"\)\.box\(\d+, \d+, 5\)\n?$/;

interface Generated {
  results: { id: string; generated: string; new_tokens: number; code: string }[];
  load_problems: Record<string, string[]>;
  teacher_forced: { loss: number; token_accuracy: number; code_tokens: number; same_ids_as_processor: boolean; max_abs_vs_processor: number | null };
  transformers: string;
}

interface LogLine {
  step: number;
  loss?: number;
  train_loss?: number;
}

let fixture: Promise<{ dir: string; model: string; data: string; root: string }> | undefined;

/** The tiny Qwen2.5-VL checkpoint and its chat export, built once per test process. */
function tinyModel() {
  fixture ??= (async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gift-qwen25vl-'));
    const made = runPython(VENV_PYTHON, [path.join(helpers, 'make_tiny_qwen25vl.py'), path.join(dir, 'model'), path.join(dir, 'data'), '--examples', '6']);
    assert.equal(made.status, 0, made.stderr);
    const info = lastJson<{ model: string; data: string }>(made.stdout);
    return { dir, model: info.model, data: info.data, root: path.join(dir, 'data') };
  })();
  return fixture;
}

/** recipe_vlm.py on CPU with a tiny budget: 56² images (4 image tokens), no dataloader workers. */
function recipeRun(model: string, data: string, root: string, out: string, extra: string[]) {
  const args = [recipe, '--data', data, '--image-root', root, '--model', model, '--out', out, '--batch-size', '2', '--grad-accum', '1', '--workers', '0'];
  args.push('--min-pixels', String(56 * 56), '--max-pixels', String(112 * 112), '--max-len', '512', '--warmup-ratio', '0.1', ...extra);
  return runPython(VENV_PYTHON, args);
}

function generate(checkpoint: string, data: string, root: string, first: number) {
  const r = runPython(VENV_PYTHON, [path.join(helpers, 'vlm_generate.py'), checkpoint, data, root, '--first', String(first)]);
  assert.equal(r.status, 0, r.stderr);
  return lastJson<Generated>(r.stdout);
}

function log(out: string): LogLine[] {
  return readFileSync(path.join(out, 'trainer_log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as LogLine);
}

test('recipe_vlm.py fine-tunes a tiny offline Qwen2.5-VL on CPU, resumes from its checkpoint, and the saved model generates CadQuery from an image', {
  skip,
}, async () => {
  const { model, data, root, dir } = await tinyModel();
  const out = path.join(dir, 'run');
  const first = recipeRun(model, data, root, out, ['--max-steps', '100', '--save-steps', '50', '--lr', '5e-3']);
  assert.equal(first.status, 0, `${first.stdout}\n${first.stderr}`);
  assert.match(first.stdout, /recipe_vlm: wrote .*final \(100 steps/);
  const losses = log(out).filter((l) => l.loss !== undefined);
  const at = (step: number) => losses.find((l) => l.step === step)?.loss ?? Number.NaN;
  assert.ok(at(100) < at(10) / 5, `loss did not fall: ${at(10)} at step 10, ${at(100)} at step 100`);

  // Resume (default --resume auto: the newest checkpoint) must continue from the trained weights.
  const resumed = recipeRun(model, data, root, out, ['--max-steps', '110', '--save-steps', '50', '--lr', '5e-3']);
  assert.equal(resumed.status, 0, `${resumed.stdout}\n${resumed.stderr}`);
  assert.match(resumed.stdout, /"resume_from": "[^"]*checkpoint-100"/);
  assert.doesNotMatch(resumed.stderr, /missing keys in the checkpoint/);
  const after = log(out).filter((l) => l.loss !== undefined && l.step === 110)[0]?.loss ?? Number.NaN;
  assert.ok(after < 2 * at(100), `resumed at loss ${after}, left off at ${at(100)}: the checkpoint's weights were not loaded`);
  const card = JSON.parse(readFileSync(path.join(out, 'model_card.json'), 'utf8'));
  assert.equal(card.steps, 110);
  assert.equal(card.format, 'gift-cad-vlm/1');

  // The saved model reloads cleanly, sees in training what it sees in generation, and writes CadQuery.
  const g = generate(path.join(out, 'final'), data, root, 3);
  assert.deepEqual(g.load_problems, {});
  assert.ok(g.teacher_forced.same_ids_as_processor, 'training tokenises the conversation as the processor does');
  assert.ok((g.teacher_forced.max_abs_vs_processor ?? 1) < 1e-4, `training and generation inputs differ: ${g.teacher_forced.max_abs_vs_processor}`);
  assert.ok(g.teacher_forced.token_accuracy > 0.8, `teacher-forced token accuracy ${g.teacher_forced.token_accuracy}`);
  for (const r of g.results) assert.ok(r.generated.startsWith('import cadquery as cq\n'), `generated ${JSON.stringify(r.generated)}`);
  const boxes = g.results.filter((r) => BOX.test(r.generated)).length;
  assert.ok(boxes >= 2, `only ${boxes} of 3 generations are a box program: ${JSON.stringify(g.results.map((r) => r.generated))}`);
  console.log(
    `transformers ${g.transformers}: 100 steps ${first.seconds.toFixed(1)} s, resume ${resumed.seconds.toFixed(1)} s; ` +
      `loss ${at(10).toFixed(2)} → ${at(100).toFixed(3)} → ${after.toFixed(3)}; ${boxes}/3 box programs; ${JSON.stringify(g.results[0].generated)}`,
  );
});

test('recipe_vlm.py --lora trains adapters on the tiny Qwen2.5-VL, merges them, and the merged checkpoint reloads and generates', {
  skip: skipLora,
}, async () => {
  const { model, data, root, dir } = await tinyModel();
  const out = path.join(dir, 'lora');
  const run = recipeRun(model, data, root, out, ['--lora', '--lora-r', '8', '--lora-alpha', '16', '--max-steps', '10', '--save-steps', '10', '--lr', '5e-3']);
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /recipe_vlm: wrote .*final \(10 steps/);
  const card = JSON.parse(readFileSync(path.join(out, 'model_card.json'), 'utf8'));
  assert.equal(card.plan.lora.r, 8);
  const g = generate(path.join(out, 'final'), data, root, 1);
  assert.deepEqual(g.load_problems, {}, 'the merged checkpoint has exactly the base model’s weights (no adapter keys)');
  assert.ok((g.teacher_forced.max_abs_vs_processor ?? 1) < 1e-4);
  assert.ok(g.results[0].new_tokens >= 1);
});
