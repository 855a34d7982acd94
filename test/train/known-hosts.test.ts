import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  appendKnownHost,
  checkHostKey,
  fingerprintSha256,
  keyTypeOf,
  knownHostsLine,
  parseKnownHosts,
  preferredHostKeyAlgorithms,
  readKnownHostsFiles,
} from '../../src/core/train/known-hosts';

/** Real keys from ssh-keygen: [type, base64 blob]. */
function makeKey(dir: string, name: string, type: 'ed25519' | 'ecdsa' | 'rsa'): { type: string; blob: Buffer; pub: string } {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-f', file]);
  const pub = fs.readFileSync(`${file}.pub`, 'utf8').trim();
  const [t, b64] = pub.split(/\s+/);
  return { type: t, blob: Buffer.from(b64, 'base64'), pub: `${file}.pub` };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-kh-'));
const hostA = makeKey(dir, 'a', 'ed25519');
const hostB = makeKey(dir, 'b', 'ed25519');
const hostRsa = makeKey(dir, 'r', 'rsa');

test('fingerprints equal ssh-keygen -lf; key type read from the blob', () => {
  const out = execFileSync('ssh-keygen', ['-lf', hostA.pub, '-E', 'sha256'], { encoding: 'utf8' });
  assert.equal(fingerprintSha256(hostA.blob), out.split(/\s+/)[1]);
  assert.equal(keyTypeOf(hostA.blob), 'ssh-ed25519');
  assert.equal(keyTypeOf(hostRsa.blob), 'ssh-rsa');
});

test('plain, [host]:port, pattern and hashed entries (hashed by ssh-keygen -H) are matched', () => {
  const file = path.join(dir, 'known_hosts');
  const line = (hosts: string) => `${hosts} ${hostA.type} ${hostA.blob.toString('base64')}`;
  fs.writeFileSync(
    file,
    `${[line('login.example.org,10.0.0.5'), line('[127.0.0.1]:2222'), line('hashed.example.org'), line('[hashed.example.org]:2200')].join('\n')}\n`,
  );
  execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
  // patterns cannot be hashed; comments and broken lines are skipped as ssh does
  fs.appendFileSync(file, `${['# comment', line('*.cluster.example.org,!evil.cluster.example.org'), 'garbage line'].join('\n')}\n`);
  const entries = readKnownHostsFiles([file]);
  assert.ok(entries.filter((e) => e.hosts.startsWith('|1|')).length >= 5, 'ssh-keygen -H hashed the host names');
  for (const [host, port] of [
    ['login.example.org', 22],
    ['10.0.0.5', 22],
    ['127.0.0.1', 2222],
    ['node7.cluster.example.org', 22],
    ['hashed.example.org', 22],
    ['hashed.example.org', 2200],
  ] as const) {
    const v = checkHostKey(entries, host, port, hostA.blob);
    assert.equal(v.status, 'trusted', `${host}:${port}`);
  }
  // port matters, negated patterns exclude
  assert.equal(checkHostKey(entries, '127.0.0.1', 22, hostA.blob).status, 'unknown');
  assert.equal(
    checkHostKey(
      parseKnownHosts(`*.cluster.example.org,!evil.cluster.example.org ${hostA.type} ${hostA.blob.toString('base64')}`),
      'evil.cluster.example.org',
      22,
      hostA.blob,
    ).status,
    'unknown',
  );
});

test('a changed key is refused with both sides named; a new key type is unknown, not changed; @revoked wins', () => {
  const entries = parseKnownHosts(`[127.0.0.1]:2222 ${hostA.type} ${hostA.blob.toString('base64')}\n`, '/kh');
  const changed = checkHostKey(entries, '127.0.0.1', 2222, hostB.blob);
  assert.equal(changed.status, 'changed');
  if (changed.status === 'changed') {
    assert.equal(changed.fingerprint, fingerprintSha256(hostB.blob));
    assert.equal(changed.expected[0].file, '/kh');
    assert.equal(changed.expected[0].line, 1);
  }
  const newType = checkHostKey(entries, '127.0.0.1', 2222, hostRsa.blob);
  assert.equal(newType.status, 'unknown');
  if (newType.status === 'unknown') assert.deepEqual(newType.otherTypes, ['ssh-ed25519']);
  const revoked = parseKnownHosts(
    `@revoked * ${hostA.type} ${hostA.blob.toString('base64')}\n[127.0.0.1]:2222 ${hostA.type} ${hostA.blob.toString('base64')}\n`,
  );
  assert.equal(checkHostKey(revoked, '127.0.0.1', 2222, hostA.blob).status, 'revoked');
  // known key types are offered first
  assert.deepEqual(
    preferredHostKeyAlgorithms(parseKnownHosts(`h ${hostRsa.type} ${hostRsa.blob.toString('base64')}`), 'h', 22, ['ssh-ed25519', 'rsa-sha2-512', 'ssh-rsa']),
    ['rsa-sha2-512', 'ssh-rsa', 'ssh-ed25519'],
  );
});

test('appended keys (plain and hashed) are read back by us and by ssh-keygen -F', () => {
  const file = path.join(dir, 'sub', 'known_hosts_new');
  appendKnownHost(file, '127.0.0.1', 2222, hostA.blob);
  appendKnownHost(file, 'login.example.org', 22, hostB.blob, true);
  assert.equal((fs.statSync(file).mode & 0o777).toString(8), '600');
  const entries = readKnownHostsFiles([file]);
  assert.equal(checkHostKey(entries, '127.0.0.1', 2222, hostA.blob).status, 'trusted');
  assert.equal(checkHostKey(entries, 'login.example.org', 22, hostB.blob).status, 'trusted');
  assert.match(execFileSync('ssh-keygen', ['-F', '[127.0.0.1]:2222', '-f', file], { encoding: 'utf8' }), /ssh-ed25519/);
  assert.match(execFileSync('ssh-keygen', ['-F', 'login.example.org', '-f', file], { encoding: 'utf8' }), /ssh-ed25519/);
  assert.match(knownHostsLine('h', 22, hostA.blob, true), /^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 /);
});
