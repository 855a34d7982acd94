#!/usr/bin/env node
// A stand-in "VS Code executable" for @vscode/test-electron's runTests({ vscodeExecutablePath }):
// @vscode/test-electron cannot download desktop VS Code here. This takes the arguments runTests
// passes to VS Code (--extensionDevelopmentPath=, --extensionTestsPath=, --user-data-dir=,
// --extensions-dir=, [folder]), starts code-server, opens its workbench in headless Chromium with
// the development payload, forwards the extension host's console to stdout and exits with the
// tests' exit code. env: TEST_TIMEOUT_MS (default 300000), SHIM_SCREENSHOT (png path, on exit).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startCodeServer, workbenchUrl, openBrowser } = require('./launch');

const argv = process.argv.slice(2);
const opt = (name) => argv.filter((a) => a.startsWith(`--${name}=`)).map((a) => a.slice(name.length + 3));
const devPaths = opt('extensionDevelopmentPath');
const testsPath = opt('extensionTestsPath')[0];
const userDataDir = opt('user-data-dir')[0] || fs.mkdtempSync(path.join(os.tmpdir(), 'gift-ud-'));
const extensionsDir = opt('extensions-dir')[0] || path.join(userDataDir, 'extensions');
const folder = path.resolve(argv.find((a) => !a.startsWith('-')) || fs.mkdtempSync(path.join(os.tmpdir(), 'gift-ws-')));

(async () => {
  const t0 = Date.now();
  const server = await startCodeServer({ userDataDir, extensionsDir });
  console.log(`[shim] code-server ready on :${server.port} after ${Date.now() - t0} ms`);
  const browser = await openBrowser();
  const done = new Promise((resolve) => {
    // The smoke-test driver reports the extension tests' console and exit code through these.
    void browser.page.exposeFunction('codeAutomationLog', (_type, args) => console.log(...args));
    void browser.page.exposeFunction('codeAutomationExit', (code) => resolve(code));
  });
  await browser.page.goto(workbenchUrl(server.port, folder, { extensionDevelopmentPaths: devPaths, extensionTestsPath: testsPath }));
  const limit = Number(process.env.TEST_TIMEOUT_MS || 300000);
  const code = await Promise.race([done, new Promise((r) => setTimeout(() => r('timeout'), limit))]);
  if (process.env.SHIM_SCREENSHOT) await browser.page.screenshot({ path: process.env.SHIM_SCREENSHOT }).catch(() => {});
  console.log(`[shim] extension tests exit code ${code} after ${Date.now() - t0} ms`);
  if (code !== 0) console.log(`[shim] code-server log tail:\n${server.log().slice(-3000)}`);
  await browser.close();
  server.stop();
  process.exit(code === 0 ? 0 : 1);
})().catch((e) => {
  console.error('[shim] error', e);
  process.exit(2);
});
