import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseJumpSpec, parseSshConfig, resolveSshHost, SshConfigError } from '../../src/core/train/ssh-config';
import { parseProfile, planConnection, ProfileError } from '../../src/core/train/profile';

const home = '/home/ada';
const opts = { home, localUser: 'ada', readFile: () => undefined, listDir: () => [] };

const config = `
# cluster login nodes
Host hpc hpc-*
    HostName login.hpc.example.org
    User ada_l
    IdentityFile ~/.ssh/id_hpc
    ProxyJump gateway

Host gateway
  HostName=gw.example.org
  Port 2200
  User gw_user
  IdentityFile "%d/.ssh/id gateway"

Host *.example.org !bad.example.org
  ServerAliveInterval 30

Host *
  User fallback
  IdentityFile ~/.ssh/id_ed25519
  Port 22
`;

test('Host blocks: first value wins, IdentityFile accumulates, Host=value and quotes, ~ and %d expand', () => {
  const lines = parseSshConfig(config, 'config');
  const hpc = resolveSshHost(lines, 'hpc', opts);
  assert.equal(hpc.hostName, 'login.hpc.example.org');
  assert.equal(hpc.user, 'ada_l'); // not the later "Host *" fallback
  assert.equal(hpc.port, 22);
  assert.deepEqual(hpc.identityFiles, ['/home/ada/.ssh/id_hpc', '/home/ada/.ssh/id_ed25519']);
  assert.deepEqual(hpc.proxyJump, ['gateway']);

  const gw = resolveSshHost(lines, 'gateway', opts);
  assert.equal(gw.hostName, 'gw.example.org');
  assert.equal(gw.port, 2200);
  assert.equal(gw.user, 'gw_user');
  assert.deepEqual(gw.identityFiles, ['/home/ada/.ssh/id gateway', '/home/ada/.ssh/id_ed25519']);

  // wildcard alias match, negation, defaults
  assert.equal(resolveSshHost(lines, 'hpc-gpu', opts).hostName, 'login.hpc.example.org');
  assert.equal(resolveSshHost(lines, 'x.example.org', opts).serverAliveInterval, 30);
  assert.equal(resolveSshHost(lines, 'bad.example.org', opts).serverAliveInterval, undefined);
  const other = resolveSshHost(lines, 'elsewhere', opts);
  assert.equal(other.hostName, 'elsewhere');
  assert.equal(other.user, 'fallback');
  assert.deepEqual(other.proxyJump, []);
});

test('Match, Include (relative to ~/.ssh, globbed), %h in HostName, ProxyJump none, ProxyCommand reported', () => {
  const files: Record<string, string> = {
    '/home/ada/.ssh/conf.d/a.conf': 'Host lab\n  HostName %h.cs.example.edu\n  Port 2022\n',
    '/home/ada/.ssh/conf.d/b.conf': 'Host lab\n  User from_b\n',
    '/home/ada/.ssh/conf.d/notes.txt': 'Host lab\n  User never\n',
  };
  const o = {
    ...opts,
    readFile: (f: string) => files[f],
    listDir: (d: string) => (d === '/home/ada/.ssh/conf.d' ? Object.keys(files).map((f) => path.basename(f)) : []),
  };
  const lines = parseSshConfig(
    [
      'Include conf.d/*.conf',
      'Match originalhost lab user from_b',
      '  IdentityFile ~/.ssh/lab_key',
      'Match exec "true"',
      '  User exec_never',
      'Host proxied',
      '  ProxyCommand ssh -W %h:%p jump',
      'Host nojump',
      '  ProxyJump none',
    ].join('\n'),
  );
  const lab = resolveSshHost(lines, 'lab', o);
  assert.equal(lab.hostName, 'lab.cs.example.edu');
  assert.equal(lab.port, 2022);
  assert.equal(lab.user, 'from_b');
  assert.deepEqual(lab.identityFiles, ['/home/ada/.ssh/lab_key']);
  assert.match(resolveSshHost(lines, 'proxied', o).proxyCommand ?? '', /ssh -W/);
  assert.deepEqual(resolveSshHost(lines, 'nojump', o).proxyJump, []);
});

test('bad config lines are reported with file and line', () => {
  assert.throws(
    () => parseSshConfig('Host a\n  Port "2222\n', '/x/config'),
    (e: Error) => e instanceof SshConfigError && /\/x\/config:2: unterminated quote/.test(e.message),
  );
  const lines = parseSshConfig('Host a\n  Port 99999\n', '/x/config');
  assert.throws(() => resolveSshHost(lines, 'a', opts), /\/x\/config:2: Port must be 1–65535/);
});

