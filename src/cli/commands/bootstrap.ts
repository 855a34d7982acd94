/**
 * `gift bootstrap DIR --samples K [--limit N] [--shard i/N] [--backend onnx|openai] …`
 * The GIFT data engine over a dataset folder: see core/dataset/bootstrap.ts.
 */
import fs from 'node:fs';
import { bootstrap, parseShard, type Shard } from '../../core/dataset/bootstrap';
import { readPoolImages } from '../../core/evaluate/inputs';
import { openDataset } from '../../core/dataset';
import { DEFAULT_THRESHOLDS, validateThresholds, type IouThresholds } from '../../core/dataset/thresholds';
import { KernelPool } from '../../core/pool/pool';
import { backendSpec, createBackend, BACKEND_OPTIONS } from '../backend-options';
import { intOption, parseCommandArgs, UsageError, stringOptions } from '../args';
import { protocolOption } from './iou';
import { DEFAULT_BUCKET_PROTOCOL } from '../../core/geometry/protocols';
import { errorMessage } from '../../core/errors';

const help = `usage: gift bootstrap DIR --samples K [--images INPUT] [--tag T] [--limit N] [--shard i/N] [--backend onnx|openai]
                      [--endpoint URL] [--model NAME] [--protocol P] [--low 0.5] [--valid 0.9] [--match 0.99]

For each sft sample of the dataset in DIR: sample K programs from the model, verify each by IoU
against the ground truth, and add SRS (valid ≤ IoU < match: original image, generated code) and
FDA (low ≤ IoU < valid: the program rendered in the dataset's style, ground-truth code) records.
--images INPUT samples these images instead, read as gift eval reads them (a GenCAD samples.jsonl
or its folder, a dataset folder, or a JSONL of {id, image, reference}); their records go into DIR
(created when missing).
A reference without code (a .step or .stl) gives SRS only: its near misses are counted, not kept,
and its best program at or above --match becomes an sft pair (the image has none).
Resumable: a rerun skips samples already done (DIR/bootstrap.jsonl, or bootstrap-T.jsonl with --tag T). --shard i/N (0 ≤ i < N)
takes every N-th sample, for Slurm job arrays. --protocol: aligned-robust by default (the same
shape from two sources scores ≈1); aligned is the paper's protocol. The API key for --backend
openai comes from env GIFT_API_KEY.`;

function threshold(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${value}'`);
  return n;
}

export async function bootstrapCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      ...stringOptions('samples', 'images', 'tag', 'limit', 'shard', 'protocol', 'low', 'valid', 'match', 'workers', 'timeout', 'temperature'),
      ...BACKEND_OPTIONS,
    },
    help,
  );
  if (positionals.length !== 1) throw new UsageError(`expected one dataset folder DIR\n\n${help}`);
  const [dir] = positionals;
  // With --images the records may start a new dataset; without, DIR's own sft pairs are the pool.
  if (!fs.existsSync(dir) && values.images === undefined) throw new UsageError(`${dir}: no such dataset folder`);
  if (values.samples === undefined) throw new UsageError(`--samples K is required\n\n${help}`);
  const samples = intOption('samples', values.samples, 1);
  const limit = values.limit === undefined ? undefined : intOption('limit', values.limit, 1);
  let shard: Shard | undefined;
  try {
    shard = values.shard ? parseShard(values.shard) : undefined;
  } catch (e) {
    throw new UsageError(errorMessage(e));
  }
  const thresholds: IouThresholds = {
    low: threshold('low', values.low, DEFAULT_THRESHOLDS.low),
    valid: threshold('valid', values.valid, DEFAULT_THRESHOLDS.valid),
    match: threshold('match', values.match, DEFAULT_THRESHOLDS.match),
  };
  try {
    validateThresholds(thresholds);
  } catch (e) {
    throw new UsageError(errorMessage(e));
  }
  const protocol = protocolOption(values.protocol, DEFAULT_BUCKET_PROTOCOL);
  const temperature = values.temperature === undefined ? undefined : Number(values.temperature);
  const source = values.images === undefined ? undefined : await readPoolImages(values.images);
  const backend = createBackend(backendSpec(values));

  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  const pool = new KernelPool({ workers: intOption('workers', values.workers, 2), timeoutMs: intOption('timeout', values.timeout, 30_000) });
  const ds = await openDataset(dir, { create: values.images !== undefined });
  try {
    const summary = await bootstrap(ds, {
      pool,
      backend,
      samples,
      temperature,
      limit,
      shard,
      source,
      tag: values.tag,
      thresholds,
      protocol,
      signal: abort.signal,
      onProgress: (p) => {
        const last = p.last
          ? ` (${p.last.id}: ${p.last.valid}/${p.last.distinct} ran, best IoU ${p.last.bestIou?.toFixed(3) ?? '—'}${p.last.error ? `, ${p.last.error}` : ''})`
          : '';
        process.stderr.write(`bootstrap: ${p.done}/${p.total}, srs ${p.srs}, fda ${p.fda}${last}\n`);
      },
    });
    console.log(
      `${summary.cancelled ? 'cancelled' : 'done'}: ${summary.done}/${summary.total} samples (${summary.skipped} from an earlier run), ` +
        `+${summary.srs} srs, +${summary.fda} fda${summary.matched ? `, +${summary.matched} sft (images without code, matched)` : ''}${summary.nearMisses ? ` (${summary.nearMisses} near misses without ground-truth code: no fda)` : ''}, ${Number.isFinite(summary.validRate) ? (summary.validRate * 100).toFixed(1) : '—'}% of sampled programs ran`,
    );
    return summary.cancelled ? 130 : 0;
  } finally {
    await backend.close?.();
    await pool.close();
  }
}
