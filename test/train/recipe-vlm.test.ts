import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportDataset, openDataset } from '../../src/core/dataset';
import { repoRoot, smallDataset } from './helpers/fixtures';

const python = spawnSync('python3', ['--version']).status === 0 ? 'python3' : undefined;
const script = path.join(repoRoot, 'training/recipe_vlm.py');

test('recipe_vlm.py imports with the standard library only and --dry-run validates the chat export and prints the plan', {
  skip: python ? false : 'python3 not available',
}, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-vlm-'));
  const ds = await openDataset(await smallDataset(dir, 5));
  const out = path.join(dir, 'chat');
  await exportDataset(ds, { format: 'chat', out });

  // Importing must not pull in torch/transformers (they are not installed everywhere).
  const imp = spawnSync(
    python!,
    [
      '-c',
      `import sys; sys.path.insert(0, ${JSON.stringify(path.dirname(script))}); import recipe_vlm; print(any(m in sys.modules for m in ('torch', 'transformers')))`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(imp.status, 0, imp.stderr);
  assert.equal(imp.stdout.trim(), 'False');

  fs.mkdirSync(path.join(dir, 'run', 'checkpoint-40'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'run', 'checkpoint-120'), { recursive: true });
  const dry = spawnSync(
    python!,
    [
      script,
      '--data',
      path.join(out, 'chat.jsonl'),
      '--image-root',
      out,
      '--model',
      'Qwen/Qwen2.5-VL-7B-Instruct',
      '--out',
      path.join(dir, 'run'),
      '--lora',
      '--gpus',
      '4',
      '--grad-accum',
      '2',
      '--epochs',
      '3',
      '--dry-run',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(dry.status, 0, dry.stderr);
  const plan = JSON.parse(dry.stdout);
  assert.equal(plan.examples, 5);
  assert.equal(plan.effective_batch, 8); // 1 per GPU × 2 accumulation × 4 GPUs
  assert.equal(plan.steps_per_epoch, 1);
  assert.equal(plan.total_steps, 3);
  assert.equal(plan.lr, 1e-4);
  assert.equal(plan.vision_tower, 'frozen');
  assert.equal(plan.loss, 'assistant code tokens only');
  assert.equal(plan.lora.r, 64);
  assert.equal(plan.resume_from, path.join(dir, 'run', 'checkpoint-120'), 'resumes from the newest checkpoint');

  // Broken lines are reported as FILE:LINE and fail the run.
  const lines = fs.readFileSync(path.join(out, 'chat.jsonl'), 'utf8').trim().split('\n');
  const second = JSON.parse(lines[1]);
  second.image = 'images/missing.png';
  const fourth = JSON.parse(lines[3]);
  fourth.conversations[1].value = '   ';
  fs.writeFileSync(path.join(out, 'bad.jsonl'), `${[lines[0], JSON.stringify(second), '{not json', JSON.stringify(fourth)].join('\n')}\n`);
  const bad = spawnSync(python!, [script, '--data', path.join(out, 'bad.jsonl'), '--out', path.join(dir, 'run2'), '--dry-run'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /bad\.jsonl:2: image .*missing\.png does not exist/);
  assert.match(bad.stderr, /bad\.jsonl:3: not JSON/);
  assert.match(bad.stderr, /bad\.jsonl:4: the gpt turn \(the code\) is empty/);
});
