/**
 * A cluster profile: where a Slurm cluster is (reached over SSH) and what a training job asks it
 * for. Plain JSON, safe to commit: secrets (key passphrases, tokens) are never part of it — callers
 * pass them at connect time — and a profile that tries to carry one is refused.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSshConfig, parseJumpSpec, resolveSshHost, type SshConfigLine } from './ssh-config';
import { UserError, errorMessage } from '../errors';

export interface ClusterProfile {
  /** A label for lists and logs (default: the host). */
  name?: string;
  /** Host name or an alias from ~/.ssh/config. */
  host: string;
  port?: number;
  user?: string;
  /** Private key file (~ allowed). Without one, the SSH agent and ~/.ssh/config's IdentityFile are used. */
  identityFile?: string;
  /** Use the SSH agent: true = $SSH_AUTH_SOCK, or a socket path. Default: true when SSH_AUTH_SOCK is set. */
  agent?: boolean | string;
  /** ProxyJump: `[user@]host[:port]` (or an alias), several comma-separated; 'none' disables the config's. */
  jumpHost?: string;
  /** OpenSSH client config to honour (default ~/.ssh/config); false ignores it. */
  sshConfig?: string | false;
  /** known_hosts file checked and appended to (default ~/.ssh/known_hosts). */
  knownHosts?: string;
  /** Write accepted host keys hashed (like HashKnownHosts yes). */
  hashKnownHosts?: boolean;

  partition?: string;
  account?: string;
  qos?: string;
  /** GPUs per node (0 = a CPU job). */
  gpus?: number;
  /** GPU type for --gres (e.g. a100); default any. */
  gpuType?: string;
  /** CPUs per task. */
  cpus?: number;
  /** Memory per node, Slurm syntax (e.g. 64G). */
  memory?: string;
  /** Time limit, Slurm syntax (e.g. 24:00:00 or 2-00:00:00). */
  time?: string;
  nodes?: number;
  /** More `#SBATCH` options, each like `--constraint=a100`. */
  sbatchOptions?: string[];

  /** Remote working folder (absolute, or ~/… under the remote home). Runs live in WORKDIR/runs/<id>. */
  workDir: string;
  /** Shell lines run in the job before the recipe (module load, conda activate, exports). */
  setup?: string[];
  /** The Python the recipes run with (default python3). */
  python?: string;
  /** How the cluster runs the gift CLI, for bootstrap job arrays (default gift). */
  giftCommand?: string;
}

export class ProfileError extends UserError {}

const STRING_FIELDS = [
  'name',
  'host',
  'user',
  'identityFile',
  'jumpHost',
  'knownHosts',
  'partition',
  'account',
  'qos',
  'gpuType',
  'memory',
  'time',
  'workDir',
  'python',
  'giftCommand',
] as const;
const INT_FIELDS = { port: [1, 65535], gpus: [0, 1024], cpus: [1, 4096], nodes: [1, 10000] } as const;
const KNOWN_FIELDS = new Set<string>([
  ...STRING_FIELDS,
  ...Object.keys(INT_FIELDS),
  'agent',
  'sshConfig',
  'hashKnownHosts',
  'sbatchOptions',
  'setup',
  '$schema',
]);
const SECRET_FIELD = /pass(word|phrase)?|secret|token|private_?key$|privateKey$|credential/i;

/** Validates a parsed profile; errors name the field and `source` (a file name, say). */
export function parseProfile(value: unknown, source = 'profile'): ClusterProfile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProfileError(`${source}: a profile must be a JSON object`);
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (SECRET_FIELD.test(key)) {
      throw new ProfileError(
        `${source}: '${key}' looks like a secret; profiles never hold secrets (pass passphrases at connect time, e.g. gift train --passphrase-env VAR)`,
      );
    }
    if (!KNOWN_FIELDS.has(key))
      throw new ProfileError(`${source}: unknown field '${key}' (known: ${[...KNOWN_FIELDS].filter((k) => k !== '$schema').join(', ')})`);
  }
  for (const f of STRING_FIELDS) {
    if (v[f] !== undefined && (typeof v[f] !== 'string' || (v[f] as string).trim() === ''))
      throw new ProfileError(`${source}: '${f}' must be a non-empty string`);
  }
  for (const [f, [min, max]] of Object.entries(INT_FIELDS)) {
    const n = v[f];
    if (n !== undefined && (!Number.isInteger(n) || (n as number) < min || (n as number) > max)) {
      throw new ProfileError(`${source}: '${f}' must be an integer in ${min}–${max}, got ${JSON.stringify(n)}`);
    }
  }
  if (typeof v.host !== 'string') throw new ProfileError(`${source}: 'host' is required`);
  if (typeof v.workDir !== 'string') throw new ProfileError(`${source}: 'workDir' (the remote working folder) is required`);
  if (!v.workDir.startsWith('/') && !v.workDir.startsWith('~/') && v.workDir !== '~') {
    throw new ProfileError(`${source}: 'workDir' must be absolute or start with ~/, got '${v.workDir}'`);
  }
  if (/\s|\0/.test(v.workDir)) throw new ProfileError(`${source}: 'workDir' must not contain whitespace (#SBATCH paths cannot carry it)`);
  if (v.agent !== undefined && typeof v.agent !== 'boolean' && typeof v.agent !== 'string')
    throw new ProfileError(`${source}: 'agent' must be true, false or a socket path`);
  if (v.sshConfig !== undefined && v.sshConfig !== false && typeof v.sshConfig !== 'string')
    throw new ProfileError(`${source}: 'sshConfig' must be a file path or false`);
  if (v.hashKnownHosts !== undefined && typeof v.hashKnownHosts !== 'boolean') throw new ProfileError(`${source}: 'hashKnownHosts' must be true or false`);
  for (const f of ['sbatchOptions', 'setup'] as const) {
    const list = v[f];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || s.includes('\n')))
      throw new ProfileError(`${source}: '${f}' must be a list of single-line strings`);
  }
  for (const opt of (v.sbatchOptions as string[] | undefined) ?? []) {
    if (!/^--?[A-Za-z]/.test(opt)) throw new ProfileError(`${source}: sbatchOptions entry '${opt}' must be an option like --constraint=a100`);
  }
  if (typeof v.memory === 'string' && !/^\d+[KMGT]?B?$/i.test(v.memory))
    throw new ProfileError(`${source}: 'memory' must look like 64G or 512000M, got '${v.memory}'`);
  if (typeof v.time === 'string' && !/^(\d+-)?\d+(:\d+){0,2}$/.test(v.time))
    throw new ProfileError(`${source}: 'time' must be Slurm time (MM, HH:MM:SS or D-HH:MM:SS), got '${v.time}'`);
  for (const f of ['partition', 'account', 'qos', 'gpuType'] as const) {
    if (typeof v[f] === 'string' && !/^[A-Za-z0-9_.:,+-]+$/.test(v[f] as string))
      throw new ProfileError(`${source}: '${f}' has characters Slurm names do not use: '${v[f]}'`);
  }
  return v as unknown as ClusterProfile;
}

