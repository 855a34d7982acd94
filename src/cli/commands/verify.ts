/**
 * `gift verify PAIRS.jsonl --out RESULTS.jsonl [--workers N] [--protocol P]`
 * Streams pairs through the kernel pool with bounded concurrency; resumable: ids already in --out
 * are skipped, and a torn last line from a killed run is dropped before appending.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { CadError, toErrorInfo, type CadErrorInfo } from '../../core/errors';
import { KernelPool } from '../../core/pool/pool';
import { readShapeSource } from '../../core/shape/files';
import type { IouJobResult } from '../../core/jobs/geometry';
import type { ShapeSource } from '../../core/shape/source';
import { formatSummary, summarize, type VerifyOutcome } from '../../core/geometry/evaluation';
import { intOption, parseCommandArgs, UsageError, stringOptions } from '../args';
import { ALL_ROTATIONS_OPTION, protocolOption } from './iou';

const help = `usage: gift verify PAIRS.jsonl --out RESULTS.jsonl [--workers N] [--protocol P] [--all-rotations] [--timeout MS]

Each input line: {"id", "candidate", "reference"}; each side a path (.py, .step, .stl, .obj,
.ply; relative to the PAIRS file's folder) or inline CadQuery code. Each output line:
{"id", "ok", "iou", "chamfer", "status", "ms"} (+ "check", "method", "axes"). status "inconsistent":
the boolean's IoU disagrees with an independent point estimate (check.iou); ok is then false.
A rerun with the same --out skips ids already done.
--all-rotations: as for gift iou, all four aligned rotations are intersected.`;

export interface VerifyLine {
  id: string;
  ok: boolean;
  iou: number | null;
  chamfer: number | null;
  status: 'ok' | 'inconsistent' | 'candidate-failed' | 'reference-failed' | 'iou-failed' | 'timeout' | 'bad-input';
  ms: number;
  error?: CadErrorInfo;
  /** The point-membership check: its estimate, tolerance and, when it failed, why. */
  check?: { iou: number; tolerance: number; reason?: string };
  /** Whose booleans: OCCT on B-reps, manifold-3d when a side is a mesh. */
  method?: 'brep' | 'mesh';
  /** Aligned protocols: whether rounding picked the principal axes. */
  axes?: 'degenerate' | 'distinct';
}

export async function verifyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      ...stringOptions('out', 'workers', 'protocol', 'timeout'),
      ...ALL_ROTATIONS_OPTION,
    },
    help,
  );
  if (positionals.length !== 1) throw new UsageError(`expected one PAIRS.jsonl\n\n${help}`);
  if (!values.out) throw new UsageError(`--out RESULTS.jsonl is required\n\n${help}`);
  const pairsFile = positionals[0];
  if (!fs.existsSync(pairsFile)) throw new UsageError(`${pairsFile}: no such file`);
  const protocol = protocolOption(values.protocol);
  const workers = intOption('workers', values.workers, 2);
  const outFile = values.out;

  const done = readDone(outFile);
  // The summary covers this pairs file only (an --out reused with another file keeps its lines).
  const outcomes: VerifyOutcome[] = [];
  const total = countLines(pairsFile);
  const out = fs.openSync(outFile, 'a');
  const pool = new KernelPool({ workers, timeoutMs: intOption('timeout', values.timeout, 60_000) });
  const baseDir = path.dirname(path.resolve(pairsFile));
  let skipped = 0;
  let written = 0;
  let lastProgress = 0;
  const inFlight = new Set<Promise<void>>();
  const progress = (force = false) => {
    const now = Date.now();
    if (!force && now - lastProgress < 500) return;
    lastProgress = now;
    const s = summarize(outcomes);
    process.stderr.write(
      `verify: ${written + skipped}/${total} done (${skipped} from an earlier run), VSR ${Number.isFinite(s.vsr) ? (s.vsr * 100).toFixed(1) : '—'}%, mean IoU ${Number.isFinite(s.meanIou) ? s.meanIou.toFixed(4) : '—'}\n`,
    );
  };
  const record = (line: VerifyLine) => {
    write(out, line);
    outcomes.push(asOutcome(line));
    written++;
  };

  try {
    const lines = readline.createInterface({ input: fs.createReadStream(pairsFile), crlfDelay: Infinity });
    let lineNo = 0;
    const seen = new Set<string>();
    for await (const raw of lines) {
      lineNo++;
      if (!raw.trim()) continue;
      // Ids already done are skipped before their files are read.
      const parsed = parsePair(raw, lineNo, pairsFile, baseDir, (id) => done.has(id));
      // A line without a usable id is keyed by its line number.
      const id = parsed.id ?? `line-${lineNo}`;
      if (seen.has(id)) throw new UsageError(`${pairsFile}:${lineNo}: duplicate id '${id}'`);
      seen.add(id);
      const earlier = done.get(id);
      if (earlier) {
        outcomes.push(earlier);
        skipped++;
        continue;
      }
      if (!parsed.pair) {
        if (!parsed.error) throw new Error(`${pairsFile}:${lineNo}: internal: '${id}' neither parsed nor failed`);
        record({ id, ok: false, iou: null, chamfer: null, status: 'bad-input', ms: 0, error: parsed.error });
        continue;
      }
      const { candidate, reference } = parsed.pair;
      const job = pool.run('shape.iou', { candidate, reference, protocol, chamfer: true, allRotations: values['all-rotations'] }).then((r) => {
        record(toLine(id, r));
        progress();
      });
      inFlight.add(job);
      void job.finally(() => inFlight.delete(job));
      // Bounded concurrency: inputs can be hundreds of thousands of lines.
      if (inFlight.size >= workers * 2) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    fs.fsyncSync(out);
    fs.closeSync(out);
    await pool.close();
  }
  progress(true);
  console.log(formatSummary(summarize(outcomes)));
  return 0;
}

