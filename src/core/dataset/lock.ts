/**
 * A cross-process lock on a dataset folder: a lock file created with O_EXCL that holds
 * {pid, host, time, nonce}. Two editor windows and a CLI run can share one dataset.
 * A lock whose pid is dead (same host) is stale and broken; otherwise we wait with backoff up to a
 * bound and then fail with an error that names the holder and the file.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { DatasetError } from './types';
import { errorMessage } from '../errors';

export interface LockHolder {
  pid: number;
  host: string;
  time: string;
  nonce: string;
}

export class DatasetLockError extends DatasetError {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetLockError';
  }
}

/** An unreadable lock file this old is a creator that died between create and write. */
const UNREADABLE_STALE_MS = 5_000;
/** Breaking a stale lock takes microseconds; a breaker file this old belongs to a dead process. */
const BREAKER_STALE_MS = 5_000;

const heldNonces = new Set<string>();
/** Same-process callers queue here instead of polling the file. */
const inProcessQueues = new Map<string, Promise<unknown>>();

export async function withLock<T>(lockPath: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const previous = inProcessQueues.get(lockPath) ?? Promise.resolve();
  const run = previous
    .catch(() => undefined)
    .then(async () => {
      const holder = await acquire(lockPath, timeoutMs);
      try {
        return await fn();
      } finally {
        await release(lockPath, holder);
      }
    });
  const settled = run.catch(() => undefined);
  inProcessQueues.set(lockPath, settled);
  settled.then(() => {
    if (inProcessQueues.get(lockPath) === settled) inProcessQueues.delete(lockPath);
  });
  return run;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface LockFileState {
  content: string;
  holder: LockHolder | null;
  mtimeMs: number;
}

async function readLockFile(lockPath: string): Promise<LockFileState | null> {
  try {
    const [content, stat] = await Promise.all([fs.readFile(lockPath, 'utf8'), fs.stat(lockPath)]);
    let holder: LockHolder | null = null;
    try {
      const parsed = JSON.parse(content) as LockHolder;
      if (Number.isInteger(parsed.pid) && typeof parsed.host === 'string' && typeof parsed.nonce === 'string') holder = parsed;
    } catch {
      holder = null;
    }
    return { content, holder, mtimeMs: stat.mtimeMs };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Why the lock file is stale, or null when its holder may still be alive. */
function staleReason(state: LockFileState): string | null {
  const { holder } = state;
  if (!holder) return Date.now() - state.mtimeMs > UNREADABLE_STALE_MS ? 'the lock file is unreadable' : null;
  if (holder.host !== os.hostname()) return null; // another machine's pid cannot be checked
  if (holder.pid === process.pid) return heldNonces.has(holder.nonce) ? null : 'left by an earlier process with our pid';
  return pidAlive(holder.pid) ? null : `pid ${holder.pid} is not running`;
}

async function acquire(lockPath: string, timeoutMs: number): Promise<LockHolder> {
  const mine: LockHolder = { pid: process.pid, host: os.hostname(), time: '', nonce: randomBytes(8).toString('hex') };
  const started = Date.now();
  let delay = 1;
  for (;;) {
    mine.time = new Date().toISOString();
    try {
      const handle = await fs.open(lockPath, 'wx');
      heldNonces.add(mine.nonce);
      try {
        await handle.writeFile(JSON.stringify(mine));
      } finally {
        await handle.close();
      }
      return mine;
    } catch (e) {
      heldNonces.delete(mine.nonce);
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new DatasetError(`cannot lock the dataset: the folder of ${lockPath} does not exist`);
      if (code !== 'EEXIST') throw new DatasetError(`cannot create the lock file ${lockPath}: ${errorMessage(e)}`);
    }
    const state = await readLockFile(lockPath);
    if (!state) continue; // released between our open and read
    if (staleReason(state)) {
      await breakStaleLock(lockPath, state);
      continue;
    }
    const waited = Date.now() - started;
    if (waited >= timeoutMs) {
      const who = state.holder ? `pid ${state.holder.pid} on ${state.holder.host} (since ${state.holder.time})` : 'a process that has not written its pid yet';
      throw new DatasetLockError(
        `the dataset is busy: ${lockPath} is held by ${who}; gave up after ${(waited / 1000).toFixed(1)} s. ` +
          `If no such process is running, delete ${lockPath}.`,
      );
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 20);
  }
}

/**
 * Removes a stale lock without racing other breakers: whoever holds the breaker file re-reads the
 * lock and deletes it only if it is still the same stale content (no one can create a new lock
 * while the stale one exists).
 */
async function breakStaleLock(lockPath: string, seen: LockFileState): Promise<void> {
  const breaker = `${lockPath}.break`;
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(breaker, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    try {
      const stat = await fs.stat(breaker);
      if (Date.now() - stat.mtimeMs > BREAKER_STALE_MS) await fs.rm(breaker, { force: true });
    } catch {
      // gone already
    }
    await sleep(2);
    return;
  }
  try {
    await handle.close();
    const now = await readLockFile(lockPath);
    if (now && now.content === seen.content) await fs.rm(lockPath, { force: true });
  } finally {
    await fs.rm(breaker, { force: true });
  }
}

async function release(lockPath: string, mine: LockHolder): Promise<void> {
  heldNonces.delete(mine.nonce);
  const state = await readLockFile(lockPath);
  // Only delete our own lock; someone may have judged ours stale (e.g. a pid check across hosts).
  if (state?.holder?.nonce === mine.nonce) await fs.rm(lockPath, { force: true });
}
