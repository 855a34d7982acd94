/**
 * OpenSSH known_hosts checking, as `ssh` does it with StrictHostKeyChecking=ask: a matching key is
 * trusted, a different key of the same type for the host is refused (possible man-in-the-middle),
 * a host without a key of that type is "unknown" and left to the caller (who shows the SHA256
 * fingerprint and may accept, which appends the key). Reads plain and hashed (`|1|salt|hash`)
 * host entries, `[host]:port`, patterns with `*`/`?`/`!`, and `@revoked` markers.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TrainError, errorMessage } from '../errors';
import { matchPatternList } from './ssh-config';

export interface KnownHostEntry {
  marker: 'revoked' | 'cert-authority' | null;
  /** The host field as written (comma-separated patterns, or one hashed name). */
  hosts: string;
  keyType: string;
  /** The key blob in the SSH wire format (what base64 in the file decodes to). */
  key: Buffer;
  file: string;
  line: number;
}

export type HostKeyVerdict =
  | { status: 'trusted'; entry: KnownHostEntry }
  | { status: 'unknown'; keyType: string; fingerprint: string; otherTypes: string[] }
  | { status: 'changed'; keyType: string; fingerprint: string; expected: KnownHostEntry[] }
  | { status: 'revoked'; keyType: string; fingerprint: string; entry: KnownHostEntry };

/** The name known_hosts stores for a host: `host` on port 22, else `[host]:port`. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** `SHA256:…` as `ssh-keygen -lf` and ssh's prompts print it (base64 without padding). */
export function fingerprintSha256(key: Buffer): string {
  return `SHA256:${crypto.createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH wire-format key blob (its first string). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) throw new Error('host key blob is too short');
  const n = key.readUInt32BE(0);
  if (n <= 0 || n > 64 || 4 + n > key.length) throw new Error('host key blob has no key type');
  return key.subarray(4, 4 + n).toString('latin1');
}

export function parseKnownHosts(text: string, file = 'known_hosts'): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const words = line.split(/\s+/);
    let marker: KnownHostEntry['marker'] = null;
    if (words[0].startsWith('@')) {
      const m = words.shift()!.slice(1).toLowerCase();
      if (m !== 'revoked' && m !== 'cert-authority') return; // unknown marker: ignored, as ssh does
      marker = m;
    }
    if (words.length < 3) return; // malformed lines are skipped, as ssh does
    const [hosts, keyType, b64] = words;
    const key = Buffer.from(b64, 'base64');
    if (key.length === 0) return;
    entries.push({ marker, hosts, keyType, key, file, line: index + 1 });
  });
  return entries;
}

/** Whether an entry's host field names `name` (the knownHostName form). */
export function entryMatchesHost(entry: KnownHostEntry, name: string): boolean {
  if (entry.hosts.startsWith('|1|')) {
    const [, , salt64, hash64] = entry.hosts.split('|');
    if (!salt64 || !hash64) return false;
    const digest = crypto.createHmac('sha1', Buffer.from(salt64, 'base64')).update(name).digest();
    const expected = Buffer.from(hash64, 'base64');
    return expected.length === digest.length && crypto.timingSafeEqual(expected, digest);
  }
  return matchPatternList(entry.hosts.split(','), name);
}

/**
 * Decides about `key` presented by `host`:`port`, from entries of one or more known_hosts files.
 * Certificate-authority lines are ignored (this client does not do host certificates).
 */
export function checkHostKey(entries: KnownHostEntry[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const name = knownHostName(host, port);
  const keyType = keyTypeOf(key);
  const fingerprint = fingerprintSha256(key);
  const forHost = entries.filter((e) => e.marker !== 'cert-authority' && entryMatchesHost(e, name));
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', keyType, fingerprint, entry: revoked };
  const plain = forHost.filter((e) => e.marker === null);
  const match = plain.find((e) => e.key.equals(key));
  if (match) return { status: 'trusted', entry: match };
  const sameType = plain.filter((e) => sameKeyFamily(e.keyType, keyType));
  if (sameType.length) return { status: 'changed', keyType, fingerprint, expected: sameType };
  return { status: 'unknown', keyType, fingerprint, otherTypes: [...new Set(plain.map((e) => e.keyType))] };
}

/** RSA keys are one family whichever signature algorithm named them. */
function sameKeyFamily(a: string, b: string): boolean {
  const norm = (t: string) => (t === 'ssh-rsa' || t === 'rsa-sha2-256' || t === 'rsa-sha2-512' ? 'ssh-rsa' : t);
  return norm(a) === norm(b);
}

/**
 * Host key algorithms to offer, those already known for this host first, so a host known by its
 * RSA key is not asked for an Ed25519 one it would then look "unknown" with (OpenSSH does the same).
 */
export function preferredHostKeyAlgorithms(entries: KnownHostEntry[], host: string, port: number, defaults: string[]): string[] {
  const name = knownHostName(host, port);
  const known = new Set(entries.filter((e) => e.marker === null && entryMatchesHost(e, name)).map((e) => e.keyType));
  const isKnown = (alg: string) => known.has(alg) || ((alg === 'rsa-sha2-256' || alg === 'rsa-sha2-512') && known.has('ssh-rsa'));
  return [...defaults.filter(isKnown), ...defaults.filter((a) => !isKnown(a))];
}

export function readKnownHostsFiles(files: string[]): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new TrainError(`cannot read known hosts file ${file}: ${errorMessage(e)}`);
    }
    entries.push(...parseKnownHosts(text, file));
  }
  return entries;
}

/** One known_hosts line for the key; hashed (`|1|salt|hash`) when asked, like HashKnownHosts yes. */
export function knownHostsLine(host: string, port: number, key: Buffer, hashed = false): string {
  const name = knownHostName(host, port);
  let field = name;
  if (hashed) {
    const salt = crypto.randomBytes(20);
    const hash = crypto.createHmac('sha1', salt).update(name).digest();
    field = `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
  }
  return `${field} ${keyTypeOf(key)} ${key.toString('base64')}`;
}

/** Appends the key to the file (created with mode 600, its folder 700, when missing). */
export function appendKnownHost(file: string, host: string, port: number, key: Buffer, hashed = false): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const text = fs.readFileSync(file, 'utf8');
    if (text.length && !text.endsWith('\n')) prefix = '\n';
  } catch {
    // new file
  }
  fs.appendFileSync(file, `${prefix + knownHostsLine(host, port, key, hashed)}\n`, { mode: 0o600 });
}
