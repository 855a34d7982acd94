// E2E in a real VS Code: drives code-server's workbench in headless Chromium like a person would.
// Opens a test100 program, runs "GIFT: Open CAD Preview" from the command palette, waits for the
// mesh in the webview and saves a screenshot (default .test-work/preview.png). Then opens the GIFT
// side panel on a small dataset (built here with the `gift` CLI in <workspace>/.gift-dataset, the
// default folder the panel opens by itself), opens an SRS sample from it and screenshots the panel,
// the sample's code and its preview with the IoU against the ground truth (dataset.png beside it).
// Last, Image to CAD from the Explorer's context menu on a test100 image, with its STEP set as the
// reference the same way (image-to-cad.png).
// usage: node test/vscode/e2e.js <workspaceFolder> [screenshot.png]
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ROOT, startCodeServer, workbenchUrl, openBrowser, paletteFor } = require('./launch');

const folder = path.resolve(process.argv[2] || path.join(ROOT, '.test-work', 'vscode-workspace'));
const screenshot = path.resolve(process.argv[3] || path.join(ROOT, '.test-work', 'preview.png'));
const PROGRAM = process.env.E2E_PROGRAM || 'plate_71404.py';
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'gencad-test100');
const GIFT = path.join(ROOT, 'bin', 'gift.js');
// Single-extrude prisms: the extrude scaled by f has raw IoU f against the original, exactly.
const SRS = [
  ['00675497', 0.95],
  ['00694405', 0.92],
];
const FDA = [['00507123', 0.7]];
const SFT = ['00675497', '00694405', '00507123', '00248776', '00442545', '00827834'];

// The right-click Image to CAD flow: a test100 render and the STEP it was rendered from.
const IMAGE = process.env.E2E_IMAGE || '00442545_0.png';
const REFERENCE = IMAGE.replace(/_0\.png$/, '.step');

/** Fraction of a canvas screenshot that is the (blue-grey, lit) part, not the grey background. */
function canvasCoverage(png) {
  const { PNG } = require('pngjs');
  const { data, width, height } = PNG.sync.read(png);
  let coloured = 0;
  for (let i = 0; i < data.length; i += 4) {
    const r = data[i],
      g = data[i + 1],
      b = data[i + 2];
    if (Math.max(r, g, b) - Math.min(r, g, b) > 24) coloured++;
  }
  return coloured / (width * height);
}

const scaledExtrude = (code, f) => code.replace(/extrude\(([-\d.e]+)\)/, (_, d) => `extrude(${Number(d) * f})`);

/**
 * <workspace>/.gift-dataset from test100 pairs plus SRS/FDA samples, through the CLI like a user
 * would (an imagefolder import keeping each row's collection). The FDA image is the near miss
 * rendered in the dataset's style; that render runs in the background while VS Code starts.
 */
