/// <reference types="mocha" />
// The Training view against the real Slurm + sshd environment of scripts/training-env-up.sh
// (skipped, saying why, when /tmp/gift-training-env/env.json is absent; test-vscode.mjs does not
// start it). Runs use the 'command' recipe on a small folder holding the tiny models/smoke ONNX
// model, so "training" is a copy and the fetched model is a real, loadable one — never test100.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ClusterProfile, UnknownHostKey } from '../../src/core/train';
import type { CommandOutcome, GiftApi } from '../../src/extension/extension';
// Types only: a runtime import would bundle ssh2's native addon into the test bundle.
import type { TrainingPrompts, TrainingService } from '../../src/extension/training/service';
import type { TrainingNode } from '../../src/extension/training/tree';
import { localClusterProfile, readTrainingEnv, trainingEnvFile } from '../helpers/training-env';

type Waiter = <T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs?: number) => Promise<T>;

export function trainingSuite(getApi: () => GiftApi, workspaceFile: (...parts: string[]) => vscode.Uri, waitFor: Waiter): void {
  suite('GIFT Training view (Slurm over SSH)', () => {
    const env = readTrainingEnv();
    let api: GiftApi;
    let tmp: string;
    let profile: ClusterProfile;
    let data: string;
    const hostKeys: UnknownHostKey[] = [];
    let originalPrompts: TrainingPrompts | undefined;
    const config = () => vscode.workspace.getConfiguration('gift');
    const label = 'test-slurm';

    suiteSetup(async function () {
      if (!env) {
        console.log(`    skipped: the training environment is not up (${trainingEnvFile} missing): run bash scripts/training-env-up.sh`);
        this.skip();
      }
      api = getApi() ?? (await vscode.extensions.getExtension<GiftApi>('gift-cad.gift-cad')!.activate());
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-vscode-train-'));
      profile = localClusterProfile(env!, label, path.join(tmp, 'known_hosts'), 'vscode');
      // A second profile for the same host whose known_hosts holds another key: a "changed" host key.
      const other = path.join(tmp, 'other');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
      const forged = path.join(tmp, 'known_hosts_changed');
      fs.writeFileSync(forged, `[${env!.host}]:${env!.port} ${fs.readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
      await config().update('train.profiles', [profile, { ...profile, name: 'changed-key', knownHosts: forged }], vscode.ConfigurationTarget.Global);
      await config().update('train.pollSeconds', 1, vscode.ConfigurationTarget.Global);
      // The modal cannot be clicked from a test: answer it here, recording what it was shown.
      originalPrompts = api.training.prompts;
      api.training.prompts = {
        ...originalPrompts,
        confirmHostKey: async (k) => {
          hostKeys.push(k);
          return true;
        },
      };
      // The "training data": the tiny smoke model, which the command recipe copies to out/.
      data = path.join(tmp, 'data');
      fs.mkdirSync(data);
      const root = vscode.extensions.getExtension('gift-cad.gift-cad')!.extensionPath;
      for (const f of ['model.onnx', 'model.json', 'vocab.json']) fs.copyFileSync(path.join(root, 'models', 'smoke', f), path.join(data, f));
    });

    suiteTeardown(async () => {
      if (!env || !api) return;
      const open = api.training.runs().filter((r) => !['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT'].includes(r.state));
      const conn = await api.training.connect(profile, { interactive: false }).catch(() => undefined);
      if (conn) {
        if (open.length) await conn.exec(`scancel ${open.map((r) => r.jobId).join(' ')}`).catch(() => undefined);
        await conn.exec(`rm -rf '${await conn.resolvePath(profile.workDir)}'`).catch(() => undefined);
      }
      if (originalPrompts) api.training.prompts = originalPrompts;
      for (const key of ['train.profiles', 'train.pollSeconds', 'onnx.model']) await config().update(key, undefined, vscode.ConfigurationTarget.Global);
      fs.rmSync(tmp, { recursive: true, force: true });
    });

    const item = (node: TrainingNode) => api.trainingTree.getTreeItem(node);
    const runNode = async (runId: string) =>
      waitFor(`run ${runId} in the view`, () => api.trainingTree.getChildren({ kind: 'profile', label }).find((n) => n.kind === 'run' && n.runId === runId));

    test('the view lists the profiles from gift.train.profiles', async () => {
      const roots = api.trainingTree.getChildren();
      const labels = roots.map((n) => (n.kind === 'profile' ? n.label : '?'));
      assert.ok(labels.includes(label) && labels.includes('changed-key'), labels.join(', '));
      const profileItem = item({ kind: 'profile', label });
      assert.equal(profileItem.label, label);
      assert.match(String(profileItem.description), new RegExp(`${env!.user}@${env!.host.replace(/\./g, '\\.')}:${env!.port} \\(debug\\)`));
    });

    test('an unknown host key is shown with its SHA256 fingerprint; a changed key is refused', async () => {
      const expected = execFileSync('ssh-keygen', ['-lf', path.join(path.dirname(env!.identityFile), 'ssh_host_ed25519_key.pub'), '-E', 'sha256'], {
        encoding: 'utf8',
      }).split(/\s+/)[1];
      await api.training.connect(profile, { interactive: true });
      assert.equal(hostKeys.length, 1);
      assert.equal(hostKeys[0].fingerprint, expected);
      assert.match(fs.readFileSync(profile.knownHosts!, 'utf8'), /ssh-ed25519 /, 'the trusted key was appended to known_hosts');
      assert.match(String(item({ kind: 'profile', label }).description), /connected/);

      const refused = await vscode.commands.executeCommand<CommandOutcome>('gift.train.start', {
        profile: 'changed-key',
        recipe: 'command',
        recipeOptions: { command: 'true' },
      });
      assert.equal(refused.ok, false);
      assert.match(!refused.ok ? refused.message : '', /REMOTE HOST KEY CHANGED/);
      assert.ok(!refused.ok && refused.message.includes(expected));
      assert.equal(hostKeys.length, 1, 'a changed key is never offered for trust');
      assert.match(String(item({ kind: 'profile', label: 'changed-key' }).description), /not connected/);
    });

    let completedRun = '';
    test('Start Training Run submits; Follow Logs streams it to COMPLETED; Fetch brings the model back as gift.onnx.model', async () => {
      const started = Date.now();
      const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.train.start', {
        profile: label,
        recipe: 'command',
        data,
        recipeOptions: { command: 'cp data/model.onnx data/model.json data/vocab.json out/ && echo "trained on $(ls data | wc -l) files"' },
      });
      assert.ok(outcome.ok && outcome.detail, JSON.stringify(outcome));
      completedRun = outcome.detail!;
      const node = await runNode(completedRun);
      const run = api.training.run(completedRun);
      assert.match(run.jobId, /^\d+$/);
      assert.match(String(item(node).description), new RegExp(`^job ${run.jobId} · (PENDING|RUNNING|COMPLETED)`));

      const followed = await vscode.commands.executeCommand<CommandOutcome>('gift.train.followLogs', node);
      assert.ok(followed.ok, JSON.stringify(followed));
      assert.equal(followed.detail, 'COMPLETED');
      assert.match(api.training.followedText.get(completedRun) ?? '', /trained on 3 files/);
      const done = item(node);
      assert.equal((done.iconPath as vscode.ThemeIcon).id, 'pass');
      assert.match(String(done.description), /COMPLETED/);
      assert.equal(done.contextValue, 'run:COMPLETED');
      console.log(`    submit + follow to COMPLETED: ${Date.now() - started} ms`);

      const fetched = await vscode.commands.executeCommand<CommandOutcome>('gift.train.fetch', completedRun);
      assert.ok(fetched.ok && fetched.uri, JSON.stringify(fetched));
      const dir = api.training.modelDir(run);
      assert.equal(fetched.uri.fsPath, dir);
      assert.ok(dir.includes(`${path.sep}models${path.sep}${completedRun}`));
      assert.deepEqual(fs.readFileSync(path.join(dir, 'model.onnx')), fs.readFileSync(path.join(data, 'model.onnx')));
      assert.equal(config().get('onnx.model'), dir, 'gift.onnx.model points at the fetched model');
      assert.equal(api.training.run(completedRun).fetchedTo, dir);

      // The fetched model is what Image to CAD now runs.
      await config().update('samples', 1, vscode.ConfigurationTarget.Global);
      try {
        const generated = await vscode.commands.executeCommand<CommandOutcome>('gift.imageToCad', workspaceFile('parts', '00442545_0.png'));
        assert.ok(generated.ok && generated.uri, JSON.stringify(generated));
        const preview = api.previews.get(generated.uri);
        assert.ok(preview);
        // The provenance names the model that ran: the fetched run's folder, as the CLI writes it.
        assert.equal(preview.model, `onnx:${path.basename(dir)}`);
        preview.panel.dispose();
        await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(generated.uri));
        await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
      } finally {
        await config().update('samples', undefined, vscode.ConfigurationTarget.Global);
      }
    });

    test('following survives a dropped connection: the run completes and the profile shows the reconnect', async () => {
      const states: string[] = [];
      const listener = api.training.onDidChange(() => {
        const s = api.training.connectionState(label)?.state;
        if (s && states[states.length - 1] !== s) states.push(s);
      });
      try {
        const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.train.start', {
          profile: label,
          recipe: 'command',
          recipeOptions: { command: 'echo start; sleep 4; echo finished' },
        });
        assert.ok(outcome.ok && outcome.detail, JSON.stringify(outcome));
        const run = api.training.run(outcome.detail!);
        const conn = await api.training.connect(profile, { interactive: false });
        const reconnectsBefore = conn.reconnects;
        const following = api.training.follow(run, { pollMs: 300, show: false });
        await waitFor('the job to start', () => /start/.test(api.training.followedText.get(run.id) ?? ''), 60_000);
        // Kill the server side of our connection (the sshd process our remote shell hangs off).
        const sshd = Number((await conn.run('echo $PPID')).trim());
        assert.equal(fs.readFileSync(`/proc/${sshd}/comm`, 'utf8').trim(), 'sshd');
        process.kill(sshd, 'SIGTERM');
        const status = await following;
        assert.equal(status.state, 'COMPLETED');
        assert.ok(conn.reconnects > reconnectsBefore, 'the core reconnected');
        assert.equal(api.training.connectionState(label)?.state, 'connected', `states: ${states.join(' → ')}`);
        assert.match(String(item({ kind: 'profile', label }).description), /connected \(reconnected \d+×\)/, 'the profile shows the recovered drop');
        assert.match(api.training.followedText.get(run.id) ?? '', /finished/);
      } finally {
        listener.dispose();
      }
    });

    test('Cancel Run ends a running job CANCELLED', async () => {
      const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.train.start', {
        profile: label,
        recipe: 'command',
        recipeOptions: { command: 'echo sleeping; sleep 300' },
      });
      assert.ok(outcome.ok && outcome.detail, JSON.stringify(outcome));
      const runId = outcome.detail!;
      const node = await runNode(runId);
      const cancelled = await vscode.commands.executeCommand<CommandOutcome>('gift.train.cancel', node);
      assert.ok(cancelled.ok, JSON.stringify(cancelled));
      const state = await waitFor(
        'the run to be CANCELLED',
        async () => {
          const s = await api.training.refresh(api.training.run(runId));
          return s.state === 'CANCELLED' ? s.state : undefined;
        },
        60_000,
      );
      assert.equal(state, 'CANCELLED');
      assert.equal((item(node).iconPath as vscode.ThemeIcon).id, 'circle-slash');
    });

    test('a reloaded window finds the runs again (RunStore under globalStorage)', () => {
      const storage = path.resolve(api.training.store.file, '..', '..');
      // What activate() does after a reload: a new service on the same globalStorage.
      const Service = api.training.constructor as typeof TrainingService;
      const reloaded = new Service(api.secrets, storage);
      try {
        const runs = reloaded.runs();
        assert.ok(runs.some((r) => r.id === completedRun && r.state === 'COMPLETED'));
        assert.ok(runs.every((r) => r.profile.name === label || r.profile.name === 'changed-key'));
        assert.ok(reloaded.profiles().some((p) => p.label === label && p.configured));
      } finally {
        reloaded.dispose();
      }
    });
  });
}
