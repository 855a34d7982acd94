/**
 * The optional real-CadQuery engine (#15 item 4): a program runs in a Python that has CadQuery
 * (2.x with OCP), for code the built-in engine does not cover. The built-in engine stays the
 * default and needs nothing installed; this one is used only when asked for (`gift run --engine
 * python`, the `gift.cadquery.engine` setting), and never for model-generated candidates unless
 * the user turns that on, because Python can touch files where the built-in engine cannot.
 *
 * Protocol: `cadquery-engine.py` (beside this file, and copied beside the bundles) reads
 * {source, name} on stdin and prints one JSON line, the result as OpenCascade BREP text or an
 * error {kind, message, line}. Sandbox: a fresh working directory and HOME, a minimal
 * environment, the network closed inside Python and, where `unshare -rn` works (Linux user
 * namespaces), in a network namespace of its own; a deadline after which the process is killed.
 * The BREP is then read by our OpenCascade (shape source kind `brep`), so measuring, previewing,
 * IoU and exports are the same as for the built-in engine's shapes.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CadError, type CadErrorInfo } from '../errors';

export interface PythonCadQuery {
  /** The interpreter, as found or configured. */
  python: string;
  /** cadquery.__version__ */
  version: string;
}

export type PythonRunResult = { ok: true; brep: string; ms: number } | { ok: false; error: CadErrorInfo; ms: number };

export const PYTHON_ENGINE_TIMEOUT_MS = 60_000;

function engineScript(): string {
  for (const dir of [__dirname, path.join(__dirname, '..', 'src', 'core', 'shape')]) {
    const file = path.join(dir, 'cadquery-engine.py');
    if (fs.existsSync(file)) return file;
  }
  throw new CadError('runtime', `cadquery-engine.py not found beside ${__dirname} (rebuild with node esbuild.js)`);
}

function probe(python: string): PythonCadQuery | string {
  const r = spawnSync(python, ['-c', 'import cadquery; print(cadquery.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) return (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : r.error.message;
  if (r.status !== 0) return (r.stderr.trim().split('\n').pop() ?? `exit code ${r.status}`).trim();
  // A relative path would not survive the engine's own working directory.
  return { python: python.includes('/') || python.includes(path.sep) ? path.resolve(python) : python, version: r.stdout.trim() };
}

/**
 * A Python that imports cadquery: `configured` (a setting or --python; an error naming it when it
 * cannot), else $GIFT_PYTHON, python3, python on PATH; undefined when none can.
 */
export function findCadQueryPython(configured?: string): PythonCadQuery | undefined {
  if (configured) {
    const found = probe(configured);
    if (typeof found === 'string')
      throw new CadError('unsupported', `${configured}: this Python cannot run CadQuery (${found}); install it with pip install cadquery`);
    return found;
  }
  for (const candidate of [process.env.GIFT_PYTHON, 'python3', 'python']) {
    if (!candidate) continue;
    const found = probe(candidate);
    if (typeof found !== 'string') return found;
  }
  return undefined;
}

let unshareWorks: boolean | undefined;
/** Whether `unshare -rn` can give the process a network namespace of its own here. */
function canUnshare(): boolean {
  if (unshareWorks === undefined) {
    unshareWorks = process.platform === 'linux' && spawnSync('unshare', ['-rn', 'true'], { timeout: 10_000 }).status === 0;
  }
  return unshareWorks;
}

/** Runs one program in `python` (see the top of this file). Never throws for the program's own errors. */
export function runPythonCadQuery(
  python: string,
  source: string,
  options: { name?: string; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<PythonRunResult> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? PYTHON_ENGINE_TIMEOUT_MS;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-cadquery-'));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, PYTHONDONTWRITEBYTECODE: '1', PYTHONIOENCODING: 'utf-8' };
  for (const keep of ['LD_LIBRARY_PATH', 'SYSTEMROOT', 'LANG']) if (process.env[keep]) env[keep] = process.env[keep];
  const args = [engineScript()];
  const [command, argv] = canUnshare() ? ['unshare', ['-rn', python, ...args]] : [python, args];
  return new Promise((resolve) => {
    const child = spawn(command, argv, { cwd: work, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (r: PythonRunResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
      fs.rmSync(work, { recursive: true, force: true });
      resolve(r);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({
        ok: false,
        error: { kind: 'timeout', message: `the program ran longer than ${timeoutMs} ms in Python (CadQuery engine)` },
        ms: Date.now() - started,
      });
    }, timeoutMs);
    const abort = () => {
      child.kill('SIGKILL');
      finish({ ok: false, error: { kind: 'cancelled', message: 'cancelled' }, ms: Date.now() - started });
    };
    if (options.signal?.aborted) abort();
    else options.signal?.addEventListener('abort', abort, { once: true });
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    child.on('error', (e) => finish({ ok: false, error: { kind: 'runtime', message: `${python}: ${e.message}` }, ms: Date.now() - started }));
    child.on('close', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        const r = JSON.parse(line) as { ok: boolean; brep?: string; error?: CadErrorInfo };
        if (r.ok && typeof r.brep === 'string') return finish({ ok: true, brep: r.brep, ms: Date.now() - started });
        if (r.error) {
          const error: CadErrorInfo = { kind: r.error.kind, message: r.error.message };
          if (typeof r.error.line === 'number') error.line = r.error.line;
          if (typeof r.error.col === 'number') error.col = r.error.col;
          return finish({ ok: false, error, ms: Date.now() - started });
        }
      } catch {
        // not the engine's answer: the process died (below)
      }
      const why = stderr.trim().split('\n').slice(-3).join(' ').trim();
      finish({
        ok: false,
        error: { kind: 'runtime', message: `the CadQuery engine (${python}) exited with code ${code}${why ? `: ${why}` : ''}` },
        ms: Date.now() - started,
      });
    });
    child.stdin.on('error', () => {}); // a process that dies before reading its input is reported on close
    child.stdin.end(JSON.stringify({ source, name: options.name ?? 'program.py' }));
  });
}
