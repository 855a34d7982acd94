/** Import test100 (GenCAD layout) and imagefolder; export imagefolder and chat JSONL; the CLI. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHAT_PROMPT, detectImportFormat, exportDataset, importIntoDataset, openDataset, scrubForExport } from '../../src/core/dataset';
import { loadTest100, TEST100_DIR } from '../helpers/test100';
import { datasetCommand } from '../../src/cli/commands/dataset';
import { UsageError } from '../../src/cli/args';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-dataset-io-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));
const samples = loadTest100();
const uniqueImages = new Set(samples.map((s) => fs.readFileSync(s.image).toString('base64'))).size;

/** Absolute paths of this machine that must never appear in an export. */
function assertNoLocalPaths(text: string): void {
  for (const p of [work, os.tmpdir(), os.homedir(), TEST100_DIR, process.cwd()]) {
    assert.ok(!text.includes(p), `export mentions the local path ${p}`);
  }
}

test('import test100: 100 sft records with their codes, images copied and deduplicated; re-import skips', async () => {
  const dir = path.join(work, 'test100');
  const ds = await openDataset(dir, { create: true });
  assert.deepEqual(await detectImportFormat(TEST100_DIR), { format: 'gencad', file: path.join(TEST100_DIR, 'samples.jsonl') });
  const started = performance.now();
  const report = await importIntoDataset(ds, path.join(TEST100_DIR, 'samples.jsonl'));
  const ms = performance.now() - started;
  assert.deepEqual(
    { imported: report.imported, skipped: report.skipped, total: report.total, warnings: report.warnings },
    { imported: 100, skipped: 0, total: 100, warnings: [] },
  );
  const { records, warnings } = await ds.list('sft');
  assert.deepEqual(warnings, []);
  assert.deepEqual(
    records.map((r) => [r.id, r.code]),
    samples.map((s) => [s.id, s.code]),
  );
  for (const [i, r] of records.entries()) {
    assert.deepEqual(fs.readFileSync(ds.imagePath(r)), fs.readFileSync(samples[i].image));
    assert.equal(r.source, null);
  }
  // test100 has identical renders of different parts: stored once each.
  assert.equal(fs.readdirSync(path.join(dir, 'images')).length, uniqueImages);
  assert.ok(uniqueImages < 100);

  const again = await importIntoDataset(ds, TEST100_DIR);
  assert.deepEqual([again.imported, again.skipped], [0, 100]);
  assert.equal((await ds.list('sft')).records.length, 100);
  console.log(`# imported test100 in ${ms.toFixed(0)} ms`);
});

test('bad import lines are reported with file:line; the rest is imported', async () => {
  const src = path.join(work, 'gencad-bad');
  fs.mkdirSync(path.join(src, 'images'), { recursive: true });
  fs.copyFileSync(samples[0].image, path.join(src, 'images', 'p1_0.png'));
  fs.copyFileSync(samples[1].image, path.join(src, 'p2.png')); // beside the JSONL also works
  const lines = [
    JSON.stringify({ image: 'p1_0.png', ground_truth: samples[0].code }),
    '{"image": "p2.png", "ground_truth": ',
    JSON.stringify({ image: 'missing_0.png', ground_truth: 'x' }),
    '',
    JSON.stringify({ image: 'p2.png' }),
    JSON.stringify({ image: 'p2.png', ground_truth: samples[1].code }),
    JSON.stringify({ image: 'p1_0.png', ground_truth: 'other' }),
  ];
  const file = path.join(src, 'train.jsonl');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  const ds = await openDataset(path.join(work, 'bad-import'), { create: true });
  const report = await importIntoDataset(ds, file);
  assert.equal(report.imported, 2);
  assert.deepEqual(
    report.warnings.map((w) => [w.file, w.line]),
    [
      [file, 2],
      [file, 3],
      [file, 5],
      [file, 7],
    ],
  );
  assert.match(report.warnings[0].message, /not valid JSON/);
  assert.match(report.warnings[1].message, /image 'missing_0.png' not found/);
  assert.match(report.warnings[2].message, /missing 'ground_truth'/);
  assert.match(report.warnings[3].message, /id 'p1' already used at line 1/);
  assert.deepEqual(
    (await ds.list('sft')).records.map((r) => r.id),
    ['p1', 'p2'],
  );
});

