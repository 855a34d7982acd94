/**
 * End to end against a real Slurm (slurmctld + slurmd + munge) reached through a real OpenSSH
 * server on 127.0.0.1, both started by scripts/training-env-up.sh (stopped by -down.sh):
 *   bash scripts/training-env-up.sh && node scripts/test.mjs test/train/e2e; bash scripts/training-env-down.sh
 * Skipped when the environment is not up. Covers host-key trust (unknown → accepted, changed →
 * refused), incremental and resumed upload, the bundled recipe (tiny) to COMPLETED with its ONNX
 * model fetched back, a failing job (state, exit code, log tail), a cancelled job, a dropped
 * connection during polling, runs found again from the state file by a new process, and a
 * bootstrap job array merged afterwards.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ClusterConnection,
  followRun,
  mergeShards,
  parseProfile,
  refreshStatus,
  RunStore,
  submitBootstrapArray,
  submitTraining,
  syncFolder,
  type ClusterProfile,
  type JobStatus,
  type RunRecord,
  type UnknownHostKey,
} from '../../src/core/train';
import { fetchRun, readLog, tailLines } from '../../src/core/train/trainer';
import { repoRoot, smallDataset } from './helpers/fixtures';
import { localClusterProfile, readTrainingEnv, trainingEnvFile } from '../helpers/training-env';

const env = readTrainingEnv();
const skip = env ? false : `training environment not up (${trainingEnvFile} missing): run bash scripts/training-env-up.sh`;

const started = Date.now();
const timings: [string, number][] = [];
let mark = Date.now();
function lap(name: string): void {
  const now = Date.now();
  timings.push([name, now - mark]);
  mark = now;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-e2e-'));
const knownHosts = path.join(tmp, 'known_hosts');
const stateFile = path.join(tmp, 'runs.json');
const profileFile = path.join(tmp, 'profile.json');
let profile: ClusterProfile;
let conn: ClusterConnection | null = null;
let datasetDir = '';

after(async () => {
  if (conn && env) {
    // Leave nothing behind: jobs a failed assertion left running, and this run's remote folder.
    const open = new RunStore(stateFile).list().filter((r) => !['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT'].includes(r.state));
    if (open.length) await conn.exec(`scancel ${open.map((r) => r.jobId).join(' ')}`).catch(() => undefined);
    await conn.exec(`rm -rf '${await conn.resolvePath(profile.workDir)}'`).catch(() => undefined);
  }
  conn?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  if (timings.length) {
    const rows = timings.map(([n, ms]) => `  ${n.padEnd(58)} ${(ms / 1000).toFixed(1).padStart(6)} s`);
    console.log(`training e2e timings:\n${rows.join('\n')}\n  ${'total wall time'.padEnd(58)} ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s`);
  }
});

/** `gift train ARGS` in a separate process (as a user would run it; proves state survives restarts). */
function giftTrain(args: string[], timeoutMs = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'helpers', 'gift-cli.ts'), 'train', ...args, '--state', stateFile], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gift train ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

function sshKeygenFingerprint(pubFile: string): string {
  return execFileSync('ssh-keygen', ['-lf', pubFile, '-E', 'sha256'], { encoding: 'utf8' }).split(/\s+/)[1];
}

async function connect(onUnknownHostKey?: (k: UnknownHostKey) => boolean): Promise<ClusterConnection> {
  return ClusterConnection.open(profile, { onUnknownHostKey, reconnectForMs: 30_000 });
}

