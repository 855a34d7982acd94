/**
 * Uploads a local folder to the cluster over SFTP, sending only what changed: a manifest in the
 * remote folder (.gift-sync.json) records each file's content hash and the remote size and mtime
 * it was written with, so unchanged files cost nothing and files changed on either side are sent
 * again. Files go to `<name>.gift-part-<hash>` first and are renamed into place when complete; an
 * interrupted upload resumes from the part file's length on the next sync.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ClusterConnection } from './ssh';
import { SshError } from './ssh';
import { shellQuote } from './slurm';

export const SYNC_MANIFEST = '.gift-sync.json';
const PART = '.gift-part-';

interface ManifestEntry {
  size: number;
  sha256: string;
  /** Remote mtime (seconds) after the upload: a different one means someone changed the file. */
  mtime: number;
}

interface Manifest {
  version: 1;
  files: Record<string, ManifestEntry>;
}

export interface LocalFile {
  rel: string;
  abs: string;
  size: number;
  sha256: string;
}

export interface SyncProgress {
  files: number;
  totalFiles: number;
  bytes: number;
  totalBytes: number;
  current?: string;
}

export interface SyncReport {
  uploaded: number;
  unchanged: number;
  deleted: number;
  bytesSent: number;
  /** Bytes not re-sent because a part file from an interrupted upload was continued. */
  bytesResumed: number;
  totalFiles: number;
}

export interface SyncOptions {
  onProgress?: (p: SyncProgress) => void;
  /** Files uploaded at once (default 4). */
  concurrency?: number;
  /** Remove remote files the manifest knows but the local folder no longer has (default true). */
  deleteRemoved?: boolean;
  /** Stop (throwing) after this many bytes were sent; for testing interrupted uploads. */
  stopAfterBytes?: number;
}

async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Regular files under dir (relative POSIX paths, sorted), with their hashes. */
export async function listLocalFiles(dir: string, filter: (rel: string) => boolean = () => true): Promise<LocalFile[]> {
  const out: LocalFile[] = [];
  const walk = async (sub: string): Promise<void> => {
    for (const entry of await fs.promises.readdir(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(rel);
      else if (entry.isFile() && rel !== SYNC_MANIFEST && !rel.includes(PART) && filter(rel)) {
        const abs = path.join(dir, rel);
        out.push({ rel, abs, size: (await fs.promises.stat(abs)).size, sha256: '' });
      }
    }
  };
  await walk('');
  out.sort((a, b) => (a.rel < b.rel ? -1 : 1));
  await Promise.all(out.map(async (f) => (f.sha256 = await sha256File(f.abs))));
  return out;
}

/** Syncs local files (as listLocalFiles gives them) into remoteDir (absolute). */
export async function syncFiles(conn: ClusterConnection, files: LocalFile[], remoteDir: string, options: SyncOptions = {}): Promise<SyncReport> {
  const dirs = new Set<string>([remoteDir]);
  for (const f of files) {
    const d = path.posix.dirname(f.rel);
    if (d !== '.') dirs.add(`${remoteDir}/${d}`);
  }
  await conn.run(`mkdir -p ${[...dirs].map(shellQuote).join(' ')}`);

  const manifestPath = `${remoteDir}/${SYNC_MANIFEST}`;
  const manifest = parseManifest(await conn.readFile(manifestPath));
  // Current remote sizes and mtimes (and leftover part files), one listing per folder.
  const remote = new Map<string, { size: number; mtime: number }>();
  const parts = new Map<string, number>();
  for (const d of dirs) {
    const prefix = d === remoteDir ? '' : `${d.slice(remoteDir.length + 1)}/`;
    for (const e of await conn.readdir(d)) {
      if (e.stat.isDirectory) continue;
      if (e.name.includes(PART)) parts.set(prefix + e.name, e.stat.size);
      else remote.set(prefix + e.name, { size: e.stat.size, mtime: e.stat.mtime });
    }
  }

  const todo = files.filter((f) => {
    const m = manifest.files[f.rel];
    const r = remote.get(f.rel);
    return !(m && r && m.sha256 === f.sha256 && m.size === f.size && r.size === m.size && r.mtime === m.mtime);
  });
  const report: SyncReport = { uploaded: 0, unchanged: files.length - todo.length, deleted: 0, bytesSent: 0, bytesResumed: 0, totalFiles: files.length };
  const totalBytes = todo.reduce((s, f) => s + f.size, 0);
  let lastSave = Date.now();
  let dirty = false;
  const save = async () => {
    dirty = false;
    lastSave = Date.now();
    await conn.writeFile(manifestPath, JSON.stringify(manifest));
  };
  const progress = (current?: string) =>
    options.onProgress?.({ files: report.uploaded, totalFiles: todo.length, bytes: report.bytesSent + report.bytesResumed, totalBytes, current });

  let next = 0;
  const usedParts = new Set<string>();
  const worker = async () => {
    while (next < todo.length) {
      const f = todo[next++];
      const partRel = `${f.rel}${PART}${f.sha256.slice(0, 16)}`;
      usedParts.add(partRel);
      const partSize = parts.get(partRel) ?? 0;
      const resumeFrom = partSize <= f.size ? partSize : 0;
      progress(f.rel);
      const count = (n: number) => {
        report.bytesSent += n;
        if (options.stopAfterBytes !== undefined && report.bytesSent >= options.stopAfterBytes) {
          throw new SshError(`upload stopped after ${report.bytesSent} bytes (stopAfterBytes)`, 'sftp');
        }
      };
      const remotePart = `${remoteDir}/${partRel}`;
      await uploadFrom(conn, f, remotePart, resumeFrom, count);
      if (resumeFrom > 0) {
        // A continued part is checked end to end; if it does not hash right it is sent again whole.
        const sum = (await conn.run(`sha256sum ${shellQuote(remotePart)}`)).trim().split(/\s+/)[0];
        if (sum !== f.sha256) await uploadFrom(conn, f, remotePart, 0, count);
        else report.bytesResumed += resumeFrom;
      }
      await conn.renameOver(remotePart, `${remoteDir}/${f.rel}`);
      const st = await conn.stat(`${remoteDir}/${f.rel}`);
      if (!st || st.size !== f.size) throw new SshError(`upload of ${f.rel} ended with ${st?.size ?? 'no'} bytes, expected ${f.size}`, 'sftp');
      manifest.files[f.rel] = { size: f.size, sha256: f.sha256, mtime: st.mtime };
      report.uploaded++;
      dirty = true;
      if (Date.now() - lastSave > 3000) await save();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, todo.length)) }, worker));
  } finally {
    // What completed is recorded even when the sync fails, so the next one skips it.
    if (dirty) await save().catch(() => undefined);
  }

  const local = new Set(files.map((f) => f.rel));
  if (options.deleteRemoved ?? true) {
    const gone = Object.keys(manifest.files).filter((rel) => !local.has(rel));
    const stale = [...parts.keys()].filter((p) => !usedParts.has(p));
    const victims = [...gone, ...stale];
    if (victims.length) {
      await conn.run(`cd ${shellQuote(remoteDir)} && rm -f -- ${victims.map(shellQuote).join(' ')}`);
      for (const rel of gone) delete manifest.files[rel];
      report.deleted = gone.length;
      dirty = true;
    }
  }
  if (dirty || report.uploaded) await save();
  progress();
  return report;
}