export function loadProfile(file: string): ClusterProfile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ProfileError(`cannot read profile ${file}: ${errorMessage(e)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ProfileError(`${file}: not JSON (${errorMessage(e)})`);
  }
  return parseProfile(value, file);
}

/** One SSH hop, fully resolved: what ssh2 connects to. */
export interface SshEndpoint {
  /** The name the user gave (alias), for messages. */
  label: string;
  host: string;
  port: number;
  user: string;
  /** Name looked up in known_hosts (HostKeyAlias, else host). */
  hostKeyName: string;
  identityFiles: string[];
}

export interface ConnectionPlan {
  target: SshEndpoint;
  /** Jump hosts in order, nearest first. */
  jumps: SshEndpoint[];
  /** known_hosts files to check (first is the one appended to). */
  knownHostsFiles: string[];
  agent?: string;
  keepaliveSeconds?: number;
}

function expandHome(p: string): string {
  if (p === '~') return os.homedir();
  return p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p;
}

function localUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}

/**
 * Combines the profile with ~/.ssh/config (profile fields win, as command-line options do over the
 * config in ssh): the real host, port, user, keys and jump chain.
 */
export function planConnection(profile: ClusterProfile, configLines?: SshConfigLine[]): ConnectionPlan {
  const lines = configLines ?? (profile.sshConfig === false ? [] : loadSshConfig(profile.sshConfig ? expandHome(profile.sshConfig) : undefined));
  const target = resolveSshHost(lines, profile.host);
  if (target.proxyCommand && !profile.jumpHost) {
    throw new ProfileError(`ssh config for '${profile.host}' uses ProxyCommand, which gift cannot run; use ProxyJump (or the profile's jumpHost) instead`);
  }
  const endpoint = (
    alias: string,
    resolved = resolveSshHost(lines, alias),
    overrides: { user?: string; port?: number; identity?: string } = {},
  ): SshEndpoint => ({
    label: alias,
    host: resolved.hostName,
    port: overrides.port ?? resolved.port,
    user: overrides.user ?? resolved.user ?? localUserName(),
    hostKeyName: resolved.hostKeyAlias ?? resolved.hostName,
    identityFiles: overrides.identity ? [expandHome(overrides.identity)] : resolved.identityFiles,
  });
  const targetEndpoint = endpoint(profile.host, target, { user: profile.user, port: profile.port, identity: profile.identityFile });

  const jumpSpecs =
    profile.jumpHost !== undefined
      ? profile.jumpHost.toLowerCase() === 'none'
        ? []
        : profile.jumpHost
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
      : target.proxyJump;
  const jumps = jumpSpecs.map((spec) => {
    const j = parseJumpSpec(spec);
    const resolved = resolveSshHost(lines, j.host);
    // A jump host's own keys come from its config entry; the profile's key is tried too (often the same).
    const e = endpoint(j.host, resolved, { user: j.user, port: j.port });
    if (profile.identityFile && !e.identityFiles.includes(expandHome(profile.identityFile))) e.identityFiles.push(expandHome(profile.identityFile));
    return e;
  });

  const knownHostsFiles = profile.knownHosts
    ? [expandHome(profile.knownHosts)]
    : target.userKnownHostsFiles.length
      ? target.userKnownHostsFiles
      : [path.join(os.homedir(), '.ssh', 'known_hosts')];
  let agent: string | undefined;
  if (profile.agent === true || (profile.agent === undefined && process.env.SSH_AUTH_SOCK)) agent = process.env.SSH_AUTH_SOCK;
  else if (typeof profile.agent === 'string') agent = expandHome(profile.agent);
  if (targetEndpoint.identityFiles.length === 0 && !agent) {
    // ssh's default identities, those that exist
    for (const name of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
      const f = path.join(os.homedir(), '.ssh', name);
      if (fs.existsSync(f)) targetEndpoint.identityFiles.push(f);
    }
  }
  return { target: targetEndpoint, jumps, knownHostsFiles, agent, keepaliveSeconds: target.serverAliveInterval };
}

/** A label for messages: user@host:port. */
export function describeEndpoint(e: SshEndpoint): string {
  return `${e.user}@${e.host}${e.port === 22 ? '' : `:${e.port}`}`;
}