async function waitFor(run: RunRecord, want: (s: JobStatus) => boolean, timeoutMs = 60_000): Promise<JobStatus> {
  const store = new RunStore(stateFile);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await refreshStatus(conn!, store, run);
    if (want(s)) return s;
    if (Date.now() > deadline) throw new Error(`run ${run.id} stayed ${s.state}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

test('host keys: unknown is reported with its SHA256 fingerprint and appended when accepted; a changed key is refused', { skip }, async () => {
  profile = parseProfile(localClusterProfile(env!, 'localhost-slurm', knownHosts, 'e2e'));
  fs.writeFileSync(profileFile, JSON.stringify(profile, null, 2));
  const hostKeyPub = path.join(path.dirname(env!.identityFile), 'ssh_host_ed25519_key.pub');
  const expected = sshKeygenFingerprint(hostKeyPub);

  await assert.rejects(
    connect(),
    (e: Error) => /not in .*known_hosts; its ssh-ed25519 key fingerprint is (SHA256:\S+)/.test(e.message) && e.message.includes(expected),
  );
  assert.equal(fs.existsSync(knownHosts), false, 'a refused key is not written');

  const seen: UnknownHostKey[] = [];
  conn = await connect((k) => {
    seen.push(k);
    return true;
  });
  assert.equal(seen.length, 1);
  assert.equal(seen[0].fingerprint, expected);
  assert.match(fs.readFileSync(knownHosts, 'utf8'), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${env!.port} ssh-ed25519 `));
  // known now: no question asked
  const again = await connect(() => assert.fail('asked about a known key'));
  again.close();

  // the same host presenting another key: refused even though the callback would accept anything
  const otherKey = path.join(tmp, 'other');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
  const forged = path.join(tmp, 'known_hosts_changed');
  fs.writeFileSync(forged, `[127.0.0.1]:${env!.port} ${fs.readFileSync(`${otherKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
  await assert.rejects(
    ClusterConnection.open({ ...profile, knownHosts: forged }, { onUnknownHostKey: () => true }),
    (e: Error) => /REMOTE HOST KEY CHANGED/.test(e.message) && e.message.includes(expected) && e.message.includes(`${forged}:1`),
  );
  lap('host-key checks (3 connections)');

  // An alias from an ssh config file, reached through a ProxyJump hop (the same sshd forwards to itself).
  const sshConfig = path.join(tmp, 'ssh_config');
  fs.writeFileSync(
    sshConfig,
    [
      'Host gift-cluster',
      '  HostName 127.0.0.1',
      `  Port ${env!.port}`,
      `  User ${env!.user}`,
      `  IdentityFile ${env!.identityFile}`,
      '  ProxyJump gift-gateway',
      'Host gift-gateway',
      '  HostName 127.0.0.1',
      `  Port ${env!.port}`,
      `  User ${env!.user}`,
      `  IdentityFile ${env!.identityFile}`,
      '',
    ].join('\n'),
  );
  const viaJump = await ClusterConnection.open(parseProfile({ host: 'gift-cluster', sshConfig, knownHosts, agent: false, workDir: profile.workDir }));
  try {
    assert.equal(viaJump.plan.jumps.length, 1);
    assert.equal((await viaJump.run('echo "$SSH_CONNECTION"')).split(' ')[0], '127.0.0.1');
    assert.match(await viaJump.run('squeue --version'), /^slurm/);
  } finally {
    viaJump.close();
  }
  lap('ssh config alias through a ProxyJump hop');
});

test('upload sends only what changed and resumes an interrupted file', { skip }, async () => {
  const local = path.join(tmp, 'sync-src');
  fs.mkdirSync(path.join(local, 'images'), { recursive: true });
  for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(local, 'images', `${i}.bin`), crypto.randomBytes(2000 + i));
  fs.writeFileSync(path.join(local, 'big.bin'), crypto.randomBytes(3_000_000));
  const remote = `${await conn!.resolvePath(profile.workDir)}/sync-test`;

  const first = await syncFolder(conn!, local, remote, { concurrency: 1, stopAfterBytes: 1_500_000 }).then(
    () => assert.fail('should have stopped'),
    (e: Error) => e,
  );
  assert.match(first.message, /upload stopped/);
  const resumed = await syncFolder(conn!, local, remote);
  assert.ok(resumed.bytesResumed >= 1_000_000, `resumed ${resumed.bytesResumed} bytes of the interrupted file`);
  assert.equal(resumed.uploaded + resumed.unchanged, 21);
  const sums = await conn!.run(`cd ${remote} && sha256sum big.bin images/7.bin`);
  assert.ok(
    sums.includes(
      crypto
        .createHash('sha256')
        .update(fs.readFileSync(path.join(local, 'big.bin')))
        .digest('hex'),
    ),
  );

  const unchanged = await syncFolder(conn!, local, remote);
  assert.deepEqual([unchanged.uploaded, unchanged.unchanged, unchanged.bytesSent], [0, 21, 0]);
  fs.writeFileSync(path.join(local, 'images', '3.bin'), 'changed');
  fs.rmSync(path.join(local, 'images', '4.bin'));
  const changed = await syncFolder(conn!, local, remote);
  assert.deepEqual([changed.uploaded, changed.deleted, changed.unchanged], [1, 1, 19]);
  assert.equal((await conn!.readFile(`${remote}/images/3.bin`))!.toString(), 'changed');
  assert.equal(await conn!.stat(`${remote}/images/4.bin`), null);
  lap('sync: interrupted, resumed, unchanged, changed');
});

let goodRun: RunRecord;
let badRun: RunRecord;
let cancelRunRecord: RunRecord;

