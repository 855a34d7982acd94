/**
 * The GIFT experiment (issue: "GIFT, proven on our own model"), reproducible and resumable:
 *   D      N generated GenCAD-style pairs (never test100) as a GIFT dataset; its images are the
 *          source pool;
 *   sample the sampler model (default the bundled models/compact) draws K programs per image of D;
 *          verified by IoU; SRS and FDA records tagged `exp` (one bootstrap shared by every arm);
 *   arms   the same config, steps, batch and seed, trained from scratch on
 *            SFT        D
 *            GIFT-REJ   D + SRS
 *            GIFT-FAIL  D + FDA
 *            GIFT       D + SRS + FDA
 *            SFT+fresh  D + as many fresh generated pairs as GIFT added (the control the paper lacks)
 *   eval   each arm with `gift eval`'s measurement on EVAL (default test100) at K samples;
 *          OUT/compare.md and plots via writeComparison.
 *
 *   node --import tsx training/gift_experiment.ts OUT [--n 2000] [--k 4] [--config tiny] [--steps 1500]
 *        [--eval-k 10] [--eval-limit N] [--model models/compact] [--eval test/fixtures/gencad-test100] [--arms sft,gift,…]
 *        [--sampler bundled|sft] [--fda-per-image N] [--srs-per-image N] [--fda-min-iou X] [--seed S] [--init MODEL] [--lr X] [--extra DIR]
 *        [--name-suffix S]   (arm folders arm-NAME-S: another variant beside the same D)
 *        [--sampler DIR --round-tag T --all-rounds|--rounds T1,T2]   (a further round, below)
 *        [--temperature X]   (the bootstrap's sampling temperature, default 0.8)
 *        [--images INPUT]   (the source pool: these images, a gift eval input, e.g. real parts with STEP
 *                            ground truth, instead of D's own; no FDA where there is no code)
 *        [--repeat N]   (each of the round's own records appears N times in training)
 *        [--skip-solved]   (no SRS/FDA of images the sampler already reproduced: a sample with IoU ≥ τ_match,
 *                           0.99, in D/bootstrap-T.jsonl)
 *        [--only-solved]   (the other half: SRS/FDA of those images only)
 *        [--train-elsewhere]   (each arm stops after its export, OUT/arm-NAME/train.json saying what to train:
 *                               training/device_train.py packs them for a leased GPU and brings the
 *                               models back into OUT/arm-NAME/model; the same command again then evaluates)
 * A further round (the paper iterates): --sampler DIR samples D's images with that model (e.g. the
 * previous round's OUT/arm-rej/model), tagging its SRS/FDA records T (default exp, the first
 * round's); --all-rounds trains on every round's SRS/FDA, not only T's; --rounds T1,T2 on those rounds'
 * (e.g. --rounds k16,r2: a second round that keeps the first round's SRS/FDA; per-image caps count
 * over all of them).
 * --init MODEL: every arm continues from MODEL's weights (e.g. models/compact: SFT vs GIFT as a
 * further round of the bundled model); --extra DIR: a training folder every arm also trains on.
 * --seed S trains every arm with seed S into OUT/arm-NAME-sS (seed 0: OUT/arm-NAME), sharing D and
 * its bootstrap, to measure how much of a difference between arms is the training seed.
 * Rerunning with the same OUT continues: each stage and arm is skipped once done.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { bootstrapLogFile, readBootstrapLog } from '../src/core/dataset/bootstrap';
import { openDataset } from '../src/core/dataset/store';
import { DEFAULT_THRESHOLDS } from '../src/core/dataset/thresholds';
import { type EvalReport, writeComparison } from '../src/core/evaluate/report';
import { generateProgram, mulberry32 } from '../src/core/model/synthetic';
import { KernelPool } from '../src/core/pool/pool';
import { CONFIG_IMAGE_SIZE, runRound } from '../src/core/round/round';
import { readPoolImages } from '../src/core/evaluate/inputs';

const ARMS: Record<string, { label: string; collections: string[]; fresh?: boolean }> = {
  sft: { label: 'SFT (D)', collections: ['sft'] },
  rej: { label: 'GIFT-REJ (D + SRS)', collections: ['sft', 'srs'] },
  fail: { label: 'GIFT-FAIL (D + FDA)', collections: ['sft', 'fda'] },
  gift: { label: 'GIFT (D + SRS + FDA)', collections: ['sft', 'srs', 'fda'] },
  fresh: { label: 'SFT + fresh pairs', collections: ['sft'], fresh: true },
};

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function main() {
  const out = path.resolve(process.argv[2] ?? '');
  if (!process.argv[2] || process.argv[2].startsWith('--')) throw new Error('usage: gift_experiment.ts OUT [options]');
  const root = path.join(__dirname, '..');
  const n = Number(option('n', '2000'));
  const k = Number(option('k', '4'));
  const config = option('config', 'tiny');
  const steps = Number(option('steps', '1500'));
  const evalK = Number(option('eval-k', '10'));
  const model = path.resolve(option('model', path.join(root, 'models', 'compact')));
  const evalInput = path.resolve(option('eval', path.join(root, 'test', 'fixtures', 'gencad-test100')));
  const evalLimit = process.argv.includes('--eval-limit') ? Number(option('eval-limit', '0')) : undefined;
  // The paper bootstraps with the SFT model itself: --sampler sft uses this run's SFT arm (trained first).
  const sampler = option('sampler', 'bundled');
  const fdaPerImage = process.argv.includes('--fda-per-image') ? Number(option('fda-per-image', '1')) : undefined;
  const srsPerImage = process.argv.includes('--srs-per-image') ? Number(option('srs-per-image', '1')) : undefined;
  const arms = option('arms', 'sft,gift,rej,fail,fresh').split(',');
  const seed = Number(option('seed', '0'));
  const fdaMinIou = process.argv.includes('--fda-min-iou') ? Number(option('fda-min-iou', '0')) : undefined;
  const suffix = process.argv.includes('--name-suffix') ? `-${option('name-suffix', '')}` : '';
  const init = process.argv.includes('--init') ? path.resolve(option('init', '')) : undefined;
  const lr = process.argv.includes('--lr') ? Number(option('lr', '0')) : undefined;
  const extra = process.argv.includes('--extra') ? path.resolve(option('extra', '')) : undefined;
  const roundTag = option('round-tag', 'exp');
  const temperature = Number(option('temperature', '0.8'));
  if (!(temperature > 0)) throw new Error(`--temperature ${option('temperature', '')}: expected a positive number`);
  const allRounds = process.argv.includes('--all-rounds');
  const skipSolved = process.argv.includes('--skip-solved');
  const onlySolved = process.argv.includes('--only-solved');
  if (skipSolved && onlySolved) throw new Error('--skip-solved and --only-solved exclude each other');
  const elsewhere = process.argv.includes('--train-elsewhere');
  const images = process.argv.includes('--images') ? await readPoolImages(option('images', '')) : undefined;
  const repeat = Number(option('repeat', '1'));
  if (!(Number.isInteger(repeat) && repeat >= 1)) throw new Error(`--repeat ${option('repeat', '')}: expected a whole number ≥ 1`);
  const rounds = process.argv.includes('--rounds') ? option('rounds', '').split(',').filter(Boolean) : undefined;
  if (sampler !== 'bundled' && sampler !== 'sft' && !fs.existsSync(path.join(path.resolve(sampler), 'model.json')))
    throw new Error(`--sampler ${sampler}: expected bundled, sft or a model folder (with model.json)`);
  const armDir = (arm: string) => path.join(out, `arm-${arm}${seed ? `-s${seed}` : ''}${suffix}`);
  const log = (line: string) => console.error(`${new Date().toISOString().slice(11, 19)} ${line}`);
  fs.mkdirSync(out, { recursive: true });
  const pool = new KernelPool({ workers: 2, timeoutMs: 30_000 });
  try {
    // D: generated pairs, seeded (rows already there are kept).
    const dataset = path.join(out, 'D');
    const ds = await openDataset(dataset, { create: !fs.existsSync(dataset) });
    const have = new Set((await ds.list('sft')).records.map((r) => r.id));
    const rng = mulberry32(20_261_204);
    for (let i = 0; i < n; i++) {
      const code = generateProgram(rng);
      const id = `d${String(i).padStart(5, '0')}`;
      if (have.has(id)) continue;
      const png = await pool.run('render.image', { shape: { kind: 'code', source: code } });
      if (png.ok) await ds.append({ id, collection: 'sft', image: png.value.png, code });
      if (i % 500 === 499) log(`D: ${i + 1}/${n}`);
    }
    const reports: EvalReport[] = [];
    const waiting: string[] = [];
    for (const arm of arms) {
      const spec = ARMS[arm];
      if (!spec) throw new Error(`unknown arm '${arm}': ${Object.keys(ARMS).join(', ')}`);
      const extraData: string[] = extra ? [extra] : [];
      if (spec.fresh) {
        // As many fresh generated pairs as GIFT added (its SRS + FDA records), with arrays.
        // What the GIFT arm actually trained on beyond D (after any per-image cap).
        const giftState = path.join(armDir('gift'), 'round.json');
        const sft = (await ds.list('sft')).records.length;
        const added = fs.existsSync(giftState)
          ? JSON.parse(fs.readFileSync(giftState, 'utf8')).exported.records - sft
          : (await ds.list('srs')).records.length + (await ds.list('fda')).records.length;
        const fresh = path.join(out, 'fresh');
        const size = CONFIG_IMAGE_SIZE[config];
        const made = spawnSync(
          process.execPath,
          ['--import', 'tsx', path.join(__dirname, 'make_dataset.ts'), fresh, String(added), '777', '--array', String(size), '--no-png'],
          { stdio: 'inherit' },
        );
        if (made.status !== 0) throw new Error('make_dataset.ts failed');
        extraData.push(fresh);
      }
      const variant = [
        roundTag !== 'exp' ? `round ${roundTag}${rounds ? ` (rounds ${rounds.join(' + ')})` : allRounds ? ', all rounds' : ''}` : '',
        seed ? `seed ${seed}` : '',
        fdaMinIou !== undefined ? `FDA IoU ≥ ${fdaMinIou}` : '',
        temperature !== 0.8 ? `sampled at T = ${temperature}` : '',
        skipSolved ? 'without images already solved' : '',
        srsPerImage !== undefined ? `SRS ≤ ${srsPerImage} per image` : '',
        images ? `source pool ${option('images', '')} (${images.length} images)` : '',
        repeat > 1 ? `its records ×${repeat}` : '',
        onlySolved ? 'only images already solved' : '',
      ]
        .filter(Boolean)
        .join(', ');
      const label = variant ? `${spec.label}, ${variant}` : spec.label;
      log(`arm ${arm}: ${label}`);
      const samplerModel =
        sampler === 'bundled' ? model : sampler === 'sft' ? (arm !== 'sft' ? path.join(out, 'arm-sft', 'model') : model) : path.resolve(sampler);
      if (elsewhere && spec.collections.some((c) => c !== 'sft') && !fs.existsSync(path.join(samplerModel, 'model.json'))) {
        log(`arm ${arm}: waits for its sampler ${samplerModel} (train it elsewhere first, bring it back, rerun)`);
        waiting.push(arm);
        continue;
      }
      const result = await runRound({
        dataset,
        out: armDir(arm),
        model: samplerModel,
        tag: roundTag,
        onlyThisRound: !allRounds,
        rounds,
        excludeSources: (skipSolved || onlySolved) && spec.collections.some((c) => c !== 'sft') ? bootstrapSources(dataset, roundTag, skipSolved) : undefined,
        perSource: fdaPerImage === undefined && srsPerImage === undefined ? undefined : { fda: fdaPerImage, srs: srsPerImage },
        minIou: fdaMinIou === undefined ? undefined : { fda: fdaMinIou },
        pool,
        images,
        repeat,
        samples: k,
        temperature,
        protocol: 'aligned',
        collections: spec.collections,
        extraData,
        train: { python: '/usr/bin/python3', config, steps, batchSize: 32, seed, init, lr, elsewhere },
        evaluation: { input: evalInput, samples: evalK, limit: evalLimit, label, skipBefore: true },
        log,
      });
      if (result.awaitingModel) {
        waiting.push(arm);
        continue;
      }
      reports.push(result.after!);
      writeComparison(seed || suffix ? path.join(out, `compare${seed ? `-s${seed}` : ''}${suffix}`) : out, reports);
    }
    if (waiting.length)
      log(
        `${waiting.join(', ')}: exported, to be trained elsewhere (training/device_train.py pack … OUT/arm-*); rerun without --train-elsewhere once their models are back`,
      );
    else log(`done: ${path.join(out, 'compare.md')}`);
  } finally {
    await pool.close();
  }
}

/** D's images the bootstrap of round `tag` solved (a sample with IoU ≥ τ_match), or those it did not. */
function bootstrapSources(dataset: string, tag: string, solved: boolean): Set<string> {
  const log = readBootstrapLog(dataset, tag);
  if (log.size === 0) throw new Error(`--skip-solved/--only-solved: ${bootstrapLogFile(dataset, tag)} holds no images yet (run the bootstrap first)`);
  return new Set([...log.values()].filter((s) => (s.bestIou ?? 0) >= DEFAULT_THRESHOLDS.match === solved).map((s) => s.id));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
