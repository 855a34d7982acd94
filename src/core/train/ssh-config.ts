/**
 * The part of OpenSSH's client configuration (~/.ssh/config) a cluster profile needs: which real
 * host, user, port, identity files and jump hosts an alias stands for. Follows ssh_config(5):
 * keywords are case-insensitive, `Keyword value` or `Keyword=value`, the first value obtained for a
 * keyword wins (IdentityFile accumulates), `Host` patterns with `*`, `?` and `!negation`, `Match all`
 * / `Match host|originalhost|user|localuser`, `Include` (relative to ~/.ssh, globs in the file name),
 * and the %h %p %r %u %d %% tokens and ~ in IdentityFile.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError, errorMessage } from '../errors';

export class SshConfigError extends UserError {}

/** One `Keyword value…` line, with where it came from for error messages. */
export interface SshConfigLine {
  keyword: string;
  args: string[];
  file: string;
  line: number;
}

export interface ResolvedSshHost {
  /** The name asked for (the profile's host or a ProxyJump hop). */
  alias: string;
  /** The real host to connect to (HostName, else the alias). */
  hostName: string;
  port: number;
  user?: string;
  /** IdentityFile entries, tokens and ~ expanded, in order. */
  identityFiles: string[];
  identitiesOnly: boolean;
  /** ProxyJump hops in order (nearest first); empty when none. */
  proxyJump: string[];
  /** UserKnownHostsFile entries (expanded), when set. */
  userKnownHostsFiles: string[];
  /** HostKeyAlias: the name looked up in known_hosts instead of hostName. */
  hostKeyAlias?: string;
  /** Set when the config asks for something this client cannot do (ProxyCommand). */
  proxyCommand?: string;
  /** ServerAliveInterval in seconds, when set. */
  serverAliveInterval?: number;
}

const MAX_INCLUDE_DEPTH = 16;

/** Splits a config line into words: whitespace-separated, double quotes group, `Keyword=value` allowed. */
export function splitConfigLine(text: string, where: string): string[] | null {
  const trimmed = text.trim();
  if (!trimmed || trimmed.startsWith('#')) return null;
  const words: string[] = [];
  let i = 0;
  // The keyword may be followed by '=' (with optional spaces) instead of whitespace.
  const keyword = /^([A-Za-z][A-Za-z0-9]*)\s*(=\s*|\s+|$)/.exec(trimmed);
  if (!keyword) throw new SshConfigError(`${where}: cannot read '${trimmed}'`);
  words.push(keyword[1]);
  i = keyword[0].length;
  while (i < trimmed.length) {
    while (i < trimmed.length && /\s/.test(trimmed[i])) i++;
    if (i >= trimmed.length) break;
    if (trimmed[i] === '#') break;
    let word = '';
    if (trimmed[i] === '"') {
      const end = trimmed.indexOf('"', i + 1);
      if (end < 0) throw new SshConfigError(`${where}: unterminated quote`);
      word = trimmed.slice(i + 1, end);
      i = end + 1;
    } else {
      while (i < trimmed.length && !/\s/.test(trimmed[i])) word += trimmed[i++];
    }
    words.push(word);
  }
  return words;
}

/** Reads a config text into lines; `Include` is expanded by `resolveSshHost`, not here. */
export function parseSshConfig(text: string, file = 'ssh_config'): SshConfigLine[] {
  const lines: SshConfigLine[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const words = splitConfigLine(raw, `${file}:${index + 1}`);
    if (!words) return;
    lines.push({ keyword: words[0].toLowerCase(), args: words.slice(1), file, line: index + 1 });
  });
  return lines;
}

/** ssh_config(5) pattern matching: `*` any run, `?` one character, case-insensitive. */
export function matchPattern(pattern: string, value: string): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .split('')
        .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
        .join('') +
      '$',
    'i',
  );
  return re.test(value);
}

/**
 * A pattern list (`a,b,!c` or several words): true when some positive pattern matches and no
 * negated one does.
 */
export function matchPatternList(patterns: string[], value: string): boolean {
  let matched = false;
  for (const p of patterns.flatMap((w) => w.split(','))) {
    if (!p) continue;
    if (p.startsWith('!')) {
      if (matchPattern(p.slice(1), value)) return false;
    } else if (matchPattern(p, value)) {
      matched = true;
    }
  }
  return matched;
}