test('submit: the bundled recipe (tiny) through the CLI, a failing one, and one to cancel', { skip }, async () => {
  datasetDir = await smallDataset(tmp, 8);
  lap('dataset: 8 generated samples');
  // Recipe 1 in its tiny configuration. Needs torch on the node; without it a python stand-in writes the artefact.
  const recipeArgs = env!.torch
    ? ['--recipe', 'bundled', '--config', 'tiny', '--steps', '30', '--batch-size', '8']
    : ['--recipe', 'command', '--command', `${env!.python} -c "open('out/model.onnx','wb').write(b'stand-in'); open('out/model.json','w').write('{}')"`];
  const submitted = await giftTrain(['submit', '--profile', profileFile, '--data', datasetDir, ...recipeArgs]);
  assert.equal(submitted.code, 0, submitted.stderr);
  const [runId, jobId] = submitted.stdout.trim().split('\t');
  assert.match(jobId, /^\d+$/);
  assert.match(submitted.stderr, /8 records/);
  assert.match(submitted.stderr, /data: \d+ uploaded, 0 unchanged/);
  const store = new RunStore(stateFile);
  goodRun = store.get(runId);
  assert.equal(goodRun.jobId, jobId);
  lap('gift train submit (export, tokenise, upload, sbatch)');

  // The same data again: nothing to upload. A later --config overrides the first: argparse rejects 'huge'.
  const bad = await submitTraining(conn!, store, {
    profile,
    data: datasetDir,
    recipe: 'bundled',
    recipeOptions: { config: 'tiny', steps: 5, extraArgs: ['--config', 'huge'] },
  });
  assert.deepEqual([bad.dataSync!.uploaded, bad.dataSync!.unchanged > 0], [0, true]);
  badRun = bad.run;
  const long = await submitTraining(conn!, store, { profile, recipe: 'command', recipeOptions: { command: 'echo sleeping; sleep 300' } });
  cancelRunRecord = long.run;
  lap('two more submits over the open connection');
});

// Followed first: with OpenBLAS the tiny run finishes in a few seconds, and it must still be
// running when the connection is dropped under it.
test('the good run is followed to COMPLETED through a dropped connection, and its model comes back', { skip }, async () => {
  const store = new RunStore(stateFile);
  let log = '';
  let dropped = false;
  const status = await followRun(conn!, store, goodRun, {
    pollMs: 500,
    onLog: (t) => (log += t),
    onState: (s) => {
      if (dropped || (s.state !== 'RUNNING' && s.state !== 'PENDING')) return;
      dropped = true;
      // Kill the server side of our connection (the sshd process our remote shell hangs off).
      void conn!.run('echo $PPID').then((pid) => {
        const p = Number(pid.trim());
        assert.equal(fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim(), 'sshd');
        process.kill(p, 'SIGTERM');
      });
    },
  });
  assert.equal(status.state, 'COMPLETED', `log:\n${tailLines(log, 30)}`);
  assert.ok(dropped);
  assert.ok(conn!.reconnects >= 1, 'reconnected after the drop');
  assert.match(log, /gift: job \d+ \(run .*\) on /);
  if (env!.torch) assert.match(log, /wrote .*model\.onnx/);
  lap(`follow to COMPLETED (reconnects: ${conn!.reconnects})`);

  // A new process finds the run in the state file and fetches the artefacts.
  const out = path.join(tmp, 'model');
  const fetched = await giftTrain(['fetch', goodRun.jobId, '--out', out]);
  assert.equal(fetched.code, 0, fetched.stderr);
  assert.ok(fs.statSync(path.join(out, 'model.onnx')).size > 0);
  if (env!.torch) {
    const card = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8'));
    assert.equal(card.format, 'gift-cad-model/1');
    assert.equal(
      card.onnx.sha256,
      crypto
        .createHash('sha256')
        .update(fs.readFileSync(path.join(out, 'model.onnx')))
        .digest('hex'),
    );
    assert.equal(card.training.steps, 30);
    assert.ok(fs.existsSync(path.join(out, 'vocab.json')));
    assert.ok(!fs.existsSync(path.join(out, 'checkpoint.pt')), 'the checkpoint stays on the cluster');
  }
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')).id, goodRun.id);
  const listed = await giftTrain(['list']);
  assert.match(listed.stdout, new RegExp(`${goodRun.id}\\t${goodRun.jobId}\\tCOMPLETED`));
  const logs = await giftTrain(['logs', goodRun.id, '--tail', '3']);
  assert.equal(logs.code, 0);
  assert.ok(logs.stdout.trim().split('\n').length <= 3);
  lap('CLI fetch + list + logs from new processes');
});

