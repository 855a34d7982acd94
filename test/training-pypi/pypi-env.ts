/**
 * The PyPI Python environment (scripts/install-python-pypi.sh → REPO/.venv-pypi, or $GIFT_PYPI_VENV):
 * current torch, onnx, onnxruntime, transformers. The tests here skip, saying why, where it is absent.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '../..');
export const venv = process.env.GIFT_PYPI_VENV ?? path.join(repoRoot, '.venv-pypi');
export const VENV_PYTHON = path.join(venv, 'bin', 'python');

/** Why the PyPI-environment tests cannot run here (modules: what they import), or undefined when they can. */
export function pypiMissing(modules: string[]): string | undefined {
  if (!existsSync(VENV_PYTHON)) return `${venv} is absent: run scripts/install-python-pypi.sh`;
  const probe = spawnSync(VENV_PYTHON, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  if (probe.status !== 0) {
    return `${VENV_PYTHON} cannot import ${modules.join(', ')} (rerun scripts/install-python-pypi.sh): ${probe.stderr.trim().split('\n').pop()}`;
  }
  return undefined;
}

export interface PythonRun {
  status: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs a Python script on one thread (2-core machines), failing the test with its output when asked. */
export function runPython(python: string, args: string[], env: Record<string, string> = {}, timeoutMs = 300_000): PythonRun {
  const t0 = Date.now();
  const r = spawnSync(python, args, {
    encoding: 'utf8',
    cwd: repoRoot,
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1', TOKENIZERS_PARALLELISM: 'false', ...env },
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}`, seconds: (Date.now() - t0) / 1000 };
}

/** The last line of stdout as JSON (the scripts print one JSON line at the end). */
export function lastJson<T>(stdout: string): T {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}
