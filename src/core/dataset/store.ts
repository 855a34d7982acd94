/**
 * The GIFT dataset store. A dataset is a folder:
 *   DIR/dataset.json                 {schema, name, created}
 *   DIR/images/<sha256/128>.<ext>     images, content-addressed (identical images stored once)
 *   DIR/collections/<name>.jsonl      one manifest per collection (sft, srs, fda, user-made)
 *   DIR/programs/                    the editor's working copies of opened samples (not part of the data)
 * Manifests are append-only JSONL, fsync'd before an append returns; moves and removals rewrite a
 * manifest through a temp file and an atomic rename. Every operation holds DIR/.lock, so editor
 * windows and CLI runs can share a dataset. Reads report corrupt lines (file:line) and skip them.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { appendLines, readCollectionNames, storedImageName, storeImage, syncDir, writeFileAtomic } from './files';
import { withLock } from './lock';
import {
  checkNewRecordFields,
  DATASET_SCHEMA,
  DatasetError,
  DEFAULT_COLLECTIONS,
  parseRecord,
  serializeRecord,
  STORED_IMAGE,
  validateCollectionName,
  validateRecordId,
  type DatasetInfo,
  type DatasetRecord,
  type DatasetWarning,
  type NewRecord,
} from './types';
import { errorMessage } from '../errors';

export interface OpenDatasetOptions {
  /** Create the folder and dataset.json when missing (default false: a missing dataset is an error). */
  create?: boolean;
  /** The name written into a new dataset.json (default: the folder's name). */
  name?: string;
  /** How long to wait for another process holding the dataset lock (default 10 s). */
  lockTimeoutMs?: number;
}

export interface CollectionInfo {
  name: string;
  count: number;
  /** The manifest file, absolute. */
  file: string;
}

export interface ReadResult {
  records: DatasetRecord[];
  warnings: DatasetWarning[];
}

interface Entry {
  record: DatasetRecord;
  line: number;
  /** Byte range of the line in the manifest, newline included. */
  start: number;
  end: number;
  /** A later copy of an id already seen (e.g. a move interrupted between its two files). */
  shadowed: boolean;
}

/** What we know of one manifest, so a refresh reads only what was appended since. */
interface ManifestState {
  ino: number;
  birthtimeMs: number;
  /** File size at the last read. */
  size: number;
  /** Bytes parsed: the end of the last complete line. */
  consumed: number;
  /** Complete lines parsed. */
  lines: number;
  /** The bytes just before `consumed`, to notice a rewrite that kept the inode. */
  fingerprint: Buffer;
  entries: Entry[];
  corrupt: DatasetWarning[];
  torn: DatasetWarning | null;
}

const FINGERPRINT_BYTES = 64;
const IMAGE_COPY_CONCURRENCY = 8;

export async function openDataset(dir: string, options: OpenDatasetOptions = {}): Promise<Dataset> {
  const root = path.resolve(dir);
  const infoFile = path.join(root, 'dataset.json');
  let text: string;
  try {
    text = await fs.readFile(infoFile, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new DatasetError(`cannot read ${infoFile}: ${errorMessage(e)}`);
    if (!options.create) throw new DatasetError(`${root} is not a GIFT dataset (no dataset.json); create one first`);
    text = await createDatasetFiles(root, options.name ?? path.basename(root));
  }
  const info = parseInfo(text, infoFile);
  await fs.mkdir(path.join(root, 'images'), { recursive: true });
  await fs.mkdir(path.join(root, 'collections'), { recursive: true });
  return new Dataset(root, info, options.lockTimeoutMs ?? 10_000);
}

async function createDatasetFiles(root: string, name: string): Promise<string> {
  await fs.mkdir(path.join(root, 'images'), { recursive: true });
  await fs.mkdir(path.join(root, 'collections'), { recursive: true });
  for (const collection of DEFAULT_COLLECTIONS) {
    await (await fs.open(path.join(root, 'collections', `${collection}.jsonl`), 'a')).close();
  }
  const info: DatasetInfo = { schema: DATASET_SCHEMA, name, created: new Date().toISOString() };
  const text = `${JSON.stringify(info, null, 2)}\n`;
  const infoFile = path.join(root, 'dataset.json');
  try {
    // 'wx': when two processes create the same dataset at once, the first one's file stays.
    const handle = await fs.open(infoFile, 'wx');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await syncDir(root);
    return text;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return fs.readFile(infoFile, 'utf8');
    throw new DatasetError(`cannot create ${infoFile}: ${errorMessage(e)}`);
  }
}

function parseInfo(text: string, file: string): DatasetInfo {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new DatasetError(`${file}: not valid JSON (${errorMessage(e)})`);
  }
  const v = value as Partial<DatasetInfo> | null;
  if (!v || typeof v !== 'object' || !Number.isInteger(v.schema) || (v.schema as number) < 1) {
    throw new DatasetError(`${file}: missing or invalid "schema" (expected a positive integer)`);
  }
  if ((v.schema as number) > DATASET_SCHEMA) {
    throw new DatasetError(`${file}: dataset schema ${v.schema} is newer than this version of GIFT understands (${DATASET_SCHEMA}); update GIFT to open it`);
  }
  return {
    schema: v.schema as number,
    name: typeof v.name === 'string' ? v.name : path.basename(path.dirname(file)),
    created: typeof v.created === 'string' ? v.created : '',
  };
}

