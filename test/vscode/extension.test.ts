/// <reference types="mocha" />
// GIFT CAD inside a real VS Code (code-server's workbench + Node extension host), against the real
// kernel pool and real test100 programs. Run with: node scripts/test-vscode.mjs
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CommandOutcome, GiftApi } from '../../src/extension/extension';
import type { PreviewPanel } from '../../src/extension/preview/panel';
import type { SceneInfo } from '../../src/protocol/messages';
import { datasetSuite } from './dataset.suite';
import { editorSuite } from './editor.suite';
import { modelSuite } from './model.suite';
import { trainingSuite } from './training.suite';
import { verifierSuite } from './verifier.suite';

const EXTENSION_ID = 'gift-cad.gift-cad';
const COMMANDS = [
  'gift.imageToCad',
  'gift.openPreview',
  'gift.setReference',
  'gift.exportStep',
  'gift.exportStl',
  'gift.flagSrs',
  'gift.flagFda',
  'gift.showLogs',
  'gift.setApiKey',
  'gift.clearApiKey',
  'gift.train.start',
  'gift.train.followLogs',
  'gift.train.cancel',
  'gift.train.fetch',
  'gift.train.refresh',
];

function workspaceFile(...parts: string[]): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test workspace folder is open');
  return vscode.Uri.joinPath(folder.uri, ...parts);
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function sceneWhere(preview: PreviewPanel, what: string, ok: (s: SceneInfo) => boolean, timeoutMs = 60_000): Promise<SceneInfo> {
  return waitFor(
    what,
    async () => {
      const scene = await preview.sceneInfo();
      return ok(scene) ? scene : undefined;
    },
    timeoutMs,
  );
}

let api: GiftApi;

