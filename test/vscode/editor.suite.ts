/// <reference types="mocha" />
// The editor a CAD engineer lives in (issue #17): the generated program is a real file beside its
// image, the preview follows its document through rename and Save As and says when it is gone,
// stepping through candidates never loses typing, bad image files are named before any model runs.
// Registered by extension.test.ts; runs inside a real VS Code against the real kernel pool.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { CommandOutcome, GiftApi } from '../../src/extension/extension';
import type { PreviewPanel } from '../../src/extension/preview/panel';
import type { SceneInfo } from '../../src/protocol/messages';

type Waiter = <T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs?: number) => Promise<T>;

// Its own copy of the image, in a folder of its own: other suites' Image to CAD runs leave their
// programs beside parts/00442545_0.png, and this suite asserts the names it gets.
const IMAGE = ['editor', '00442545_0.png'];

export function editorSuite(getApi: () => GiftApi, workspaceFile: (...parts: string[]) => vscode.Uri, waitFor: Waiter): void {
  suite('The editor: real files, a preview that follows them', () => {
    let api: GiftApi;
    let registration: vscode.Disposable | undefined;
    let source: string;
    const config = () => vscode.workspace.getConfiguration('gift');
    const sceneWhere = (preview: PreviewPanel, what: string, ok: (s: SceneInfo) => boolean) =>
      waitFor(what, async () => {
        const scene = await preview.sceneInfo();
        return ok(scene) ? scene : undefined;
      });
    /** Candidate i of the test backend: the block, i+1 times as thick. */
    const candidate = (i: number) => source.replace('extrude(0.03125)', `extrude(${0.03125 * (i + 1)})`);
    const closeAll = async () => {
      await vscode.workspace.saveAll(false);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    };

    suiteSetup(async () => {
      api = getApi() ?? (await vscode.extensions.getExtension<GiftApi>('gift-cad.gift-cad')!.activate());
      source = fs.readFileSync(workspaceFile('parts', 'block_111911.py').fsPath, 'utf8');
      for (const folder of ['editor', 'generated']) fs.rmSync(workspaceFile(folder).fsPath, { recursive: true, force: true });
      fs.mkdirSync(workspaceFile('editor').fsPath);
      fs.copyFileSync(workspaceFile('parts', '00442545_0.png').fsPath, workspaceFile(...IMAGE).fsPath);
      // Candidates in a known order: the test backend's scores are not the image score, so ranking is by the
      // pipeline; each candidate's thickness says which one it is.
      registration = api.registerImageToCadBackend({
        name: 'editor-test-backend',
        async sample(_image, _name, { samples }) {
          return Array.from({ length: samples }, (_, i) => ({ code: candidate(i) }));
        },
      });
      await config().update('backend', 'editor-test-backend', vscode.ConfigurationTarget.Global);
    });

    suiteTeardown(async () => {
      registration?.dispose();
      await config().update('backend', undefined, vscode.ConfigurationTarget.Global);
      await config().update('imageToCad.folder', undefined, vscode.ConfigurationTarget.Global);
      await closeAll();
    });

    test('Image to CAD writes <image>.py beside the image, never over an existing file', async () => {
      const first = await vscode.commands.executeCommand<CommandOutcome>('gift.imageToCad', workspaceFile(...IMAGE));
      assert.ok(first.ok && first.uri, JSON.stringify(first));
      assert.equal(first.uri.fsPath, workspaceFile('editor', '00442545_0.py').fsPath);
      const document = await vscode.workspace.openTextDocument(first.uri);
      assert.equal(document.isUntitled, false);
      assert.equal(document.isDirty, false, 'the program is saved as written');
      assert.equal(fs.readFileSync(first.uri.fsPath, 'utf8'), document.getText());
      const second = await vscode.commands.executeCommand<CommandOutcome>('gift.imageToCad', workspaceFile(...IMAGE));
      assert.ok(second.ok && second.uri);
      assert.equal(second.uri.fsPath, workspaceFile('editor', '00442545_0-2.py').fsPath);
      // gift.imageToCad.folder (workspace-relative) puts it there instead.
      await config().update('imageToCad.folder', 'generated', vscode.ConfigurationTarget.Global);
      const third = await vscode.commands.executeCommand<CommandOutcome>('gift.imageToCad', workspaceFile(...IMAGE));
      assert.ok(third.ok && third.uri);
      assert.equal(third.uri.fsPath, workspaceFile('generated', '00442545_0.py').fsPath);
      await config().update('imageToCad.folder', undefined, vscode.ConfigurationTarget.Global);
      for (const p of api.previews.all()) p.panel.dispose();
      await closeAll();
    });

    test('the preview follows its file through a rename, keeping image and candidates; edits after it still run', async () => {
      const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.imageToCad', workspaceFile(...IMAGE));
      assert.ok(outcome.ok && outcome.uri);
      const preview = api.previews.get(outcome.uri);
      assert.ok(preview);
      await sceneWhere(preview, 'the generated shape', (s) => s.triangles > 0 && s.hasSourceImage);
      const renamed = workspaceFile('parts', 'block_c1.py');
      const edit = new vscode.WorkspaceEdit();
      edit.renameFile(outcome.uri, renamed, { overwrite: true });
      assert.ok(await vscode.workspace.applyEdit(edit));
      await waitFor('the preview to follow the rename', () => api.previews.get(renamed) === preview);
      assert.equal(api.previews.get(outcome.uri), undefined);
      assert.equal(preview.title, 'Preview block_c1.py');
      const document = await vscode.workspace.openTextDocument(renamed);
      const before = preview.shape!.volume;
      const change = new vscode.WorkspaceEdit();
      const text = document.getText();
      const at = text.indexOf('extrude(') + 'extrude('.length;
      const end = text.indexOf(')', at);
      const thickness = Number(text.slice(at, end));
      change.replace(renamed, new vscode.Range(document.positionAt(at), document.positionAt(end)), String(thickness * 2));
      assert.ok(await vscode.workspace.applyEdit(change));
      await waitFor('the edit of the renamed file to reach the preview', () => Math.abs(preview.shape!.volume / before - 2) < 1e-6);
      const scene = await sceneWhere(preview, 'the doubled shape', (s) => s.version === preview.shape!.version);
      assert.ok(scene.hasSourceImage, 'the source image stays');
      assert.equal(scene.candidates, 4, 'the candidates stay');
      assert.equal(scene.banner, null);
      assert.equal(scene.notice, null);
      preview.panel.dispose();
      await closeAll();
    });

    test('Save As of an untitled program: the preview follows the new file; closing one unsaved says it is gone', async () => {
      // Save As as VS Code does it: the new file opens in the old tab's place, the untitled one is disposed.
      const untitled = await vscode.workspace.openTextDocument({ language: 'python', content: candidate(0) });
      await vscode.window.showTextDocument(untitled);
      const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.openPreview', untitled.uri);
      assert.ok(outcome.ok);
      const preview = api.previews.get(untitled.uri);
      assert.ok(preview);
      await sceneWhere(preview, 'the untitled shape', (s) => s.triangles > 0);
      const saved = workspaceFile('parts', 'saved_as.py');
      fs.writeFileSync(saved.fsPath, untitled.getText());
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(saved), { viewColumn: vscode.ViewColumn.One });
      await vscode.window.showTextDocument(untitled, { viewColumn: vscode.ViewColumn.One });
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
      await waitFor('the preview to follow Save As', () => api.previews.get(saved) === preview, 10_000);
      assert.equal(preview.title, 'Preview saved_as.py');
      const scene = await sceneWhere(preview, 'the followed shape', (s) => s.triangles > 0);
      assert.equal(scene.notice, null);
      preview.panel.dispose();
      await closeAll();

      // Closed without saving, and nothing took its place: the panel says so and keeps the shape.
      const lost = await vscode.workspace.openTextDocument({ language: 'python', content: candidate(1) });
      await vscode.window.showTextDocument(lost);
      await vscode.commands.executeCommand<CommandOutcome>('gift.openPreview', lost.uri);
      const orphan = api.previews.get(lost.uri);
      assert.ok(orphan);
      await sceneWhere(orphan, 'the unsaved shape', (s) => s.triangles > 0);
      await vscode.window.showTextDocument(lost);
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
      const gone = await sceneWhere(orphan, 'the notice that the document is gone', (s) => s.notice !== null);
      assert.match(gone.notice!, /Untitled-\d+ was closed without saving: the preview shows its last shape/);
      assert.ok(gone.triangles > 0, 'the last shape stays');
      orphan.panel.dispose();
    });

    test('stepping to another candidate and back keeps hand edits', async () => {
      const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.imageToCad', workspaceFile(...IMAGE));
      assert.ok(outcome.ok && outcome.uri);
      const preview = api.previews.get(outcome.uri);
      assert.ok(preview);
      await sceneWhere(preview, 'the generated shape', (s) => s.triangles > 0 && s.candidates === 4);
      const document = await vscode.workspace.openTextDocument(outcome.uri);
      const typed = '\n# my note: check the hole spacing\n';
      const edit = new vscode.WorkspaceEdit();
      edit.insert(outcome.uri, new vscode.Position(document.lineCount, 0), typed);
      assert.ok(await vscode.workspace.applyEdit(edit));
      const mine = document.getText();
      assert.ok(await preview.selectCandidate(1));
      assert.notEqual(document.getText(), mine, 'candidate 2 replaced the text');
      assert.ok(!document.getText().includes('my note'));
      const scene = await sceneWhere(preview, 'candidate 2 selected', (s) => s.candidate === 1);
      assert.equal(scene.candidates, 4);
      assert.ok(await preview.selectCandidate(0));
      assert.equal(document.getText(), mine, 'the typing on candidate 1 is back');
      preview.panel.dispose();
      await closeAll();
    });

    test('with a reference the candidates are ranked by IoU against it, and the panel says so; the shown one stays', async () => {
      const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.imageToCad', workspaceFile(...IMAGE));
      assert.ok(outcome.ok && outcome.uri);
      const preview = api.previews.get(outcome.uri);
      assert.ok(preview);
      const before = await sceneWhere(preview, 'the candidates', (s) => s.triangles > 0 && s.candidates === 4);
      assert.equal(before.candidateOrder, 'image score');
      // Show the one that is 3× too thick, then set the true part (its STEP) as the reference.
      const thick = preview.candidateList.findIndex((c) => c.code === candidate(2));
      assert.ok(thick >= 0);
      assert.ok(await preview.selectCandidate(thick));
      // block_111911.py is the ground truth of 00675497 (its STEP); the backend's candidate 1 is that program.
      await preview.setReference(workspaceFile('parts', '00675497.step'));
      const after = await sceneWhere(preview, 'the IoU order', (s) => s.candidateOrder === 'IoU against the reference');
      const list = preview.candidateList;
      assert.equal(list[0].code, candidate(0), 'the program that matches the reference is first');
      assert.ok(list[0].score! > 0.9, `its IoU: ${list[0].score}`);
      for (let i = 1; i < list.length; i++) assert.ok(list[i - 1].score! >= list[i].score!, 'IoU descending');
      assert.equal(list[after.candidate].code, candidate(2), 'the candidate on screen is still the one shown');
      assert.match(after.candidateLabel, /^IoU 0\.\d{3} against 00675497\.step\nCandidates in order of IoU against the reference, best first\.$/);
      preview.panel.dispose();
      await closeAll();
    });

    test('a reloaded window gets the preview back with its image, candidates (and edits), order and reference', async () => {
      const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.imageToCad', workspaceFile(...IMAGE));
      assert.ok(outcome.ok && outcome.uri);
      const preview = api.previews.get(outcome.uri)!;
      await sceneWhere(preview, 'the candidates', (s) => s.triangles > 0 && s.candidates === 4);
      const document = await vscode.workspace.openTextDocument(outcome.uri);
      const edit = new vscode.WorkspaceEdit();
      edit.insert(outcome.uri, new vscode.Position(document.lineCount, 0), '\n# reviewed\n');
      assert.ok(await vscode.workspace.applyEdit(edit));
      assert.ok(await preview.selectCandidate(1));
      await preview.setReference(workspaceFile('parts', '00675497.step'));
      await sceneWhere(preview, 'the IoU order', (s) => s.candidateOrder === 'IoU against the reference');
      // What the webview keeps for the serializer, as VS Code would hand it back after a reload.
      const state = preview.restoreState;
      preview.panel.dispose();
      const panel = vscode.window.createWebviewPanel('gift.preview', 'restoring', vscode.ViewColumn.Two, {});
      await api.previews.deserializeWebviewPanel(panel, JSON.parse(JSON.stringify(state)));
      const restored = api.previews.get(outcome.uri)!;
      assert.ok(restored);
      const scene = await sceneWhere(
        restored,
        'the restored preview',
        (s) => s.triangles > 0 && s.hasSourceImage && s.candidates === 4 && s.referenceTriangles > 0,
      );
      assert.equal(scene.candidateOrder, 'IoU against the reference');
      assert.ok(
        restored.candidateList.some((c) => c.code.includes('# reviewed')),
        'the edited candidate keeps its edit',
      );
      restored.panel.dispose();
      await closeAll();
    });

    test('the source image can be hidden (the 3D view takes its room); unsupported is a warning banner', async () => {
      const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.imageToCad', workspaceFile(...IMAGE));
      assert.ok(outcome.ok && outcome.uri);
      const preview = api.previews.get(outcome.uri);
      assert.ok(preview);
      const shown = await sceneWhere(preview, 'the shape beside its image', (s) => s.triangles > 0 && s.imageVisible);
      assert.ok(await preview.command('showImage', { on: false }));
      const hidden = await sceneWhere(preview, 'the image hidden', (s) => !s.imageVisible);
      assert.ok(hidden.hasSourceImage, 'the image is still known, only hidden');
      // Side by side the view gets wider, stacked (a narrow panel) taller.
      const area = (s: SceneInfo) => s.viewport.width * s.viewport.height;
      assert.ok(
        area(hidden) > area(shown) * 1.1,
        `the 3D view grows: ${shown.viewport.width}×${shown.viewport.height} → ${hidden.viewport.width}×${hidden.viewport.height} px`,
      );
      assert.ok(await preview.command('showImage', { on: true }));
      await sceneWhere(preview, 'the image back', (s) => s.imageVisible);
      // A feature the engine lacks: a warning in Problems and a warning (not error) banner, the last shape kept.
      const document = await vscode.workspace.openTextDocument(outcome.uri);
      const edit = new vscode.WorkspaceEdit();
      edit.insert(outcome.uri, new vscode.Position(document.lineCount, 0), '\nsolid = solid.interpPlate(None)\n');
      assert.ok(await vscode.workspace.applyEdit(edit));
      const warned = await sceneWhere(preview, 'the unsupported banner', (s) => s.banner !== null);
      assert.equal(warned.bannerSeverity, 'warning');
      assert.match(warned.banner!, /interpPlate\(\) is not supported/);
      assert.ok(warned.triangles > 0);
      const [diagnostic] = api.diagnostics.get(outcome.uri) ?? [];
      assert.equal(diagnostic?.severity, vscode.DiagnosticSeverity.Warning);
      preview.panel.dispose();
      await closeAll();
    });

    test('no dead ends: commands with nothing to act on say so; the walkthrough opens', async () => {
      for (const command of ['gift.train.cancel', 'gift.train.followLogs', 'gift.train.fetch']) {
        const outcome = await vscode.commands.executeCommand<CommandOutcome>(command);
        assert.equal(outcome.ok, false, command);
        assert.match(!outcome.ok ? outcome.message : '', /there are no training runs yet: start one with GIFT: Start Training Run/, command);
      }
      const cleared = await vscode.commands.executeCommand<CommandOutcome>('gift.clearApiKey');
      assert.ok(cleared.ok && cleared.detail === 'none stored', JSON.stringify(cleared));
      if (!api.dataset.current) {
        const closed = await vscode.commands.executeCommand<CommandOutcome>('gift.dataset.close');
        assert.deepEqual(closed, { ok: false, message: 'no dataset is open' });
      }
      await vscode.commands.executeCommand('workbench.action.openWalkthrough', 'gift-cad.gift-cad#gift.gettingStarted', false);
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    });

    test('a photo gets a warning in the preview (what is off, what to try); a test100 render none', async () => {
      const root = vscode.extensions.getExtension('gift-cad.gift-cad')!.extensionPath;
      const photo = workspaceFile('parts', 'photo.jpg');
      fs.copyFileSync(`${root}/test/fixtures/photos/grace_hopper.jpg`, photo.fsPath);
      for (const [image, warned] of [
        [photo, true],
        [workspaceFile(...IMAGE), false],
      ] as const) {
        const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.imageToCad', image);
        assert.ok(outcome.ok && outcome.uri);
        const preview = api.previews.get(outcome.uri);
        assert.ok(preview);
        const scene = await sceneWhere(preview, 'the shape and its image', (s) => s.triangles > 0 && s.hasSourceImage);
        if (warned)
          assert.match(scene.imageWarning ?? '', /^photo\.jpg does not look like a render of a part: .*try a plain render of one part on a white background/);
        else assert.equal(scene.imageWarning, null);
        preview.panel.dispose();
      }
      await closeAll();
    });

    test('an empty or non-image .png is named before any model runs', async () => {
      const empty = workspaceFile('parts', 'empty.png');
      fs.writeFileSync(empty.fsPath, '');
      const text = workspaceFile('parts', 'notes.png');
      fs.writeFileSync(text.fsPath, 'these are not pixels, just text\n');
      for (const [uri, why] of [
        [empty, /empty\.png.*empty/],
        [text, /notes\.png: (not a readable image|unsupported image format)/],
      ] as const) {
        const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.imageToCad', uri);
        assert.equal(outcome.ok, false);
        const message = !outcome.ok ? outcome.message : '';
        assert.match(message, why);
        assert.doesNotMatch(message, /the model failed/);
      }
    });
  });
}
