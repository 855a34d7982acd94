// Starts a real VS Code for tests: code-server (Coder's build of VS Code OSS: real workbench, real
// Node extension host) on a free loopback port, and headless Debian Chromium (playwright-core)
// showing its workbench. Used by code-shim.js (extension tests) and e2e.js (screenshots).
// scripts/setup-code-server.sh installs both.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const http = require('node:http');

const ROOT = path.resolve(__dirname, '..', '..');
const CODE_SERVER_DIR = process.env.CODE_SERVER_DIR || path.join(ROOT, '.test-work', 'code-server');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// SwiftShader gives WebGL without a GPU, so the three.js preview really renders.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--enable-unsafe-swiftshader',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
const healthy = (port) =>
  new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path: '/healthz' }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      })
      .on('error', () => resolve(false));
  });

/** Starts code-server; resolves once /healthz answers. Returns { port, stop(), log() }. */
async function startCodeServer({ userDataDir, extensionsDir, settings = {} }) {
  const bin = path.join(CODE_SERVER_DIR, 'node_modules', '.bin', 'code-server');
  if (!fs.existsSync(bin)) throw new Error(`code-server is not installed at ${CODE_SERVER_DIR}: run scripts/setup-code-server.sh`);
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'telemetry.telemetryLevel': 'off',
        'extensions.autoUpdate': false,
        'extensions.autoCheckUpdates': false,
        'workbench.enableExperiments': false,
        'update.mode': 'none',
        'security.workspace.trust.enabled': false,
        'workbench.tips.enabled': false,
        'chat.disableAIFeatures': true,
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'git.enabled': false,
        'git.openRepositoryInParentFolders': 'never',
        // The web workbench auto-saves by default; tests and e2e edits must not change the workspace files.
        'files.autoSave': 'off',
        ...settings,
      },
      null,
      1,
    ),
  );
  const port = await freePort();
  const cli = fs.readFileSync(path.join(CODE_SERVER_DIR, 'node_modules/code-server/out/node/cli.js'), 'utf8');
  const args = [
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
  ];
  // VS Code ≥ 1.10x honours a development payload in the web workbench only with the smoke-test driver on.
  if (cli.includes('"vscode-option"')) args.push('--vscode-option', 'enable-smoke-test-driver');
  const server = spawn(bin, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  let serverLog = '';
  server.stdout.on('data', (d) => (serverLog += d));
  server.stderr.on('data', (d) => (serverLog += d));
  const stop = () => {
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  };
  process.on('exit', stop);
  for (let i = 0; !(await healthy(port)); i++) {
    if (i > 600 || server.exitCode !== null) {
      stop();
      throw new Error(`code-server did not start:\n${serverLog}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, stop, log: () => serverLog };
}

/** The workbench URL for a folder, with an optional development payload (extension + tests). */
function workbenchUrl(port, folder, { extensionDevelopmentPaths = [], extensionTestsPath } = {}) {
  const auth = `127.0.0.1:${port}`;
  const remote = (p) => `vscode-remote://${auth}${path.resolve(p)}`;
  const payload = extensionDevelopmentPaths.map((p) => ['extensionDevelopmentPath', remote(p)]);
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  let url = `http://${auth}/?folder=${encodeURIComponent(path.resolve(folder))}`;
  if (payload.length) url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return url;
}

/** Headless Chromium with a fresh profile. Returns { context, page, close() }. */
async function openBrowser({ viewport = { width: 1400, height: 860 } } = {}) {
  const { chromium } = require(process.env.PLAYWRIGHT_CORE || 'playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-chrome-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
  });
  const page = context.pages()[0] || (await context.newPage());
  const close = async () => {
    await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, page, close };
}

/**
 * Runs a command-palette entry (prefix '>') or quick-open (prefix '') like a person: type, wait for
 * the row, Enter. The first tries can miss while the extension host and file index start: retry.
 */
function paletteFor(page, log = () => {}) {
  return async (prefix, text, rowText = text) => {
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
        if (attempt >= 6) throw e;
        log(`palette retry ${attempt}: ${e.message.split('\n')[0]}`);
        await page.keyboard.press('Escape').catch(() => {});
        await page.waitForTimeout(1000);
      }
    }
  };
}

module.exports = { ROOT, CODE_SERVER_DIR, startCodeServer, workbenchUrl, openBrowser, paletteFor };