test('export imagefolder round-trips (same ids and codes), relative paths only, chosen collections', async () => {
  const ds = await openDataset(path.join(work, 'test100'));
  const [first, second] = (await ds.list('sft')).records;
  await ds.append({
    id: 'v1',
    collection: 'srs',
    image: first.image,
    code: `${first.code}# variant\n`,
    source: first.id,
    iou: 0.95,
    protocol: 'gift-v1',
    model: '/home/someone/models/gift-small.onnx',
  });
  await ds.append({
    id: 'v2',
    collection: 'fda',
    image: second.image,
    code: `${second.code}# off\n`,
    source: second.id,
    iou: 0.7,
    model: 'https://user:hf_abcdefghijklmnopqrstu@huggingface.co/org/model?token=secret',
  });

  const out = path.join(work, 'export-if');
  const report = await exportDataset(ds, { format: 'imagefolder', out, collections: ['sft', 'srs', 'fda'] });
  assert.deepEqual(report.byCollection, { sft: 100, srs: 1, fda: 1 });
  const text = fs.readFileSync(path.join(out, 'metadata.jsonl'), 'utf8');
  assertNoLocalPaths(text);
  assert.ok(!text.includes('hf_abc') && !text.includes('secret') && !text.includes('user:'));
  const rows = text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(rows.length, 102);
  for (const row of rows) {
    assert.ok(!path.isAbsolute(row.file_name) && !row.file_name.includes('/'));
    assert.ok(fs.existsSync(path.join(out, row.file_name)), row.file_name);
  }
  // One image file per record even where records share an image (imagefolder keys rows by file).
  assert.equal(new Set(rows.map((r) => r.file_name)).size, 102);
  const v1 = rows.find((r) => r.id === 'v1');
  assert.deepEqual(
    { collection: v1.collection, source: v1.source, iou: v1.iou, protocol: v1.protocol, model: v1.model },
    { collection: 'srs', source: first.id, iou: 0.95, protocol: 'gift-v1', model: 'gift-small.onnx' },
  );
  assert.equal(rows.find((r) => r.id === 'v2').model, 'https://huggingface.co/org/model');
  assert.deepEqual(Object.keys(rows[0]), ['file_name', 'code', 'id', 'collection', 'source', 'iou', 'protocol', 'model']);

  // Import the export back: same ids and codes (into sft, or keeping the collections).
  const back = await openDataset(path.join(work, 'back'), { create: true });
  const imported = await importIntoDataset(back, out);
  assert.equal(imported.format, 'imagefolder');
  assert.equal(imported.imported, 102);
  const original = new Map((await ds.list()).records.map((r) => [r.id, r.code]));
  const roundTrip = (await back.list('sft')).records;
  assert.deepEqual(new Map(roundTrip.map((r) => [r.id, r.code])), original);
  assert.equal(roundTrip.find((r) => r.id === 'v1')?.iou, 0.95);
  assert.equal(fs.readdirSync(path.join(back.dir, 'images')).length, uniqueImages);
  const kept = await openDataset(path.join(work, 'back-kept'), { create: true });
  await importIntoDataset(kept, out, { keepCollections: true });
  assert.deepEqual(
    (await kept.collections()).map((c) => [c.name, c.count]),
    [
      ['fda', 1],
      ['sft', 100],
      ['srs', 1],
    ],
  );

  // Only the collections asked for.
  const onlyFda = await exportDataset(ds, { format: 'imagefolder', out: path.join(work, 'export-fda'), collections: ['fda'] });
  assert.equal(onlyFda.records, 1);
  await assert.rejects(exportDataset(ds, { format: 'imagefolder', out: path.join(work, 'export-x'), collections: ['nope'] }), /no collection 'nope'/);
  await assert.rejects(exportDataset(ds, { format: 'imagefolder', out }), /is not empty/);
});

test('export chat JSONL: LLaVA / Qwen2.5-VL conversations with relative image paths', async () => {
  const ds = await openDataset(path.join(work, 'test100'));
  const out = path.join(work, 'export-chat');
  const report = await exportDataset(ds, { format: 'chat', out, collections: ['sft', 'srs'] });
  assert.equal(report.records, 101);
  const text = fs.readFileSync(path.join(out, 'chat.jsonl'), 'utf8');
  assertNoLocalPaths(text);
  const lines = text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const records = (await ds.list('sft')).records.concat((await ds.list('srs')).records);
  for (const [i, line] of lines.entries()) {
    assert.deepEqual(Object.keys(line), ['id', 'image', 'conversations']);
    assert.equal(line.id, records[i].id);
    assert.equal(line.image, `images/${records[i].id}.png`);
    assert.deepEqual(fs.readFileSync(path.join(out, line.image)), fs.readFileSync(ds.imagePath(records[i])));
    assert.deepEqual(line.conversations, [
      { from: 'human', value: `<image>\n${CHAT_PROMPT}` },
      { from: 'gpt', value: records[i].code },
    ]);
  }
  assert.equal(CHAT_PROMPT, JSON.parse(fs.readFileSync(path.join(TEST100_DIR, 'samples.jsonl'), 'utf8').split('\n')[0]).text);
});

