/**
 * The differential harness: the same CadQuery program run by real CadQuery 2.8
 * (scripts/install-python-cadquery.sh → REPO/.venv-cadquery, or $GIFT_CADQUERY_VENV; run_cadquery.py)
 * and by ours (the kernel pool's `shape.execute`, as `gift run` runs it), and the rule for when the
 * two agree.
 *
 * Agreement: both fail (whatever the kinds), or both succeed with
 * - volume within 1e-6 relative,
 * - every bounding-box coordinate within 1e-6 of the box's diagonal: both sides take
 *   BRepBndLib::AddOptimal on the exact geometry, without tolerances; where those differ, both
 *   sides measure again the box of the part's extreme points (extremaBoundingBox), and those decide —
 *   AddOptimal bounds a trimmed face over its whole UV rectangle (a torus cut by a plane widens the
 *   box past the part) and its optimiser can stop short of a curved extreme, differently in each build,
 * - the same numbers of distinct solids, faces, edges and vertices,
 * - the same BRepCheck verdict, except that ours valid where CadQuery's B-rep is not counts as
 *   agreeing (ours cannot agree there without making the same broken B-rep; reports name them).
 * Both kernels are OpenCascade (7.9 in cadquery-ocp, replicad's build here), so counts are
 * compared exactly; a program where they legitimately differ is a known disagreement, listed with
 * its reason, never a looser rule for everyone.
 *
 * CadQuery's own result can vary between runs of the same program (measured: features/1-14, a
 * shell(kind="arc"), gives 5530.85 in about 1 fork of 10 and 14039.36 otherwise, loaded or idle —
 * OpenCascade's maps keyed by addresses follow the heap). So CadQuery runs each disagreeing program
 * ORACLE_RERUNS more times; where its results differ among themselves and ours equals one of them,
 * the program agrees, and the comparison keeps every CadQuery result (`cadqueryVaries`).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { KernelPool } from '../../src/core/pool/pool';

export const repoRoot = path.resolve(__dirname, '../..');
export const CADQUERY_VENV = process.env.GIFT_CADQUERY_VENV ?? path.join(repoRoot, '.venv-cadquery');
export const CADQUERY_PYTHON = path.join(CADQUERY_VENV, 'bin', 'python');
const RUNNER = path.join(__dirname, 'run_cadquery.py');

export interface Program {
  id: string;
  source: string;
}

export interface Measured {
  ok: true;
  volume: number;
  bbox: number[];
  /** The box of the extreme points, measured only where the AddOptimal boxes differ. */
  extremaBox?: number[];
  valid: boolean;
  solids: number;
  faces: number;
  edges: number;
  vertices: number;
}
export interface Failed {
  ok: false;
  error: { kind: string; message: string; line?: number | null };
}
export type Outcome = Measured | Failed;

/** Why the oracle cannot run here, or undefined when it can. */
export function oracleMissing(): string | undefined {
  if (!existsSync(CADQUERY_PYTHON)) return `${CADQUERY_VENV} is absent: run scripts/install-python-cadquery.sh`;
  return undefined;
}

/** Runs the programs in real CadQuery, one forked child each (run_cadquery.py); in input order. */
export function runOracle(programs: Program[], options: { timeoutS?: number; extremaBox?: boolean } = {}): Promise<Map<string, Outcome>> {
  return new Promise((resolve, reject) => {
    const flags = options.extremaBox ? ['--extrema-box'] : [];
    const child = spawn(CADQUERY_PYTHON, [RUNNER, '--timeout', String(options.timeoutS ?? 30), ...flags], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', NUMBA_NUM_THREADS: '1' },
    });
    const results = new Map<string, Outcome>();
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-4000);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const r = JSON.parse(line) as Outcome & { id: string };
      const { id, ...outcome } = r;
      results.set(id, outcome as Outcome);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (results.size !== programs.length) reject(new Error(`run_cadquery.py exited ${code} after ${results.size}/${programs.length} programs: ${stderr}`));
      else resolve(results);
    });
    for (const p of programs) child.stdin.write(`${JSON.stringify(p)}\n`);
    child.stdin.end();
  });
}

