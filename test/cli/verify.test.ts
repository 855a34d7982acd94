/** `gift verify` and `gift iou --json` end to end, through the built CLI bundle, as a user would call them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTest100 } from '../helpers/test100';

const root = path.join(__dirname, '..', '..');
const gift = path.join(root, 'bin', 'gift.js');
// Generous per-job deadline: this machine can be loaded, and these tests are about behaviour.
const TIMEOUT = ['--timeout', '120000'];

function runGift(args: string[], cwd = root): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [gift, ...args], { cwd, maxBuffer: 64 * 1024 ** 2 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

interface ResultLine {
  id: string;
  ok: boolean;
  iou: number | null;
  chamfer: number | null;
  status: string;
  ms: number;
  error?: { kind: string; message: string; line?: number };
}

function readResults(file: string): ResultLine[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

const box = (x: number, y: number, z: number, shift = 0) =>
  `import cadquery as cq\nsolid = cq.Workplane("XY").box(${x}, ${y}, ${z})${shift ? `.translate((${shift}, 0, 0))` : ''}\n`;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-verify-'));
const pairsDir = path.join(work, 'pairs');
fs.mkdirSync(path.join(pairsDir, 'parts'), { recursive: true });
fs.mkdirSync(path.join(pairsDir, 'refs'), { recursive: true });
// A small, quick test100 part: its program in a file, and DeepCAD's STEP it was quantised from.
const sample = loadTest100().find((s) => s.id === '00507123')!;
fs.writeFileSync(path.join(pairsDir, 'parts', 'plate.py'), box(1, 2, 3));
fs.writeFileSync(path.join(pairsDir, 'parts', `${sample.id}.py`), sample.code);
fs.copyFileSync(sample.step, path.join(pairsDir, 'refs', `${sample.id}.step`));

const pairLines = [
  JSON.stringify({ id: 'self', candidate: 'parts/plate.py', reference: 'parts/plate.py' }),
  // aligned normalises position and scale away: a moved, doubled box is the same part.
  JSON.stringify({ id: 'inline', candidate: box(1, 2, 3), reference: box(2, 4, 6, 5) }),
  JSON.stringify({ id: 'test100', candidate: `parts/${sample.id}.py`, reference: `refs/${sample.id}.step` }),
  JSON.stringify({
    id: 'bad-candidate',
    candidate: 'import cadquery as cq\n\nsolid = cq.Workplane("XY").box(1, 2, 3).extrud(4)\n',
    reference: 'parts/plate.py',
  }),
  JSON.stringify({ id: 'bad-reference', candidate: 'parts/plate.py', reference: 'import cadquery as cq\nsolid = cq.Workplane("XY").rect(1, 1).extrude(0)\n' }),
  JSON.stringify({ id: 'missing-file', candidate: 'parts/plate.py', reference: 'refs/nope.step' }),
  '{"id": "torn", "candidate": ',
  '',
  JSON.stringify({ id: 7, candidate: box(1, 2, 3), reference: box(1, 2, 4) }),
];
fs.writeFileSync(path.join(pairsDir, 'pairs.jsonl'), `${pairLines.join('\n')}\n`);

/** The summary block `gift verify` prints, as numbers. */
function parseSummary(stdout: string) {
  const num = (re: RegExp) => {
    const m = stdout.match(re);
    assert.ok(m, `summary line ${re} missing in:\n${stdout}`);
    return m.slice(1).map(Number);
  };
  const [total, valid, vsr] = num(/samples (\d+), valid (\d+), VSR ([\d.]+)%/);
  const [meanIou, medianIou] = num(/IoU \(valid only\): mean ([\d.]+), median ([\d.]+)/);
  const [adjustedMean, adjustedMedian] = num(/IoU \(failures as 0\): mean ([\d.]+), median ([\d.]+)/);
  const [meanChamfer, medianChamfer] = num(/Chamfer ×1000 \(valid only\): mean ([\d.]+), median ([\d.]+)/);
  return { total, valid, vsr, meanIou, medianIou, adjustedMean, adjustedMedian, meanChamfer, medianChamfer };
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

test('verify: paths relative to the pairs file, inline code, failures and bad lines; the summary matches the lines', async () => {
  const out = path.join(work, 'results.jsonl');
  // Run from another folder: paths must resolve against the pairs file, not the working directory.
  const { code, stdout, stderr } = await runGift(['verify', path.join(pairsDir, 'pairs.jsonl'), '--out', out, '--workers', '2', ...TIMEOUT], os.tmpdir());
  assert.equal(code, 0, stderr);
  const lines = readResults(out);
  const byId = new Map(lines.map((l) => [l.id, l]));
  assert.deepEqual([...byId.keys()].sort(), ['7', 'bad-candidate', 'bad-reference', 'inline', 'line-7', 'missing-file', 'self', 'test100'].sort());
  assert.equal(lines.length, 8, 'one output line per non-blank input line');
  for (const l of lines) {
    assert.deepEqual(Object.keys(l).slice(0, 6), ['id', 'ok', 'iou', 'chamfer', 'status', 'ms']);
    assert.equal(typeof l.ms, 'number');
  }

  const self = byId.get('self')!;
  assert.equal(self.ok, true);
  assert.equal(self.status, 'ok');
  assert.ok(Math.abs(self.iou! - 1) < 1e-9, `self IoU ${self.iou}`);
  assert.ok(self.chamfer! < 1e-6, `self Chamfer ${self.chamfer}`);
  assert.ok(Math.abs(byId.get('inline')!.iou! - 1) < 1e-6, `a moved, doubled box under aligned: ${byId.get('inline')!.iou}`);
  const t100 = byId.get('test100')!;
  assert.ok(t100.ok && t100.iou! > 0.9 && t100.iou! < 1, `test100 program vs its STEP: ${t100.iou}`);
  assert.ok(t100.chamfer! > 0);
  // A numeric id comes back as a string; different proportions stay different after aligning.
  const numeric = byId.get('7')!;
  assert.ok(numeric.ok && numeric.iou! > 0.5 && numeric.iou! < 1, `1×2×3 vs 1×2×4: ${numeric.iou}`);

  const badCandidate = byId.get('bad-candidate')!;
  assert.equal(badCandidate.ok, false);
  assert.equal(badCandidate.status, 'candidate-failed');
  assert.equal(badCandidate.iou, null);
  assert.equal(badCandidate.error!.line, 3);
  assert.match(badCandidate.error!.message, /extrud/);
  const badReference = byId.get('bad-reference')!;
  assert.equal(badReference.status, 'reference-failed');
  assert.equal(badReference.error!.kind, 'geometry');
  const missing = byId.get('missing-file')!;
  assert.equal(missing.status, 'bad-input');
  assert.match(missing.error!.message, /pairs\.jsonl:6: reference: .*nope\.step: no such file/);
  const torn = byId.get('line-7')!;
  assert.equal(torn.status, 'bad-input');
  assert.match(torn.error!.message, /pairs\.jsonl:7: not a JSON object/);

  // The printed summary is what the lines say, with failures as 0 in the adjusted numbers.
  const s = parseSummary(stdout);
  const valid = lines.filter((l) => l.ok);
  const ious = valid.map((l) => l.iou!);
  const adjusted = lines.map((l) => (l.ok ? l.iou! : 0));
  assert.equal(s.total, 8);
  assert.equal(s.valid, 4);
  assert.equal(s.vsr, Number(((100 * 4) / 8).toFixed(1)));
  assert.equal(s.meanIou, Number(mean(ious).toFixed(4)));
  assert.equal(s.medianIou, Number(median(ious).toFixed(4)));
  assert.equal(s.adjustedMean, Number(mean(adjusted).toFixed(4)));
  assert.equal(s.adjustedMedian, Number(median(adjusted).toFixed(4)));
  assert.equal(s.meanChamfer, Number(mean(valid.map((l) => l.chamfer!)).toFixed(4)));
  assert.equal(s.medianChamfer, Number(median(valid.map((l) => l.chamfer!)).toFixed(4)));
  assert.match(stderr, /verify: 8\/8 done \(0 from an earlier run\)/);

  // `gift iou` on the same files gives the same numbers as the batch.
  const single = await runGift([
    'iou',
    path.join(pairsDir, 'parts', `${sample.id}.py`),
    path.join(pairsDir, 'refs', `${sample.id}.step`),
    '--json',
    ...TIMEOUT,
  ]);
  const one = JSON.parse(single.stdout);
  assert.equal(one.iou, t100.iou);
  assert.equal(one.chamfer, t100.chamfer);
});

test('verify resumes after SIGKILL: written ids are skipped, a torn last line is dropped, no duplicates', async () => {
  const dir = path.join(work, 'resume');
  fs.mkdirSync(dir);
  const ids = Array.from({ length: 8 }, (_, i) => `box-${i}`);
  fs.writeFileSync(
    path.join(dir, 'pairs.jsonl'),
    `${ids.map((id, i) => JSON.stringify({ id, candidate: box(1 + i / 10, 2, 3), reference: box(1, 2, 3 + i / 10) })).join('\n')}\n`,
  );
  const out = path.join(dir, 'out.jsonl');
  const args = [gift, 'verify', 'pairs.jsonl', '--out', out, '--workers', '1', '--protocol', 'raw', ...TIMEOUT];

  // First run: killed without warning once a few lines are on disk.
  const child = spawn(process.execPath, args, { cwd: dir, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const completeLines = () => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split('\n').slice(0, -1).length : 0);
  const deadline = Date.now() + 60_000;
  while (completeLines() < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  child.kill('SIGKILL');
  await exited;
  let text = fs.readFileSync(out, 'utf8');
  let kept = text.split('\n').slice(0, -1);
  assert.ok(kept.length >= 3, `the first run wrote ${kept.length} lines in 60 s`);
  if (kept.length === ids.length) {
    // It finished before the kill landed: keep the first three lines, as if killed there.
    kept = kept.slice(0, 3);
  }
  // A write cut short by the kill: half a line with no newline.
  text = `${kept.join('\n')}\n${kept[0].slice(0, 25)}`;
  fs.writeFileSync(out, text);

  const rerun = await runGift(args.slice(1), dir);
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.match(rerun.stderr, new RegExp(`verify: ${ids.length}/${ids.length} done \\(${kept.length} from an earlier run\\)`));
  const after = fs.readFileSync(out, 'utf8');
  assert.ok(after.startsWith(`${kept.join('\n')}\n`), 'the earlier complete lines are kept byte for byte');
  const lines = readResults(out);
  assert.deepEqual(lines.map((l) => l.id).sort(), [...ids].sort(), 'every id exactly once');
  for (const l of lines) {
    const i = Number(l.id.slice(4));
    // raw protocol, boxes centred at the origin: IoU = common volume / union volume, exactly.
    const a = (1 + i / 10) * 2 * 3;
    const b = 1 * 2 * (3 + i / 10);
    const common = 1 * 2 * 3;
    assert.ok(Math.abs(l.iou! - common / (a + b - common)) < 1e-9, `${l.id}: ${l.iou}`);
  }
  assert.equal(parseSummary(rerun.stdout).total, ids.length, 'the summary counts the earlier lines too');

  // A third run has nothing to do and leaves the file alone.
  const again = await runGift(args.slice(1), dir);
  assert.equal(again.code, 0);
  assert.equal(fs.readFileSync(out, 'utf8'), after);
  assert.match(again.stderr, new RegExp(`\\(${ids.length} from an earlier run\\)`));
});

test('iou --json: one line {ok, iou, chamfer, protocol, status, method, check}, or {ok: false, error: {kind, message, line}}', async () => {
  const dir = path.join(work, 'iou');
  fs.mkdirSync(dir);
  const a = path.join(dir, 'a.py');
  const b = path.join(dir, 'b.py');
  const bad = path.join(dir, 'bad.py');
  fs.writeFileSync(a, box(1, 2, 3));
  fs.writeFileSync(b, box(1, 2, 3.3));
  fs.writeFileSync(bad, 'import cadquery as cq\n\nsolid = cq.Workplane("XY").box(1, 2, 3).extrud(4)\n');

  const raw = await runGift(['iou', a, b, '--protocol', 'raw', '--json', ...TIMEOUT]);
  assert.equal(raw.code, 0, raw.stderr);
  assert.equal(raw.stdout.trim().split('\n').length, 1);
  const ok = JSON.parse(raw.stdout);
  assert.deepEqual(Object.keys(ok), ['ok', 'iou', 'chamfer', 'protocol', 'status', 'method', 'sizeRatio', 'check']);
  // Size ratio: the cube root of the volumes, 1×2×3 against 1×2×3.3.
  assert.ok(Math.abs(ok.sizeRatio - Math.cbrt(6 / 6.6)) < 1e-9, String(ok.sizeRatio));
  assert.equal(ok.ok, true);
  assert.equal(ok.status, 'ok');
  assert.equal(ok.method, 'brep');
  assert.ok(Math.abs(ok.check.iou - ok.iou) <= ok.check.tolerance, 'the point estimate agrees');
  assert.equal(ok.protocol, 'raw');
  assert.ok(Math.abs(ok.iou - 6 / 6.6) < 1e-9, `raw IoU ${ok.iou}`);
  assert.ok(ok.chamfer > 0);

  const failed = await runGift(['iou', bad, a, '--json', ...TIMEOUT]);
  assert.equal(failed.code, 1);
  const err = JSON.parse(failed.stdout);
  assert.deepEqual(Object.keys(err), ['ok', 'error']);
  assert.equal(err.ok, false);
  assert.deepEqual(Object.keys(err.error), ['kind', 'message', 'line']);
  assert.equal(err.error.line, 3);
  assert.match(err.error.message, /^candidate: .*extrud/);

  const missing = await runGift(['iou', a, path.join(dir, 'nope.step'), '--json', ...TIMEOUT]);
  assert.equal(missing.code, 1);
  const m = JSON.parse(missing.stdout);
  assert.equal(m.error.line, null);
  assert.match(m.error.message, /nope\.step: no such file/);

  const usage = await runGift(['iou', a, b, '--protocol', 'nope']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /unknown --protocol 'nope'/);
});
