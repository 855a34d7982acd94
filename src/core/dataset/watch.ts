/**
 * Notices a dataset changing on disk by polling its manifests. File events do not cover every
 * writer: a dataset on NFS filled by cluster jobs changes on another machine (no inotify event
 * here), and a machine out of inotify watches delivers none. Editors poll as well as listen.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { readCollectionNames } from './files';

/** How often `pollDataset` looks by default: a few stat calls, cheap even on a network folder. */
const DATASET_POLL_MS = 2000;

/**
 * What the readers depend on: inode, size and mtime of dataset.json and of each manifest the
 * store reads (`readCollectionNames`). Equal signatures mean no reader would see a difference.
 */
export async function datasetSignature(dir: string): Promise<string> {
  const parts: string[] = [await describe(path.join(dir, 'dataset.json'))];
  let names: string[];
  try {
    names = await readCollectionNames(dir);
  } catch (e) {
    return [...parts, `collections:${(e as NodeJS.ErrnoException).code ?? 'error'}`].join('\n');
  }
  for (const name of names) {
    const file = `${name}.jsonl`;
    parts.push(`${file}:${await describe(path.join(dir, 'collections', file))}`);
  }
  return parts.join('\n');
}

async function describe(file: string): Promise<string> {
  try {
    const s = await fs.stat(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch (e) {
    // A manifest removed between readdir and stat is a change like any other.
    return (e as NodeJS.ErrnoException).code ?? 'error';
  }
}

export interface DatasetPoller {
  /** Takes what is on disk now as seen, so that writes this process announced itself are not reported again. */
  resync(): Promise<void>;
  dispose(): void;
}

/**
 * Calls `onChange` after each poll that finds the dataset's signature changed. Polls never overlap
 * and the timer does not keep a process alive.
 */
export function pollDataset(dir: string, onChange: () => void, intervalMs = DATASET_POLL_MS): DatasetPoller {
  let seen: string | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;
  // Bumped by resync: a poll that was reading while resync ran is stale and dropped, so it can
  // neither report nor put back a signature from before our own write.
  let generation = 0;
  const tick = async () => {
    const started = generation;
    const now = await datasetSignature(dir);
    // A write polled before its resync costs one extra refresh, never hides a change from the last poll.
    const stale = started !== generation;
    const changed = !stale && seen !== undefined && now !== seen;
    if (!stale) seen = now;
    if (disposed) return;
    try {
      if (changed) onChange();
    } finally {
      schedule();
    }
  };
  const schedule = () => {
    timer = setTimeout(() => void tick(), intervalMs);
    timer.unref?.();
  };
  void datasetSignature(dir).then((first) => {
    seen ??= first;
    if (!disposed) schedule();
  });
  return {
    async resync() {
      generation++;
      seen = await datasetSignature(dir);
      generation++;
    },
    dispose() {
      disposed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