/** Non-empty lines, for the progress line's denominator (cheap even for very large files). */
function countLines(file: string): number {
  let count = 0;
  let nonBlank = false;
  const buffer = Buffer.alloc(1 << 16);
  const fd = fs.openSync(file, 'r');
  try {
    for (let n: number; (n = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0; ) {
      for (let i = 0; i < n; i++) {
        const c = buffer[i];
        if (c === 10) {
          if (nonBlank) count++;
          nonBlank = false;
        } else if (c !== 32 && c !== 13 && c !== 9) nonBlank = true;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return count + (nonBlank ? 1 : 0);
}

type ParsedPair =
  | { id?: string; pair: { candidate: ShapeSource; reference: ShapeSource }; error?: undefined }
  | { id?: string; pair?: undefined; error: CadErrorInfo }
  /** Already done: not read further. */
  | { id: string; pair?: undefined; error?: undefined };

/** One input line; a bad line (not JSON, no id, a missing file) comes back as an error, keeping its id when it has one. */
function parsePair(raw: string, lineNo: number, file: string, baseDir: string, isDone: (id: string) => boolean): ParsedPair {
  let obj: { id?: unknown; candidate?: unknown; reference?: unknown };
  try {
    obj = JSON.parse(raw);
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new Error();
  } catch {
    return { error: toErrorInfo(new CadError('syntax', `${file}:${lineNo}: not a JSON object`)) };
  }
  const id = typeof obj.id === 'string' || typeof obj.id === 'number' ? String(obj.id) : undefined;
  if (id !== undefined && isDone(id)) return { id };
  try {
    if (id === undefined) throw new CadError('syntax', `${file}:${lineNo}: missing "id"`);
    const side = (name: 'candidate' | 'reference'): ShapeSource => {
      const v = obj[name];
      if (typeof v !== 'string' || !v.trim()) throw new CadError('syntax', `${file}:${lineNo}: "${name}" must be a path or CadQuery code`);
      if (looksLikeCode(v)) return { kind: 'code', source: v, name: `${id}:${name}` };
      try {
        return readShapeSource(path.resolve(baseDir, v));
      } catch (e) {
        const info = toErrorInfo(e);
        throw new CadError(info.kind, `${file}:${lineNo}: ${name}: ${info.message}`);
      }
    };
    return { id, pair: { candidate: side('candidate'), reference: side('reference') } };
  } catch (e) {
    return { id, error: toErrorInfo(e) };
  }
}

function looksLikeCode(v: string): boolean {
  return v.includes('\n') || /\bcq\.|import\s+cadquery|Workplane\(/.test(v);
}

function toLine(id: string, r: Awaited<ReturnType<KernelPool['run']>> & { value?: IouJobResult }): VerifyLine {
  if (r.ok) {
    const best = (r.value as IouJobResult).results[0];
    const line: VerifyLine = {
      id,
      ok: best.status === 'ok',
      iou: best.iou,
      chamfer: best.chamfer?.chamferX1000 ?? null,
      status: best.status,
      ms: Math.round(r.ms),
      method: best.method,
    };
    if (best.check) line.check = { iou: best.check.iou, tolerance: best.check.tolerance, ...(best.check.reason ? { reason: best.check.reason } : {}) };
    if (best.axes) line.axes = best.axes;
    return line;
  }
  const status: VerifyLine['status'] =
    r.error.kind === 'timeout'
      ? 'timeout'
      : /^reference/.test(r.error.message)
        ? 'reference-failed'
        : /^candidate/.test(r.error.message)
          ? 'candidate-failed'
          : 'iou-failed';
  return { id, ok: false, iou: null, chamfer: null, status, ms: Math.round(r.ms), error: r.error };
}

function asOutcome(line: VerifyLine): VerifyOutcome {
  return { ok: line.ok, iou: line.iou ?? undefined, chamfer: line.chamfer ?? undefined };
}

function write(fd: number, line: VerifyLine): void {
  fs.writeSync(fd, `${JSON.stringify(line)}\n`);
}

/** Results of an earlier run; drops a torn last line (a killed run) so appending stays valid JSONL. */
function readDone(outFile: string): Map<string, VerifyOutcome> {
  const done = new Map<string, VerifyOutcome>();
  if (!fs.existsSync(outFile)) return done;
  const text = fs.readFileSync(outFile, 'utf8');
  let keep = text.length;
  if (text.length && !text.endsWith('\n')) keep = text.lastIndexOf('\n') + 1;
  const lines = text.slice(0, keep).split('\n');
  lines.forEach((l, i) => {
    if (!l.trim()) return;
    try {
      const v = JSON.parse(l) as VerifyLine;
      done.set(String(v.id), asOutcome(v));
    } catch {
      throw new UsageError(`${outFile}:${i + 1}: corrupt result line; fix or remove it before resuming`);
    }
  });
  if (keep !== text.length) fs.truncateSync(outFile, Buffer.byteLength(text.slice(0, keep)));
  return done;
}