function startDatasetBuild(workspace) {
  const dataset = path.join(workspace, '.gift-dataset');
  fs.rmSync(dataset, { recursive: true, force: true });
  const src = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-e2e-imagefolder-'));
  const samples = Object.fromEntries(
    fs
      .readFileSync(path.join(FIXTURES, 'samples.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .map((s) => [s.image.replace(/_0\.png$/, ''), s]),
  );
  const rows = [];
  for (const id of SFT) {
    fs.copyFileSync(path.join(FIXTURES, 'images', samples[id].image), path.join(src, `${id}.png`));
    rows.push({ file_name: `${id}.png`, code: samples[id].ground_truth, id, collection: 'sft' });
  }
  for (const [id, f] of SRS) {
    rows.push({
      file_name: `${id}.png`,
      code: scaledExtrude(samples[id].ground_truth, f),
      id: `${id}-srs-0`,
      collection: 'srs',
      source: id,
      iou: f,
      protocol: 'raw',
      model: 'e2e-scaled-extrude',
    });
  }
  const renders = FDA.map(([id, f]) => {
    const program = path.join(src, `${id}-fda-0.py`);
    fs.writeFileSync(program, scaledExtrude(samples[id].ground_truth, f));
    rows.push({
      file_name: `${id}-fda-0.png`,
      code: samples[id].ground_truth,
      id: `${id}-fda-0`,
      collection: 'fda',
      source: id,
      iou: f,
      protocol: 'raw',
      model: 'e2e-scaled-extrude',
    });
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [GIFT, 'render', program, '--out', path.join(src, `${id}-fda-0.png`)], { stdio: 'inherit' });
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`gift render exited with ${code}`))));
    });
  });
  fs.writeFileSync(path.join(src, 'metadata.jsonl'), `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return Promise.all(renders).then(() => {
    const r = spawnSync(process.execPath, [GIFT, 'dataset', 'import', src, '--out', dataset, '--keep-collections', '--name', 'e2e-test100'], {
      encoding: 'utf8',
    });
    fs.rmSync(src, { recursive: true, force: true });
    if (r.status !== 0) throw new Error(`gift dataset import failed: ${r.stderr || r.stdout}`);
    return dataset;
  });
}

(async () => {
  const t0 = Date.now();
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-e2e-ud-'));
  const workspaceSettings = path.join(folder, '.vscode', 'settings.json');
  const datasetBuilt = startDatasetBuild(folder);
  datasetBuilt.catch(() => {}); // awaited (and reported) before the side panel is used
  const server = await startCodeServer({
    userDataDir,
    extensionsDir: path.join(userDataDir, 'extensions'),
    // The dataset's samples were verified under raw IoU: show the same protocol in the preview.
    // Long generated lines wrap, so the screenshots show the program from its first column.
    settings: { 'editor.minimap.enabled': false, 'editor.wordWrap': 'on', 'gift.iou.protocol': 'raw', 'files.exclude': { '**/.vscode': true } },
  });
  const browser = await openBrowser({ viewport: { width: 1500, height: 860 } });
  const { page } = browser;
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text().slice(0, 300));
  });
  let failed = false;
  try {
    await page.goto(workbenchUrl(server.port, folder, { extensionDevelopmentPaths: [ROOT] }));
    await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 60000 });
    console.log(`[e2e] workbench visible after ${elapsed()}`);

    const palette = paletteFor(page, (m) => console.log(`[e2e] ${m}`));

    await palette('>', 'View: Close Primary Side Bar');
    // With a development payload the workbench pins Light+ and ignores workbench.colorTheme, so pick
    // the theme like a user (Ctrl+K Ctrl+T). E2E_THEME=none keeps Light+.
    const theme = process.env.E2E_THEME || 'Dark Modern';
    if (theme !== 'none') {
      await page.waitForFunction(() => /\bvscode-theme-/.test(document.querySelector('.monaco-workbench')?.className ?? ''), null, { timeout: 30000 });
      await page.keyboard.press('Control+K');
      await page.keyboard.press('Control+T');
      const input = page.locator('.quick-input-widget input.input');
      await input.waitFor({ state: 'visible', timeout: 10000 });
      await input.fill(theme);
      await page.locator('.quick-input-list .monaco-list-row', { hasText: theme }).first().waitFor({ timeout: 10000 });
      await page.keyboard.press('Enter');
      console.log(`[e2e] theme ${theme} after ${elapsed()}`);
    }
    await palette('', PROGRAM);
    await page.locator('.monaco-editor .view-lines', { hasText: 'cadquery' }).first().waitFor({ timeout: 20000 });
    console.log(`[e2e] ${PROGRAM} open after ${elapsed()}`);
    await palette('>', 'GIFT: Open CAD Preview');
    // Webviews are nested iframes: iframe.webview > iframe#active-frame.
    const inner = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    await inner.locator('canvas.viewport-canvas').waitFor({ timeout: 30000 });
    await inner.locator('#metric-volume').filter({ hasNotText: '—' }).waitFor({ timeout: 60000 });
    console.log(
      `[e2e] mesh shown after ${elapsed()}: volume ${await inner.locator('#metric-volume').innerText()}, size ${await inner.locator('#metric-bbox').innerText()}`,
    );
    // Show the toolbar's toggles working: B-rep edges on (default), then let the frame settle.
    await page.keyboard.press('Escape');
    await page.waitForTimeout(1500);
    fs.mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot });
    console.log(`[e2e] screenshot ${path.relative(ROOT, screenshot)} after ${elapsed()}`);

    // Clicks inside the webview: the clipping plane (third screenshot), then back.
    await inner.locator('#toggle-clip').click();
    await inner.locator('#clip-position').fill('550');
    await page.waitForTimeout(800);
    const clipShot = screenshot.replace(/\.png$/, '-clip.png');
    await page.screenshot({ path: clipShot });
    await inner.locator('#toggle-clip').click();
    console.log(`[e2e] clipping plane screenshot ${path.relative(ROOT, clipShot)} after ${elapsed()}`);

    // A broken line: the banner appears over the last good shape (second screenshot).
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('solid = solid.cut(undefined_name)');
    // Runs may fire mid-typing (150 ms debounce); wait for the banner about the whole name.
    await inner.locator('#banner:not([hidden]) .banner-text', { hasText: 'undefined_name' }).waitFor({ timeout: 30000 });
    await page.waitForTimeout(800);
    const errorShot = screenshot.replace(/\.png$/, '-error.png');
    await page.screenshot({ path: errorShot });
    console.log(
      `[e2e] banner "${(await inner.locator('#banner .banner-text').innerText()).slice(0, 80)}…"; screenshot ${path.relative(ROOT, errorShot)} after ${elapsed()}`,
    );

    // The GIFT side panel on the dataset, and an SRS sample opened from it (fourth screenshot).
    console.log(`[e2e] dataset ${path.relative(ROOT, await datasetBuilt)} built after ${elapsed()}`);
    await palette('>', 'File: Revert File');
    await palette('>', 'View: Close All Editors');
    await palette('>', 'View: Show GIFT');
    const tree = page.locator('#workbench\\.parts\\.sidebar');
    const row = (label) => tree.locator(`.monaco-list-row[aria-label^="${label}"], .monaco-list-row:has(.label-name:text-is("${label}"))`).first();
    for (const collection of ['sft', 'srs', 'fda']) {
      await row(collection).waitFor({ timeout: 30000 });
      await row(collection).click();
    }
    const sample = row(`${SRS[0][0]}-srs-0`);
    await sample.waitFor({ timeout: 10000 });
    await sample.click();
    const samplePreview = page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('iframe#active-frame');
    await samplePreview
      .locator('#metric-iou')
      .filter({ hasText: /^\d\.\d{4}$/ })
      .waitFor({ timeout: 60000 });
    await page.waitForTimeout(1200);
    const datasetShot = path.join(path.dirname(screenshot), 'dataset.png');
    await page.screenshot({ path: datasetShot });
    const shown = {};
    for (const id of ['metric-iou', 'metric-chamfer', 'metric-protocol', 'metric-bucket'])
      shown[id.slice(7)] = await samplePreview.locator(`#${id}`).innerText();
    console.log(
      `[e2e] dataset panel and sample ${SRS[0][0]}-srs-0: ${JSON.stringify(shown)}; screenshot ${path.relative(ROOT, datasetShot)} after ${elapsed()}`,
    );
    if (shown.iou !== SRS[0][1].toFixed(4) || shown.bucket !== 'SRS')
      throw new Error(`expected raw IoU ${SRS[0][1]} in SRS, the preview shows ${JSON.stringify(shown)}`);

    // Image to CAD like a person: right-click a test100 image in the Explorer, pick "Image to CAD"
    // (the default onnx backend with the bundled model), then right-click the part's ground-truth
    // STEP and pick "Set Reference…"; the preview shows the part, the source image and the IoU.
    // The dataset's raw protocol is for its scaled-extrude samples; a generated part is compared
    // the default way (aligned): a workspace setting says so, typed into the workspace settings
    // like a user would (code-server does not re-read a settings file changed behind its back).
    await palette('>', 'View: Close All Editors');
    await palette('>', 'Preferences: Open Workspace Settings (JSON)');
    const settingsEditor = page.locator('.monaco-editor', { has: page.locator('.view-lines') }).first();
    await settingsEditor.waitFor({ timeout: 20000 });
    await settingsEditor.locator('.view-lines', { hasText: '{' }).waitFor({ timeout: 10000 });
    await settingsEditor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText('{ "gift.iou.protocol": "aligned" }\n');
    await page.keyboard.press('Control+S');
    await page.waitForTimeout(500);
    await palette('>', 'View: Close All Editors');
    // Wide enough that the preview beside the code shows the source image beside the 3D view.
    await page.setViewportSize({ width: 1720, height: 900 });
    await palette('>', 'View: Show Explorer');
    const explorer = page.locator('.explorer-folders-view');
    const explorerRow = (name) =>
      explorer.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${name.replace(/\./g, '\\.')}$`) }) }).first();
    const contextMenu = async (name, item) => {
      await explorerRow(name).click({ button: 'right' });
      const entry = page.getByRole('menuitem', { name: item, exact: true });
      await entry.waitFor({ timeout: 10000 });
      // A click right after the menu opens can be swallowed: hover first, and fall back to Enter.
      await entry.hover();
      await page.waitForTimeout(300);
      await entry.click();
      if (await entry.isVisible().catch(() => false)) {
        await page.waitForTimeout(500);
        if (await entry.isVisible().catch(() => false)) await page.keyboard.press('Enter');
      }
    };
    await explorerRow('parts').waitFor({ timeout: 30000 });
    if ((await explorerRow('parts').getAttribute('aria-expanded')) !== 'true') await explorerRow('parts').click();
    await explorerRow(IMAGE).waitFor({ timeout: 10000 });
    await contextMenu(IMAGE, 'Image to CAD');
    console.log(`[e2e] right-click ${IMAGE} → Image to CAD after ${elapsed()}`);
    const generated = page.locator('.monaco-editor .view-lines', { hasText: 'import cadquery as cq' }).first();
    await generated.waitFor({ timeout: 180000 });
    console.log(`[e2e] generated code in the editor after ${elapsed()}`);
    const imagePreview = page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('iframe#active-frame');
    await imagePreview.locator('#metric-volume').filter({ hasNotText: '—' }).waitFor({ timeout: 60000 });
    await imagePreview.locator('#image-pane:not([hidden]) img').first().waitFor({ timeout: 10000 });
    await contextMenu(REFERENCE, 'Set Reference…');
    await imagePreview.locator('#metric-reference', { hasText: REFERENCE }).waitFor({ timeout: 30000 });
    await imagePreview
      .locator('#metric-iou')
      .filter({ hasText: /^\d\.\d{4}$/ })
      .waitFor({ timeout: 90000 });
    await imagePreview.locator('#view-fit').click(); // frame the part and the reference overlay
    await page.waitForTimeout(1500);
    const imageShot = path.join(path.dirname(screenshot), 'image-to-cad.png');
    await page.screenshot({ path: imageShot });
    const metrics = {};
    for (const id of ['metric-iou', 'metric-chamfer', 'metric-protocol', 'metric-bucket', 'metric-volume', 'metric-reference'])
      metrics[id.slice(7)] = await imagePreview.locator(`#${id}`).innerText();
    const canvas = await canvasCoverage(await imagePreview.locator('canvas.viewport-canvas').screenshot());
    console.log(
      `[e2e] Image to CAD ${IMAGE} against ${REFERENCE}: ${JSON.stringify(metrics)}; canvas ${(canvas * 100).toFixed(1)}% part pixels; screenshot ${path.relative(ROOT, imageShot)} after ${elapsed()}`,
    );
    if (canvas < 0.01) throw new Error(`the preview canvas shows no part (${(canvas * 100).toFixed(2)}% coloured pixels)`);
    if (metrics.protocol !== 'aligned' || !(Number(metrics.iou) > 0 && Number(metrics.iou) <= 1))
      throw new Error(`expected an aligned IoU in (0, 1], the preview shows ${JSON.stringify(metrics)}`);

    // The generated program is a real file beside the image: edit it, save it, edit again — the
    // preview follows every step (image-to-cad-saved.png shows the file in the Explorer and its tab).
    const programName = IMAGE.replace(/\.[^.]+$/, '.py');
    await explorerRow(programName).waitFor({ timeout: 10000 });
    const tab = page.locator('.tab', { hasText: programName }).first();
    await tab.waitFor({ timeout: 10000 });
    const volume = async () => imagePreview.locator('#metric-volume').innerText();
    const before = await volume();
    await generated.click();
    await page.keyboard.press('Control+End');
    await page.keyboard.insertText('\nsolid = solid.union(cq.Workplane("XY").box(0.1, 0.1, 0.1).translate((0, 0, -0.3)))\n');
    await imagePreview.locator('#metric-volume').filter({ hasNotText: before }).waitFor({ timeout: 60000 });
    await page.keyboard.press('Control+S');
    await page.waitForTimeout(800);
    if (
      await tab
        .locator('.dirty-indicator, .codicon-circle-filled')
        .first()
        .isVisible()
        .catch(() => false)
    )
      throw new Error(`${programName} is still unsaved after Ctrl+S`);
    const saved = await volume();
    // After the save, one more edit still reaches the preview (its tab focuses the editor again).
    await tab.click();
    await page.waitForTimeout(300);
    await page.keyboard.press('Control+End');
    await page.keyboard.insertText('solid = solid.union(cq.Workplane("XY").box(0.05, 0.05, 0.05).translate((0.2, 0, -0.3)))\n');
    await imagePreview.locator('#metric-volume').filter({ hasNotText: saved }).waitFor({ timeout: 60000 });
    const after = await volume();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('Control+S');
    await page.waitForTimeout(1000);
    const savedShot = path.join(path.dirname(screenshot), 'image-to-cad-saved.png');
    await page.screenshot({ path: savedShot });
    console.log(
      `[e2e] ${programName} beside ${IMAGE}: edited (volume ${before} → ${saved}), saved, edited again (→ ${after}), preview live; screenshot ${path.relative(ROOT, savedShot)} after ${elapsed()}`,
    );

    const webviewErrors = errors.filter((e) => !/favicon|Failed to load resource.*404/.test(e));
    if (webviewErrors.length) console.log(`[e2e] browser console errors:\n  ${webviewErrors.slice(0, 10).join('\n  ')}`);
  } catch (e) {
    failed = true;
    console.error('[e2e] FAILED', e);
    await page.screenshot({ path: screenshot.replace(/\.png$/, '-failure.png') }).catch(() => {});
    if (errors.length) console.log(`[e2e] browser console errors:\n  ${errors.slice(0, 15).join('\n  ')}`);
  } finally {
    await browser.close();
    server.stop();
    fs.rmSync(userDataDir, { recursive: true, force: true });
    fs.rmSync(workspaceSettings, { force: true });
  }
  process.exit(failed ? 1 : 0);
})().catch((e) => {
  console.error('[e2e] error', e);
  process.exit(2);
});
