/** `gift run FILE… [--json] [--step OUT] [--stl OUT] [--obj OUT] [--ply OUT] [--engine builtin|python] [--python PATH]` */
import fs from 'node:fs';
import path from 'node:path';
import { toErrorInfo, type CadErrorInfo, errorMessage, formatError } from '../../core/errors';
import { KernelPool } from '../../core/pool/pool';
import { readShapeSource } from '../../core/shape/files';
import { findCadQueryPython, PYTHON_ENGINE_TIMEOUT_MS, runPythonCadQuery, type PythonCadQuery } from '../../core/shape/python-engine';
import { intOption, parseCommandArgs, UsageError, stringOptions } from '../args';
import type { ShapeSource } from '../../core/shape/source';
import { INVALID_BREP_WARNING, type ProgramExportFile } from '../../core/jobs/execute';

const help = `usage: gift run FILE... [--json] [--step OUT] [--stl OUT] [--obj OUT] [--ply OUT] [--timeout MS] [--workers N]
                [--no-exports] [--engine builtin|python] [--python PATH]

Runs each .py file as CadQuery (the result is the variable result, solid or r, or show_object's
argument, else the first part it exports), or loads each .step/.stl/.obj/.ply file, and reports volume,
bounding box and B-rep validity (a result that is not a valid B-rep comes with a warning: its numbers may
be wrong). What a program exports (cq.exporters.export, Workplane.export, Shape.exportStep/exportStl) is
written as CadQuery would, STEP or STL, relative to the program's folder.
  --json         one JSON object per input, one per line
  --step OUT     write the result as STEP (with several inputs OUT is a folder)
  --stl OUT      write the result as binary STL (with several inputs OUT is a folder)
  --obj OUT      write the result as OBJ (shared vertices, doubles)
  --ply OUT      write the result as binary PLY (shared vertices, doubles)
  --timeout MS   per-file limit (default 10000; 60000 for each program under --engine python)
  --workers N    kernel worker threads (default 2)
  --no-exports   do not write the files the programs export
  --engine E     builtin (default: GIFT's own CadQuery, nothing to install) or python: run each .py in
                 a Python with CadQuery installed (pip install cadquery), for code the built-in engine
                 does not cover; sandboxed (own folder, no network, a deadline), the result read back
                 as BREP. Python programs can read and write files: run only code you trust
  --python PATH  the Python for --engine python (default: $GIFT_PYTHON, python3, python on PATH)
Exit code 0 when every input ran, 1 otherwise.`;

export type RunLine =
  | { file: string; ok: true; volume: number; bbox: number[]; valid: boolean; warning?: string; engine?: string; exported?: ExportedLine[] }
  | { file: string; ok: false; error: CadErrorInfo };

/** A file the program exported: where it was written, or why not. */
export type ExportedLine = { file: string; ok: true } | { file?: string; ok: false; error: string };

/** What an ok result with an invalid B-rep says, never a quiet ok: its numbers may be wrong. */

export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      ...stringOptions('step', 'stl', 'obj', 'ply', 'timeout', 'workers', 'engine', 'python'),
      json: { type: 'boolean' },
      'no-exports': { type: 'boolean' },
    },
    help,
  );
  if (positionals.length === 0) throw new UsageError(`no input files\n\n${help}`);
  const engineName = values.engine ?? 'builtin';
  if (engineName !== 'builtin' && engineName !== 'python') throw new UsageError(`--engine: expected builtin or python, not '${engineName}'`);
  if (values.python && engineName !== 'python') throw new UsageError('--python is for --engine python');
  let python: PythonCadQuery | undefined;
  if (engineName === 'python') {
    try {
      python = findCadQueryPython(values.python);
    } catch (e) {
      throw new UsageError(errorMessage(e)); // a --python that cannot run CadQuery is the caller's to fix
    }
    if (!python)
      throw new UsageError('--engine python: no Python with CadQuery found (tried $GIFT_PYTHON, python3, python); pip install cadquery, or pass --python PATH');
  }
  const timeoutMs = intOption('timeout', values.timeout, 10_000);
  const workers = intOption('workers', values.workers, 2);
  const outputs: Outputs = { step: values.step, stl: values.stl, obj: values.obj, ply: values.ply };
  for (const out of Object.values(outputs)) {
    if (out && positionals.length > 1) fs.mkdirSync(out, { recursive: true });
  }

  const pool = new KernelPool({ workers: Math.min(workers, positionals.length), timeoutMs });
  let failures = 0;
  try {
    const engine = python && { python, timeoutMs: values.timeout ? timeoutMs : PYTHON_ENGINE_TIMEOUT_MS };
    const writeExports = !values['no-exports'];
    const pending = positionals.map((file) => runOne(pool, file, outputs, positionals.length > 1, engine, writeExports));
    // Print in input order as soon as each result is known.
    for (const p of pending) {
      const line = await p;
      if (!line.ok) failures++;
      console.log(values.json ? JSON.stringify(line) : describe(line));
    }
  } finally {
    await pool.close();
  }
  return failures === 0 ? 0 : 1;
}

