/**
 * One SSH connection to a cluster's login node (npm ssh2, no ssh binary): host keys checked
 * against known_hosts, ProxyJump chains, commands through ONE long-lived remote shell (a login
 * shell's start-up files can cost seconds per `ssh host cmd`; here they run once per connection),
 * SFTP for files, and transparent reconnects for idempotent work after a dropped connection.
 */
import fs from 'node:fs';
import crypto from 'node:crypto';
import { Client, utils, type AgentAuthMethod, type ClientChannel, type PublicKeyAuthMethod, type SFTPWrapper } from 'ssh2';
import type { Duplex } from 'node:stream';
import { appendKnownHost, checkHostKey, preferredHostKeyAlgorithms, readKnownHostsFiles, type HostKeyVerdict } from './known-hosts';
import { describeEndpoint, planConnection, type ClusterProfile, type ConnectionPlan, type SshEndpoint } from './profile';
import { UserError, errorMessage } from '../errors';

const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

export class SshError extends UserError {
  constructor(
    message: string,
    readonly kind: 'host-key' | 'auth' | 'connect' | 'command' | 'sftp' | 'closed' | 'timeout',
  ) {
    super(message);
  }
}

export interface UnknownHostKey {
  /** The endpoint as the user named it, e.g. "cluster" or "jump.example.org". */
  label: string;
  host: string;
  port: number;
  keyType: string;
  /** `SHA256:…`, as ssh prints it. */
  fingerprint: string;
  /** Key types already known for this host (a new type of key, not a changed one). */
  otherTypes: string[];
  /** Where an accepted key is appended. */
  knownHostsFile: string;
}

export interface ConnectOptions {
  /** Passphrase for encrypted identity files. Used for this connection only, never stored or logged. */
  passphrase?: string;
  /** Asked when a host is not in known_hosts; true accepts (and appends the key). Default: refuse. */
  onUnknownHostKey?: (key: UnknownHostKey) => boolean | Promise<boolean>;
  /** Progress lines (connects, reconnects). Never receives secrets. */
  log?: (line: string) => void;
  readyTimeoutMs?: number;
  /** How long to keep trying to reconnect after a drop (default 60 s). */
  reconnectForMs?: number;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RemoteStat {
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  isDirectory: boolean;
}

/** Quotes a string for POSIX sh. */
export function shq(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * A remote `sh` kept open on one exec channel: each command runs in a subshell with stdin from
 * /dev/null, and is delimited on stdout and stderr by a random end marker carrying its exit code.
 */
class RemoteShell {
  private stdout = Buffer.alloc(0);
  private stderr = Buffer.alloc(0);
  private pending: {
    marker: Buffer;
    resolve: (r: ExecResult) => void;
    reject: (e: Error) => void;
    outDone?: { code: number; text: string };
    errDone?: string;
  } | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  closed = false;

  constructor(private readonly channel: ClientChannel) {
    channel.on('data', (d: Buffer) => {
      this.stdout = Buffer.concat([this.stdout, d]);
      this.drain();
    });
    channel.stderr.on('data', (d: Buffer) => {
      this.stderr = Buffer.concat([this.stderr, d]);
      this.drain();
    });
    channel.on('close', () => {
      this.closed = true;
      this.pending?.reject(new SshError('the remote shell closed', 'closed'));
      this.pending = null;
    });
  }

  private drain(): void {
    const p = this.pending;
    if (!p) return;
    if (!p.outDone) {
      const at = this.stdout.indexOf(p.marker);
      if (at >= 0) {
        const lineEnd = this.stdout.indexOf(0x0a, at + p.marker.length);
        if (lineEnd >= 0) {
          const code = Number(
            this.stdout
              .subarray(at + p.marker.length, lineEnd)
              .toString('latin1')
              .trim(),
          );
          // The marker is written after a newline the shell adds; take that newline off again.
          const body = this.stdout.subarray(0, Math.max(0, at - 1));
          p.outDone = { code, text: body.toString('utf8') };
          this.stdout = this.stdout.subarray(lineEnd + 1);
        }
      }
    }
    if (p.errDone === undefined) {
      const at = this.stderr.indexOf(p.marker);
      if (at >= 0) {
        const lineEnd = this.stderr.indexOf(0x0a, at + p.marker.length);
        if (lineEnd >= 0) {
          p.errDone = this.stderr.subarray(0, Math.max(0, at - 1)).toString('utf8');
          this.stderr = this.stderr.subarray(lineEnd + 1);
        }
      }
    }
    if (p.outDone && p.errDone !== undefined) {
      this.pending = null;
      p.resolve({ code: p.outDone.code, stdout: p.outDone.text, stderr: p.errDone });
    }
  }

  run(command: string, timeoutMs: number): Promise<ExecResult> {
    const next = this.queue.then(() => this.runNow(command, timeoutMs));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private runNow(command: string, timeoutMs: number): Promise<ExecResult> {
    if (this.closed) return Promise.reject(new SshError('the remote shell closed', 'closed'));
    const marker = `@@gift-end-${crypto.randomBytes(9).toString('hex')}@@`;
    return new Promise<ExecResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = null;
        this.close();
        reject(new SshError(`remote command timed out after ${timeoutMs} ms: ${firstLine(command)}`, 'timeout'));
      }, timeoutMs);
      this.pending = {
        marker: Buffer.from(marker),
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.channel.write(`(\n${command}\n) </dev/null\nprintf '\\n%s %d\\n' '${marker}' $?\nprintf '\\n%s\\n' '${marker}' >&2\n`);
    });
  }