/** Syncs a whole local folder; see syncFiles. */
export async function syncFolder(conn: ClusterConnection, localDir: string, remoteDir: string, options: SyncOptions = {}): Promise<SyncReport> {
  return syncFiles(conn, await listLocalFiles(localDir), remoteDir, options);
}

function parseManifest(data: Buffer | null): Manifest {
  if (!data) return { version: 1, files: {} };
  try {
    const v = JSON.parse(data.toString('utf8'));
    if (v && v.version === 1 && typeof v.files === 'object') return v as Manifest;
  } catch {
    // a damaged manifest only costs a full upload
  }
  return { version: 1, files: {} };
}

async function uploadFrom(conn: ClusterConnection, file: LocalFile, remotePart: string, offset: number, onBytes: (n: number) => void): Promise<void> {
  const sftp = await conn.sftp();
  const handle = await conn.guard(
    new Promise<Buffer>((resolve, reject) =>
      sftp.open(remotePart, offset > 0 ? 'r+' : 'w', (err, h) => (err ? reject(new SshError(`SFTP open ${remotePart}: ${err.message}`, 'sftp')) : resolve(h))),
    ),
  );
  let position = offset;
  const fd = await fs.promises.open(file.abs, 'r');
  try {
    const buf = Buffer.alloc(128 * 1024);
    for (;;) {
      const { bytesRead } = await fd.read(buf, 0, buf.length, position);
      if (bytesRead === 0) break;
      // Pipelined writes of 32 KiB (the SFTP packet limit many servers use).
      const writes: Promise<void>[] = [];
      for (let o = 0; o < bytesRead; o += 32 * 1024) {
        const len = Math.min(32 * 1024, bytesRead - o);
        const at = position + o;
        writes.push(
          new Promise<void>((resolve, reject) =>
            sftp.write(handle, buf, o, len, at, (err) =>
              err ? reject(new SshError(`SFTP write ${remotePart}: ${err.message}`, /no response/i.test(err.message) ? 'closed' : 'sftp')) : resolve(),
            ),
          ),
        );
      }
      await conn.guard(Promise.all(writes));
      position += bytesRead;
      onBytes(bytesRead);
    }
  } finally {
    await fd.close();
    await conn.closeHandle(handle);
  }
}