export class Dataset {
  private readonly manifests = new Map<string, ManifestState>();
  private readonly index = new Map<string, DatasetRecord>();
  private duplicateWarnings: DatasetWarning[] = [];
  /** Where each id was first seen (file:line), for duplicate reports. */
  private readonly firstSeen = new Map<string, string>();
  private readonly lockPath: string;

  constructor(
    /** The dataset folder, absolute. */
    readonly dir: string,
    readonly info: DatasetInfo,
    private readonly lockTimeoutMs: number,
  ) {
    this.lockPath = path.join(dir, '.lock');
  }

  /** Absolute path of a record's (or a stored image path's) image file. */
  imagePath(recordOrImage: DatasetRecord | string): string {
    const image = typeof recordOrImage === 'string' ? recordOrImage : recordOrImage.image;
    return path.join(this.dir, image);
  }

  manifestFile(collection: string): string {
    return path.join(this.dir, 'collections', `${collection}.jsonl`);
  }

  async collections(): Promise<CollectionInfo[]> {
    return this.locked(async () => {
      await this.refresh();
      return [...this.manifests.entries()].map(([name, state]) => ({
        name,
        count: state.entries.filter((e) => !e.shadowed).length,
        file: this.manifestFile(name),
      }));
    });
  }

  /** The records (of `collection`, else of all) whose image is exactly these bytes: images are stored by content. */
  async recordsWithImage(bytes: Uint8Array, collection?: string): Promise<DatasetRecord[]> {
    const name = storedImageName(bytes);
    if (!name) return [];
    return (await this.list(collection)).records.filter((r) => r.image === name);
  }

  /** The records of one collection, or of every collection, in manifest order, with read warnings. */
  async list(collection?: string): Promise<ReadResult> {
    if (collection !== undefined) validateCollectionName(collection);
    return this.locked(async () => {
      await this.refresh();
      const names = collection === undefined ? [...this.manifests.keys()] : [collection];
      if (collection !== undefined && !this.manifests.has(collection)) throw this.noCollection(collection);
      const records: DatasetRecord[] = [];
      const warnings: DatasetWarning[] = [];
      for (const name of names) {
        const state = this.manifests.get(name)!;
        for (const e of state.entries) if (!e.shadowed) records.push(e.record);
        warnings.push(...state.corrupt, ...(state.torn ? [state.torn] : []));
        warnings.push(...this.duplicateWarnings.filter((w) => w.file === this.manifestFile(name)));
      }
      return { records, warnings };
    });
  }

  async get(id: string): Promise<DatasetRecord | undefined> {
    return this.locked(async () => {
      await this.refresh();
      return this.index.get(id);
    });
  }

  /** Every problem found reading the manifests: corrupt or torn lines, duplicate ids. */
  async warnings(): Promise<DatasetWarning[]> {
    return (await this.list()).warnings;
  }

