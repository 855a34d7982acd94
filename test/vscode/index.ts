// Loaded by VS Code's extension host as extensionTestsPath (bundled to .test-work/vscode-tests/index.js).
import * as path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  // Mocha must be 11: 12 fails inside VS Code 1.100's extension host.
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 90_000, reporter: 'spec' });
  // GIFT_TEST_GREP=<title substring> runs only matching tests (the extension host inherits the env).
  if (process.env.GIFT_TEST_GREP) mocha.grep(process.env.GIFT_TEST_GREP);
  mocha.addFile(path.join(__dirname, 'extension.test.js'));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} VS Code test(s) failed`)) : resolve()));
  });
}
