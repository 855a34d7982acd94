/** `gift dataset import|list|export|flag|move|remove …`: the GIFT dataset store from a terminal. */
import path from 'node:path';
import {
  checkFlag,
  DatasetError,
  DEFAULT_THRESHOLDS,
  exportDataset,
  formatWarning,
  importIntoDataset,
  openDataset,
  validateThresholds,
  type DatasetWarning,
  type ExportFormat,
  type IouThresholds,
} from '../../core/dataset';
import { parseCommandArgs, runAction, UsageError } from '../args';
import { errorMessage } from '../../core/errors';

const help = `usage: gift dataset <action> …

  import SRC --out DIR [--collection C] [--keep-collections] [--name NAME]
        import a GenCAD-Code samples.jsonl (images/ beside it) or a Hugging Face imagefolder
        (folder with metadata.jsonl: file_name, code) into collection C (default sft) of the
        dataset DIR, creating it when missing. Re-importing skips records already present.
        Exit code 1 when some source lines were skipped (each printed as FILE:LINE: why).
  list DIR [--collection C] [--json]
        collections and counts; with --collection the records; with --json one record per line
        ({id, collection, image, code, source, iou, protocol, model, created}; image relative to DIR)
  export DIR --format imagefolder|chat --out OUT [--collections sft,srs,fda]
        imagefolder: OUT/metadata.jsonl + images (datasets.load_dataset("imagefolder", data_dir=OUT));
        chat: OUT/chat.jsonl in the LLaVA / Qwen2.5-VL conversation format + OUT/images/
  flag DIR ID --to srs|fda [--force] [--thresholds LOW,VALID,MATCH]
        move a verified record into SRS (valid ≤ IoU < match) or FDA (low ≤ IoU < valid);
        refused with the reason when its IoU is outside the bucket, unless --force
        (default thresholds ${DEFAULT_THRESHOLDS.low},${DEFAULT_THRESHOLDS.valid},${DEFAULT_THRESHOLDS.match})
  move DIR ID --to C        move a record to any collection
  remove DIR ID             remove a record

Read problems (corrupt manifest lines) are printed as FILE:LINE: message on stderr.`;

export function datasetCommand(argv: string[]): Promise<number> {
  return runAction('dataset', argv, actions, help);
}

const actions: Record<string, (argv: string[]) => Promise<number>> = {
  import: importAction,
  list: listAction,
  export: exportAction,
  flag: flagAction,
  move: moveAction,
  remove: removeAction,
};

function printWarnings(warnings: DatasetWarning[]): void {
  for (const w of warnings) console.error(formatWarning(w));
}