/** Runs the programs in ours, through the kernel pool as `gift run` does. */
export async function runOurs(
  programs: Program[],
  options: { workers?: number; timeoutMs?: number; extremaBox?: boolean } = {},
): Promise<Map<string, Outcome>> {
  const pool = new KernelPool({ workers: options.workers ?? 2, timeoutMs: options.timeoutMs ?? 30_000 });
  try {
    const results = await Promise.all(
      programs.map(async (p): Promise<[string, Outcome]> => {
        const r = await pool.run('shape.execute', { source: p.source, topology: true, extremaBox: options.extremaBox });
        if (!r.ok) return [p.id, { ok: false, error: { kind: r.error.kind, message: r.error.message, line: r.error.line } }];
        const { volume, bbox, valid, topology, extremaBox } = r.value;
        return [p.id, { ok: true, volume, bbox, valid, ...topology!, ...(extremaBox ? { extremaBox } : {}) }];
      }),
    );
    return new Map(results);
  } finally {
    await pool.close();
  }
}

const VOLUME_REL = 1e-6;
const BBOX_REL = 1e-6;

/** Why ours and CadQuery's outcomes disagree, or undefined when they agree. */
export function disagreement(ours: Outcome, theirs: Outcome): string | undefined {
  if (!ours.ok && !theirs.ok) return undefined;
  if (!ours.ok) return `ours fails (${ours.error.kind}: ${ours.error.message}), CadQuery runs (volume ${theirs.ok ? fmt(theirs.volume) : '?'})`;
  if (!theirs.ok) return `CadQuery fails (${theirs.error.kind}: ${theirs.error.message}), ours runs (volume ${fmt(ours.volume)})`;
  const diffs: string[] = [];
  if (Math.abs(ours.volume - theirs.volume) > VOLUME_REL * Math.max(Math.abs(theirs.volume), 1e-9))
    diffs.push(`volume ${fmt(ours.volume)} vs ${fmt(theirs.volume)}`);
  const box = (name: string, x: number[], y: number[]) => `${name} [${x.map(fmt).join(', ')}] vs [${y.map(fmt).join(', ')}]`;
  if (!boxesAgree(ours.bbox, theirs.bbox)) {
    if (!ours.extremaBox || !theirs.extremaBox) diffs.push(box('bbox', ours.bbox, theirs.bbox));
    else if (!boxesAgree(ours.extremaBox, theirs.extremaBox)) diffs.push(box('extreme points box', ours.extremaBox, theirs.extremaBox));
  }
  for (const k of ['solids', 'faces', 'edges', 'vertices'] as const) if (ours[k] !== theirs[k]) diffs.push(`${k} ${ours[k]} vs ${theirs[k]}`);
  // Ours invalid where CadQuery's is valid is a disagreement. The other way round is not one ours
  // could remove (agreeing would mean making the same broken B-rep): it counts as agreement when
  // everything else agrees, and cadqueryInvalid() names it in the reports.
  if (!ours.valid && theirs.valid) diffs.push(`valid ${ours.valid} vs ${theirs.valid}`);
  return diffs.length ? diffs.join('; ') : undefined;
}

/** Both run, ours is a valid B-rep and CadQuery's is not (BRepCheck_Analyzer). */
export function cadqueryInvalid(ours: Outcome, theirs: Outcome): boolean {
  return ours.ok && theirs.ok && ours.valid && !theirs.valid;
}

/**
 * A disagreeing comparison given all of CadQuery's runs of its program: where those differ among
 * themselves and ours equals one of them, it agrees with that one and keeps them all (cadqueryVaries).
 */
export function settleVarying(c: Comparison, runs: Outcome[]): void {
  const varies = runs.some((a) => runs.some((b) => disagreement(a, b) !== undefined));
  const same = runs.find((t) => disagreement(c.ours, t) === undefined);
  if (varies && same) Object.assign(c, { theirs: same, why: undefined, cadqueryVaries: runs });
}

/** Every coordinate within 1e-6 of CadQuery's box diagonal. */
function boxesAgree(ours: number[], theirs: number[]): boolean {
  const diagonal = Math.hypot(theirs[3] - theirs[0], theirs[4] - theirs[1], theirs[5] - theirs[2]);
  return ours.every((v, i) => Math.abs(v - theirs[i]) <= BBOX_REL * Math.max(diagonal, 1e-9));
}

/** Both run and their AddOptimal boxes differ: the programs whose extreme points decide. */
export function boxesDiffer(ours: Outcome, theirs: Outcome): boolean {
  return ours.ok && theirs.ok && !boxesAgree(ours.bbox, theirs.bbox);
}

