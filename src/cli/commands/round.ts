/**
 * `gift round DATASET --model DIR --out DIR [options]`: one GIFT round on this machine — bootstrap
 * the dataset's sft images with the model, export sft + SRS + FDA, train train_bundled.py on it,
 * and measure the new model beside the old one. Resumable: a rerun continues where it stopped.
 */
import path from 'node:path';
import { DEFAULT_THRESHOLDS } from '../../core/dataset/thresholds';
import { ClusterConnection, loadProfile } from '../../core/train';
import { runRound } from '../../core/round/round';
import { readPoolImages } from '../../core/evaluate/inputs';
import { KernelPool } from '../../core/pool/pool';
import { intOption, parseCommandArgs, stringOptions, UsageError } from '../args';
import { protocolOption } from './iou';
import { DEFAULT_BUCKET_PROTOCOL } from '../../core/geometry/protocols';
import { clusterOptions, connectOptions, openStore } from './train';

const help = `usage: gift round DATASET --model DIR --out DIR [options]

One GIFT round: K samples per sft image of DATASET from --model, verified by IoU (SRS and FDA
records tagged with the round), then sft + SRS + FDA exported with the bundled tokenizer's ids and
preprocessed image arrays, training/train_bundled.py trained on them into OUT/model, and (with
--eval) the new and the previous model measured as gift eval does (OUT/compare/compare.md).
A rerun with the same --out continues where the last one stopped.
  --samples K          samples per image (default 8)
  --temperature T      sampling temperature (default 0.8)
  --protocol P         IoU protocol (default aligned-robust; aligned for the paper's numbers)
  --low/--valid/--match  bucket thresholds (default 0.5 / 0.9 / 0.99)
  --pool N             sample only the first N sft images (default all)
  --images INPUT       sample these images instead of DATASET's sft images, read as gift eval reads them
                       (e.g. a JSONL of {id, image, reference: a .step}): real images without code give
                       SRS and, where the model matches the part (IoU ≥ --match), an sft pair; no FDA
  --repeat N           each of the round's own records appears N times in training (default 1)
  --collections LIST   what to train on (default sft,srs,fda; sft,srs = GIFT-REJ, sft,fda = GIFT-FAIL, sft = SFT)
  --tag NAME           the round's name on its records (default: the --out folder's name)
  --srs-per-image N, --fda-per-image N   at most N SRS / FDA records per source image in training
  --fda-min-iou X      only FDA records with IoU ≥ X (the nearer misses) in training
  --extra DIR          another training folder (imagefolder + arrays), repeatable: e.g. fresh generated pairs
  --config C           tiny, compact (default), small or base
  --init MODEL         continue from this model's weights (a bundled model folder or a .pt) instead of training
                       from scratch, e.g. --init models/compact: the round refines the model that sampled
  --steps N            optimizer steps (default 2000)
  --batch-size N       (default 32)   --seed N (default 0)   --max-minutes M
  --lr X               peak learning rate (default the config's; a lower one suits --init, e.g. 2e-4)
  --python PATH        the Python with torch (default /usr/bin/python3)
  --train-elsewhere    stop after the export (OUT/train.json says what to train); train it on a leased GPU
                       with training/device_train.py, which brings the model back to OUT/model; the same
                       command again then evaluates
  --profile FILE       train on this Slurm cluster over SSH (gift train's profile) instead of here; the
                       export, --extra folders and the --init model go up, the model comes back; a rerun
                       follows the same job   (--state FILE, --passphrase-env VAR, --accept-host-key FP)
  --eval INPUT         measure the old and the new model on a gift eval INPUT
  --eval-samples K     (default 4)    --eval-limit N
  --workers N          kernel worker threads (default 2)   --timeout MS (default 30000)`;

