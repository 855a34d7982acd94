// The packaged extension works: builds the VSIX with vsce (the .vscodeignore allowlist), checks its
// size and contents, installs it into code-server like a user would (--install-extension), then in
// headless Chromium opens a test100 program, runs "GIFT: Open CAD Preview" and waits for the mesh;
// last, reads VS Code's own activation time of the installed extension from "Developer: Show
// Running Extensions". Prints one JSON line `[vsix] result {...}` (bench/preview.ts reads it).
// usage: node test/vscode/vsix.js <workspaceFolder> [existing.vsix]
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ROOT, CODE_SERVER_DIR, startCodeServer, workbenchUrl, openBrowser, paletteFor } = require('./launch');

const folder = path.resolve(process.argv[2] || path.join(ROOT, '.test-work', 'vscode-workspace'));
const PROGRAM = process.env.E2E_PROGRAM || 'plate_71404.py';
const MAX_VSIX_BYTES = 60 * 1024 * 1024;
// What the extension loads from its install folder; the VSIX must hold these and no sources.
const REQUIRED = [
  'extension/package.json',
  'extension/dist/extension.js',
  'extension/dist/kernel-worker.js',
  'extension/dist/cadquery-engine.py',
  'extension/dist/webview/main.js',
  'extension/dist/webview/main.css',
  'extension/models/smoke/model.onnx',
  'extension/models/smoke/model.json',
  'extension/node_modules/replicad-opencascadejs/dist/replicad_single.wasm',
  'extension/node_modules/sharp/package.json',
  'extension/node_modules/onnxruntime-node/package.json',
];
const FORBIDDEN =
  /^extension\/(src|test|bench|webview|scripts|docs)\/|^extension\/dist\/.*\.map$|^extension\/dist\/cli\.js$|^extension\/node_modules\/(typescript|esbuild|three|replicad|playwright-core|@vscode)\//;

function sh(command, args, options = {}) {
  const r = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${(r.stderr || r.stdout).slice(-3000)}`);
  return r.stdout;
}

(async () => {
  const t0 = Date.now();
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-vsix-'));
  let vsix = process.argv[3] && path.resolve(process.argv[3]);
  if (!vsix) {
    vsix = path.join(scratch, 'gift-cad.vsix');
    sh(process.execPath, [
      require.resolve('@vscode/vsce/vsce'),
      'package',
      '--allow-missing-repository',
      '--skip-license',
      '--no-rewrite-relative-links',
      '-o',
      vsix,
    ]);
  }
  const bytes = fs.statSync(vsix).size;
  const entries = sh('unzip', ['-Z1', vsix]).trim().split('\n');
  const missing = REQUIRED.filter((f) => !entries.includes(f));
  const forbidden = entries.filter((f) => FORBIDDEN.test(f));
  const byTop = {};
  for (const e of entries) {
    const m = /^extension\/(node_modules\/(@[^/]+\/)?[^/]+|[^/]+)/.exec(e);
    if (m) byTop[m[1]] = (byTop[m[1]] ?? 0) + 1;
  }
  console.log(`[vsix] ${path.basename(vsix)}: ${(bytes / 2 ** 20).toFixed(2)} MiB, ${entries.length} files after ${elapsed()}`);
  console.log(`[vsix] files per folder: ${JSON.stringify(byTop)}`);
  const problems = [];
  if (bytes > MAX_VSIX_BYTES) problems.push(`the VSIX is ${(bytes / 2 ** 20).toFixed(1)} MiB, over the 60 MiB budget`);
  if (missing.length) problems.push(`the VSIX lacks ${missing.join(', ')}`);
  if (forbidden.length) problems.push(`the VSIX holds files it should not: ${forbidden.slice(0, 10).join(', ')}`);

  const userDataDir = path.join(scratch, 'user-data');
  const extensionsDir = path.join(scratch, 'extensions');
  sh(path.join(CODE_SERVER_DIR, 'node_modules', '.bin', 'code-server'), [
    '--install-extension',
    vsix,
    '--extensions-dir',
    extensionsDir,
    '--user-data-dir',
    userDataDir,
  ]);
  const installed = fs.readdirSync(extensionsDir).filter((d) => d.startsWith('gift-cad.gift-cad'));
  if (installed.length !== 1) throw new Error(`code-server did not install the VSIX into ${extensionsDir}: ${fs.readdirSync(extensionsDir).join(', ')}`);
  console.log(`[vsix] installed ${installed[0]} after ${elapsed()}`);

  const server = await startCodeServer({ userDataDir, extensionsDir, settings: { 'editor.minimap.enabled': false } });
  const browser = await openBrowser();
  const { page } = browser;
  const result = { vsixBytes: bytes, files: entries.length, byFolder: byTop };
  let failed = false;
  try {
    // No development payload: the workbench runs the installed extension only.
    await page.goto(workbenchUrl(server.port, folder));
    await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 60000 });
    const palette = paletteFor(page);
    await palette('', PROGRAM);
    await page.locator('.monaco-editor .view-lines', { hasText: 'cadquery' }).first().waitFor({ timeout: 20000 });
    await palette('>', 'GIFT: Open CAD Preview');
    const inner = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    await inner.locator('#metric-volume').filter({ hasNotText: '—' }).waitFor({ timeout: 90000 });
    result.volume = await inner.locator('#metric-volume').innerText();
    console.log(`[vsix] the installed extension previews ${PROGRAM}: volume ${result.volume} after ${elapsed()}`);

    // VS Code's own numbers: code loading + activate() of the installed extension.
    await palette('>', 'Developer: Show Running Extensions');
    const row = page.locator('.runtime-extensions-editor .monaco-list-row', { hasText: 'GIFT CAD' }).first();
    await row.waitFor({ timeout: 20000 });
    const text = (await row.innerText()).replace(/\s+/g, ' ');
    const activation = /activation:?\s*(\d+)\s*ms/i.exec(text);
    result.activationMs = activation ? Number(activation[1]) : null;
    console.log(`[vsix] running extensions row: "${text.slice(0, 200)}"`);
    if (result.activationMs === null) problems.push('no activation time for GIFT CAD in Show Running Extensions');
  } catch (e) {
    failed = true;
    console.error('[vsix] FAILED', e);
    await page.screenshot({ path: path.join(ROOT, '.test-work', 'vsix-failure.png') }).catch(() => {});
  } finally {
    await browser.close();
    server.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  console.log(`[vsix] result ${JSON.stringify(result)}`);
  if (problems.length) console.error(`[vsix] problems:\n  ${problems.join('\n  ')}`);
  process.exit(failed || problems.length ? 1 : 0);
})().catch((e) => {
  console.error('[vsix] error', e);
  process.exit(2);
});
