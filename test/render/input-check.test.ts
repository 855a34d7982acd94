/**
 * The input check (render/input-check.ts): no warning on any of the 100 real test100 renders; a
 * warning for a photo, colour noise, grey noise and a render pasted on a dark background; and
 * `gift generate --json` carries it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { decodeImage } from '../../src/core/render/image';
import { inputStatistics, inputWarning } from '../../src/core/render/input-check';
import { TEST100_DIR } from '../helpers/test100';

const root = path.join(__dirname, '..', '..');
const photo = path.join(root, 'test', 'fixtures', 'photos', 'grace_hopper.jpg');

async function warningFor(bytes: Uint8Array, name: string): Promise<string | undefined> {
  return inputWarning(inputStatistics(await decodeImage(bytes, { name })), name);
}

function noise(channels: 1 | 3, seed: number): Promise<Buffer> {
  const data = Buffer.alloc(256 * 256 * channels);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return sharp(data, { raw: { width: 256, height: 256, channels } })
    .png()
    .toBuffer();
}

test('no warning on any of the 100 test100 renders', async () => {
  const dir = path.join(TEST100_DIR, 'images');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.png'));
  assert.equal(files.length, 100);
  const warned: string[] = [];
  for (const f of files) if (await warningFor(fs.readFileSync(path.join(dir, f)), f)) warned.push(f);
  assert.deepEqual(warned, [], 'false alarms on real renders');
});

test('a photo, colour and grey noise, and a render on a dark background are warned about, saying why', async () => {
  assert.match(
    (await warningFor(fs.readFileSync(photo), 'grace_hopper.jpg'))!,
    /^grace_hopper\.jpg does not look like a render of a part: its background is not plain white .*shades, like a photo/,
  );
  assert.match((await warningFor(await noise(3, 1), 'noise.png'))!, /busy or noisy/);
  assert.match((await warningFor(await noise(1, 2), 'grey.png'))!, /busy or noisy/);
  const render = fs.readFileSync(path.join(TEST100_DIR, 'images', '00442545_0.png'));
  const dark = await sharp(render)
    .flatten({ background: '#404040' })
    .extend({ top: 40, bottom: 40, left: 40, right: 40, background: '#404040' })
    .png()
    .toBuffer();
  assert.match((await warningFor(dark, 'dark.png'))!, /background is not plain white/);
  assert.match((await warningFor(dark, 'dark.png'))!, /try a plain render of one part on a white background/);
});

test('gift generate --json carries the warning (photo), and none for a render', { timeout: 120_000 }, async () => {
  const run = (image: string) =>
    new Promise<{ warning?: string; ok: boolean }>((resolve, reject) =>
      execFile(process.execPath, [path.join(root, 'bin', 'gift.js'), 'generate', image, '--samples', '1', '--json'], { cwd: root }, (error, stdout) => {
        try {
          resolve(JSON.parse(stdout));
        } catch {
          reject(error ?? new Error(stdout));
        }
      }),
    );
  const onPhoto = await run(photo);
  assert.match(onPhoto.warning ?? '', /does not look like a render of a part/);
  const noiseFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gift-noise-')), 'noise.png');
  fs.writeFileSync(noiseFile, await noise(3, 7));
  assert.match((await run(noiseFile)).warning ?? '', /busy or noisy/);
  const onRender = await run(path.join(TEST100_DIR, 'images', '00442545_0.png'));
  assert.equal(onRender.warning, undefined);
  assert.equal(onRender.ok, true);
});
