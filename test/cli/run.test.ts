/** `gift run` end to end, through the built CLI bundle, as a user would call it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTest100 } from '../helpers/test100';

const root = path.join(__dirname, '..', '..');
const gift = path.join(root, 'bin', 'gift.js');

function runGift(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Generous per-file deadline: CI machines can be slow, and this test is about behaviour.
    execFile(process.execPath, [gift, ...args, '--timeout', '120000'], { cwd: root, maxBuffer: 64 * 1024 ** 2 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-run-'));

test('all 100 test100 ground-truth programs run, one JSON line each, bboxes match the STEP', { timeout: 300_000 }, async () => {
  const samples = loadTest100();
  const files = samples.map((s) => {
    const file = path.join(work, `${s.id}.py`);
    fs.writeFileSync(file, s.code);
    return file;
  });
  const { code, stdout, stderr } = await runGift(['run', '--json', ...files]);
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 100, stderr);
  const failed = lines.filter((l) => !l.ok);
  assert.deepEqual(failed, []);
  assert.equal(code, 0);
  for (const [i, line] of lines.entries()) {
    assert.equal(line.file, files[i]);
    assert.ok(line.volume > 0);
    assert.equal(line.bbox.length, 6);
  }
  // Four programs build B-reps that OCCT's checker rejects because of the data itself (tangent
  // holes, a hole touching the outer loop, crossing loops): CadQuery builds the same faces.
  const invalid = lines.filter((l) => !l.valid).map((l) => path.basename(l.file));
  assert.ok(invalid.length <= 4, `invalid B-reps: ${invalid.join(', ')}`);
  // An invalid B-rep is never a quiet ok: the line carries a warning (and the text output says it).
  assert.ok(invalid.length > 0, 'expected the invalid test100 programs to exercise the warning');
  for (const l of lines) assert.equal(typeof l.warning === 'string', !l.valid, JSON.stringify(l));
  const text = await runGift(['run', ...files.filter((f) => invalid.includes(path.basename(f)))]);
  assert.match(text.stdout, /: warning: the result is not a valid B-rep/);
  // Sanity check against DeepCAD's own geometry: bounding boxes agree within ≈0.02.
  const steps = await runGift(['run', '--json', ...samples.map((s) => s.step)]);
  const stepLines = steps.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  let worst = 0;
  for (const [i, line] of stepLines.entries()) {
    assert.ok(line.ok, JSON.stringify(line));
    for (let k = 0; k < 6; k++) worst = Math.max(worst, Math.abs(line.bbox[k] - lines[i].bbox[k]));
  }
  assert.ok(worst < 0.05, `worst bbox difference code vs STEP ${worst}`);
});

test('errors are one JSON line with kind, message and line; other files still run', async () => {
  const good = path.join(work, 'good.py');
  const bad = path.join(work, 'bad.py');
  const hang = path.join(work, 'zero.py');
  fs.writeFileSync(good, 'import cadquery as cq\nresult = cq.Workplane("XY").box(1, 2, 3)\n');
  fs.writeFileSync(bad, 'import cadquery as cq\n\nresult = cq.Workplane("XY").box(1, 2, 3).extrud(4)\n');
  fs.writeFileSync(hang, 'import cadquery as cq\nresult = cq.Workplane("XY").rect(1, 1).extrude(0)\n');
  const { code, stdout } = await runGift(['run', '--json', bad, good, hang, path.join(work, 'missing.py'), path.join(work, 'x.txt')]);
  const [b, g, z, missing, txt] = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(code, 1);
  assert.equal(b.ok, false);
  assert.equal(b.error.line, 3);
  assert.match(b.error.message, /extrud/);
  assert.equal(g.ok, true);
  assert.ok(Math.abs(g.volume - 6) < 1e-9);
  assert.deepEqual(
    g.bbox.map((v: number) => Math.round(v * 1e9) / 1e9),
    [-0.5, -1, -1.5, 0.5, 1, 1.5],
  );
  assert.equal(z.ok, false);
  assert.equal(z.error.kind, 'geometry');
  assert.match(missing.error.message, /no such file/);
  assert.match(txt.error.message, /unknown file type/);
});

test('--step and --stl write files that load back with the same volume', async () => {
  const file = path.join(work, 'cyl.py');
  fs.writeFileSync(file, 'import cadquery as cq\nr = cq.Workplane("XY").circle(2).extrude(3)\n');
  const step = path.join(work, 'cyl.step');
  const stl = path.join(work, 'cyl.stl');
  const first = await runGift(['run', '--json', file, '--step', step, '--stl', stl]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const back = await runGift(['run', '--json', step, stl]);
  const [s, t] = back.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const exact = Math.PI * 4 * 3;
  assert.ok(Math.abs(s.volume - exact) / exact < 1e-6, JSON.stringify(s));
  assert.ok(Math.abs(t.volume - exact) / exact < 0.02, JSON.stringify(t));
});

test("a program's exports: its part when it shows nothing, written as CadQuery would (STEP/STL beside it), --no-exports writes none", async () => {
  const dir = path.join(work, 'exports');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'bracket.py');
  fs.writeFileSync(
    file,
    [
      'import cadquery as cq',
      'part = cq.Workplane().box(4, 3, 2)',
      'cq.exporters.export(part, "out/part.step")',
      'part.faces(">Z").workplane().hole(1).export("holed.stl")',
      'part.val().exportStl("shape.stl")',
      'cq.exporters.export(part, "drawing.svg")',
      '',
    ].join('\n'),
  );
  const r = await runGift(['run', '--json', file]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const line = JSON.parse(r.stdout.trim());
  // No result variable and no show_object: the first exported part is the result.
  assert.ok(Math.abs(line.volume - 24) < 1e-9, JSON.stringify(line));
  assert.deepEqual(
    line.exported.map((e: { file?: string; ok: boolean }) => [e.file && path.relative(dir, e.file), e.ok]),
    [
      [path.join('out', 'part.step'), true],
      ['holed.stl', true],
      ['shape.stl', true],
      ['drawing.svg', false],
    ],
  );
  assert.match(line.exported[3].error, /SVG is not supported/);
  const back = await runGift(['run', '--json', path.join(dir, 'out', 'part.step'), path.join(dir, 'holed.stl')]);
  const [step, stl] = back.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(Math.abs(step.volume - 24) < 1e-6, JSON.stringify(step));
  const holed = 24 - Math.PI * 0.25 * 2;
  assert.ok(Math.abs(stl.volume - holed) / holed < 0.02, JSON.stringify(stl));
  fs.rmSync(dir, { recursive: true });
  fs.mkdirSync(dir);
  fs.writeFileSync(file, 'import cadquery as cq\ncq.exporters.export(cq.Workplane().box(1, 1, 1), "cube.step")\n');
  const quiet = await runGift(['run', '--json', '--no-exports', file]);
  assert.equal(JSON.parse(quiet.stdout.trim()).volume.toFixed(6), '1.000000');
  assert.deepEqual(fs.readdirSync(dir), ['bracket.py']);
});