test('scrubForExport drops local paths and credentials', () => {
  assert.equal(scrubForExport('/home/me/models/m.onnx'), 'm.onnx');
  assert.equal(scrubForExport('C:\\Users\\me\\m.onnx'), 'm.onnx');
  assert.equal(scrubForExport('~/m.onnx'), 'm.onnx');
  assert.equal(scrubForExport('file:///home/me/m.onnx'), 'm.onnx');
  assert.equal(scrubForExport('org/model'), 'org/model');
  assert.equal(scrubForExport('gift-v1'), 'gift-v1');
  assert.equal(scrubForExport('key sk-abcdefghijklmnopqrstuv'), 'key [redacted]');
  assert.equal(scrubForExport(null), null);
});

const cli = path.join(__dirname, '..', 'helpers', 'gift-cli.ts');
type CliResult = { code: number; stdout: string; stderr: string };

/** The command in a real child process (as a terminal runs it). */
function giftProcess(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', cli, 'dataset', ...args], { maxBuffer: 64 * 1024 ** 2 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The same command in this process with its output captured (a child costs ~1 s of startup). */
async function gift(args: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...parts: unknown[]) => out.push(parts.join(' '));
  console.error = (...parts: unknown[]) => err.push(parts.join(' '));
  let code: number;
  try {
    code = await datasetCommand(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err.push(e.message);
    code = 2;
  } finally {
    console.log = log;
    console.error = error;
  }
  return { code, stdout: out.map((l) => `${l}\n`).join(''), stderr: err.map((l) => `${l}\n`).join('') };
}

test('gift dataset import / list --json / flag / export from the command line', { timeout: 60_000 }, async () => {
  const dir = path.join(work, 'cli');
  const imported = await giftProcess(['import', path.join(TEST100_DIR, 'samples.jsonl'), '--out', dir]);
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /imported 100 of 100 records \(gencad\)/);

  // Add candidates the way a verify run would, then flag them.
  const ds = await openDataset(dir);
  await ds.createCollection('inbox');
  const first = samples[0];
  const stored = (await ds.get(first.id))!;
  await ds.appendMany([
    { id: 'good', collection: 'inbox', image: stored.image, code: `${first.code}# v\n`, source: first.id, iou: 0.95 },
    { id: 'off', collection: 'inbox', image: stored.image, code: `${first.code}# w\n`, source: first.id, iou: 0.6 },
  ]);

  const refused = await gift(['flag', dir, 'off', '--to', 'srs']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /refused: off: IoU 0.6 is outside SRS's range \[0.9, 0.99\): it belongs in FDA/);
  const flagged = await gift(['flag', dir, 'good', '--to', 'srs']);
  assert.equal(flagged.code, 0, flagged.stderr);
  assert.match(flagged.stdout, /good: inbox → srs/);
  const forced = await gift(['flag', dir, 'off', '--to', 'srs', '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /forced: off/);
  const missing = await gift(['flag', dir, 'nobody', '--to', 'fda']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no record 'nobody'/);
  const usage = await gift(['flag', dir, 'good', '--to', 'elsewhere']);
  assert.equal(usage.code, 2);

  fs.appendFileSync(ds.manifestFile('srs'), 'garbage\n');
  const listed = await gift(['list', dir, '--collection', 'srs', '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stderr, new RegExp(`${ds.manifestFile('srs').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: corrupt record skipped`));
  const rows = listed.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    rows.map((r) => r.id),
    ['good', 'off'],
  );
  assert.deepEqual(Object.keys(rows[0]), ['id', 'collection', 'image', 'code', 'source', 'iou', 'protocol', 'model', 'created']);
  assert.match(rows[0].image, /^images\/[0-9a-f]{32}\.png$/);
  assert.ok(fs.existsSync(path.join(dir, rows[0].image)));
  const all = await gift(['list', dir, '--json']);
  assert.equal(all.stdout.trim().split('\n').length, 102);

  const out = path.join(work, 'cli-export');
  const exported = await gift(['export', dir, '--format', 'chat', '--out', out, '--collections', 'srs,sft']);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /exported 102 records \(srs 2, sft 100\)/);
  assert.equal(fs.readFileSync(path.join(out, 'chat.jsonl'), 'utf8').trim().split('\n').length, 102);
  const badFormat = await gift(['export', dir, '--format', 'parquet', '--out', path.join(work, 'x')]);
  assert.equal(badFormat.code, 2);
  const notDataset = await gift(['list', work]);
  assert.equal(notDataset.code, 1);
  assert.match(notDataset.stderr, /is not a GIFT dataset/);
});