export interface ResolveOptions {
  /** Loads an Include'd file (default: fs); missing files are skipped as OpenSSH does. */
  readFile?: (file: string) => string | undefined;
  /** Lists a folder for Include globs (default: fs). */
  listDir?: (dir: string) => string[];
  /** For ~ and %d (default os.homedir()). */
  home?: string;
  /** For %u and Match localuser (default os.userInfo().username). */
  localUser?: string;
}

function expandHome(p: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return path.join(home, p.slice(2));
  return p;
}

function expandTokens(value: string, tokens: Record<string, string>, where: string): string {
  return value.replace(/%(.)/g, (_, t: string) => {
    if (t === '%') return '%';
    const v = tokens[t];
    if (v === undefined) throw new SshConfigError(`${where}: unsupported token %${t}`);
    return v;
  });
}

/**
 * Resolves `alias` through the config lines (as parseSshConfig returns them). Values not set fall
 * back to OpenSSH's defaults: HostName = alias, Port 22, no user (the caller supplies one).
 */
export function resolveSshHost(lines: SshConfigLine[], alias: string, options: ResolveOptions = {}): ResolvedSshHost {
  const home = options.home ?? os.homedir();
  const localUser = options.localUser ?? safeLocalUser();
  const readFile =
    options.readFile ??
    ((f: string) => {
      try {
        return fs.readFileSync(f, 'utf8');
      } catch {
        return undefined;
      }
    });
  const listDir =
    options.listDir ??
    ((d: string) => {
      try {
        return fs.readdirSync(d);
      } catch {
        return [];
      }
    });

  const first = new Map<string, SshConfigLine>();
  const identityLines: SshConfigLine[] = [];
  const knownHostsLines: SshConfigLine[] = [];

  const apply = (l: SshConfigLine): void => {
    if (l.keyword === 'identityfile') {
      identityLines.push(l);
      return;
    }
    if (l.keyword === 'userknownhostsfile') {
      if (!first.has(l.keyword)) knownHostsLines.push(l);
      first.set(l.keyword, l);
      return;
    }
    if (!first.has(l.keyword)) first.set(l.keyword, l);
  };

  const currentHostName = (): string => first.get('hostname')?.args[0] ?? alias;
  const currentUser = (): string | undefined => first.get('user')?.args[0];

  const matchCriteria = (l: SshConfigLine): boolean => {
    const args = l.args;
    if (args.length === 1 && args[0].toLowerCase() === 'all') return true;
    let i = 0;
    while (i < args.length) {
      let criterion = args[i++].toLowerCase();
      const negate = criterion.startsWith('!');
      if (negate) criterion = criterion.slice(1);
      if (criterion === 'all') return !negate;
      const value = args[i++];
      if (value === undefined) throw new SshConfigError(`${l.file}:${l.line}: Match ${criterion} needs an argument`);
      let result: boolean;
      switch (criterion) {
        case 'host':
          result = matchPatternList([value], currentHostName());
          break;
        case 'originalhost':
          result = matchPatternList([value], alias);
          break;
        case 'user':
          result = matchPatternList([value], currentUser() ?? localUser);
          break;
        case 'localuser':
          result = matchPatternList([value], localUser);
          break;
        default:
          // exec, canonical, final, tagged, localnetwork…: cannot be decided here; the block is skipped.
          return false;
      }
      if (result === negate) return false;
    }
    return true;
  };

  const walk = (fileLines: SshConfigLine[], activeAtStart: boolean, depth: number): void => {
    let active = activeAtStart;
    for (const l of fileLines) {
      if (l.keyword === 'host') {
        active = matchPatternList(l.args, alias);
        continue;
      }
      if (l.keyword === 'match') {
        active = matchCriteria(l);
        continue;
      }
      if (!active) continue;
      if (l.keyword === 'include') {
        if (depth >= MAX_INCLUDE_DEPTH) throw new SshConfigError(`${l.file}:${l.line}: Include nested too deeply`);
        for (const arg of l.args) {
          for (const file of expandInclude(arg, home, listDir)) {
            const text = readFile(file);
            if (text !== undefined) walk(parseSshConfig(text, file), active, depth + 1);
          }
        }
        continue;
      }
      apply(l);
    }
  };
  walk(lines, true, 0);

  const value = (k: string): string | undefined => first.get(k)?.args[0];
  const portText = value('port');
  let port = 22;
  if (portText !== undefined) {
    port = Number(portText);
    const l = first.get('port')!;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new SshConfigError(`${l.file}:${l.line}: Port must be 1–65535, got '${portText}'`);
  }
  const rawHostName = value('hostname');
  const hostName = rawHostName ? expandTokens(rawHostName, { h: alias }, 'HostName') : alias;
  const user = value('user');
  const tokens: Record<string, string> = { h: hostName, p: String(port), r: user ?? localUser, u: localUser, d: home, n: alias, l: os.hostname() };

  const identityFiles: string[] = [];
  for (const l of identityLines) {
    if (l.args[0] && l.args[0].toLowerCase() !== 'none') {
      identityFiles.push(expandHome(expandTokens(l.args[0], tokens, `${l.file}:${l.line}`), home));
    }
  }
  const userKnownHostsFiles = knownHostsLines.flatMap((l) =>
    l.args.filter((a) => a.toLowerCase() !== 'none').map((a) => expandHome(expandTokens(a, tokens, `${l.file}:${l.line}`), home)),
  );
  const jump = value('proxyjump');
  const proxyJump =
    jump && jump.toLowerCase() !== 'none'
      ? jump
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [];
  const proxyCommandLine = first.get('proxycommand');
  const proxyCommand = proxyCommandLine && proxyCommandLine.args[0]?.toLowerCase() !== 'none' ? proxyCommandLine.args.join(' ') : undefined;
  const alive = value('serveraliveinterval');
  return {
    alias,
    hostName,
    port,
    user,
    identityFiles,
    identitiesOnly: value('identitiesonly')?.toLowerCase() === 'yes',
    proxyJump,
    userKnownHostsFiles,
    hostKeyAlias: value('hostkeyalias'),
    proxyCommand: proxyJump.length ? undefined : proxyCommand,
    serverAliveInterval: alive !== undefined && Number.isFinite(Number(alive)) ? Number(alive) : undefined,
  };
}