  /** Creates an empty collection; returns false when it already existed. */
  async createCollection(name: string): Promise<boolean> {
    validateCollectionName(name);
    return this.locked(async () => {
      const file = this.manifestFile(name);
      try {
        await (await fs.open(file, 'wx')).close();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw e;
      }
      await syncDir(path.dirname(file));
      return true;
    });
  }

  async append(record: NewRecord): Promise<DatasetRecord> {
    return (await this.appendMany([record]))[0];
  }

  /**
   * Adds records (one fsync'd write per collection). Images are copied in first, outside the lock.
   * Ids must be new to the dataset; records without an id get `<collection>-<random>`.
   * When the promise resolves the records are on disk.
   */
  async appendMany(records: NewRecord[]): Promise<DatasetRecord[]> {
    const checked = records.map((r, i) => {
      try {
        return checkNewRecordFields(r);
      } catch (e) {
        throw new DatasetError(`record ${i + 1}${r.id ? ` ('${r.id}')` : ''}: ${errorMessage(e)}`);
      }
    });
    const stored = await mapLimit(records, IMAGE_COPY_CONCURRENCY, (r, i) => this.storeRecordImage(r.image, `record ${i + 1}${r.id ? ` ('${r.id}')` : ''}`));
    const images = stored.map((s) => s.image);
    if (stored.some((s) => s.written)) await syncDir(path.join(this.dir, 'images'));
    return this.locked(async () => {
      await this.refresh();
      const now = new Date().toISOString();
      const batchIds = new Set<string>();
      const out: DatasetRecord[] = checked.map((fields, i) => {
        if (!this.manifests.has(fields.collection)) throw this.noCollection(fields.collection);
        let id = records[i].id;
        if (id !== undefined) {
          const existing = this.index.get(id);
          if (existing) throw new DatasetError(`id '${id}' is already in the dataset (collection ${existing.collection})`);
          if (batchIds.has(id)) throw new DatasetError(`id '${id}' appears twice in the records being added`);
        } else {
          do id = `${fields.collection}-${randomBytes(6).toString('hex')}`;
          while (this.index.has(id) || batchIds.has(id));
        }
        batchIds.add(id);
        return { ...fields, id, image: images[i], created: fields.created ?? now };
      });
      const byCollection = new Map<string, string[]>();
      for (const r of out) {
        const lines = byCollection.get(r.collection) ?? [];
        lines.push(serializeRecord(r));
        byCollection.set(r.collection, lines);
      }
      for (const [collection, lines] of byCollection) await appendLines(this.manifestFile(collection), lines);
      await this.refresh();
      return out;
    });
  }

  /** Moves a record to another collection (its id, image and fields unchanged). */
  async move(id: string, toCollection: string): Promise<DatasetRecord> {
    validateRecordId(id);
    validateCollectionName(toCollection);
    return this.locked(async () => {
      await this.refresh();
      const record = this.index.get(id);
      if (!record) throw this.noRecord(id);
      const target = this.manifests.get(toCollection);
      if (!target) throw this.noCollection(toCollection);
      const holders = this.collectionsHolding(id);
      // Append to the target first and only then drop the old line: a crash in between leaves a
      // duplicate (reported, and repaired by the next move or remove), never a lost record.
      if (!holders.includes(toCollection)) {
        await appendLines(this.manifestFile(toCollection), [serializeRecord({ ...record, collection: toCollection })]);
      }
      for (const name of holders) if (name !== toCollection) await this.rewriteWithout(name, id);
      await this.refresh();
      return this.index.get(id)!;
    });
  }

  /** Removes a record; returns it. Its image stays (other records may share it). */
  async remove(id: string): Promise<DatasetRecord> {
    validateRecordId(id);
    return this.locked(async () => {
      await this.refresh();
      const record = this.index.get(id);
      if (!record) throw this.noRecord(id);
      for (const name of this.collectionsHolding(id)) await this.rewriteWithout(name, id);
      await this.refresh();
      return record;
    });
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(this.lockPath, this.lockTimeoutMs, fn);
  }

