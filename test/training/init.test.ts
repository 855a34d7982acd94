/**
 * Continuing a bundled model whose checkpoint is not shipped: training/onnx_weights.py recovers its
 * torch weights from model.onnx (checked here independently: the recovered model, loaded as
 * train_bundled would, reproduces reference.json), and train_bundled.py --init starts a run from
 * them, refusing an architecture or a vocabulary that contradicts the init. Debian's torch 1.13.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PYTHON, type Reference, repoRoot, runTraining, torchMissing, writeSyntheticDataset } from '../model/onnx-fixture';

const skip = torchMissing();
const recoverScript = path.join(repoRoot, 'training/onnx_weights.py');

function runPython(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' }, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Loads OUT.pt into GiftModel the way --init does and answers reference.json's input: logits for
// its prefix and greedy tokens. Written apart from onnx_weights.py's own check on purpose.
const ANSWER = `
import dataclasses, json, sys, torch
sys.path.insert(0, sys.argv[1])
from gift_model import GiftModel, ModelConfig
state = torch.load(sys.argv[2])
fields = {f.name for f in dataclasses.fields(ModelConfig)}
cfg = ModelConfig(**{k: tuple(v) if k == "cnn_channels" else v for k, v in state["config"].items() if k in fields})
model = GiftModel(cfg).eval()
model.load_state_dict(state["state_dict"])
ref = json.load(open(sys.argv[3]))
bos, eos = int(sys.argv[4]), int(sys.argv[5])
with torch.no_grad():
    cross = model.encode(torch.tensor(ref["pixels"]).reshape(1, 1, cfg.image_size, cfg.image_size))
    logits, _ = model.decode(torch.tensor([ref["prefix"]]), model.empty_past(1), cross)
    tokens, past, current = [], model.empty_past(1), [bos]
    for _ in range(len(ref["greedy_tokens"])):
        step, past = model.decode(torch.tensor([current]), past, cross)
        tokens.append(int(step[0, -1].argmax()))
        if tokens[-1] == eos:
            break
        current = [tokens[-1]]
print(json.dumps({"logits": logits[0].tolist(), "greedy_tokens": tokens}))
`;

for (const name of ['compact', 'smoke']) {
  test(`onnx_weights.py recovers models/${name}: its logits within 1e-4 of reference.json, the same greedy tokens`, { skip }, () => {
    const modelDir = path.join(repoRoot, 'models', name);
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'gift-recover-')), `${name}.pt`);
    const run = runPython([recoverScript, modelDir, out]);
    assert.equal(run.status, 0, run.stderr);
    const said = Number(/max logit difference vs reference\.json (\S+),/.exec(run.stdout)?.[1]);
    assert.ok(said < 1e-4, run.stdout);

    const card = JSON.parse(readFileSync(path.join(modelDir, 'model.json'), 'utf8'));
    const referenceFile = path.join(modelDir, 'reference.json');
    const reference = JSON.parse(readFileSync(referenceFile, 'utf8')) as Reference;
    const { bos, eos } = card.vocab;
    const answer = runPython(['-c', ANSWER, path.join(repoRoot, 'training'), out, referenceFile, String(bos), String(eos)]);
    assert.equal(answer.status, 0, answer.stderr);
    const got = JSON.parse(answer.stdout) as { logits: number[][]; greedy_tokens: number[] };
    assert.equal(got.logits.length, reference.logits.length);
    let max = 0;
    for (let t = 0; t < reference.logits.length; t++) {
      assert.equal(got.logits[t].length, card.architecture.vocab_size);
      for (let v = 0; v < reference.logits[t].length; v++) max = Math.max(max, Math.abs(got.logits[t][v] - reference.logits[t][v]));
    }
    assert.ok(max < 1e-4, `models/${name}: max logit difference ${max}`);
    assert.deepEqual(got.greedy_tokens, reference.greedy_tokens);
  });
}

test('onnx_weights.py fails naming a parameter the graph lacks or has in another shape', { skip }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gift-recover-bad-'));
  // A copy of models/smoke with one initializer changed (and the card's sha256 to match).
  const sabotage = (label: string, edit: string) => {
    const modelDir = path.join(dir, label);
    cpSync(path.join(repoRoot, 'models', 'smoke'), modelDir, { recursive: true });
    const script = `
import hashlib, json, onnx, sys
from onnx import numpy_helper
d = sys.argv[1]
m = onnx.load(d + "/model.onnx")
branch = {a.name: a.g for a in m.graph.node[0].attribute}["else_branch"]
init = next(i for i in branch.initializer if i.name == "${label === 'renamed' ? 'dec/model.layers.1.ffn.up.bias' : 'dec/model.layers.0.norm2.bias'}")
${edit}
onnx.save(m, d + "/model.onnx")
card = json.load(open(d + "/model.json"))
card["onnx"]["sha256"] = hashlib.sha256(open(d + "/model.onnx", "rb").read()).hexdigest()
json.dump(card, open(d + "/model.json", "w"))
`;
    const r = runPython(['-c', script, modelDir]);
    assert.equal(r.status, 0, r.stderr);
    return runPython([recoverScript, modelDir, path.join(dir, `${label}.pt`)]);
  };
  // The bias named the folded MatMul weight: without it neither is found.
  const renamed = sabotage(
    'renamed',
    `for node in branch.node:
    node.input[:] = ["dec/onnx::Add_renamed" if x == init.name else x for x in node.input]
init.name = "dec/onnx::Add_renamed"`,
  );
  assert.notEqual(renamed.status, 0);
  assert.match(renamed.stderr, /parameter layers\.1\.ffn\.up\.weight is not in the graph \(2 missing: layers\.1\.ffn\.up\.weight, layers\.1\.ffn\.up\.bias\)/);
  const shape = sabotage('shape', 'init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init)[:32].copy(), init.name))');
  assert.notEqual(shape.status, 0);
  assert.match(shape.stderr, /parameter layers\.0\.norm2\.bias: shape \[32\] in .*, the model's is \[64\]/);
  assert.ok(!existsSync(path.join(dir, 'renamed.pt')) && !existsSync(path.join(dir, 'shape.pt')), 'nothing written on failure');
});

let smokeData: string | undefined;
/** 6 generated programs with the product tokenizer (models/smoke's vocabulary), as 64² arrays. */
function generatedData(): string {
  if (smokeData) return smokeData;
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'gift-init-data-')), 'data');
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'training/make_dataset.ts'), out, '6', '5', '--array', '64', '--no-png'], {
    encoding: 'utf8',
    cwd: repoRoot,
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  smokeData = out;
  return out;
}