export async function roundCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      ...stringOptions(
        'model',
        'out',
        'samples',
        'temperature',
        'protocol',
        'low',
        'valid',
        'match',
        'pool',
        'collections',
        'tag',
        'config',
        'steps',
        'images',
        'repeat',
      ),
      ...stringOptions(
        'batch-size',
        'seed',
        'max-minutes',
        'lr',
        'python',
        'eval',
        'eval-samples',
        'eval-limit',
        'workers',
        'timeout',
        'srs-per-image',
        'fda-per-image',
        'init',
        'fda-min-iou',
      ),
      extra: { type: 'string', multiple: true },
      'train-elsewhere': { type: 'boolean' },
      ...clusterOptions,
    },
    help,
  );
  if (positionals.length !== 1) throw new UsageError(`expected one DATASET folder\n\n${help}`);
  if (!values.model) throw new UsageError(`--model DIR is required (the model that samples)\n\n${help}`);
  if (!values.out) throw new UsageError(`--out DIR is required\n\n${help}`);
  const positiveLr = (lr: number) => {
    if (!(lr > 0)) throw new UsageError(`--lr must be a positive learning rate, got ${lr}`);
    return lr;
  };
  const number = (name: string, v: string | undefined, fallback: number) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${v}'`);
    return n;
  };
  const pool = new KernelPool({ workers: intOption('workers', values.workers, 2), timeoutMs: intOption('timeout', values.timeout, 30_000) });
  let cluster: Parameters<typeof runRound>[0]['cluster'];
  if (values.profile) {
    const profileFile = path.resolve(values.profile);
    const profile = loadProfile(profileFile);
    cluster = { conn: await ClusterConnection.open(profile, connectOptions(values)), store: openStore(values), profile, profileFile };
  }
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  try {
    const result = await runRound({
      dataset: positionals[0],
      out: values.out,
      model: values.model,
      tag: values.tag,
      pool,
      samples: intOption('samples', values.samples, 8),
      temperature: number('temperature', values.temperature, 0.8),
      protocol: protocolOption(values.protocol, DEFAULT_BUCKET_PROTOCOL),
      thresholds: {
        low: number('low', values.low, DEFAULT_THRESHOLDS.low),
        valid: number('valid', values.valid, DEFAULT_THRESHOLDS.valid),
        match: number('match', values.match, DEFAULT_THRESHOLDS.match),
      },
      poolLimit: values.pool === undefined ? undefined : intOption('pool', values.pool, 1),
      images: values.images === undefined ? undefined : await readPoolImages(values.images),
      repeat: intOption('repeat', values.repeat, 1),
      collections: (values.collections ?? 'sft,srs,fda').split(',').map((c) => c.trim()),
      extraData: values.extra,
      cluster,
      minIou: values['fda-min-iou'] === undefined ? undefined : { fda: number('fda-min-iou', values['fda-min-iou'], 0) },
      perSource: {
        srs: values['srs-per-image'] === undefined ? undefined : intOption('srs-per-image', values['srs-per-image'], 0, 0),
        fda: values['fda-per-image'] === undefined ? undefined : intOption('fda-per-image', values['fda-per-image'], 0, 0),
      },
      train: {
        python: values.python ?? '/usr/bin/python3',
        config: values.config ?? 'compact',
        steps: intOption('steps', values.steps, 2000),
        batchSize: intOption('batch-size', values['batch-size'], 32),
        seed: intOption('seed', values.seed, 0, 0),
        maxMinutes: values['max-minutes'] === undefined ? undefined : number('max-minutes', values['max-minutes'], 0),
        init: values.init,
        lr: values.lr === undefined ? undefined : positiveLr(number('lr', values.lr, 0)),
        elsewhere: values['train-elsewhere'] === true,
      },
      evaluation: values.eval
        ? {
            input: values.eval,
            samples: intOption('eval-samples', values['eval-samples'], 4),
            limit: values['eval-limit'] ? intOption('eval-limit', values['eval-limit'], 1) : undefined,
          }
        : undefined,
      signal: abort.signal,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    const b = result.bootstrap;
    if (result.awaitingModel) {
      console.log(
        `round exported: ${b ? `bootstrap +${b.srs} SRS, +${b.fda} FDA; ` : ''}${result.records} training records; train ${path.join(values.out, 'train.json')} elsewhere (training/device_train.py pack/run/finish), then rerun`,
      );
      return 0;
    }
    console.log(`round done: ${b ? `bootstrap +${b.srs} SRS, +${b.fda} FDA; ` : ''}${result.records} training records; model ${result.model}`);
    if (result.before && result.after) {
      const k = String(result.after.setting.samples);
      console.log(
        `pass@1 ${result.before.pass_at_k[1].toFixed(3)} → ${result.after.pass_at_k[1].toFixed(3)}, pass@${k} ${result.before.pass_at_k[k].toFixed(3)} → ${result.after.pass_at_k[k].toFixed(3)}`,
      );
    }
    return 0;
  } catch (e) {
    if (abort.signal.aborted) {
      console.error('gift round: stopped; rerun with the same --out to continue');
      return 130;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    cluster?.conn.close();
    await pool.close();
  }
}
