/** The GIFT dataset's record model, names and validation (no I/O). */
import { UserError } from '../errors';

/** The folder's schema version, stored in DIR/dataset.json; bump it when the layout changes. */
export const DATASET_SCHEMA = 1;

/** Collections every dataset starts with: base pairs, and the two kinds the GIFT loop adds. */
export const DEFAULT_COLLECTIONS = ['sft', 'srs', 'fda'] as const;

export interface DatasetInfo {
  schema: number;
  name: string;
  created: string;
}

/** One image–code pair as stored (one JSONL line in DIR/collections/<collection>.jsonl). */
export interface DatasetRecord {
  /** Unique across the whole dataset. */
  id: string;
  collection: string;
  /** Relative to the dataset folder: images/<content hash>.<ext>. */
  image: string;
  code: string;
  /** The sft id this pair was derived from; null for base pairs. */
  source: string | null;
  /** IoU of this code's solid against the source's, when verified. */
  iou: number | null;
  /** The IoU protocol used (see core/geometry/protocols). */
  protocol: string | null;
  /** The model that sampled the code, when one did. */
  model: string | null;
  /** ISO 8601 time the record was first added. */
  created: string;
}

/** What callers hand to append: the dataset fills in id, created and the stored image. */
export interface NewRecord {
  id?: string;
  collection: string;
  /**
   * An image file path (absolute or relative to the process cwd), an image already stored in this
   * dataset ('images/<hash>.png', e.g. another record's `image`), or the image bytes.
   */
  image: string | Uint8Array;
  code: string;
  source?: string | null;
  iou?: number | null;
  protocol?: string | null;
  model?: string | null;
  created?: string;
}

/** A problem found while reading: reported with the file and 1-based line, and the line skipped. */
export interface DatasetWarning {
  file: string;
  line: number;
  message: string;
}

export function formatWarning(w: DatasetWarning): string {
  return `${w.file}:${w.line}: ${w.message}`;
}

export class DatasetError extends UserError {}

const COLLECTION_NAME = /^[a-z0-9_-]{1,64}$/;
const RECORD_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;
/** Stored image paths: content-hash names inside images/, nothing else. */
export const STORED_IMAGE = /^images\/[0-9a-f]{32}\.(png|jpg|webp|gif|bmp)$/;

export function isCollectionName(name: string): boolean {
  return typeof name === 'string' && COLLECTION_NAME.test(name);
}

export function validateCollectionName(name: string): void {
  if (!isCollectionName(name)) {
    throw new DatasetError(`invalid collection name '${name}': use 1–64 characters from a-z, 0-9, '_' and '-'`);
  }
}

export function validateRecordId(id: string): void {
  if (typeof id !== 'string' || !RECORD_ID.test(id)) {
    throw new DatasetError(`invalid record id '${id}': use letters, digits, '_', '.', '-' (starting with a letter or digit, at most 200)`);
  }
}

/** Turns any name (a file stem, a question id) into a valid record id. */
export function sanitizeRecordId(name: string): string {
  const cleaned = name
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 200);
  return cleaned || 'record';
}

function nullableString(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new DatasetError(`'${field}' must be a string or null, got ${JSON.stringify(value)}`);
  return value;
}

function nullableIou(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new DatasetError(`'iou' must be a number in [0, 1] or null, got ${JSON.stringify(value)}`);
  }
  return value;
}

function requiredString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new DatasetError(`'${field}' must be a string, got ${JSON.stringify(value)}`);
  return value;
}

/** Checks a parsed JSONL line against the record schema; throws a DatasetError naming the field. */
export function parseRecord(value: unknown): DatasetRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DatasetError('a record must be a JSON object');
  }
  const v = value as Record<string, unknown>;
  const id = requiredString(v.id, 'id');
  validateRecordId(id);
  const collection = requiredString(v.collection, 'collection');
  validateCollectionName(collection);
  const image = requiredString(v.image, 'image');
  if (!STORED_IMAGE.test(image)) throw new DatasetError(`'image' must be a stored image path images/<hash>.<ext>, got '${image}'`);
  const created = requiredString(v.created, 'created');
  if (Number.isNaN(Date.parse(created))) throw new DatasetError(`'created' is not a date: '${created}'`);
  return {
    id,
    collection,
    image,
    code: requiredString(v.code, 'code'),
    source: nullableString(v.source, 'source'),
    iou: nullableIou(v.iou),
    protocol: nullableString(v.protocol, 'protocol'),
    model: nullableString(v.model, 'model'),
    created,
  };
}

/** The fields of a new record other than the image, validated; throws a DatasetError. */
export function checkNewRecordFields(r: NewRecord): Omit<DatasetRecord, 'id' | 'image' | 'created'> & { created?: string } {
  validateCollectionName(r.collection);
  if (r.id !== undefined) validateRecordId(r.id);
  if (r.created !== undefined && Number.isNaN(Date.parse(r.created))) throw new DatasetError(`'created' is not a date: '${r.created}'`);
  return {
    collection: r.collection,
    code: requiredString(r.code, 'code'),
    source: nullableString(r.source, 'source'),
    iou: nullableIou(r.iou),
    protocol: nullableString(r.protocol, 'protocol'),
    model: nullableString(r.model, 'model'),
    created: r.created,
  };
}

/** One JSONL line (without the newline), fields in a fixed order. */
export function serializeRecord(r: DatasetRecord): string {
  return JSON.stringify({
    id: r.id,
    collection: r.collection,
    image: r.image,
    code: r.code,
    source: r.source,
    iou: r.iou,
    protocol: r.protocol,
    model: r.model,
    created: r.created,
  });
}