test('a failing job shows FAILED, its exit code and the log tail', { skip }, async () => {
  const status = await followRun(conn!, new RunStore(stateFile), badRun, { pollMs: 300, quiet: true });
  assert.equal(status.state, 'FAILED');
  assert.equal(status.exitCode, 2);
  const cli = await giftTrain(['status', badRun.jobId]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, new RegExp(`${badRun.id}  job ${badRun.jobId}  FAILED  exit 2`));
  assert.match(cli.stdout, /--- last lines of .*slurm-\d+\.out ---/);
  assert.match(cli.stdout, /invalid choice: 'huge'/);
  const fetch = await giftTrain(['fetch', badRun.id, '--out', path.join(tmp, 'bad-out')]);
  assert.equal(fetch.code, 1);
  assert.match(fetch.stderr, /is FAILED \(exit 2\); nothing to fetch until it completes\n--- log tail/);
  lap('failing job: follow to FAILED, CLI status + refused fetch');
});

test('a cancelled job ends CANCELLED', { skip }, async () => {
  await waitFor(cancelRunRecord, (s) => s.state === 'RUNNING' || s.state === 'PENDING');
  const cli = await giftTrain(['cancel', cancelRunRecord.id]);
  assert.equal(cli.code, 0, cli.stderr);
  const status = await waitFor(cancelRunRecord, (s) => s.state === 'CANCELLED', 30_000);
  assert.equal(status.state, 'CANCELLED');
  lap('cancel via CLI → CANCELLED');
});

test('bootstrap as a job array: shards run, status aggregates, shards come back and merge', { skip }, async () => {
  // `gift bootstrap` is another feature; a stand-in with the same shard contract runs here.
  const tools = path.join(tmp, 'bootstrap-tools');
  fs.mkdirSync(tools);
  fs.writeFileSync(
    path.join(tools, 'fake-gift.sh'),
    [
      '#!/bin/sh',
      '# usage: fake-gift.sh bootstrap --shard I/N --out DIR',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell script: ${shard%/*} is for sh.
      'shard=$3; out=$5; i=${shard%/*}',
      'printf \'{"id": "s%s-a"}\\n{"id": "shared"}\\n\' "$i" > "$out/records.jsonl"',
      '',
    ].join('\n'),
  );
  const store = new RunStore(stateFile);
  const { run } = await submitBootstrapArray(conn!, store, { profile: { ...profile, giftCommand: 'sh data/fake-gift.sh' }, shards: 3, data: tools });
  const status = await followRun(conn!, store, run, { pollMs: 300, quiet: true });
  assert.equal(status.state, 'COMPLETED');
  assert.deepEqual(
    status.tasks.map((t) => t.id),
    [`${run.jobId}_0`, `${run.jobId}_1`, `${run.jobId}_2`],
  );
  const out = path.join(tmp, 'bootstrap');
  const fetched = await fetchRun(conn!, store, run, out);
  assert.ok(fetched.files.includes('shards/shard-2/records.jsonl'));
  const merged = await mergeShards(path.join(out, 'shards'), path.join(out, 'merged'), 3, { requireAll: true });
  assert.deepEqual([merged.jsonl['records.jsonl'], merged.duplicates], [4, 2]);
  const log = await readLog(conn!, run, 0, 1);
  assert.match(log.text, /bootstrap shard 1 \(array job/);
  lap('bootstrap array of 3 + fetch + merge');
});

test('gift round --profile: bootstrap here, train on the cluster from --init, the model back, a rerun follows the same job', { skip }, async () => {
  if (!env!.torch) return; // the round trains the bundled recipe: it needs torch on the node
  datasetDir ||= await smallDataset(tmp, 8);
  const out = path.join(tmp, 'round');
  const args = [
    'round',
    datasetDir,
    '--model',
    path.join(repoRoot, 'models', 'smoke'),
    '--out',
    out,
    '--samples',
    '2',
    '--config',
    'tiny',
    '--steps',
    '10',
    '--batch-size',
    '4',
    '--init',
    path.join(repoRoot, 'models', 'smoke'),
    '--profile',
    profileFile,
    '--state',
    stateFile,
  ];
  const run = (timeoutMs = 300_000) =>
    new Promise<{ code: number; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'helpers', 'gift-cli.ts'), ...args], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.stdout.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`gift round timed out\n${stderr}`));
      }, timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stderr });
      });
    });
  const first = await run();
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /submitted run \S+ \(Slurm job \d+\)/);
  assert.match(first.stderr, /initialised from .*init-model/);
  const card = JSON.parse(fs.readFileSync(path.join(out, 'model', 'model.json'), 'utf8'));
  assert.equal(card.training.steps, 10);
  assert.match(card.training.init, /init-model$/);
  assert.ok(fs.statSync(path.join(out, 'model', 'model.onnx')).size > 10_000);
  const state = JSON.parse(fs.readFileSync(path.join(out, 'round.json'), 'utf8'));
  assert.ok(state.trained && state.clusterRun);
  // Done rounds are not trained again.
  const again = await run();
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /submitted run/);
  lap('gift round through Slurm (bootstrap 8×2 here, train 10 steps there, model back)');
});
