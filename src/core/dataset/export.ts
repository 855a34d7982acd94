/**
 * Exports chosen collections of a dataset for training, with relative paths only:
 *  - imagefolder: OUT/metadata.jsonl ({file_name, code, id, collection, source, iou, protocol,
 *    model}) with each record's image beside it as <id>.<ext>; loads with
 *    datasets.load_dataset("imagefolder", data_dir=OUT).
 *  - chat: OUT/chat.jsonl with images in OUT/images/<id>.<ext>, one LLaVA-style conversation per
 *    record (see CHAT_PROMPT and chatLine).
 * Images are one file per record, not per content hash: records often share an image (SRS variants
 * of one sft image) and imagefolder loaders key metadata rows by file name.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './files';
import { mapLimit, type Dataset } from './store';
import { DatasetError, DEFAULT_COLLECTIONS, validateCollectionName, type DatasetRecord, type DatasetWarning } from './types';
import { IMAGE_TO_CAD_PROMPT } from '../model/prompt';

export type ExportFormat = 'imagefolder' | 'chat';

/** The human turn's instruction: the one prompt inference sends too (model/prompt.ts). */
export const CHAT_PROMPT = IMAGE_TO_CAD_PROMPT;

export interface ExportOptions {
  format: ExportFormat;
  /** Output folder; must be missing or empty. */
  out: string;
  /** Collections to mix, in this order (default sft, srs, fda: those that exist). */
  collections?: string[];
  /** Chat format only: the human turn's instruction (default CHAT_PROMPT). */
  prompt?: string;
  /** Only the records this accepts (a GIFT round exports its own SRS/FDA records). */
  filter?: (record: DatasetRecord) => boolean;
}

export interface ExportReport {
  format: ExportFormat;
  /** The manifest written (metadata.jsonl or chat.jsonl), absolute. */
  file: string;
  records: number;
  byCollection: Record<string, number>;
  /** Problems reading the dataset (corrupt lines are skipped, not exported). */
  warnings: DatasetWarning[];
}

export interface ChatLine {
  id: string;
  image: string;
  conversations: [{ from: 'human'; value: string }, { from: 'gpt'; value: string }];
}

/**
 * The LLaVA / Qwen2.5-VL fine-tuning conversation format (LLaVA's train.py and Qwen2.5-VL's
 * qwen-vl-finetune both read {id, image, conversations:[{from:'human', value:'<image>\n…'},
 * {from:'gpt', value}]}, `image` relative to the image folder), which is what CAD-Coder trains on.
 */
export function chatLine(id: string, image: string, code: string, prompt = CHAT_PROMPT): ChatLine {
  return {
    id,
    image,
    conversations: [
      { from: 'human', value: `<image>\n${prompt}` },
      { from: 'gpt', value: code },
    ],
  };
}

const TOKEN_PATTERN = /\b(hf_[A-Za-z0-9]{16,}|sk-[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{16,}|xox[abp]-[A-Za-z0-9-]{10,})\b/g;

/**
 * Keeps local paths and secrets out of exported metadata: absolute paths become their file name,
 * URLs lose credentials, query and fragment, and token-like strings are redacted.
 */
export function scrubForExport(value: string | null): string | null {
  if (value === null) return null;
  let v = value.replace(TOKEN_PATTERN, '[redacted]');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) {
    try {
      const url = new URL(v);
      if (url.protocol === 'file:') return path.posix.basename(url.pathname);
      url.username = '';
      url.password = '';
      url.search = '';
      url.hash = '';
      return url.toString();
    } catch {
      // not a URL after all
    }
  }
  if (v.startsWith('/') || v.startsWith('~') || v.startsWith('\\') || /^[A-Za-z]:[\\/]/.test(v)) {
    v = v.split(/[\\/]/).filter(Boolean).pop() ?? '';
  }
  return v;
}

export async function exportDataset(ds: Dataset, options: ExportOptions): Promise<ExportReport> {
  if (options.format !== 'imagefolder' && options.format !== 'chat') {
    throw new DatasetError(`unknown export format '${options.format}' (use imagefolder or chat)`);
  }
  const out = path.resolve(options.out);
  await ensureEmptyFolder(out);
  const available = (await ds.collections()).map((c) => c.name);
  let chosen: string[];
  if (options.collections) {
    chosen = [...new Set(options.collections)];
    for (const name of chosen) {
      validateCollectionName(name);
      if (!available.includes(name)) throw new DatasetError(`no collection '${name}' in ${ds.dir} (it has: ${available.join(', ')})`);
    }
  } else {
    chosen = DEFAULT_COLLECTIONS.filter((c) => available.includes(c));
  }

  const records: DatasetRecord[] = [];
  const warnings: DatasetWarning[] = [];
  const byCollection: Record<string, number> = {};
  for (const name of chosen) {
    const result = await ds.list(name);
    const kept = options.filter ? result.records.filter(options.filter) : result.records;
    records.push(...kept);
    warnings.push(...result.warnings);
    byCollection[name] = kept.length;
  }

  const imageDir = options.format === 'chat' ? path.join(out, 'images') : out;
  await fs.mkdir(imageDir, { recursive: true });
  const exported = await mapLimit(records, 8, async (r) => {
    const fileName = `${r.id}${path.extname(r.image)}`;
    await fs.copyFile(ds.imagePath(r), path.join(imageDir, fileName), fs.constants.COPYFILE_FICLONE);
    return options.format === 'chat' ? `images/${fileName}` : fileName;
  });

  const lines = records.map((r, i) =>
    JSON.stringify(
      options.format === 'chat'
        ? chatLine(r.id, exported[i], r.code, options.prompt)
        : {
            file_name: exported[i],
            code: r.code,
            id: r.id,
            collection: r.collection,
            source: scrubForExport(r.source),
            iou: r.iou,
            protocol: scrubForExport(r.protocol),
            model: scrubForExport(r.model),
          },
    ),
  );
  // Written last, atomically: an interrupted export has no manifest rather than a partial one.
  const file = path.join(out, options.format === 'chat' ? 'chat.jsonl' : 'metadata.jsonl');
  await writeFileAtomic(file, lines.length ? `${lines.join('\n')}\n` : '');
  return { format: options.format, file, records: records.length, byCollection, warnings };
}

async function ensureEmptyFolder(dir: string): Promise<void> {
  try {
    const entries = await fs.readdir(dir);
    if (entries.length > 0) throw new DatasetError(`${dir} is not empty; export into a new or empty folder`);
  } catch (e) {
    if (e instanceof DatasetError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new DatasetError(`${dir} is a file, not a folder`);
    if (code !== 'ENOENT') throw e;
    await fs.mkdir(dir, { recursive: true });
  }
}