  /** The connection under the shell is gone: fail the command in flight now rather than at its timeout. */
  abort(): void {
    this.closed = true;
    this.pending?.reject(new SshError('the connection closed', 'closed'));
    this.pending = null;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending?.reject(new SshError('the remote shell was closed', 'closed'));
    this.pending = null;
    try {
      this.channel.end('exit\n');
      this.channel.close();
    } catch {
      // already gone
    }
  }
}

function firstLine(s: string): string {
  const line = s.trim().split('\n')[0];
  return line.length > 120 ? `${line.slice(0, 117)}…` : line;
}

/** Errors that mean "the connection is gone", after which a reconnect may help. */
function isConnectionLoss(e: unknown): boolean {
  if (e instanceof SshError) return e.kind === 'closed';
  const text = String(errorMessage(e));
  return /not connected|no response from server|ECONNRESET|EPIPE|ECONNREFUSED|ETIMEDOUT|socket|channel open failure|connection lost|closed/i.test(text);
}

export class ClusterConnection {
  private clients: Client[] = [];
  private shell: RemoteShell | null = null;
  private sftpSession: SFTPWrapper | null = null;
  private alive = false;
  private connecting: Promise<void> | null = null;
  /** Times the connection was re-established after a drop. */
  reconnects = 0;
  readonly plan: ConnectionPlan;
  private homeDir: string | null = null;
  /** Rejects when the current connection closes: raced against every ssh2 callback, which may never come after a drop. */
  private lost: Promise<never> = new Promise<never>(() => undefined);

  private constructor(
    readonly profile: ClusterProfile,
    private readonly options: ConnectOptions,
    plan?: ConnectionPlan,
  ) {
    this.plan = plan ?? planConnection(profile);
  }

  /** Connects (through any jump hosts) and returns a ready connection. */
  static async open(profile: ClusterProfile, options: ConnectOptions = {}, plan?: ConnectionPlan): Promise<ClusterConnection> {
    const c = new ClusterConnection(profile, options, plan);
    await c.connect();
    return c;
  }

