/// <reference types="mocha" />
// Numbers that say what they mean (issue #16, item 5): beside the protocol's IoU, which normalises
// size away, the preview shows the raw IoU after centring and the size ratio, and draws the ghost
// where the protocol compared it (or, with the raw-frame toggle, where it is).
// Registered by extension.test.ts; runs inside a real VS Code against the real kernel pool.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { CommandOutcome, GiftApi } from '../../src/extension/extension';
import type { PreviewPanel } from '../../src/extension/preview/panel';
import type { BoundingBox, SceneInfo } from '../../src/protocol/messages';

type Waiter = <T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs?: number) => Promise<T>;

/** A cylinder of radius r and height h standing on z = 0, then moved by `at`. */
const cylinder = (r: number, h: number, at: [number, number, number]) =>
  `import cadquery as cq\n\nresult = cq.Workplane("XY").circle(${r}).extrude(${h}).translate((${at.join(', ')}))\n`;

/** Each side of a and b within `tolerance` of the box's largest extent. */
function sameBox(a: BoundingBox | null, b: BoundingBox, tolerance = 0.01): boolean {
  if (!a) return false;
  const extent = Math.max(b[3] - b[0], b[4] - b[1], b[5] - b[2]);
  return a.every((v, i) => Math.abs(v - b[i]) <= tolerance * extent);
}

export function verifierSuite(getApi: () => GiftApi, workspaceFile: (...parts: string[]) => vscode.Uri, waitFor: Waiter): void {
  suite('The verifier in the preview: numbers that say what they mean', () => {
    let api: GiftApi;
    /** The first scene that passes `ok`; a timeout says what the last one showed. */
    const sceneWhere = async (preview: PreviewPanel, what: string, ok: (s: SceneInfo) => boolean) => {
      let last: SceneInfo | undefined;
      try {
        return await waitFor(what, async () => {
          last = await preview.sceneInfo();
          return ok(last) ? last : undefined;
        });
      } catch (e) {
        throw new Error(`${(e as Error).message}; last seen: ${JSON.stringify({ metrics: last?.metrics, overlay: last?.overlay, toggles: last?.toggles })}`);
      }
    };

    suiteSetup(async () => {
      api = getApi() ?? (await vscode.extensions.getExtension<GiftApi>('gift-cad.gift-cad')!.activate());
    });

    suiteTeardown(async () => {
      await vscode.workspace.saveAll(false);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    test('a cylinder against one twice its size: aligned-robust ≈ 1, centred IoU 1/8, size ×0.5; the ghost in the frame the IoU used, or raw', async () => {
      const folder = workspaceFile('scale');
      await vscode.workspace.fs.createDirectory(folder);
      const program = vscode.Uri.joinPath(folder, 'cylinder.py');
      const reference = vscode.Uri.joinPath(folder, 'cylinder-2x.py');
      // Radius 5, height 4 at the origin; the reference is the same cylinder scaled by 2 (radius 10,
      // height 8) and moved away, so only a normalising protocol can lay one on the other.
      await vscode.workspace.fs.writeFile(program, Buffer.from(cylinder(5, 4, [0, 0, 0])));
      await vscode.workspace.fs.writeFile(reference, Buffer.from(cylinder(10, 8, [30, -20, 5])));
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(program));
      const opened = await vscode.commands.executeCommand<CommandOutcome>('gift.openPreview');
      assert.ok(opened.ok, JSON.stringify(opened));
      const preview = api.previews.get(program);
      assert.ok(preview);
      await sceneWhere(preview, 'the cylinder', (s) => s.triangles > 0);
      const set = await vscode.commands.executeCommand<CommandOutcome>('gift.setReference', reference, program);
      assert.ok(set.ok, JSON.stringify(set));

      const scene = await sceneWhere(
        preview,
        'the IoU and the centred IoU',
        (s) => /^\d\.\d{4}$/.test(s.metrics.iou) && /^\d\.\d{4}$/.test(s.metrics.centredIou),
      );
      assert.equal(scene.metrics.protocol, 'aligned-robust');
      assert.ok(Number(scene.metrics.iou) > 0.99, `aligned-robust IoU ${scene.metrics.iou}`);
      // Centres of mass together, the small one lies inside the big one: (5² · 4) / (10² · 8) = 1/8.
      assert.equal(scene.metrics.centredIou, '0.1250');
      assert.equal(scene.metrics.sizeRatio, '×0.500');
      assert.equal(scene.metrics.iouError, null);
      const metrics = preview.currentMetrics;
      assert.ok(metrics.centredIou !== undefined && metrics.centredIou !== null && Math.abs(metrics.centredIou - 1 / 8) < 1e-6, String(metrics.centredIou));
      assert.ok(metrics.sizeRatio !== undefined && metrics.sizeRatio !== null && Math.abs(metrics.sizeRatio - 0.5) < 1e-9, String(metrics.sizeRatio));

      // The ghost is drawn in the frame the IoU used: scaled by ½ and laid on the program.
      const candidateBox: BoundingBox = [-5, -5, 0, 5, 5, 4];
      const placed = await sceneWhere(
        preview,
        'the ghost on the program',
        (s) => s.overlay?.frame === 'aligned-robust' && sameBox(s.overlay.box, candidateBox),
      );
      assert.equal(placed.toggles.rawFrame, false);
      // The raw-frame toggle puts it back where it is.
      await preview.command('setToggle', { toggle: 'rawFrame', on: true });
      const raw = await sceneWhere(preview, 'the ghost where it is', (s) => s.overlay?.frame === 'raw');
      assert.equal(raw.toggles.rawFrame, true);
      assert.ok(sameBox(raw.overlay!.box, [20, -30, 5, 40, -10, 13]), JSON.stringify(raw.overlay));
      await preview.command('setToggle', { toggle: 'rawFrame', on: false });
      const back = await sceneWhere(preview, 'the ghost placed again', (s) => s.overlay?.frame === 'aligned-robust');
      assert.ok(sameBox(back.overlay!.box, candidateBox), JSON.stringify(back.overlay));
      console.log(
        `    cylinder vs twice its size: IoU ${scene.metrics.iou} (aligned-robust), centred ${scene.metrics.centredIou}, size ${scene.metrics.sizeRatio}, ${metrics.ms} ms`,
      );
      preview.panel.dispose();
    });
  });
}