function onePositional(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected ${what}, got ${positionals.length ? positionals.join(' ') : 'nothing'}\n\n${help}`);
  return positionals[0];
}

async function importAction(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { out: { type: 'string' }, collection: { type: 'string' }, 'keep-collections': { type: 'boolean' }, name: { type: 'string' } },
    help,
  );
  const src = onePositional(positionals, 'one SRC (a samples.jsonl or an imagefolder folder)');
  if (!values.out) throw new UsageError(`--out DIR (the dataset folder) is required\n\n${help}`);
  const ds = await openDataset(values.out, { create: true, name: values.name });
  const report = await importIntoDataset(ds, src, { collection: values.collection, keepCollections: values['keep-collections'] });
  printWarnings(report.warnings);
  const target = values['keep-collections'] ? 'the collections named in the source' : (values.collection ?? 'sft');
  console.log(
    `imported ${report.imported} of ${report.total} records (${report.format}) from ${report.file} into ${target} of ${ds.dir}` +
      (report.skipped ? `; ${report.skipped} already present` : '') +
      (report.warnings.length ? `; ${report.warnings.length} lines skipped (see above)` : ''),
  );
  return report.warnings.length ? 1 : 0;
}

async function listAction(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { collection: { type: 'string' }, json: { type: 'boolean' } }, help);
  const ds = await openDataset(onePositional(positionals, 'one dataset folder'));
  const { records, warnings } = await ds.list(values.collection);
  printWarnings(warnings);
  if (values.json) {
    for (const r of records) console.log(JSON.stringify(r));
    return 0;
  }
  if (values.collection === undefined) {
    console.log(`${ds.info.name} (${ds.dir}), schema ${ds.info.schema}`);
    for (const c of await ds.collections()) console.log(`  ${c.name.padEnd(16)} ${String(c.count).padStart(8)}`);
    return 0;
  }
  for (const r of records) {
    const iou = r.iou === null ? '-' : r.iou.toFixed(4);
    console.log(`${r.id}\t${iou}\t${r.source ?? '-'}\t${r.model ?? '-'}\t${r.image}`);
  }
  return 0;
}

async function exportAction(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { format: { type: 'string' }, out: { type: 'string' }, collections: { type: 'string' } }, help);
  const dir = onePositional(positionals, 'one dataset folder');
  if (values.format !== 'imagefolder' && values.format !== 'chat') {
    throw new UsageError(`--format must be imagefolder or chat${values.format ? `, got '${values.format}'` : ''}\n\n${help}`);
  }
  if (!values.out) throw new UsageError(`--out OUT is required\n\n${help}`);
  const collections = values.collections
    ?.split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (collections && collections.length === 0) throw new UsageError('--collections is empty');
  const ds = await openDataset(dir);
  const report = await exportDataset(ds, { format: values.format as ExportFormat, out: values.out, collections });
  printWarnings(report.warnings);
  const mix = Object.entries(report.byCollection)
    .map(([c, n]) => `${c} ${n}`)
    .join(', ');
  console.log(`exported ${report.records} records (${mix}) to ${report.file}`);
  return 0;
}

function parseThresholds(text: string | undefined): IouThresholds {
  if (text === undefined) return { ...DEFAULT_THRESHOLDS };
  const parts = text.split(',').map(Number);
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p))) {
    throw new UsageError(`--thresholds must be three numbers LOW,VALID,MATCH, got '${text}'`);
  }
  const t = { low: parts[0], valid: parts[1], match: parts[2] };
  try {
    validateThresholds(t);
  } catch (e) {
    throw new UsageError(`--thresholds: ${errorMessage(e)}`);
  }
  return t;
}

function twoPositionals(positionals: string[]): [string, string] {
  if (positionals.length !== 2) throw new UsageError(`expected DIR ID, got ${positionals.join(' ') || 'nothing'}\n\n${help}`);
  return [positionals[0], positionals[1]];
}

async function flagAction(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { to: { type: 'string' }, force: { type: 'boolean' }, thresholds: { type: 'string' } }, help);
  const [dir, id] = twoPositionals(positionals);
  if (values.to !== 'srs' && values.to !== 'fda') throw new UsageError(`--to must be srs or fda\n\n${help}`);
  const thresholds = parseThresholds(values.thresholds);
  const ds = await openDataset(dir);
  const record = await ds.get(id);
  if (!record) throw new DatasetError(`no record '${id}' in ${ds.dir}`);
  const check = checkFlag(values.to, record.iou, thresholds, values.force ?? false);
  if (!check.allowed) {
    console.error(`gift dataset flag: refused: ${id}: ${check.reason} (use --force to flag it anyway)`);
    return 1;
  }
  if (check.forced) console.error(`gift dataset flag: forced: ${id}: ${check.reason}`);
  const moved = await ds.move(id, values.to);
  console.log(`${moved.id}: ${record.collection} → ${moved.collection}`);
  return 0;
}

async function moveAction(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { to: { type: 'string' } }, help);
  const [dir, id] = twoPositionals(positionals);
  if (!values.to) throw new UsageError(`--to COLLECTION is required\n\n${help}`);
  const ds = await openDataset(dir);
  const before = await ds.get(id);
  const moved = await ds.move(id, values.to);
  console.log(`${moved.id}: ${before?.collection} → ${moved.collection}`);
  return 0;
}

async function removeAction(argv: string[]): Promise<number> {
  const { positionals } = parseCommandArgs(argv, {}, help);
  const [dir, id] = twoPositionals(positionals);
  const ds = await openDataset(dir);
  const removed = await ds.remove(id);
  console.log(`removed ${removed.id} from ${removed.collection} (${path.join(ds.dir, 'collections', `${removed.collection}.jsonl`)})`);
  return 0;
}