type Outputs = Partial<Record<'step' | 'stl' | 'obj' | 'ply', string>>;

async function runOne(
  pool: KernelPool,
  file: string,
  outputs: Outputs,
  outIsFolder: boolean,
  engine?: { python: PythonCadQuery; timeoutMs: number },
  writeExports = false,
): Promise<RunLine> {
  let input: ShapeSource;
  try {
    input = readShapeSource(file);
  } catch (e) {
    return { file, ok: false, error: toErrorInfo(e) };
  }
  const engineLabel = engine && input.kind === 'code' ? `cadquery ${engine.python.version} (${engine.python.python})` : undefined;
  if (engine && input.kind === 'code') {
    const ran = await runPythonCadQuery(engine.python.python, input.source, { name: file, timeoutMs: engine.timeoutMs });
    if (!ran.ok) return { file, ok: false, error: ran.error };
    input = { kind: 'brep', bytes: new TextEncoder().encode(ran.brep), name: file };
  }
  const result = await pool.run('shape.execute', {
    input,
    export: { step: !!outputs.step, stl: !!outputs.stl, obj: !!outputs.obj, ply: !!outputs.ply },
    programExports: writeExports && input.kind === 'code',
  });
  if (!result.ok) return { file, ok: false, error: result.error };
  const { volume, bbox, valid } = result.value;
  try {
    const stem = path.basename(file, path.extname(file));
    for (const format of ['step', 'stl', 'obj', 'ply'] as const) {
      const out = outputs[format];
      const bytes = result.value[format];
      if (out && bytes) fs.writeFileSync(outIsFolder ? path.join(out, `${stem}.${format}`) : out, bytes);
    }
  } catch (e) {
    return { file, ok: false, error: { kind: 'runtime', message: `writing the export failed: ${errorMessage(e)}` } };
  }
  const line: RunLine = valid ? { file, ok: true, volume, bbox, valid } : { file, ok: true, volume, bbox, valid, warning: INVALID_BREP_WARNING };
  if (engineLabel) line.engine = engineLabel;
  if (result.value.programExports?.length) line.exported = result.value.programExports.map((e) => writeProgramExport(file, e));
  return line;
}

/** Writes one exported file where CadQuery would: its name relative to the program's folder. */
function writeProgramExport(program: string, e: ProgramExportFile): ExportedLine {
  const target = e.fileName === undefined ? undefined : path.resolve(path.dirname(program), e.fileName);
  if (!e.bytes || !target) return { file: target, ok: false, error: e.error ?? 'exported to a file object, not a file name' };
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, e.bytes);
    return { file: target, ok: true };
  } catch (err) {
    return { file: target, ok: false, error: `writing it failed: ${errorMessage(err)}` };
  }
}

function describe(line: RunLine): string {
  if (line.ok) {
    const b = line.bbox.map((v) => +v.toFixed(6));
    let ok = `${line.file}: ok  volume ${+line.volume.toPrecision(10)}  bbox [${b.join(', ')}]${line.engine ? `  (engine: ${line.engine})` : ''}`;
    for (const e of line.exported ?? [])
      ok += e.ok ? `\n${line.file}: exported ${e.file}` : `\n${line.file}: warning: export ${e.file ?? ''} not written: ${e.error}`;
    return line.warning ? `${ok}\n${line.file}: warning: ${line.warning}` : ok;
  }
  return formatError(line.error, line.file);
}