test('train_bundled --init models/smoke: 5 steps from its weights, the card records the init; --resume continues the run', { skip }, () => {
  const data = generatedData();
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'gift-init-')), 'model');
  const smoke = path.join(repoRoot, 'models', 'smoke');
  // --resume with no checkpoint yet: --init is where the run starts.
  const first = runTraining(['--data', data, '--out', out, '--init', smoke, '--resume', '--steps', '5', '--batch-size', '3', '--lr', '3e-4']);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /recovered the weights of .*smoke\/model\.onnx: max logit difference vs reference\.json/);
  assert.match(first.stdout, /initialised from .*smoke \(gift-cad-smoke, tiny\): fresh optimizer and schedule/);
  // From scratch the first loss is ln(426) ≈ 6.05; the smoke model already knows the language.
  const firstLoss = Number(/step 1\/5 loss (\S+)/.exec(first.stdout)?.[1]);
  assert.ok(firstLoss < 5, `first loss ${firstLoss}`);
  const card = JSON.parse(readFileSync(path.join(out, 'model.json'), 'utf8'));
  assert.equal(card.training.init, smoke);
  assert.equal(card.training.init_name, 'gift-cad-smoke');
  assert.equal(card.training.steps, 5);
  assert.equal(card.architecture.config, 'tiny');
  assert.equal(card.architecture.parameters, JSON.parse(readFileSync(path.join(smoke, 'model.json'), 'utf8')).architecture.parameters);

  // The run's checkpoint wins over --init, and the card still says where the run started.
  const more = runTraining(['--data', data, '--out', out, '--init', smoke, '--resume', '--steps', '7', '--batch-size', '3', '--lr', '3e-4']);
  assert.equal(more.status, 0, more.stderr);
  assert.match(more.stdout, /--init .* is not loaded/);
  assert.match(more.stdout, /resumed from .* at step 5/);
  const resumed = JSON.parse(readFileSync(path.join(out, 'model.json'), 'utf8'));
  assert.equal(resumed.training.steps, 7);
  assert.equal(resumed.training.init, smoke);
});

test('train_bundled --init refuses a contradicting --config or --image-size, and data of another vocabulary (naming both files)', { skip }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gift-init-refuse-'));
  const smoke = path.join(repoRoot, 'models', 'smoke');
  const data = generatedData();
  const config = runTraining(['--data', data, '--out', path.join(dir, 'a'), '--init', smoke, '--config', 'compact', '--steps', '1']);
  assert.notEqual(config.status, 0);
  assert.match(config.stderr, /--config compact contradicts --init .*smoke, a 'tiny' model/);
  const size = runTraining(['--data', data, '--out', path.join(dir, 'b'), '--init', smoke, '--image-size', '32', '--steps', '1']);
  assert.notEqual(size.status, 0);
  assert.match(size.stderr, /--image-size 32 contradicts --init .*smoke, whose image_size is 64/);

  const chars = await writeSyntheticDataset(path.join(dir, 'chars'), 2);
  const vocab = runTraining(['--data', chars.dir, '--out', path.join(dir, 'c'), '--init', smoke, '--steps', '1']);
  assert.notEqual(vocab.status, 0);
  assert.ok(vocab.stderr.includes(`${path.join(chars.dir, 'vocab.json')} differs from ${path.join(smoke, 'vocab.json')}`), vocab.stderr);
  for (const out of ['a', 'b', 'c']) assert.ok(!existsSync(path.join(dir, out)), `${out}: refused before writing anything`);
});
