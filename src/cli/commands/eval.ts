/**
 * `gift eval INPUT [--samples K] [--model DIR | --backend openai --endpoint URL] [--out DIR] [--json]`
 * `gift eval compare A/report.json B/report.json … [--out DIR]`
 * The paper's measurement as a command: K samples per image from one warm backend, each run,
 * ranked without ground truth and verified by IoU against it; pass@k, ranked@k, VSR and the gap,
 * under the main protocol and, from the same jobs, the paper's `aligned` and `aligned-robust`.
 * With --out it is resumable: every finished image is one line of DIR/per_image.jsonl, and a rerun
 * with the same setting skips them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../../core/errors';
import { companionProtocols, evaluateImages } from '../../core/evaluate/evaluate';
import { readEvalInput } from '../../core/evaluate/inputs';
import type { ImageResult } from '../../core/evaluate/metrics';
import { buildReport, compareMarkdown, readReport, writeComparison, writeReport, type EvalSetting } from '../../core/evaluate/report';
import { DEFAULT_SAMPLING_TEMPERATURE } from '../../core/generate';
import { BACKEND_HELP, BACKEND_OPTIONS, backendSpec, createBackend } from '../backend-options';
import { KernelPool } from '../../core/pool/pool';
import { intOption, parseCommandArgs, UsageError, stringOptions } from '../args';
import { protocolOption } from './iou';

const help = `usage: gift eval INPUT [options]
       gift eval compare REPORT.json REPORT.json … [--out DIR]

INPUT: a GenCAD samples.jsonl (image + ground_truth; a STEP in gt_steps/<id>.step is the reference
when there is one) or its folder, a GIFT dataset folder (--collection, default sft), or a JSONL of
{"id", "image", "reference"} (reference: a .py/.step/.stl path or CadQuery code).
  --samples K       samples per image (default 10)
${BACKEND_HELP}
  --protocol P      IoU protocol of the main rows and per_image ious (default aligned, the paper's);
                    aligned and aligned-robust are measured in the same job too (rows "· protocol")
  --reference R     GenCAD input: step (default when present) or code
  --temperature T   sampling temperature (default ${DEFAULT_SAMPLING_TEMPERATURE}; K = 1 and T unset: greedy)
  --seed N          sampling seed, the same for every image (default 0)
  --limit N         the first N images only
  --label NAME      the report's name for the model (default: the backend's provenance)
  --workers N       kernel worker threads (default 2)
  --timeout MS      per-sample kernel limit (default 30000)
  --out DIR         write report.json, report.md, plots; resumable through DIR/per_image.jsonl
  --json            print the report as one JSON object
Prints the paper's tables. Exit code 0 when every image was evaluated.`;

const LOG = 'per_image.jsonl';
const SETTING = 'setting.json';

export async function evalCommand(argv: string[]): Promise<number> {
  if (argv[0] === 'compare') return compareCommand(argv.slice(1));
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      ...stringOptions('samples', 'protocol', 'reference', 'collection', 'temperature', 'seed', 'limit', 'label', 'workers', 'timeout', 'out'),
      ...BACKEND_OPTIONS,
      json: { type: 'boolean' },
    },
    help,
  );
  if (positionals.length !== 1) throw new UsageError(`expected one INPUT\n\n${help}`);
  const samples = intOption('samples', values.samples, 10);
  if (samples > 64) throw new UsageError(`--samples must be at most 64, got ${samples}`);
  const protocol = protocolOption(values.protocol);
  const reference = values.reference ?? 'auto';
  if (!['auto', 'step', 'code'].includes(reference)) throw new UsageError(`--reference must be step or code, got '${reference}'`);
  const temperature = values.temperature === undefined ? (samples > 1 ? DEFAULT_SAMPLING_TEMPERATURE : 0) : Number(values.temperature);
  if (!Number.isFinite(temperature) || temperature < 0 || temperature > 2)
    throw new UsageError(`--temperature must be a number from 0 to 2, got '${values.temperature}'`);
  const seed = intOption('seed', values.seed, 0, 0);
  const limit = values.limit === undefined ? undefined : intOption('limit', values.limit, 1);
  const spec = backendSpec(values);

  const input = await readEvalInput(positionals[0], { collection: values.collection, reference: reference as 'auto' | 'step' | 'code' });
  const items = limit === undefined ? input.items : input.items.slice(0, limit);
  const backend = createBackend(spec);
  const setting: EvalSetting = {
    label: values.label ?? backend.name,
    model: backend.name,
    input: positionals[0],
    samples,
    protocol,
    reference: input.referenceKind,
    temperature,
    seed,
  };

  // Resuming: the log's lines count only when they were made with the same setting.
  const done = new Map<string, ImageResult>();
  let log: number | undefined;
  if (values.out) {
    fs.mkdirSync(values.out, { recursive: true });
    const settingFile = path.join(values.out, SETTING);
    const { label: _label, ...comparable } = setting;
    if (fs.existsSync(settingFile)) {
      const { label: _old, ...previous } = JSON.parse(fs.readFileSync(settingFile, 'utf8')) as EvalSetting;
      if (JSON.stringify(previous) !== JSON.stringify(comparable)) {
        throw new UsageError(`${values.out} holds an evaluation with another setting (${JSON.stringify(previous)}); use another --out`);
      }
      // Images logged before the other protocols were measured are evaluated again (the same samples: same seed).
      const also = companionProtocols(protocol);
      for (const r of readLog(path.join(values.out, LOG))) {
        if (also.every((p) => r.error || r.iousByProtocol?.[p]?.length === r.ious.length)) done.set(r.id, r);
      }
    }
    fs.writeFileSync(settingFile, `${JSON.stringify(setting, null, 1)}\n`);
    log = fs.openSync(path.join(values.out, LOG), 'a');
  }

  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  const pool = new KernelPool({ workers: intOption('workers', values.workers, 2), timeoutMs: intOption('timeout', values.timeout, 30_000) });
  const started = performance.now();
  const skipped = items.filter((it) => done.has(it.id)).length;
  let finished = skipped;
  let results: ImageResult[];
  try {
    results = await evaluateImages(
      items,
      {
        backend,
        pool,
        samples,
        protocol,
        temperature,
        seed,
        signal: abort.signal,
        onResult: (r) => {
          if (log !== undefined) {
            fs.writeSync(log, `${JSON.stringify(r)}\n`);
            fs.fsyncSync(log);
          }
          finished++;
          const best = Math.max(0, ...r.ious);
          const others = Object.entries(r.iousByProtocol ?? {}).map(
            ([p, ious]) => `; ${p}: first ${ious[0]?.toFixed(3) ?? '—'}, best ${Math.max(0, ...ious).toFixed(3)}`,
          );
          process.stderr.write(
            `eval: ${finished}/${items.length} ${r.id}: first ${r.ious[0]?.toFixed(3) ?? '—'}, best ${best.toFixed(3)}${others.join('')}${r.error ? ` (${r.error})` : ''}\n`,
          );
        },
      },
      done,
    );
  } catch (e) {
    if (abort.signal.aborted) {
      console.error(`gift eval: cancelled after ${finished}/${items.length} images${values.out ? `; rerun with the same --out to continue` : ''}`);
      return 130;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    if (log !== undefined) fs.closeSync(log);
    await backend.close?.();
    await pool.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const report = buildReport(setting, results, skipped ? Number.NaN : seconds);
  if (values.out) writeReport(values.out, report);
  if (values.json) console.log(JSON.stringify(report));
  else console.log(compareMarkdown([report]));
  return results.some((r) => r.error) ? 1 : 0;
}

function readLog(file: string): ImageResult[] {
  if (!fs.existsSync(file)) return [];
  const out: ImageResult[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as ImageResult;
      if (typeof r.id === 'string' && Array.isArray(r.ious)) out.push(r);
    } catch {
      // A torn last line from a killed run: that image is simply evaluated again.
    }
  }
  return out;
}

async function compareCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { out: { type: 'string' } }, help);
  if (positionals.length < 1) throw new UsageError(`expected one or more REPORT.json\n\n${help}`);
  const reports = positionals.map((file) => {
    try {
      return readReport(file);
    } catch (e) {
      throw new UsageError(errorMessage(e));
    }
  });
  if (values.out) writeComparison(values.out, reports);
  console.log(compareMarkdown(reports));
  return 0;
}
