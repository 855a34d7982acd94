// E2E in a real VS Code: drives code-server's workbench in headless Chromium like a person would.
// Opens a test100 program, runs "GIFT: Open CAD Preview" from the command palette, waits for the
// mesh in the webview and saves a screenshot (default .test-work/preview.png).
// usage: node test/vscode/e2e.js <workspaceFolder> [screenshot.png]
const fs = require('fs');
const os = require('os');
const path = require('path');
const { ROOT, startCodeServer, workbenchUrl, openBrowser } = require('./launch');

const folder = path.resolve(process.argv[2] || path.join(ROOT, '.test-work', 'vscode-workspace'));
const screenshot = path.resolve(process.argv[3] || path.join(ROOT, '.test-work', 'preview.png'));
const PROGRAM = process.env.E2E_PROGRAM || 'plate_71404.py';

(async () => {
  const t0 = Date.now();
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-e2e-ud-'));
  const server = await startCodeServer({
    userDataDir,
    extensionsDir: path.join(userDataDir, 'extensions'),
    settings: { 'editor.minimap.enabled': false },
  });
  const browser = await openBrowser({ viewport: { width: 1500, height: 860 } });
  const { page } = browser;
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text().slice(0, 300)); });
  let failed = false;
  try {
    await page.goto(workbenchUrl(server.port, folder, { extensionDevelopmentPaths: [ROOT] }));
    await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 60000 });
    console.log(`[e2e] workbench visible after ${elapsed()}`);

    const palette = async (prefix, text, rowText = text) => {
      for (let attempt = 1; ; attempt++) {
        try {
          await page.keyboard.press(prefix === '>' ? 'F1' : 'Control+P');
          const input = page.locator('.quick-input-widget input.input');
          await input.waitFor({ state: 'visible', timeout: 5000 });
          await input.fill(prefix + text, { timeout: 5000 });
          await page.locator('.quick-input-list .monaco-list-row', { hasText: rowText }).first().waitFor({ timeout: 10000 });
          await page.keyboard.press('Enter');
          return;
        } catch (e) {
          // The first tries can miss while the extension host and file index are still starting.
          if (attempt >= 6) throw e;
          console.log(`[e2e] palette retry ${attempt}: ${e.message.split('\n')[0]}`);
          await page.keyboard.press('Escape').catch(() => {});
          await page.waitForTimeout(1000);
        }
      }
    };

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
    console.log(`[e2e] mesh shown after ${elapsed()}: volume ${await inner.locator('#metric-volume').innerText()}, size ${await inner.locator('#metric-bbox').innerText()}`);
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
    console.log(`[e2e] banner "${(await inner.locator('.banner-text').innerText()).slice(0, 80)}…"; screenshot ${path.relative(ROOT, errorShot)} after ${elapsed()}`);
    const webviewErrors = errors.filter((e) => !/favicon|Failed to load resource.*404/.test(e));
    if (webviewErrors.length) console.log('[e2e] browser console errors:\n  ' + webviewErrors.slice(0, 10).join('\n  '));
  } catch (e) {
    failed = true;
    console.error('[e2e] FAILED', e);
    await page.screenshot({ path: screenshot.replace(/\.png$/, '-failure.png') }).catch(() => {});
    if (errors.length) console.log('[e2e] browser console errors:\n  ' + errors.slice(0, 15).join('\n  '));
  } finally {
    await browser.close();
    server.stop();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
})().catch((e) => { console.error('[e2e] error', e); process.exit(2); });
