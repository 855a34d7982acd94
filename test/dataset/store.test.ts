/** The dataset store on real folders: layout, records, moves, corrupt lines, schema, thresholds. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bucketForIou, checkFlag, DatasetError, formatWarning, openDataset, type NewRecord } from '../../src/core/dataset';
import { TEST100_DIR } from '../helpers/test100';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-dataset-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));
const imageA = path.join(TEST100_DIR, 'images', '00675497_0.png');
const imageB = path.join(TEST100_DIR, 'images', '00442545_0.png');
const box = 'import cadquery as cq\nsolid = cq.Workplane("XY").box(1, 2, 3)\n';

function fresh(name: string): string {
  return path.join(work, name);
}

test('a new dataset has dataset.json (schema 1) and empty sft, srs, fda; a missing one is an error', async () => {
  const dir = fresh('new');
  await assert.rejects(openDataset(dir), /not a GIFT dataset \(no dataset\.json\)/);
  const ds = await openDataset(dir, { create: true, name: 'parts' });
  const info = JSON.parse(fs.readFileSync(path.join(dir, 'dataset.json'), 'utf8'));
  assert.equal(info.schema, 1);
  assert.equal(info.name, 'parts');
  assert.ok(!Number.isNaN(Date.parse(info.created)));
  assert.deepEqual(
    (await ds.collections()).map((c) => [c.name, c.count]),
    [
      ['fda', 0],
      ['sft', 0],
      ['srs', 0],
    ],
  );
  // Opening again (create or not) keeps the same dataset.json.
  const again = await openDataset(dir, { create: true, name: 'other' });
  assert.equal(again.info.name, 'parts');
});

test('a dataset with a newer schema is refused with a clear error; a broken dataset.json names the file', async () => {
  const dir = fresh('newer');
  await openDataset(dir, { create: true });
  fs.writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify({ schema: 2, name: 'future', created: new Date().toISOString() }));
  await assert.rejects(openDataset(dir), /dataset schema 2 is newer than this version of GIFT understands \(1\)/);
  fs.writeFileSync(path.join(dir, 'dataset.json'), '{"schema": ');
  await assert.rejects(openDataset(dir), (e: Error) => e instanceof DatasetError && e.message.includes('dataset.json: not valid JSON'));
});

test('append, get, list, move and remove; ids unique; images stored once by content hash', async () => {
  const dir = fresh('crud');
  const ds = await openDataset(dir, { create: true });
  const base = await ds.append({ id: 'part1', collection: 'sft', image: imageA, code: box });
  assert.equal(base.collection, 'sft');
  assert.match(base.image, /^images\/[0-9a-f]{32}\.png$/);
  assert.deepEqual(fs.readFileSync(ds.imagePath(base)), fs.readFileSync(imageA));
  assert.equal(base.source, null);
  assert.equal(base.iou, null);

  // Same image again (as a path, as the stored path, as bytes): still one file.
  const variants: NewRecord[] = [
    { collection: 'srs', image: imageA, code: `${box}# a\n`, source: 'part1', iou: 0.95, protocol: 'gift-v1', model: 'tiny' },
    { collection: 'srs', image: base.image, code: `${box}# b\n`, source: 'part1', iou: 0.93 },
    { collection: 'fda', image: fs.readFileSync(imageA), code: `${box}# c\n`, source: 'part1', iou: 0.7 },
  ];
  const added = await ds.appendMany(variants);
  assert.equal(added.length, 3);
  assert.ok(added.every((r) => r.image === base.image));
  assert.ok(added.every((r, i) => r.id.startsWith(`${variants[i].collection}-`)));
  assert.equal(fs.readdirSync(path.join(dir, 'images')).length, 1);
  await ds.append({ id: 'part2', collection: 'sft', image: imageB, code: box });
  assert.equal(fs.readdirSync(path.join(dir, 'images')).length, 2);

  await assert.rejects(ds.append({ id: 'part1', collection: 'fda', image: imageA, code: box }), /id 'part1' is already in the dataset \(collection sft\)/);
  await assert.rejects(
    ds.appendMany([
      { id: 'dup', collection: 'sft', image: imageA, code: box },
      { id: 'dup', collection: 'srs', image: imageA, code: box },
    ]),
    /appears twice/,
  );
  await assert.rejects(ds.append({ collection: 'nope', image: imageA, code: box }), /no collection 'nope'.*create it first/);
  await assert.rejects(ds.append({ collection: 'sft', image: imageA, code: box, iou: 1.5 }), /'iou' must be a number in \[0, 1\]/);
  await assert.rejects(ds.append({ collection: 'sft', image: path.join(work, 'missing.png'), code: box }), /cannot read image .*missing\.png: no such file/);
  await assert.rejects(ds.append({ collection: 'sft', image: Buffer.from('not an image'), code: box }), /not a PNG, JPEG/);
  await assert.rejects(ds.createCollection('Bad Name'), /invalid collection name 'Bad Name'/);
  await assert.rejects(ds.append({ id: 'has space', collection: 'sft', image: imageA, code: box }), /invalid record id/);

  assert.equal(await ds.createCollection('inbox'), true);
  assert.equal(await ds.createCollection('inbox'), false);
  const counts = Object.fromEntries((await ds.collections()).map((c) => [c.name, c.count]));
  assert.deepEqual(counts, { fda: 1, inbox: 0, sft: 2, srs: 2 });

  const srsId = added[0].id;
  const moved = await ds.move(srsId, 'inbox');
  assert.equal(moved.collection, 'inbox');
  assert.equal(moved.created, added[0].created);
  assert.equal(moved.iou, 0.95);
  assert.deepEqual(
    (await ds.list('inbox')).records.map((r) => r.id),
    [srsId],
  );
  assert.deepEqual(
    (await ds.list('srs')).records.map((r) => r.id),
    [added[1].id],
  );
  assert.equal((await ds.get(srsId))?.collection, 'inbox');

  const removed = await ds.remove('part2');
  assert.equal(removed.id, 'part2');
  assert.equal(await ds.get('part2'), undefined);
  await assert.rejects(ds.remove('part2'), /no record 'part2'/);
  await assert.rejects(ds.move('part2', 'sft'), /no record 'part2'/);
  await assert.rejects(ds.list('missing'), /no collection 'missing'/);

  // A second handle (another window) sees the rewrites and appends, and vice versa.
  const other = await openDataset(dir);
  assert.deepEqual(
    (await other.list('sft')).records.map((r) => r.id),
    ['part1'],
  );
  await other.append({ id: 'part3', collection: 'sft', image: imageB, code: box });
  await other.remove('part1');
  assert.deepEqual(
    (await ds.list('sft')).records.map((r) => r.id),
    ['part3'],
  );
  const all = await ds.list();
  assert.equal(all.records.length, 4);
  assert.deepEqual(all.warnings, []);

  // Every manifest line is one complete record with the documented fields.
  for (const name of ['sft', 'srs', 'fda', 'inbox']) {
    for (const line of fs.readFileSync(ds.manifestFile(name), 'utf8').split('\n').filter(Boolean)) {
      assert.deepEqual(Object.keys(JSON.parse(line)), ['id', 'collection', 'image', 'code', 'source', 'iou', 'protocol', 'model', 'created']);
    }
  }
});

test('corrupt and torn lines are reported with file:line and skipped; rewrites keep them', async () => {
  const dir = fresh('corrupt');
  const ds = await openDataset(dir, { create: true });
  const file = ds.manifestFile('sft');
  await ds.append({ id: 'a', collection: 'sft', image: imageA, code: box });
  fs.appendFileSync(file, '{"id": "b", "collection": "sft", "image": \n'); // line 2: broken JSON
  await ds.append({ id: 'c', collection: 'sft', image: imageA, code: box });
  fs.appendFileSync(file, `${JSON.stringify({ id: 'd', collection: 'sft', image: '/etc/passwd', code: box, created: 'x' })}\n`); // line 4
  await ds.append({ id: 'e', collection: 'sft', image: imageA, code: box });

  const { records, warnings } = await ds.list('sft');
  assert.deepEqual(
    records.map((r) => r.id),
    ['a', 'c', 'e'],
  );
  assert.equal(warnings.length, 2);
  assert.equal(warnings[0].file, file);
  assert.equal(warnings[0].line, 2);
  assert.match(warnings[0].message, /not valid JSON/);
  assert.equal(warnings[1].line, 4);
  assert.match(warnings[1].message, /'image' must be a stored image path/);
  assert.equal(formatWarning(warnings[0]).startsWith(`${file}:2: `), true);

  // A writer killed mid-line leaves a fragment without a newline: reported, and the next append
  // starts a new line so nothing acknowledged is glued onto it.
  fs.appendFileSync(file, '{"id": "torn", "coll');
  let again = await ds.list('sft');
  assert.equal(again.warnings.length, 3);
  assert.equal(again.warnings[2].line, 6);
  assert.match(again.warnings[2].message, /incomplete last line/);
  await ds.append({ id: 'f', collection: 'sft', image: imageA, code: box });
  again = await ds.list('sft');
  assert.deepEqual(
    again.records.map((r) => r.id),
    ['a', 'c', 'e', 'f'],
  );
  assert.deepEqual(
    again.warnings.map((w) => w.line),
    [2, 4, 6],
  );
  assert.match(again.warnings[2].message, /not valid JSON/);

  // A fresh reader sees the same; removing a record rewrites the file but keeps the bad lines.
  await ds.remove('c');
  const reader = await openDataset(dir);
  const after = await reader.list('sft');
  assert.deepEqual(
    after.records.map((r) => r.id),
    ['a', 'e', 'f'],
  );
  assert.deepEqual(
    after.warnings.map((w) => w.line),
    [2, 3, 5],
  );
  // The handle that did the rewrite patched its view to the same answer.
  assert.deepEqual(await ds.list('sft'), after);
  await ds.append({ id: 'g', collection: 'sft', image: imageA, code: box });
  assert.deepEqual(
    (await reader.list('sft')).records.map((r) => r.id),
    ['a', 'e', 'f', 'g'],
  );
  assert.deepEqual(await ds.list('sft'), await reader.list('sft'));
});

test('an id in two manifests (a move interrupted between its two files) is reported and repaired', async () => {
  const dir = fresh('dupe');
  const ds = await openDataset(dir, { create: true });
  await ds.append({ id: 'x', collection: 'srs', image: imageA, code: box, iou: 0.95 });
  fs.appendFileSync(ds.manifestFile('fda'), fs.readFileSync(ds.manifestFile('srs'), 'utf8').replace('"srs"', '"fda"'));
  const { records, warnings } = await ds.list();
  assert.equal(records.filter((r) => r.id === 'x').length, 1);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0].message, /duplicate id 'x'/);
  await ds.move('x', 'srs');
  const repaired = await ds.list();
  assert.deepEqual(repaired.warnings, []);
  assert.deepEqual(
    repaired.records.map((r) => [r.id, r.collection]),
    [['x', 'srs']],
  );
});

test('bucketForIou and checkFlag follow the SRS/FDA thresholds', () => {
  assert.equal(bucketForIou(0.995), null);
  assert.equal(bucketForIou(0.99), null);
  assert.equal(bucketForIou(0.98), 'srs');
  assert.equal(bucketForIou(0.9), 'srs');
  assert.equal(bucketForIou(0.89), 'fda');
  assert.equal(bucketForIou(0.5), 'fda');
  assert.equal(bucketForIou(0.49), null);
  assert.equal(bucketForIou(null), null);
  assert.equal(bucketForIou(Number.NaN), null);
  assert.equal(bucketForIou(0.8, { low: 0.3, valid: 0.8, match: 0.95 }), 'srs');
  assert.throws(() => bucketForIou(0.5, { low: 0.9, valid: 0.5, match: 0.99 }), /0 ≤ low < valid < match ≤ 1/);

  assert.deepEqual(checkFlag('srs', 0.95), { allowed: true });
  assert.deepEqual(checkFlag('fda', 0.6), { allowed: true });
  const wrong = checkFlag('srs', 0.6);
  assert.equal(wrong.allowed, false);
  assert.match(wrong.reason!, /IoU 0.6 is outside SRS's range \[0.9, 0.99\): it belongs in FDA \[0.5, 0.9\)/);
  assert.match(checkFlag('fda', 0.999).reason!, /already matches/);
  assert.match(checkFlag('fda', 0.2).reason!, /too far off/);
  assert.match(checkFlag('srs', null).reason!, /no IoU measured/);
  const forced = checkFlag('srs', 0.6, undefined, true);
  assert.equal(forced.allowed, true);
  assert.equal(forced.forced, true);
  assert.match(forced.reason!, /outside SRS/);
  assert.deepEqual(checkFlag('inbox', null), { allowed: true });
});
