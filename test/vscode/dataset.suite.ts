/// <reference types="mocha" />
// The GIFT dataset side panel and the IoU-driven flags, inside a real VS Code, on a dataset made
// from test100 pairs with the core API, against the real kernel pool. Registered by
// extension.test.ts after its own suite (which checks activation before anything else runs).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { importIntoDataset, openDataset, type Dataset, type DatasetRecord } from '../../src/core/dataset';
import type { CommandOutcome, GiftApi } from '../../src/extension/extension';
import type { DatasetNode } from '../../src/extension/dataset/tree';
import type { PreviewPanel } from '../../src/extension/preview/panel';
import type { SceneInfo } from '../../src/protocol/messages';

type Waiter = <T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs?: number) => Promise<T>;

interface Test100Line {
  question_id: number;
  image: string;
  ground_truth: string;
}

/** Single-extrude prisms: scaling the extrude by f gives raw IoU f exactly. */
const PRISMS = ['00675497', '00694405', '00507123', '00248776'];

export function datasetSuite(getApi: () => GiftApi, workspaceFile: (...parts: string[]) => vscode.Uri, waitFor: Waiter): void {
  suite('GIFT dataset side panel', () => {
    let api: GiftApi;
    let ds: Dataset;
    let dir: string;
    let fixtures: string;
    let lines: Test100Line[];
    const idOf = (line: Test100Line) => line.image.replace(/_0\.png$/, '');

    const sceneWhere = (preview: PreviewPanel, what: string, ok: (s: SceneInfo) => boolean) =>
      waitFor(what, async () => {
        const scene = await preview.sceneInfo();
        return ok(scene) ? scene : undefined;
      });

    const roots = async () => {
      const nodes = await api.datasetTree.getChildren();
      return new Map(nodes.map((n) => [n.kind === 'collection' ? n.name : '?', n]));
    };

    const sampleNodes = async (collection: string) => {
      const node = (await roots()).get(collection);
      assert.ok(node, `collection ${collection} is in the tree`);
      return (await api.datasetTree.getChildren(node)).filter((n): n is DatasetNode & { kind: 'sample' } => n.kind === 'sample');
    };

    const record = async (id: string): Promise<DatasetRecord> => {
      const r = await ds.get(id);
      assert.ok(r, `record ${id} exists`);
      return r;
    };

    suiteSetup(async () => {
      const extension = vscode.extensions.getExtension<GiftApi>('gift-cad.gift-cad');
      assert.ok(extension);
      // Normally activated by the first suite; run alone (GIFT_TEST_GREP) it activates here.
      api = getApi() ?? (await extension.activate());
      fixtures = path.join(extension.extensionPath, 'test', 'fixtures', 'gencad-test100');
      lines = fs
        .readFileSync(path.join(fixtures, 'samples.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Test100Line)
        .filter((l) => PRISMS.includes(idOf(l)));
      assert.equal(lines.length, PRISMS.length);
      // A GenCAD-layout source of four test100 pairs, imported through the core API.
      const source = workspaceFile('gencad-four').fsPath;
      fs.mkdirSync(source, { recursive: true });
      fs.writeFileSync(path.join(source, 'samples.jsonl'), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
      fs.symlinkSync(path.join(fixtures, 'images'), path.join(source, 'images'));
      dir = workspaceFile('datasets', 'four').fsPath;
      fs.rmSync(dir, { recursive: true, force: true });
      ds = await openDataset(dir, { create: true });
      const report = await importIntoDataset(ds, source);
      assert.equal(report.imported, 4);
      const [a, b] = PRISMS;
      for (const [id, collection, iou] of [
        [a, 'srs', 0.95],
        [b, 'fda', 0.7],
      ] as const) {
        const base = await record(id);
        await ds.append({ id: `${id}-${collection}-test`, collection, image: base.image, code: base.code, source: id, iou, protocol: 'raw', model: 'test' });
      }
    });

    suiteTeardown(async () => {
      await vscode.workspace.getConfiguration('gift').update('iou.protocol', undefined, vscode.ConfigurationTarget.Workspace);
      if (process.env.GIFT_KEEP_OPEN) return;
      await vscode.workspace.saveAll(false);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    test('the view shows collections with counts and samples with their image and IoU', async () => {
      const opened = await vscode.commands.executeCommand<CommandOutcome>('gift.dataset.open', vscode.Uri.file(dir));
      assert.ok(opened.ok, JSON.stringify(opened));
      const collections = await roots();
      assert.deepEqual([...collections.keys()], ['sft', 'srs', 'fda'], 'the GIFT loop order');
      const counts = Object.fromEntries([...collections].map(([name, node]) => [name, api.datasetTree.getTreeItem(node).description]));
      assert.deepEqual(counts, { sft: '4', srs: '1', fda: '1' });
      assert.equal(api.datasetView.description, 'four');

      const [srs] = await sampleNodes('srs');
      const item = api.datasetTree.getTreeItem(srs);
      assert.equal(item.label, `${PRISMS[0]}-srs-test`);
      assert.equal(item.description, 'IoU 0.9500');
      assert.ok(item.iconPath instanceof vscode.Uri && fs.existsSync(item.iconPath.fsPath), 'the icon is the sample image');
      assert.match((item.tooltip as vscode.MarkdownString).value, /source.*00675497/s);
      // Hover shows the image at a readable size (the icon is 16 px).
      assert.ok((item.tooltip as vscode.MarkdownString).value.includes(`<img src="${(item.iconPath as vscode.Uri).toString()}" width="240"`));
      const sft = await sampleNodes('sft');
      assert.deepEqual(sft.map((n) => n.record.id).sort(), [...PRISMS].sort());
      assert.equal(api.datasetTree.getTreeItem(sft[0]).description, '', 'no IoU yet for base pairs');

      // The real view shows it: reveal a sample in the GIFT container.
      await vscode.commands.executeCommand('workbench.view.extension.gift');
      await api.datasetView.reveal(srs, { expand: true, select: true });
      await waitFor('the dataset view to be visible', () => api.datasetView.visible);
    });

    test('move by command (bucket rules, force) and by drag and drop', async () => {
      const [, , c, d] = PRISMS;
      const refused = await vscode.commands.executeCommand<CommandOutcome>('gift.dataset.moveToFda', c);
      assert.equal(refused.ok, false);
      assert.match(!refused.ok ? refused.message : '', /no IoU measured/);
      assert.equal((await record(c)).collection, 'sft');
      const forced = await vscode.commands.executeCommand<CommandOutcome>('gift.dataset.moveToFda', c, undefined, { force: true });
      assert.ok(forced.ok, JSON.stringify(forced));
      assert.equal((await record(c)).collection, 'fda');
      const wrongBucket = await vscode.commands.executeCommand<CommandOutcome>('gift.dataset.moveToSrs', `${PRISMS[1]}-fda-test`);
      assert.match(!wrongBucket.ok ? wrongBucket.message : '', /IoU 0\.7 is outside SRS's range \[0\.9, 0\.99\)/);

      // Drag from sft, drop on a collection another process just created: the view refreshes by
      // itself (a file event or, where none arrives, the poll) and then lists it.
      await new Promise((r) => setTimeout(r, 500)); // let the refreshes of our own moves pass
      let refreshes = 0;
      const subscription = api.datasetTree.onDidChangeTreeData(() => refreshes++);
      let holdout: DatasetNode | undefined;
      try {
        await ds.createCollection('holdout');
        refreshes = 0;
        holdout = await waitFor('the view to refresh after an outside write', async () => (refreshes > 0 ? (await roots()).get('holdout') : undefined), 30_000);
      } finally {
        subscription.dispose();
      }
      assert.ok(holdout, 'the new collection is in the tree');
      const dragged = (await sampleNodes('sft')).find((n) => n.record.id === d);
      assert.ok(dragged);
      const transfer = new vscode.DataTransfer();
      await api.datasetTree.handleDrag([dragged], transfer);
      await api.datasetTree.handleDrop(holdout, transfer);
      assert.equal((await record(d)).collection, 'holdout');
      const counts = await waitFor('the counts to update', async () => {
        const now = await roots();
        const text = (name: string) => api.datasetTree.getTreeItem(now.get(name)!).description;
        return text('holdout') === '1' && text('sft') === '2' ? now : undefined;
      });
      assert.equal(api.datasetTree.getTreeItem(counts.get('fda')!).description, '2');

      const removed = await vscode.commands.executeCommand<CommandOutcome>('gift.dataset.remove', d, undefined, { confirm: false });
      assert.ok(removed.ok);
      assert.equal(await ds.get(d), undefined);
    });

    test('open a sample: its code, its image, its ground truth as the reference, and the IoU', async () => {
      const id = `${PRISMS[0]}-srs-test`;
      const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.dataset.openSample', id);
      assert.ok(outcome.ok && outcome.uri, JSON.stringify(outcome));
      const preview = api.previews.get(outcome.uri);
      assert.ok(preview);
      assert.equal(vscode.window.activeTextEditor?.document.uri.toString(), outcome.uri.toString());
      assert.equal(vscode.window.activeTextEditor?.document.getText(), (await record(id)).code);
      assert.equal(preview.sample?.referenceId, PRISMS[0]);
      const scene = await sceneWhere(preview, 'the IoU against the ground truth', (s) => s.metrics.iou !== '—' && !s.metrics.iou.endsWith('…'));
      assert.ok(scene.hasSourceImage && scene.referenceTriangles > 0);
      // The srs record here holds the ground truth's own code: a part against itself scores 1.
      assert.equal(scene.metrics.iou, '1.0000');
      // Zero unless a symmetric part's winning rotation maps the samples onto other points.
      assert.ok(Number(scene.metrics.chamfer) < 0.05, `Chamfer ×1000 ${scene.metrics.chamfer}`);
      assert.equal(scene.metrics.protocol, 'aligned-robust');
      assert.equal(scene.metrics.bucket, 'none (match)');
      assert.equal(vscode.languages.getDiagnostics(outcome.uri).length, 0);

      // A failing IoU job (here: a protocol the kernel does not know) shows in the panel, not as a diagnostic.
      const config = vscode.workspace.getConfiguration('gift');
      await config.update('iou.protocol', 'bogus', vscode.ConfigurationTarget.Workspace);
      const failed = await sceneWhere(preview, 'the IoU error', (s) => s.metrics.iouError !== null);
      assert.match(failed.metrics.iouError!, /unknown IoU protocol 'bogus'/);
      assert.equal(failed.metrics.iou, 'error');
      assert.equal(failed.banner, null, 'the program itself is fine: no banner');
      assert.equal(vscode.languages.getDiagnostics(outcome.uri).length, 0, 'no diagnostic for an IoU failure');
      await config.update('iou.protocol', undefined, vscode.ConfigurationTarget.Workspace);
      await sceneWhere(preview, 'the IoU again', (s) => s.metrics.iou === '1.0000' && s.metrics.iouError === null);
    });

    test('flags: refused outside the bucket, forced with force; FDA pairs a render with the ground truth', async () => {
      const base = PRISMS[0];
      const opened = await vscode.commands.executeCommand<CommandOutcome>('gift.dataset.openSample', base);
      assert.ok(opened.ok && opened.uri);
      const preview = api.previews.get(opened.uri)!;
      await sceneWhere(preview, 'IoU 1', (s) => s.metrics.iou === '1.0000');

      const refused = await vscode.commands.executeCommand<CommandOutcome>('gift.flagSrs', opened.uri);
      assert.equal(refused.ok, false);
      // (a part against itself: 1 up to rounding, e.g. 0.9999999999999994)
      assert.match(
        !refused.ok ? refused.message : '',
        /IoU (1|0\.99999\d*) is outside SRS's range \[0\.9, 0\.99\): at or above match 0\.99 it already matches/,
      );
      const forced = await vscode.commands.executeCommand<CommandOutcome>('gift.flagSrs', opened.uri, { force: true });
      assert.ok(forced.ok && forced.detail, JSON.stringify(forced));
      const flagged = await record(forced.detail);
      assert.deepEqual(
        { collection: flagged.collection, source: flagged.source, image: flagged.image, protocol: flagged.protocol, code: flagged.code },
        { collection: 'srs', source: base, image: (await record(base)).image, protocol: 'aligned-robust', code: (await record(base)).code },
      );
      assert.ok(Math.abs(flagged.iou! - 1) < 1e-9, `the measured IoU is stored: ${flagged.iou}`);

      // Under the raw protocol, the extrude scaled by 0.7 has IoU 0.7: FDA's bucket.
      await vscode.workspace.getConfiguration('gift').update('iou.protocol', 'raw', vscode.ConfigurationTarget.Workspace);
      const editor = await vscode.window.showTextDocument(opened.uri, { viewColumn: vscode.ViewColumn.One });
      const text = editor.document.getText();
      const m = /extrude\(([-\d.e]+)\)/.exec(text);
      assert.ok(m, 'the prism extrudes once');
      const start = editor.document.positionAt(m.index + 'extrude('.length);
      await editor.edit((e) => e.replace(new vscode.Range(start, start.translate(0, m[1].length)), String(Number(m[1]) * 0.7)));
      const scene = await sceneWhere(preview, 'raw IoU 0.7', (s) => s.metrics.protocol === 'raw' && s.metrics.iou === '0.7000');
      assert.equal(scene.metrics.bucket, 'FDA');

      const wrong = await vscode.commands.executeCommand<CommandOutcome>('gift.flagSrs', opened.uri);
      assert.match(!wrong.ok ? wrong.message : '', /belongs in FDA/);
      const fda = await vscode.commands.executeCommand<CommandOutcome>('gift.flagFda', opened.uri);
      assert.ok(fda.ok && fda.detail, JSON.stringify(fda));
      const added = await record(fda.detail);
      assert.equal(added.collection, 'fda');
      assert.ok(Math.abs(added.iou! - 0.7) < 1e-6);
      assert.equal(added.protocol, 'raw');
      assert.equal(added.code, (await record(base)).code, 'FDA keeps the ground-truth code');
      assert.notEqual(added.image, (await record(base)).image, 'FDA gets the render of the near miss');
      const png = fs.readFileSync(ds.imagePath(added));
      assert.equal(png.readUInt32BE(16), 448, 'a 448-pixel render in the dataset style');
      await vscode.commands.executeCommand('workbench.action.files.revert');
    });

    test('flags from Image to CAD with a STEP reference: the dataset knows the image, so FDA gets its code and SRS its source; reopened, SRS shows its IoU against that source', async () => {
      // (PRISMS[0]: still in sft (the move test above took PRISMS[2] and [3] out of it), and its DeepCAD
      // STEP is near enough to the GenCAD program: ×0.7 scores 0.67, ×0.95 0.91 against it (raw))
      const base = PRISMS[0];
      const truth = await record(base);
      assert.equal(truth.collection, 'sft');
      if (api.dataset.current?.dir !== dir) assert.ok((await vscode.commands.executeCommand<CommandOutcome>('gift.dataset.open', vscode.Uri.file(dir))).ok);
      const scaled = (f: number) => truth.code.replace(/extrude\(([-\d.e]+)\)/, (_m, d: string) => `extrude(${Number(d) * f})`);
      let factor = 0.7;
      const registration = api.registerImageToCadBackend({
        name: 'flag-test-backend',
        async sample(_image, _name, { samples }) {
          return Array.from({ length: samples }, () => ({ code: scaled(factor) }));
        },
      });
      const config = vscode.workspace.getConfiguration('gift');
      await config.update('backend', 'flag-test-backend', vscode.ConfigurationTarget.Global);
      await config.update('iou.protocol', 'raw', vscode.ConfigurationTarget.Workspace);
      try {
        const image = workspaceFile('flag', `${base}.png`);
        fs.mkdirSync(path.dirname(image.fsPath), { recursive: true });
        fs.copyFileSync(ds.imagePath(truth), image.fsPath);
        const step = vscode.Uri.file(path.join(fixtures, 'gt_steps', `${base}.step`));
        const generate = async () => {
          const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.imageToCad', image);
          assert.ok(outcome.ok && outcome.uri, JSON.stringify(outcome));
          const preview = api.previews.get(outcome.uri)!;
          await preview.setReference(step);
          return { uri: outcome.uri, preview };
        };
        const fdaRun = await generate();
        // (the DeepCAD STEP and the GenCAD program differ slightly: about 0.69 rather than 0.7)
        const iouOf = (s: SceneInfo) => Number(s.metrics.iou);
        await sceneWhere(fdaRun.preview, 'an FDA IoU against the STEP', (s) => iouOf(s) > 0.6 && iouOf(s) < 0.75);
        const fda = await vscode.commands.executeCommand<CommandOutcome>('gift.flagFda', fdaRun.uri);
        assert.ok(fda.ok && fda.detail, JSON.stringify(fda));
        const fdaRecord = await record(fda.detail);
        assert.equal(fdaRecord.source, base, 'the source is the sft record with this image');
        assert.equal(fdaRecord.code, truth.code, "FDA pairs the render with the record's ground-truth code");
        fdaRun.preview.panel.dispose();

        factor = 0.95;
        const srsRun = await generate();
        await sceneWhere(srsRun.preview, 'an SRS IoU against the STEP', (s) => iouOf(s) > 0.9 && iouOf(s) < 0.99);
        const srs = await vscode.commands.executeCommand<CommandOutcome>('gift.flagSrs', srsRun.uri);
        assert.ok(srs.ok && srs.detail, JSON.stringify(srs));
        assert.equal((await record(srs.detail)).source, base);
        srsRun.preview.panel.dispose();
        const reopened = await vscode.commands.executeCommand<CommandOutcome>('gift.dataset.openSample', srs.detail);
        assert.ok(reopened.ok && reopened.uri);
        const again = api.previews.get(reopened.uri)!;
        const scene = await sceneWhere(again, 'the IoU against its source', (s) => s.metrics.iou !== '—' && !s.metrics.iou.endsWith('…'));
        // Against the source's ground-truth code the ×0.95 program scores 0.95 (raw), not 1 against itself.
        assert.equal(scene.metrics.iou, '0.9500', 'against the original ground truth, not 1 against itself');
        again.panel.dispose();

        // An image the dataset does not know, against a STEP: refused, saying why and what to do.
        const unknown = workspaceFile('flag', 'unknown.png');
        fs.copyFileSync(ds.imagePath(await record(PRISMS[1])), unknown.fsPath);
        fs.appendFileSync(unknown.fsPath, Buffer.from([0])); // other bytes: not the stored image
        factor = 0.7;
        const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.imageToCad', unknown);
        assert.ok(outcome.ok && outcome.uri);
        const lost = api.previews.get(outcome.uri)!;
        await lost.setReference(step);
        await sceneWhere(lost, 'an FDA IoU', (s) => iouOf(s) > 0.6 && iouOf(s) < 0.75);
        const refused = await vscode.commands.executeCommand<CommandOutcome>('gift.flagFda', outcome.uri);
        assert.equal(refused.ok, false);
        assert.match(
          !refused.ok ? refused.message : '',
          /FDA pairs this program's render with the ground truth's CadQuery \*code\*, and .+\.step has none \(a STEP or mesh holds only geometry\), nor does the dataset know this image/,
        );
        lost.panel.dispose();
      } finally {
        registration.dispose();
        await config.update('backend', undefined, vscode.ConfigurationTarget.Global);
        await config.update('iou.protocol', undefined, vscode.ConfigurationTarget.Workspace);
        await vscode.workspace.saveAll(false);
        await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      }
    });

    test('Export Dataset writes the chosen collections', async () => {
      const out = workspaceFile('exports', 'chat');
      const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.dataset.export', { format: 'chat', collections: ['sft', 'srs'], out });
      assert.ok(outcome.ok, JSON.stringify(outcome));
      const exported = fs.readFileSync(path.join(out.fsPath, 'chat.jsonl'), 'utf8').trim().split('\n');
      const expected = (await ds.list('sft')).records.length + (await ds.list('srs')).records.length;
      assert.equal(exported.length, expected);
      const first = JSON.parse(exported[0]);
      assert.ok(fs.existsSync(path.join(out.fsPath, first.image)));
    });

    test('Run Bootstrap: says so without a usable backend; with one, adds verified samples', async () => {
      const config = vscode.workspace.getConfiguration('gift');
      await config.update('backend', 'no-such-backend', vscode.ConfigurationTarget.Global);
      const none = await vscode.commands.executeCommand<CommandOutcome>('gift.dataset.bootstrap', { limit: 1 });
      assert.equal(none.ok, false);
      assert.match(!none.ok ? none.message : '', /gift\.backend is 'no-such-backend', but no such model backend is installed/);
      await config.update('backend', 'scaled-extrude', vscode.ConfigurationTarget.Global);

      const sft = (await ds.list('sft')).records;
      const registration = api.registerImageToCadBackend({
        name: 'scaled-extrude',
        async sample(image) {
          const base = sft.find((r) => fs.readFileSync(ds.imagePath(r)).equals(image))!;
          return [0.95, 0.7].map((f) => ({ code: base.code.replace(/extrude\(([-\d.e]+)\)/, (_, v) => `extrude(${Number(v) * f})`) }));
        },
      });
      await vscode.workspace.getConfiguration('gift').update('iou.protocol', 'raw', vscode.ConfigurationTarget.Workspace);
      try {
        const before = { srs: (await ds.list('srs')).records.length, fda: (await ds.list('fda')).records.length };
        const outcome = await vscode.commands.executeCommand<CommandOutcome>('gift.dataset.bootstrap', { limit: 1, samples: 2 });
        assert.ok(outcome.ok, JSON.stringify(outcome));
        assert.match(outcome.detail ?? '', /1 sample\(s\) processed.*SRS \+1, FDA \+1/);
        assert.equal((await ds.list('srs')).records.length, before.srs + 1);
        assert.equal((await ds.list('fda')).records.length, before.fda + 1);
      } finally {
        registration.dispose();
        await config.update('backend', undefined, vscode.ConfigurationTarget.Global);
      }
    });

    test('Create Dataset, Import and Close through the commands', async () => {
      const fresh = workspaceFile('datasets', 'created');
      const created = await vscode.commands.executeCommand<CommandOutcome>('gift.dataset.create', fresh);
      assert.ok(created.ok, JSON.stringify(created));
      assert.deepEqual(
        (await api.datasetTree.getChildren()).map((n) => n.kind === 'collection' && `${n.name} ${n.count}`),
        ['sft 0', 'srs 0', 'fda 0'],
      );
      const imported = await vscode.commands.executeCommand<CommandOutcome>('gift.dataset.import', workspaceFile('gencad-four'));
      assert.ok(imported.ok, JSON.stringify(imported));
      assert.match(imported.detail ?? '', /^4 imported, 0 already present$/);
      const again = await vscode.commands.executeCommand<CommandOutcome>('gift.dataset.import', workspaceFile('gencad-four'));
      assert.match(again.ok ? (again.detail ?? '') : '', /^0 imported, 4 already present$/);
      await vscode.commands.executeCommand('gift.dataset.close');
      assert.equal(api.dataset.current, undefined);
      assert.deepEqual(await api.datasetTree.getChildren(), [], 'no dataset: the view shows its welcome content');
    });
  });
}