function fmt(v: number): string {
  return String(+v.toPrecision(9));
}

export interface Comparison {
  id: string;
  ours: Outcome;
  theirs: Outcome;
  /** Undefined when they agree. */
  why?: string;
  /** CadQuery's differing results over its runs, where they differ and ours is one of them. */
  cadqueryVaries?: Outcome[];
}

export interface Summary {
  programs: number;
  /** CadQuery runs it. */
  cadqueryRuns: number;
  /** Ours runs it. */
  oursRuns: number;
  /** Both run it and agree. */
  bothRunAndAgree: number;
  /** Agree (including both failing). */
  agree: number;
  comparisons: Comparison[];
}

/** Runs both sides (concurrently: CadQuery in its process, ours in the pool) and compares. */
/**
 * CadQuery's own deadline per program. It only guards against a hang: CadQuery is the reference, so it
 * gets far longer than ours. The docs' connector-hole panel (cq-docs/examples-39) takes 16 s alone on
 * one core here, and ran past 30 s in CI while our pool shared the two cores.
 */
export const ORACLE_TIMEOUT_S = 240;
/** CadQuery's further runs of a program that disagrees, to tell a result of its own that varies. */
export const ORACLE_RERUNS = 2;
/**
 * Ours' deadline per program in the differential run: the suite checks agreement, not speed (speed is
 * bench/), and the two sides share the machine's cores, so that one program alone on a core is much
 * faster than here (examples-39 ran past 30 s beside CadQuery).
 */
export const OURS_TIMEOUT_MS = 120_000;

export async function differential(programs: Program[], options: { workers?: number; timeoutMs?: number; oracleTimeoutS?: number } = {}): Promise<Summary> {
  const [theirs, ours] = await Promise.all([
    runOracle(programs, { timeoutS: options.oracleTimeoutS ?? ORACLE_TIMEOUT_S }),
    runOurs(programs, { ...options, timeoutMs: options.timeoutMs ?? OURS_TIMEOUT_MS }),
  ]);
  // Where the AddOptimal boxes differ, both sides measure the box of the extreme points again.
  const recheck = programs.filter((p) => boxesDiffer(ours.get(p.id)!, theirs.get(p.id)!));
  if (recheck.length) {
    const [theirs2, ours2] = await Promise.all([
      runOracle(recheck, { timeoutS: options.oracleTimeoutS ?? ORACLE_TIMEOUT_S, extremaBox: true }),
      runOurs(recheck, { ...options, timeoutMs: options.timeoutMs ?? OURS_TIMEOUT_MS, extremaBox: true }),
    ]);
    for (const p of recheck) {
      const [o, t, o2, t2] = [ours.get(p.id)!, theirs.get(p.id)!, ours2.get(p.id)!, theirs2.get(p.id)!];
      if (o.ok && t.ok && o2.ok && t2.ok) {
        o.extremaBox = o2.extremaBox;
        t.extremaBox = t2.extremaBox;
      }
    }
  }
  const comparisons = programs.map((p): Comparison => {
    const o = ours.get(p.id)!;
    const t = theirs.get(p.id)!;
    return { id: p.id, ours: o, theirs: t, why: disagreement(o, t) };
  });
  const disagreeing = comparisons.filter((c) => c.why);
  if (disagreeing.length) {
    const again = disagreeing.map((c) => ({ id: c.id, source: programs.find((p) => p.id === c.id)!.source }));
    const reruns: Map<string, Outcome>[] = [];
    for (let i = 0; i < ORACLE_RERUNS; i++) reruns.push(await runOracle(again, { timeoutS: options.oracleTimeoutS ?? ORACLE_TIMEOUT_S, extremaBox: true }));
    for (const c of disagreeing) settleVarying(c, [c.theirs, ...reruns.map((r) => r.get(c.id)!)]);
  }
  return {
    programs: programs.length,
    cadqueryRuns: comparisons.filter((c) => c.theirs.ok).length,
    oursRuns: comparisons.filter((c) => c.ours.ok).length,
    bothRunAndAgree: comparisons.filter((c) => c.theirs.ok && c.ours.ok && !c.why).length,
    agree: comparisons.filter((c) => !c.why).length,
    comparisons,
  };
}