function expandInclude(arg: string, home: string, listDir: (dir: string) => string[]): string[] {
  let p = expandHome(arg, home);
  if (!path.isAbsolute(p)) p = path.join(home, '.ssh', p);
  const base = path.basename(p);
  if (!/[*?]/.test(base)) return [p];
  const dir = path.dirname(p);
  return listDir(dir)
    .filter((name) => matchPattern(base, name))
    .sort()
    .map((name) => path.join(dir, name));
}

function safeLocalUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'user';
  }
}

/** A ProxyJump hop `[user@]host[:port]` or `ssh://[user@]host[:port]`. */
export interface JumpSpec {
  user?: string;
  host: string;
  port?: number;
}

export function parseJumpSpec(spec: string): JumpSpec {
  let s = spec.trim();
  if (s.startsWith('ssh://')) s = s.slice(6).replace(/\/$/, '');
  let user: string | undefined;
  const at = s.lastIndexOf('@');
  if (at >= 0) {
    user = s.slice(0, at);
    s = s.slice(at + 1);
  }
  let port: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) {
    s = bracket[1];
    if (bracket[2]) port = Number(bracket[2]);
  } else {
    const colon = s.lastIndexOf(':');
    // host:port, but not a bare IPv6 address (several colons)
    if (colon >= 0 && s.indexOf(':') === colon) {
      port = Number(s.slice(colon + 1));
      s = s.slice(0, colon);
    }
  }
  if (!s) throw new SshConfigError(`jump host '${spec}' has no host name`);
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    throw new SshConfigError(`jump host '${spec}': port must be 1–65535`);
  }
  return { user: user || undefined, host: s, port };
}

/** Reads ~/.ssh/config (or `file`); an absent file is an empty config. */
export function loadSshConfig(file = path.join(os.homedir(), '.ssh', 'config')): SshConfigLine[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new SshConfigError(`cannot read ${file}: ${errorMessage(e)}`);
  }
  return parseSshConfig(text, file);
}