  private noCollection(name: string): DatasetError {
    return new DatasetError(`no collection '${name}' in ${this.dir} (it has: ${[...this.manifests.keys()].join(', ') || 'none'}); create it first`);
  }

  private noRecord(id: string): DatasetError {
    return new DatasetError(`no record '${id}' in ${this.dir}`);
  }

  private collectionsHolding(id: string): string[] {
    return [...this.manifests.entries()].filter(([, s]) => s.entries.some((e) => e.record.id === id)).map(([n]) => n);
  }

  private async storeRecordImage(image: string | Uint8Array, label: string): Promise<{ image: string; written: boolean }> {
    if (image instanceof Uint8Array) return storeImage(this.dir, image, label);
    if (typeof image !== 'string') throw new DatasetError(`${label}: 'image' must be a file path or bytes`);
    if (STORED_IMAGE.test(image)) {
      try {
        await fs.access(this.imagePath(image));
        return { image, written: false };
      } catch {
        // not one of ours after all: treat it as a path
      }
    }
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(path.resolve(image));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new DatasetError(`${label}: cannot read image ${image}: ${code === 'ENOENT' ? 'no such file' : errorMessage(e)}`);
    }
    return storeImage(this.dir, bytes, `${label}: ${image}`);
  }

  /**
   * Rewrites a manifest without the lines holding `id` (call with the lock held, after a refresh,
   * so the file is exactly what we parsed). Other lines, corrupt ones included, are kept byte for
   * byte, and the parsed state is patched rather than re-read.
   */
  private async rewriteWithout(collection: string, id: string): Promise<void> {
    const state = this.manifests.get(collection)!;
    const doomed = state.entries.filter((e) => e.record.id === id).sort((a, b) => a.start - b.start);
    if (doomed.length === 0) return;
    const file = this.manifestFile(collection);
    const content = await fs.readFile(file);
    if (content.length !== state.size) throw new DatasetError(`${file} changed while the dataset was locked; retry`);
    const pieces: Buffer[] = [];
    let pos = 0;
    for (const d of doomed) {
      pieces.push(content.subarray(pos, d.start));
      pos = d.end;
    }
    pieces.push(content.subarray(pos));
    const rewritten = Buffer.concat(pieces);
    await writeFileAtomic(file, rewritten);

    const linesBefore = (line: number) => doomed.filter((d) => d.line < line).length;
    const bytesBefore = (offset: number) => doomed.filter((d) => d.start < offset).reduce((sum, d) => sum + d.end - d.start, 0);
    const removedBytes = content.length - rewritten.length;
    const gone = new Set(doomed);
    state.entries = state.entries
      .filter((e) => !gone.has(e))
      .map((e) => {
        const shift = bytesBefore(e.start);
        return { ...e, line: e.line - linesBefore(e.line), start: e.start - shift, end: e.end - shift };
      });
    for (const w of state.corrupt) w.line -= linesBefore(w.line);
    if (state.torn) state.torn.line -= linesBefore(state.torn.line);
    state.lines -= doomed.length;
    state.consumed -= removedBytes;
    state.size = rewritten.length;
    const stat = await fs.stat(file);
    state.ino = stat.ino;
    state.birthtimeMs = stat.birthtimeMs;
    state.fingerprint = Buffer.from(rewritten.subarray(Math.max(0, state.consumed - FINGERPRINT_BYTES), state.consumed));
    this.rebuildIndex();
  }

  /** Brings the in-memory view up to date with the manifests; call with the lock held. */
  private async refresh(): Promise<void> {
    const names = await readCollectionNames(this.dir);
    let reload = false;
    for (const name of [...this.manifests.keys()]) {
      if (!names.includes(name)) {
        this.manifests.delete(name);
        reload = true;
      }
    }
    const appended: Array<[string, Entry[]]> = [];
    for (const name of names) {
      const change = await this.refreshManifest(name);
      if (change === 'reloaded') reload = true;
      else if (change.length > 0) appended.push([name, change]);
    }
    // Plain appends (the common case) extend the index; anything else rebuilds it.
    if (reload) this.rebuildIndex();
    else for (const [name, entries] of appended) this.indexEntries(name, entries);
  }

  /** Re-reads what changed in one manifest: the entries appended since, or 'reloaded'. */
  private async refreshManifest(name: string): Promise<Entry[] | 'reloaded'> {
    const file = this.manifestFile(name);
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        return this.manifests.delete(name) ? 'reloaded' : [];
      }
      throw e;
    }
    try {
      const stat = await handle.stat();
      let state = this.manifests.get(name);
      const sameFile =
        state !== undefined &&
        state.ino === stat.ino &&
        state.birthtimeMs === stat.birthtimeMs &&
        stat.size >= state.consumed &&
        (await readAt(handle, state.consumed - state.fingerprint.length, state.fingerprint.length)).equals(state.fingerprint);
      if (sameFile && stat.size === state!.size) return [];
      const reloaded = !sameFile || !state;
      if (!sameFile || !state) {
        state = {
          ino: stat.ino,
          birthtimeMs: stat.birthtimeMs,
          size: 0,
          consumed: 0,
          lines: 0,
          fingerprint: Buffer.alloc(0),
          entries: [],
          corrupt: [],
          torn: null,
        };
        this.manifests.set(name, state);
      }
      const base = state.consumed;
      const firstNew = state.entries.length;
      const chunk = await readAt(handle, base, stat.size - base);
      let pos = 0;
      for (;;) {
        const newline = chunk.indexOf(0x0a, pos);
        if (newline < 0) break;
        const line = ++state.lines;
        const text = chunk.toString('utf8', pos, newline);
        const start = base + pos;
        pos = newline + 1;
        if (text.trim() === '') continue;
        try {
          const record = parseRecord(JSON.parse(text));
          if (record.collection !== name) {
            state.corrupt.push({ file, line, message: `record '${record.id}' says collection '${record.collection}'; it counts as '${name}'` });
            record.collection = name;
          }
          state.entries.push({ record, line, start, end: base + pos, shadowed: false });
        } catch (e) {
          const why = e instanceof SyntaxError ? `not valid JSON (${e.message})` : errorMessage(e);
          state.corrupt.push({ file, line, message: `corrupt record skipped: ${why}` });
        }
      }
      state.consumed += pos;
      state.size = stat.size;
      // Under the lock no writer is mid-write, so a fragment after the last newline was torn by a
      // killed writer. We re-read it next time (the next append terminates it with a newline).
      state.torn = pos < chunk.length ? { file, line: state.lines + 1, message: 'incomplete last line (a write was interrupted); skipped' } : null;
      const fpLength = Math.min(FINGERPRINT_BYTES, state.consumed);
      state.fingerprint = await readAt(handle, state.consumed - fpLength, fpLength);
      return reloaded ? 'reloaded' : state.entries.slice(firstNew);
    } finally {
      await handle.close();
    }
  }

  private rebuildIndex(): void {
    const sorted = [...this.manifests.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.manifests.clear();
    for (const [name, state] of sorted) this.manifests.set(name, state);
    this.index.clear();
    this.firstSeen.clear();
    this.duplicateWarnings = [];
    for (const [name, state] of this.manifests) this.indexEntries(name, state.entries);
  }

  /** Adds entries to the index; a later copy of a known id is shadowed and reported. */
  private indexEntries(collection: string, entries: Entry[]): void {
    const file = this.manifestFile(collection);
    for (const entry of entries) {
      const id = entry.record.id;
      const first = this.firstSeen.get(id);
      entry.shadowed = first !== undefined;
      if (first !== undefined) {
        this.duplicateWarnings.push({ file, line: entry.line, message: `duplicate id '${id}' (first at ${first}); ignored` });
        continue;
      }
      this.firstSeen.set(id, `${file}:${entry.line}`);
      this.index.set(id, entry.record);
    }
  }
}

async function readAt(handle: fs.FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let offset = 0;
  while (offset < length) {
    const { bytesRead } = await handle.read(buffer, offset, length - offset, position + offset);
    if (bytesRead === 0) return buffer.subarray(0, offset);
    offset += bytesRead;
  }
  return buffer;
}

/** Maps with at most `limit` calls in flight, keeping order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return results;
}