test('jump host specs: user@host:port, [v6]:port, ssh:// URIs', () => {
  assert.deepEqual(parseJumpSpec('bob@gw.example.org:2201'), { user: 'bob', host: 'gw.example.org', port: 2201 });
  assert.deepEqual(parseJumpSpec('gw'), { user: undefined, host: 'gw', port: undefined });
  assert.deepEqual(parseJumpSpec('[fe80::1]:22'), { user: undefined, host: 'fe80::1', port: 22 });
  assert.deepEqual(parseJumpSpec('ssh://eve@10.0.0.1:2022'), { user: 'eve', host: '10.0.0.1', port: 2022 });
  assert.throws(() => parseJumpSpec('a@b:0'), /port must be 1–65535/);
});

test('planConnection: profile fields override ~/.ssh/config; jump chain resolved through the config', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-sshcfg-'));
  const file = path.join(dir, 'config');
  fs.writeFileSync(file, config);
  const plan = planConnection(parseProfile({ host: 'hpc', workDir: '~/gift', sshConfig: file, knownHosts: path.join(dir, 'kh'), agent: false }));
  assert.equal(plan.target.host, 'login.hpc.example.org');
  assert.equal(plan.target.user, 'ada_l');
  assert.equal(plan.jumps.length, 1);
  assert.deepEqual([plan.jumps[0].host, plan.jumps[0].port, plan.jumps[0].user], ['gw.example.org', 2200, 'gw_user']);
  assert.deepEqual(plan.knownHostsFiles, [path.join(dir, 'kh')]);

  const overridden = planConnection(
    parseProfile({
      host: 'hpc',
      user: 'me',
      port: 2222,
      identityFile: '/keys/k',
      jumpHost: 'jumper@other:23',
      workDir: '/scratch/me',
      sshConfig: file,
      agent: false,
    }),
  );
  assert.equal(overridden.target.user, 'me');
  assert.equal(overridden.target.port, 2222);
  assert.deepEqual(overridden.target.identityFiles, ['/keys/k']);
  assert.deepEqual([overridden.jumps[0].host, overridden.jumps[0].port, overridden.jumps[0].user], ['other', 23, 'jumper']);
  assert.equal(planConnection(parseProfile({ host: 'hpc', jumpHost: 'none', workDir: '/w', sshConfig: file, agent: false })).jumps.length, 0);
  fs.writeFileSync(file, 'Host p\n  ProxyCommand nc %h %p\n');
  assert.throws(() => planConnection(parseProfile({ host: 'p', workDir: '/w', sshConfig: file })), /ProxyCommand.*ProxyJump/);
});

test('profiles: validated field by field; secrets refused', () => {
  const ok = parseProfile({
    host: 'hpc',
    workDir: '~/gift',
    partition: 'gpu',
    gpus: 4,
    cpus: 16,
    memory: '128G',
    time: '1-12:00:00',
    setup: ['module load cuda/12.4'],
  });
  assert.equal(ok.gpus, 4);
  const bad = (v: unknown, re: RegExp) =>
    assert.throws(
      () => parseProfile(v, 'p.json'),
      (e: Error) => e instanceof ProfileError && re.test(e.message),
    );
  bad({ host: 'h', workDir: '/w', passphrase: 'x' }, /p\.json: 'passphrase' looks like a secret; profiles never hold secrets/);
  bad({ host: 'h', workDir: '/w', hfToken: 'x' }, /'hfToken' looks like a secret/);
  bad({ host: 'h', workDir: '/w', gpu: 2 }, /unknown field 'gpu'/);
  bad({ host: 'h' }, /'workDir'.*required/);
  bad({ host: 'h', workDir: 'relative' }, /must be absolute or start with ~\//);
  bad({ host: 'h', workDir: '/w', gpus: -1 }, /'gpus' must be an integer in 0–1024/);
  bad({ host: 'h', workDir: '/w', time: '2 days' }, /'time' must be Slurm time/);
  bad({ host: 'h', workDir: '/w', memory: 'lots' }, /'memory' must look like 64G/);
  bad({ host: 'h', workDir: '/w', partition: 'gpu; rm -rf /' }, /'partition' has characters/);
  bad({ host: 'h', workDir: '/w', setup: ['a\nb'] }, /'setup' must be a list of single-line strings/);
});