suite('GIFT CAD in VS Code', () => {
  let document: vscode.TextDocument;
  let preview: PreviewPanel;

  suiteTeardown(async () => {
    // GIFT_KEEP_OPEN=1 leaves the last panels up for the shim's exit screenshot (SHIM_SCREENSHOT).
    if (process.env.GIFT_KEEP_OPEN) return;
    // The workspace is a scratch copy: saving keeps 'close all' from asking about unsaved edits.
    await vscode.workspace.saveAll(false);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('activates on its commands, without starting the kernel', async () => {
    const extension = vscode.extensions.getExtension<GiftApi>(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is installed`);
    assert.equal(extension.isActive, false, 'nothing activates GIFT CAD before one of its commands runs');
    await vscode.commands.executeCommand('gift.showLogs');
    assert.equal(extension.isActive, true);
    api = extension.exports;
    assert.equal(api.kernel.started, false, 'the kernel pool starts on first use, not on activation');
    // The command table (src/extension/commands.ts) and package.json agree both ways.
    const commands = (await vscode.commands.getCommands(true)).filter((c) => c.startsWith('gift.'));
    const contributed = (extension.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    for (const command of [...COMMANDS, ...contributed]) assert.ok(commands.includes(command), `${command} is registered`);
    // VS Code adds its own commands for each view (gift.dataset.focus, …): not ours to contribute.
    const views = (Object.values(extension.packageJSON.contributes.views) as { id: string }[][]).flat().map((v) => v.id);
    const viewCommands = new Set(views.flatMap((v) => ['focus', 'open', 'resetViewLocation', 'toggleVisibility', 'removeView'].map((a) => `${v}.${a}`)));
    for (const command of commands) {
      if (!viewCommands.has(command)) assert.ok(contributed.includes(command), `${command} is registered but not contributed in package.json`);
    }
  });

  test('settings have their defaults', () => {
    const config = vscode.workspace.getConfiguration('gift');
    const expected: Record<string, unknown> = {
      backend: 'onnx',
      samples: 4,
      'kernel.timeoutMs': 10000,
      'kernel.workers': 2,
      'iou.protocol': 'aligned-robust',
      'preview.tessellation': 0,
      'preview.autoOpen': true,
      'thresholds.low': 0.5,
      'thresholds.valid': 0.9,
      'thresholds.match': 0.99,
      'cadquery.engine': 'builtin',
      'cadquery.python': '',
      'cadquery.pythonForGenerated': false,
    };
    for (const [key, value] of Object.entries(expected)) {
      assert.deepEqual(config.inspect(key)?.defaultValue, value, `gift.${key} defaults to ${JSON.stringify(value)}`);
      assert.deepEqual(config.get(key), value);
    }
  });

  test('Open CAD Preview on a CadQuery file opens the webview and gets a mesh', async () => {
    document = await vscode.workspace.openTextDocument(workspaceFile('parts', 'plate_71404.py'));
    await vscode.window.showTextDocument(document);
    const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.openPreview');
    assert.ok(outcome.ok, JSON.stringify(outcome));
    const opened = api.previews.get(document.uri);
    assert.ok(opened, 'a preview panel exists for the document');
    preview = opened;
    assert.equal(preview.panel.viewType, 'gift.preview');
    const scene = await sceneWhere(preview, 'the mesh in the webview', (s) => s.triangles > 0);
    assert.ok(scene.edgeSegments > 0, 'B-rep edges arrived with the mesh');
    assert.equal(scene.banner, null);
    assert.equal(scene.metrics.iou, '—', 'IoU shows "—" until a value arrives');
    assert.equal(scene.metrics.chamfer, '—');
    assert.notEqual(scene.metrics.volume, '—');
    assert.match(scene.metrics.bbox, /^[\d.]+ × [\d.]+ × [\d.]+$/);
    assert.ok(api.kernel.started, 'the kernel started for the preview');
    const shape = preview.shape;
    assert.ok(shape && shape.volume > 0 && shape.valid);
    assert.equal(vscode.languages.getDiagnostics(document.uri).length, 0);
  });

  test('an edit that breaks line N gives a diagnostic at line N; fixing it clears it', async () => {
    const editor = await vscode.window.showTextDocument(document);
    const before = preview.shape;
    assert.ok(before);
    const brokenLine = 4; // 1-based line the broken statement goes on
    const inserted = 'broken = undefined_name * 2\n';
    await editor.edit((e) => e.insert(new vscode.Position(brokenLine - 1, 0), inserted));
    const diagnostics = await waitFor('a diagnostic', () => {
      const d = vscode.languages.getDiagnostics(document.uri);
      return d.length > 0 ? d : undefined;
    });
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0].range.start.line, brokenLine - 1, `diagnostic on line ${brokenLine}: ${diagnostics[0].message}`);
    assert.equal(diagnostics[0].source, 'GIFT CAD');
    assert.match(diagnostics[0].message, /undefined_name/);
    const scene = await sceneWhere(preview, 'the error banner', (s) => s.banner !== null);
    assert.match(scene.banner!, new RegExp(`line ${brokenLine}\\b`));
    assert.ok(scene.triangles > 0, 'the last good shape stays visible');
    assert.equal(preview.shape, before, 'the last good shape is kept');

    await editor.edit((e) => e.delete(new vscode.Range(brokenLine - 1, 0, brokenLine, 0)));
    await waitFor('the diagnostic to clear', () => vscode.languages.getDiagnostics(document.uri).length === 0);
    const fixed = await sceneWhere(preview, 'the banner to clear', (s) => s.banner === null);
    assert.ok(fixed.triangles > 0);
    assert.ok(fixed.version > scene.version);
  });

  test('a result that is not a valid B-rep gets a warning diagnostic, never a quiet ok; a valid one clears it', async () => {
    const editor = await vscode.window.showTextDocument(document);
    const root = vscode.extensions.getExtension('gift-cad.gift-cad')!.extensionPath;
    // test100 00387732: its solids meet along three edges only, and OCCT's checker rejects the result.
    const sample = fs
      .readFileSync(path.join(root, 'test', 'fixtures', 'gencad-test100', 'samples.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((s) => s.image === '00387732_0.png');
    assert.ok(sample, 'the sample is in the fixtures');
    const original = document.getText();
    const whole = () => new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length));
    await editor.edit((e) => e.replace(whole(), sample.ground_truth));
    await waitFor('an invalid shape', () => preview.shape?.valid === false);
    const diagnostics = vscode.languages.getDiagnostics(document.uri);
    assert.equal(diagnostics.length, 1, JSON.stringify(diagnostics));
    assert.equal(diagnostics[0].severity, vscode.DiagnosticSeverity.Warning);
    assert.equal(diagnostics[0].code, 'invalid-brep');
    assert.match(diagnostics[0].message, /not a valid B-rep/);
    const scene = await sceneWhere(preview, 'the invalid shape in the webview', (s) => s.version === preview.shape?.version);
    assert.match(scene.metrics.kernel, /invalid solid/);
    await editor.edit((e) => e.replace(whole(), original));
    await waitFor('the valid shape', () => preview.shape?.valid === true);
    await waitFor('the warning to clear', () => vscode.languages.getDiagnostics(document.uri).length === 0);
  });

  test('gift.cadquery.engine = python: the preview runs real CadQuery for what the built-in engine lacks, and says so', async function () {
    const root = vscode.extensions.getExtension('gift-cad.gift-cad')!.extensionPath;
    const python = path.join(root, '.venv-cadquery', 'bin', 'python');
    if (!fs.existsSync(python)) this.skip(); // installed by scripts/install-python-cadquery.sh (npm test does)
    this.timeout(240_000);
    const editor = await vscode.window.showTextDocument(document);
    const original = document.getText();
    const whole = () => new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length));
    // cadquery.func's History: unsupported in the built-in engine; CadQuery 2.8 makes 6.54406726.
    const program = fs.readFileSync(path.join(root, 'test', 'fixtures', 'cadquery-corpus', 'cq-docs', 'free-func-06.py'), 'utf8');
    const config = vscode.workspace.getConfiguration('gift');
    await config.update('cadquery.python', python, vscode.ConfigurationTarget.Global);
    await config.update('cadquery.engine', 'python', vscode.ConfigurationTarget.Global);
    try {
      await editor.edit((e) => e.replace(whole(), program));
      const shape = await waitFor('the Python engine’s shape', () => (preview.shape?.engine ? preview.shape : undefined), 120_000);
      assert.match(shape.engine!, /^CadQuery 2\.\d+\.\d+ \(Python\)$/);
      assert.ok(Math.abs(shape.volume - 6.54406726) < 1e-6, `volume ${shape.volume}`);
      const scene = await sceneWhere(preview, 'the engine in the run row', (s) => /CadQuery 2\.\d+\.\d+ \(Python\)/.test(s.metrics.kernel));
      assert.ok(scene.triangles > 0);
      assert.equal(vscode.languages.getDiagnostics(document.uri).length, 0);
    } finally {
      await config.update('cadquery.engine', undefined, vscode.ConfigurationTarget.Global);
      await config.update('cadquery.python', undefined, vscode.ConfigurationTarget.Global);
    }
    // Back on the built-in engine the same program is reported unsupported, at its line.
    await editor.edit((e) => e.insert(document.positionAt(document.getText().length), '\n'));
    const [diagnostic] = await waitFor('the built-in engine’s diagnostic', () => {
      const d = vscode.languages.getDiagnostics(document.uri);
      return d.length && /History is not supported/.test(d[0].message) ? d : undefined;
    });
    assert.equal(diagnostic.range.start.line + 1, 8);
    await editor.edit((e) => e.replace(whole(), original));
    await waitFor('the built-in shape again', () => preview.shape && !preview.shape.engine && vscode.languages.getDiagnostics(document.uri).length === 0);
  });

  test('rapid edits: the preview ends on the newest text, never a stale run', async () => {
    const editor = await vscode.window.showTextDocument(document);
    const text = document.getText();
    const match = /\.extrude\(([\d.]+)\)/.exec(text);
    assert.ok(match, 'the program extrudes');
    const start = document.positionAt(match.index + '.extrude('.length);
    const depths = ['0.3', '0.2', '0.1'];
    let current = match[1];
    for (const depth of depths) {
      const range = new vscode.Range(start, start.translate(0, current.length));
      await editor.edit((e) => e.replace(range, depth));
      current = depth;
      await new Promise((r) => setTimeout(r, 40)); // faster than the 150 ms debounce
    }
    await preview.settled();
    const expected = await api.kernel.execute({ source: document.getText() });
    assert.ok(expected.ok);
    await sceneWhere(preview, 'the final shape', (s) => s.version === preview.shape?.version);
    assert.ok(Math.abs(preview.shape!.volume - expected.value.volume) < 1e-9, `volume ${preview.shape!.volume} is the newest text's ${expected.value.volume}`);
    await vscode.commands.executeCommand('undo');
    await vscode.commands.executeCommand('undo');
    await vscode.commands.executeCommand('undo');
    await preview.settled();
  });

  test('Set Reference shows its gt STEP as the ghost overlay, and the IoU against it', async () => {
    const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.setReference', workspaceFile('parts', '00442545.step'), document.uri);
    assert.ok(outcome.ok, JSON.stringify(outcome));
    const scene = await sceneWhere(preview, 'the reference mesh', (s) => s.referenceTriangles > 0);
    assert.equal(scene.toggles.reference, true);
    // The program is a quantised copy of the STEP: the IoU (aligned-robust, the default) is high but not 1.
    const measured = await sceneWhere(preview, 'the IoU', (s) => /^\d\.\d{4}$/.test(s.metrics.iou));
    const iou = Number(measured.metrics.iou);
    assert.ok(iou > 0.8 && iou <= 1, `IoU ${iou}`);
    assert.match(measured.metrics.chamfer, /^\d+\.\d{4}$/);
    assert.equal(measured.metrics.protocol, 'aligned-robust');
    assert.equal(measured.metrics.bucket, iou >= 0.99 ? 'none (match)' : iou >= 0.9 ? 'SRS' : 'FDA');
    assert.equal(measured.metrics.iouError, null);
    assert.equal(vscode.languages.getDiagnostics(document.uri).length, 0, 'IoU results never become diagnostics');
    const metrics = preview.currentMetrics;
    assert.equal(metrics.state, 'done');
    console.log(`    IoU of plate_71404.py against 00442545.step: ${metrics.iou} (aligned), Chamfer ×1000 ${metrics.chamfer}, ${metrics.ms} ms`);
  });

  test('view and toggle commands reach the webview', async () => {
    await preview.command('setView', { view: 'top' });
    await preview.command('setToggle', { toggle: 'clip', on: true });
    const scene = await sceneWhere(preview, 'the top view', (s) => s.view === 'top' && s.toggles.clip);
    assert.equal(scene.toggles.edges, true);
    await preview.command('setToggle', { toggle: 'clip', on: false });
    await preview.command('setView', { view: 'iso' });
  });

  test('Export STEP and STL write real files', async () => {
    const out = workspaceFile('out');
    await vscode.workspace.fs.createDirectory(out);
    const step = vscode.Uri.joinPath(out, 'plate.step');
    const stl = vscode.Uri.joinPath(out, 'plate.stl');
    const a = await vscode.commands.executeCommand<CommandOutcome>('gift.exportStep', document.uri, step);
    const b = await vscode.commands.executeCommand<CommandOutcome>('gift.exportStl', document.uri, stl);
    assert.ok(a.ok && b.ok, JSON.stringify([a, b]));
    assert.match(fs.readFileSync(step.fsPath, 'utf8').slice(0, 200), /^ISO-10303-21;/);
    const stlBytes = fs.readFileSync(stl.fsPath);
    const triangles = stlBytes.readUInt32LE(80);
    assert.ok(triangles > 0 && stlBytes.length === 84 + 50 * triangles, 'a binary STL with its declared triangle count');
  });

  test('the preview serializer restores a panel from its saved state', async () => {
    const other = await vscode.workspace.openTextDocument(workspaceFile('parts', 'block_111911.py'));
    const panel = vscode.window.createWebviewPanel('gift.preview', 'restoring', vscode.ViewColumn.Two, {});
    await api.previews.deserializeWebviewPanel(panel, { documentUri: other.uri.toString() });
    const restored = api.previews.get(other.uri);
    assert.ok(restored);
    const scene = await sceneWhere(restored, 'the restored mesh', (s) => s.triangles > 0);
    assert.ok(scene.triangles > 0);
    restored.panel.dispose();
    assert.equal(api.previews.get(other.uri), undefined);
  });

  test('Image to CAD with gift.backend naming no installed backend says so clearly', async () => {
    await vscode.workspace.getConfiguration('gift').update('backend', 'no-such-backend', vscode.ConfigurationTarget.Global);
    try {
      const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.imageToCad', workspaceFile('parts', '00442545_0.png'));
      assert.equal(outcome.ok, false);
      assert.match(
        !outcome.ok ? outcome.message : '',
        /gift\.backend is 'no-such-backend', but no such model backend is installed \(installed: onnx, openai\)/,
      );
    } finally {
      await vscode.workspace.getConfiguration('gift').update('backend', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  test('Image to CAD with a backend opens the code and the preview with the image and candidates', async () => {
    const source = fs.readFileSync(workspaceFile('parts', 'block_111911.py').fsPath, 'utf8');
    const registration = api.registerImageToCadBackend({
      name: 'test-backend',
      async sample(_image, _name, { samples }) {
        return Array.from({ length: samples }, (_, i) => ({ code: source.replace('extrude(0.03125)', `extrude(${0.03125 * (i + 1)})`) }));
      },
    });
    await vscode.workspace.getConfiguration('gift').update('backend', 'test-backend', vscode.ConfigurationTarget.Global);
    try {
      const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.imageToCad', workspaceFile('parts', '00442545_0.png'));
      assert.ok(outcome.ok && outcome.uri, JSON.stringify(outcome));
      const generated = api.previews.get(outcome.uri);
      assert.ok(generated, 'the preview opened on the generated code');
      const scene = await sceneWhere(generated, 'the generated shape', (s) => s.triangles > 0 && s.hasSourceImage);
      assert.equal(scene.candidates, 4);
      assert.equal(scene.candidate, 0);
      // The pipeline ranks the candidates (by image score here), so read each one's thickness from its code.
      const thickness = async () => Number(/extrude\(([\d.]+)\)/.exec((await vscode.workspace.openTextDocument(outcome.uri!)).getText())![1]);
      const firstVolume = generated.shape!.volume;
      const firstThickness = await thickness();
      assert.ok(await generated.selectCandidate(2));
      await generated.settled();
      const third = await sceneWhere(generated, 'candidate 3', (s) => s.candidate === 2 && s.version === generated.shape?.version);
      assert.ok(third.triangles > 0);
      const ratio = (await thickness()) / firstThickness;
      assert.notEqual(ratio, 1, 'candidate 3 is another program');
      assert.ok(Math.abs(generated.shape!.volume / firstVolume - ratio) < 1e-6, 'candidate 3 is as much thicker as its code says');
      if (process.env.GIFT_KEEP_OPEN) return;
      generated.panel.dispose();
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(outcome.uri));
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    } finally {
      registration.dispose();
      await vscode.workspace.getConfiguration('gift').update('backend', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});

editorSuite(() => api, workspaceFile, waitFor);
datasetSuite(() => api, workspaceFile, waitFor);
modelSuite(() => api, workspaceFile, waitFor);
trainingSuite(() => api, workspaceFile, waitFor);
verifierSuite(() => api, workspaceFile, waitFor);
