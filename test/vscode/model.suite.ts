/// <reference types="mocha" />
// Image to CAD with the real backends inside a real VS Code: the bundled ONNX model (models/smoke,
// tiny: its programs need not be good) run as a kernel job, and the OpenAI-compatible backend
// against a real `gift serve` started here, its token set through GIFT: Set API Key.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CommandOutcome, GiftApi } from '../../src/extension/extension';
import type { PreviewPanel } from '../../src/extension/preview/panel';
import type { SceneInfo } from '../../src/protocol/messages';

type Waiter = <T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs?: number) => Promise<T>;

const K = 3;
const IMAGE = ['parts', '00442545_0.png'];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Every file under `dir` whose name matches, recursively (missing dirs give none). */
function findFiles(dir: string, name: RegExp, out: string[] = []): string[] {
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) findFiles(full, name, out);
    else if (name.test(e.name)) out.push(full);
  }
  return out;
}

export function modelSuite(getApi: () => GiftApi, workspaceFile: (...parts: string[]) => vscode.Uri, waitFor: Waiter): void {
  suite('Image to CAD model backends', () => {
    let api: GiftApi;
    let root: string;
    let server: ChildProcess | undefined;
    const config = () => vscode.workspace.getConfiguration('gift');

    const sceneWhere = (preview: PreviewPanel, what: string, ok: (s: SceneInfo) => boolean) =>
      waitFor(
        what,
        async () => {
          const scene = await preview.sceneInfo();
          return ok(scene) ? scene : undefined;
        },
        120_000,
      );

    /** Runs Image to CAD; checks the editor's code runs and the preview has the candidates. */
    const imageToCad = async (): Promise<{ code: string; candidates: number }> => {
      const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.imageToCad', workspaceFile(...IMAGE));
      assert.ok(outcome.ok && outcome.uri, JSON.stringify(outcome));
      const document = await vscode.workspace.openTextDocument(outcome.uri);
      const code = document.getText();
      assert.match(code, /import cadquery as cq/);
      const ran = await api.kernel.execute({ source: code });
      assert.ok(ran.ok, `the best candidate runs: ${!ran.ok ? ran.error.message : ''}\n${code}`);
      assert.ok(ran.value.volume > 0);
      const preview = api.previews.get(outcome.uri);
      assert.ok(preview, 'the preview opened on the generated code');
      const scene = await sceneWhere(preview, 'the generated shape with the source image', (s) => s.triangles > 0 && s.hasSourceImage);
      preview.panel.dispose();
      await vscode.window.showTextDocument(document);
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
      return { code, candidates: scene.candidates };
    };

    suiteSetup(async () => {
      api = getApi() ?? (await vscode.extensions.getExtension<GiftApi>('gift-cad.gift-cad')!.activate());
      root = vscode.extensions.getExtension('gift-cad.gift-cad')!.extensionPath;
      await config().update('samples', K, vscode.ConfigurationTarget.Global);
    });

    suiteTeardown(async () => {
      server?.kill('SIGTERM');
      for (const key of ['samples', 'backend', 'openai.endpoint', 'onnx.model']) await config().update(key, undefined, vscode.ConfigurationTarget.Global);
      await api.secrets.clearOpenAiKey();
    });

    test('onnx (the default backend): the bundled model opens a CadQuery editor whose code runs, the preview has K candidates', async () => {
      assert.equal(config().get('backend'), 'onnx');
      const started = Date.now();
      const { candidates } = await imageToCad();
      assert.equal(candidates, K);
      console.log(`    onnx Image to CAD, K=${K}: ${Date.now() - started} ms (model in a kernel worker)`);
    });

    test('onnx: gift.onnx.model pointing at no model says so', async () => {
      await config().update('onnx.model', path.join(root, 'no-such-model'), vscode.ConfigurationTarget.Global);
      try {
        const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.imageToCad', workspaceFile(...IMAGE));
        assert.equal(outcome.ok, false);
        assert.match(!outcome.ok ? outcome.message : '', /gift\.onnx\.model is '.*no-such-model', but .*model\.json does not exist/);
      } finally {
        await config().update('onnx.model', undefined, vscode.ConfigurationTarget.Global);
      }
    });

    test('openai: against a real gift serve, with the key from Set API Key (in SecretStorage, not in settings)', async () => {
      const token = `gift-test-key-${Math.random().toString(36).slice(2)}`;
      server = spawn(
        process.execPath,
        [path.join(root, 'bin', 'gift.js'), 'serve', '--model', path.join(root, 'models', 'smoke'), '--port', '0', '--threads', '1'],
        {
          cwd: root,
          env: { ...process.env, GIFT_SERVE_TOKEN: token, ELECTRON_RUN_AS_NODE: '1' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      server.stdout!.on('data', (d) => (out += d));
      server.stderr!.on('data', (d) => (out += d));
      const url = await waitFor('gift serve to print its URL', () => /serving \S+ at (http:\/\/\S+)/.exec(out)?.[1], 60_000);

      const set = await vscode.commands.executeCommand<CommandOutcome>('gift.setApiKey', token);
      assert.ok(set.ok);
      assert.equal(await api.secrets.openAiKey(), token, 'the key is in SecretStorage');
      await config().update('backend', 'openai', vscode.ConfigurationTarget.Global);
      await config().update('openai.endpoint', url, vscode.ConfigurationTarget.Global);

      const started = Date.now();
      const { candidates } = await imageToCad();
      assert.equal(candidates, K);
      console.log(`    openai Image to CAD via gift serve, K=${K}: ${Date.now() - started} ms`);
      assert.match(out, /POST \/v1\/chat\/completions/i, 'the server answered the chat request');

      // Nowhere in settings or logs: every settings.json and log file this VS Code wrote.
      const userDir = path.resolve(api.training.store.file, '..', '..', '..', '..'); // <user-data>/User/globalStorage/<ext>/train/runs.json
      const settingsFiles = [...findFiles(userDir, /^settings\.json$/), ...findFiles(workspaceFile().fsPath, /^settings\.json$/)];
      assert.ok(settingsFiles.length > 0, `found the settings.json files under ${userDir}`);
      for (const f of settingsFiles) assert.ok(!fs.readFileSync(f, 'utf8').includes(token), `${f} does not hold the key`);
      const inspect = config().inspect('openai');
      assert.ok(!JSON.stringify(inspect ?? {}).includes(token));
      const logs = findFiles(path.resolve(api.logDir, '..', '..'), /\.log$/);
      assert.ok(
        logs.some((f) => /GIFT CAD/.test(path.basename(f))),
        `the GIFT CAD log file is among ${logs.length} logs`,
      );
      for (const f of logs) assert.ok(!fs.readFileSync(f, 'utf8').includes(token), `${f} does not hold the key`);

      // A wrong key: refused, said so.
      await vscode.commands.executeCommand('gift.setApiKey', 'wrong-key');
      const refused = await vscode.commands.executeCommand<CommandOutcome>('gift.imageToCad', workspaceFile(...IMAGE));
      assert.equal(refused.ok, false);
      assert.match(!refused.ok ? refused.message : '', /refused the API key/);
      await vscode.commands.executeCommand('gift.clearApiKey');
      assert.equal(await api.secrets.openAiKey(), undefined);
    });

    test('openai: an endpoint that is down gives a clear message, and the extension carries on', async () => {
      const port = await freePort();
      await config().update('backend', 'openai', vscode.ConfigurationTarget.Global);
      await config().update('openai.endpoint', `http://127.0.0.1:${port}/v1`, vscode.ConfigurationTarget.Global);
      const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.imageToCad', workspaceFile(...IMAGE));
      assert.equal(outcome.ok, false);
      assert.match(!outcome.ok ? outcome.message : '', new RegExp(`the endpoint http://127\\.0\\.0\\.1:${port}/v1 is not answering`));
      const ran = await api.kernel.execute({ source: 'import cadquery as cq\nsolid = cq.Workplane("XY").box(1, 2, 3)\n' });
      assert.ok(ran.ok && Math.abs(ran.value.volume - 6) < 1e-9, 'the kernel still answers');
      await config().update('backend', undefined, vscode.ConfigurationTarget.Global);
    });
  });
}