  get label(): string {
    return describeEndpoint(this.plan.target);
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  private async connect(): Promise<void> {
    this.teardown();
    const hops = [...this.plan.jumps, this.plan.target];
    let sock: Duplex | undefined;
    const clients: Client[] = [];
    try {
      for (let i = 0; i < hops.length; i++) {
        const client = await this.connectHop(hops[i], sock);
        clients.push(client);
        if (i + 1 < hops.length) {
          const next = hops[i + 1];
          sock = await new Promise<Duplex>((resolve, reject) =>
            client.forwardOut('127.0.0.1', 0, next.host, next.port, (err, stream) =>
              err
                ? reject(new SshError(`jump host ${describeEndpoint(hops[i])} could not reach ${next.host}:${next.port}: ${err.message}`, 'connect'))
                : resolve(stream),
            ),
          );
        }
      }
    } catch (e) {
      for (const c of clients) c.end();
      throw e;
    }
    this.clients = clients;
    this.alive = true;
    let signalLoss: (e: Error) => void = () => undefined;
    this.lost = new Promise<never>((_, reject) => (signalLoss = reject));
    this.lost.catch(() => undefined); // only meaningful when raced
    const onLoss = () => {
      if (this.clients !== clients) return; // an older connection, already replaced
      this.alive = false;
      this.shell?.abort();
      this.shell = null;
      this.sftpSession = null;
      signalLoss(new SshError(`the connection to ${this.label} was lost`, 'closed'));
    };
    for (const c of clients) {
      c.on('close', onLoss);
      c.on('error', onLoss);
    }
  }

  /** Resolves as `p` does, or rejects as soon as the connection is lost. */
  guard<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.lost]);
  }

  private loadKeys(endpoint: SshEndpoint): PublicKeyAuthMethod[] {
    const methods: PublicKeyAuthMethod[] = [];
    for (const file of endpoint.identityFiles) {
      let data: Buffer;
      try {
        data = fs.readFileSync(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // ssh skips missing default keys too
        throw new SshError(`cannot read identity file ${file}: ${errorMessage(e)}`, 'auth');
      }
      const parsed = utils.parseKey(data, this.options.passphrase);
      if (parsed instanceof Error) {
        const encrypted = /encrypted|passphrase/i.test(parsed.message);
        throw new SshError(
          encrypted
            ? `identity file ${file} is encrypted: ${this.options.passphrase ? 'the passphrase given does not open it' : 'pass its passphrase (gift train --passphrase-env VAR)'}`
            : `identity file ${file} is not a private key ssh2 can read: ${parsed.message}`,
          'auth',
        );
      }
      methods.push({ type: 'publickey', username: endpoint.user, key: data, passphrase: this.options.passphrase });
    }
    return methods;
  }

  private connectHop(endpoint: SshEndpoint, sock?: Duplex): Promise<Client> {
    const entries = readKnownHostsFiles(this.plan.knownHostsFiles);
    const keyMethods = this.loadKeys(endpoint);
    const agent: AgentAuthMethod[] = this.plan.agent ? [{ type: 'agent', username: endpoint.user, agent: this.plan.agent }] : [];
    const auth: (AgentAuthMethod | PublicKeyAuthMethod)[] = [...agent, ...keyMethods];
    if (auth.length === 0) {
      return Promise.reject(
        new SshError(
          `no way to log in to ${describeEndpoint(endpoint)}: no identity file found and no SSH agent (set identityFile or agent in the profile)`,
          'auth',
        ),
      );
    }
    let refusal: SshError | null = null;
    const client = new Client();
    const started = Date.now();
    return new Promise<Client>((resolve, reject) => {
      let settled = false;
      const fail = (e: Error) => {
        if (settled) return;
        settled = true;
        client.end();
        reject(e);
      };
      client.on('ready', () => {
        settled = true;
        this.log(`connected to ${describeEndpoint(endpoint)} in ${Date.now() - started} ms`);
        resolve(client);
      });
      client.on('error', (err: Error & { level?: string }) => {
        if (refusal) return fail(refusal);
        if (err.level === 'client-authentication') {
          return fail(new SshError(`${describeEndpoint(endpoint)} refused every key offered (${auth.map((a) => a.type).join(', ')})`, 'auth'));
        }
        fail(new SshError(`cannot connect to ${describeEndpoint(endpoint)}: ${err.message}`, 'connect'));
      });
      client.on('close', () => fail(refusal ?? new SshError(`connection to ${describeEndpoint(endpoint)} closed during set-up`, 'connect')));
      client.connect({
        host: endpoint.host,
        port: endpoint.port,
        sock,
        username: endpoint.user,
        authHandler: auth,
        readyTimeout: this.options.readyTimeoutMs ?? 20_000,
        keepaliveInterval: (this.plan.keepaliveSeconds ?? 15) * 1000,
        keepaliveCountMax: 3,
        algorithms: {
          serverHostKey: preferredHostKeyAlgorithms(entries, endpoint.hostKeyName, endpoint.port, DEFAULT_HOST_KEY_ALGORITHMS) as never,
        },
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          let verdict: HostKeyVerdict;
          try {
            verdict = checkHostKey(entries, endpoint.hostKeyName, endpoint.port, key);
          } catch (e) {
            refusal = new SshError(`host key of ${endpoint.label}: ${errorMessage(e)}`, 'host-key');
            return verify(false);
          }
          if (verdict.status === 'trusted') return verify(true);
          if (verdict.status === 'changed') {
            const where = verdict.expected.map((e) => `${e.file}:${e.line}`).join(', ');
            refusal = new SshError(
              `REMOTE HOST KEY CHANGED for ${endpoint.label} (${endpoint.host}:${endpoint.port}): it now presents ${verdict.keyType} ${verdict.fingerprint}, ` +
                `which differs from the key in ${where}. Someone could be intercepting the connection; if the host really was re-keyed, remove that line and connect again.`,
              'host-key',
            );
            return verify(false);
          }
          if (verdict.status === 'revoked') {
            refusal = new SshError(
              `host key ${verdict.fingerprint} of ${endpoint.label} is marked @revoked in ${verdict.entry.file}:${verdict.entry.line}`,
              'host-key',
            );
            return verify(false);
          }
          const knownHostsFile = this.plan.knownHostsFiles[0];
          const ask = this.options.onUnknownHostKey;
          const info: UnknownHostKey = {
            label: endpoint.label,
            host: endpoint.hostKeyName,
            port: endpoint.port,
            keyType: verdict.keyType,
            fingerprint: verdict.fingerprint,
            otherTypes: verdict.otherTypes,
            knownHostsFile,
          };
          const refuse = () => {
            refusal = new SshError(
              `host ${endpoint.label} (${endpoint.host}:${endpoint.port}) is not in ${knownHostsFile}; its ${verdict.keyType} key fingerprint is ${verdict.fingerprint}. ` +
                `Check it with the cluster's administrators, then accept it (gift train --accept-host-key ${verdict.fingerprint}).`,
              'host-key',
            );
            verify(false);
          };
          if (!ask) return refuse();
          Promise.resolve()
            .then(() => ask(info))
            .then(
              (accepted) => {
                if (!accepted) return refuse();
                try {
                  appendKnownHost(knownHostsFile, endpoint.hostKeyName, endpoint.port, key, this.profile.hashKnownHosts ?? false);
                } catch (e) {
                  refusal = new SshError(`could not add the host key to ${knownHostsFile}: ${errorMessage(e)}`, 'host-key');
                  return verify(false);
                }
                this.log(`added ${verdict.keyType} ${verdict.fingerprint} for ${endpoint.label} to ${knownHostsFile}`);
                verify(true);
              },
              () => refuse(),
            );
        },
      });
    });
  }

  private teardown(): void {
    this.shell?.close();
    this.shell = null;
    this.sftpSession?.end();
    this.sftpSession = null;
    const old = this.clients;
    this.clients = [];
    for (const c of [...old].reverse()) c.end();
    this.alive = false;
  }

  get connected(): boolean {
    return this.alive;
  }

  /** Re-establishes a dropped connection, retrying with back-off for reconnectForMs. */
  async reconnect(): Promise<void> {
    if (this.connecting) return this.connecting;
    this.connecting = (async () => {
      const deadline = Date.now() + (this.options.reconnectForMs ?? 60_000);
      let delay = 250;
      for (;;) {
        try {
          await this.connect();
          this.reconnects++;
          this.log(`reconnected to ${this.label}`);
          return;
        } catch (e) {
          // Host-key and login refusals will not fix themselves; stop at once.
          if (e instanceof SshError && (e.kind === 'host-key' || e.kind === 'auth')) throw e;
          if (Date.now() + delay > deadline) throw new SshError(`lost the connection to ${this.label} and could not reconnect: ${errorMessage(e)}`, 'connect');
          this.log(`reconnect to ${this.label} failed (${errorMessage(e)}); retrying in ${delay} ms`);
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 5000);
        }
      }
    })();
    try {
      await this.connecting;
    } finally {
      this.connecting = null;
    }
  }

  /**
   * Runs `work`; when the connection was lost (before or during it) and `idempotent`, reconnects
   * and runs it once more. Non-idempotent work (sbatch) is never repeated behind the caller's back.
   */
  async withRetry<T>(work: () => Promise<T>, idempotent: boolean): Promise<T> {
    if (!this.alive) await this.reconnect();
    try {
      return await work();
    } catch (e) {
      if (!idempotent || !(isConnectionLoss(e) || !this.alive)) throw e;
      this.log(`connection to ${this.label} lost (${errorMessage(e)}); reconnecting`);
      this.alive = false;
      await this.reconnect();
      return await work();
    }
  }

  private get client(): Client {
    const c = this.clients[this.clients.length - 1];
    if (!c || !this.alive) throw new SshError(`not connected to ${this.label}`, 'closed');
    return c;
  }

  private async getShell(): Promise<RemoteShell> {
    if (this.shell && !this.shell.closed) return this.shell;
    const channel = await this.guard(
      new Promise<ClientChannel>((resolve, reject) =>
        this.client.exec('exec /bin/sh', (err, ch) => (err ? reject(new SshError(`cannot start a remote shell: ${err.message}`, 'closed')) : resolve(ch))),
      ),
    );
    this.shell = new RemoteShell(channel);
    return this.shell;
  }

  /** Runs a shell command on the login node; resolves with its exit code and output. */
  async exec(command: string, options: { timeoutMs?: number; idempotent?: boolean } = {}): Promise<ExecResult> {
    return this.withRetry(async () => (await this.getShell()).run(command, options.timeoutMs ?? 120_000), options.idempotent ?? true);
  }

  /** Like exec, but a non-zero exit is an error carrying the command's stderr. */
  async run(command: string, options: { timeoutMs?: number; idempotent?: boolean } = {}): Promise<string> {
    const r = await this.exec(command, options);
    if (r.code !== 0) {
      const why = (r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n');
      throw new SshError(`remote command failed (exit ${r.code}): ${firstLine(command)}${why ? `\n${why}` : ''}`, 'command');
    }
    return r.stdout;
  }

  /** The SFTP session (opened once per connection). Wrap calls on it in guard(). */
  async sftp(): Promise<SFTPWrapper> {
    if (this.sftpSession && this.alive) return this.sftpSession;
    const s = await this.guard(
      new Promise<SFTPWrapper>((resolve, reject) =>
        this.client.sftp((err, sftp) => (err ? reject(new SshError(`cannot open SFTP: ${err.message}`, 'closed')) : resolve(sftp))),
      ),
    );
    s.on('close', () => {
      if (this.sftpSession === s) this.sftpSession = null;
    });
    this.sftpSession = s;
    return s;
  }

  /** One SFTP request as a promise, failing fast on connection loss; `missingOk` maps "no such file" to null. */
  private sftpRequest<T>(
    op: string,
    p: string,
    start: (s: SFTPWrapper, cb: (err: Error | null | undefined, value?: T) => void) => void,
    missingOk = false,
  ): Promise<T | null> {
    return this.sftp().then((s) =>
      this.guard(
        new Promise<T | null>((resolve, reject) =>
          start(s, (err, value) => {
            if (!err) return resolve(value as T);
            if (missingOk && (err as { code?: number }).code === 2) return resolve(null);
            reject(sftpError(op, p, err));
          }),
        ),
      ),
    );
  }

  /** The remote home folder (for ~/ paths). */
  async home(): Promise<string> {
    if (this.homeDir) return this.homeDir;
    this.homeDir = await this.withRetry(async () => (await this.sftpRequest<string>('realpath', '.', (s, cb) => s.realpath('.', cb)))!, true);
    return this.homeDir;
  }

  /** `~/x` → `/home/u/x`; absolute paths unchanged. */
  async resolvePath(p: string): Promise<string> {
    if (p === '~') return this.home();
    if (p.startsWith('~/')) return `${(await this.home()).replace(/\/$/, '')}/${p.slice(2)}`;
    return p;
  }

  async stat(remotePath: string): Promise<RemoteStat | null> {
    return this.withRetry(async () => {
      const st = await this.sftpRequest<import('ssh2').Stats>('stat', remotePath, (s, cb) => s.stat(remotePath, cb), true);
      return st ? { size: st.size, mtime: st.mtime, isDirectory: st.isDirectory() } : null;
    }, true);
  }

  /** Reads up to `length` bytes from `offset` (all of the rest when length is omitted). Missing file: null. */
  async readFile(remotePath: string, offset = 0, length?: number): Promise<Buffer | null> {
    return this.withRetry(async () => {
      const handle = await this.sftpRequest<Buffer>('open', remotePath, (s, cb) => s.open(remotePath, 'r', cb), true);
      if (!handle) return null;
      try {
        const chunks: Buffer[] = [];
        let position = offset;
        let remaining = length ?? Infinity;
        while (remaining > 0) {
          const want = Math.min(65536, remaining);
          const buf = Buffer.alloc(want);
          const n = await this.sftpRequest<number>('read', remotePath, (s, cb) =>
            // ssh2 reports end-of-file as an error with code 1 (SSH_FX_EOF)
            s.read(handle, buf, 0, want, position, (err, bytesRead) => ((err as { code?: number } | undefined)?.code === 1 ? cb(null, 0) : cb(err, bytesRead))),
          );
          if (!n) break;
          chunks.push(buf.subarray(0, n));
          position += n;
          remaining -= n;
        }
        return Buffer.concat(chunks);
      } finally {
        await this.closeHandle(handle);
      }
    }, true);
  }

  /** Closes an SFTP handle; never throws (after a drop the handle is gone anyway). */
  async closeHandle(handle: Buffer): Promise<void> {
    await this.sftpRequest('close', 'handle', (s, cb) => s.close(handle, cb)).catch(() => undefined);
  }

  /** Writes a whole file atomically (temporary name, then rename over the target). */
  async writeFile(remotePath: string, data: Buffer | string): Promise<void> {
    const tmp = `${remotePath}.tmp-${crypto.randomBytes(4).toString('hex')}`;
    await this.withRetry(async () => {
      await this.sftpRequest('write', tmp, (s, cb) => s.writeFile(tmp, data, cb));
      await this.renameOver(tmp, remotePath);
    }, true);
  }

  /** Renames, replacing the target (OpenSSH's posix-rename when offered). */
  async renameOver(from: string, to: string): Promise<void> {
    try {
      await this.sftpRequest('rename', `${from} → ${to}`, (s, cb) => s.ext_openssh_rename(from, to, cb));
    } catch (e) {
      if (e instanceof SshError && e.kind === 'closed') throw e;
      // servers without the extension: plain rename does not replace, so remove the target first
      await this.unlink(to);
      await this.sftpRequest('rename', `${from} → ${to}`, (s, cb) => s.rename(from, to, cb));
    }
  }

  async unlink(remotePath: string): Promise<void> {
    await this.sftpRequest('unlink', remotePath, (s, cb) => s.unlink(remotePath, cb), true);
  }

  /** Lists a folder: names with their stats (no . and ..). Missing folder: empty list. */
  async readdir(remotePath: string): Promise<{ name: string; stat: RemoteStat }[]> {
    return this.withRetry(async () => {
      const list = await this.sftpRequest<import('ssh2').FileEntryWithStats[]>('readdir', remotePath, (s, cb) => s.readdir(remotePath, cb), true);
      return (list ?? [])
        .filter((e) => e.filename !== '.' && e.filename !== '..')
        .map((e) => ({ name: e.filename, stat: { size: e.attrs.size, mtime: e.attrs.mtime, isDirectory: (e.attrs.mode & 0o170000) === 0o040000 } }));
    }, true);
  }

  /** Downloads one file to a local path (via a temporary name). */
  async download(remotePath: string, localPath: string): Promise<number> {
    return this.withRetry(async () => {
      const tmp = `${localPath}.part`;
      await this.sftpRequest('download', remotePath, (s, cb) => s.fastGet(remotePath, tmp, cb));
      fs.renameSync(tmp, localPath);
      return fs.statSync(localPath).size;
    }, true);
  }

  close(): void {
    this.teardown();
  }
}

function sftpError(op: string, p: string, err: Error): SshError {
  return new SshError(`SFTP ${op} ${p}: ${err.message}`, /closed|not connected|no response/i.test(err.message) ? 'closed' : 'sftp');
}
