/**
 * Reads GenCAD-Code text (the CadQuery dialect of the GenCAD dataset) into plain sketches with
 * float coordinates. The text is parsed by the interpreter's own Python parser (cadquery/parse.ts,
 * lezer), and the statements are matched against the dialect's few shapes; anything else is a
 * CadError('syntax') naming the line, so callers can tell "not a GenCAD program" from a bug.
 */
import type * as A from '../cadquery/ast';
import { parseProgram } from '../cadquery/parse';
import { CadError } from '../errors';
import type { BooleanOp, Point2, Vec3 } from './tokenizer-ir';

export type ParsedSegment = { kind: 'line'; end: Point2 } | { kind: 'arc'; mid: Point2; end: Point2 };

export type ParsedLoop = { kind: 'circle'; center: Point2; radius: number } | { kind: 'path'; start: Point2; segments: ParsedSegment[] };

export interface ParsedPlane {
  origin: Vec3;
  xDir: Vec3;
  normal: Vec3;
}

export type ParsedExtrude = { kind: 'one'; distance: number } | { kind: 'both'; distance: number } | { kind: 'two'; distance: number; distance2: number };

export interface ParsedSketch {
  op: BooleanOp;
  plane: ParsedPlane;
  loops: ParsedLoop[];
  extrude: ParsedExtrude;
  /** 1-based line of the sketch's workplane, for error messages. */
  line: number;
}

function syntax(line: number, message: string): CadError {
  return new CadError('syntax', `line ${line}: ${message}`, line);
}

interface Extrusion {
  wp: string;
  plane: ParsedPlane;
  loops: ParsedLoop[];
  distance: number;
  both: boolean;
  line: number;
}

type Operand = { kind: 'single'; extrusion: Extrusion } | { kind: 'group'; parts: Extrusion[] };

/** One call of a method chain: `.name(args, keywords)`. */
interface ChainCall {
  name: string;
  args: A.Expr[];
  keywords: A.Keyword[];
}

/** `root.a(…).b(…)…` as its root and its calls in order; undefined when it is not such a chain. */
function methodChain(e: A.Expr): { root: A.Expr; calls: ChainCall[] } | undefined {
  const calls: ChainCall[] = [];
  let node = e;
  while (node.type === 'Call' && node.func.type === 'Attribute') {
    calls.unshift({ name: node.func.name, args: node.args, keywords: node.keywords });
    node = node.func.object;
  }
  return calls.length ? { root: node, calls } : undefined;
}

function nameOf(e: A.Expr | undefined): string | undefined {
  return e?.type === 'Name' ? e.id : undefined;
}

/** A number literal, with an optional sign. */
function numberOf(e: A.Expr): number | undefined {
  if (e.type === 'Number') return e.value;
  if (e.type === 'UnaryOp' && (e.op === '-' || e.op === '+') && e.operand.type === 'Number') return e.op === '-' ? -e.operand.value : e.operand.value;
  return undefined;
}

/** The call's numbers, tuples flattened: GenCAD writes `threePointArc((x1, y1), (x2, y2))`. */
function numbers(call: ChainCall, count: number, what: string, line: number): number[] {
  const values = call.args.flatMap((a) => (a.type === 'Tuple' ? a.items : [a])).map(numberOf);
  if (call.keywords.length || values.length !== count || values.some((v) => v === undefined || !Number.isFinite(v))) {
    throw syntax(line, `${what} expects ${count} numbers`);
  }
  return values as number[];
}

/** `cq.Name(…)` */
function cqCall(e: A.Expr, name: string): A.Call | undefined {
  return e.type === 'Call' && e.func.type === 'Attribute' && e.func.name === name && nameOf(e.func.object) === 'cq' && e.keywords.length === 0 ? e : undefined;
}

/** cq.Workplane(cq.Plane(cq.Vector(…), cq.Vector(…), cq.Vector(…))) */
function workplanePlane(e: A.Expr, line: number): ParsedPlane | undefined {
  const plane = cqCall(e, 'Workplane')?.args;
  const inner = plane?.length === 1 ? cqCall(plane[0], 'Plane') : undefined;
  if (!inner) return undefined;
  const vectors = inner.args.map((v) => cqCall(v, 'Vector'));
  if (vectors.length !== 3 || vectors.some((v) => !v)) throw syntax(line, 'cq.Plane takes three cq.Vector(x, y, z)');
  const [origin, xDir, normal] = vectors.map((v) => numbers({ name: 'Vector', args: v!.args, keywords: [] }, 3, 'cq.Vector', line) as Vec3);
  return { origin, xDir, normal };
}

function parseLoop(calls: ChainCall[], line: number): ParsedLoop {
  let start: Point2 = [0, 0];
  let index = 0;
  if (calls[0]?.name === 'moveTo') {
    const [x, y] = numbers(calls[0], 2, 'moveTo', line);
    start = [x, y];
    index = 1;
  }
  if (calls[index]?.name === 'circle') {
    if (index + 1 !== calls.length) throw syntax(line, 'nothing may follow circle(...) in a loop');
    const [radius] = numbers(calls[index], 1, 'circle', line);
    if (!(radius > 0)) throw syntax(line, `circle radius must be positive, got ${radius}`);
    return { kind: 'circle', center: start, radius };
  }
  const segments: ParsedSegment[] = [];
  for (; index < calls.length; index++) {
    const call = calls[index];
    if (call.name === 'lineTo') {
      const [x, y] = numbers(call, 2, 'lineTo', line);
      segments.push({ kind: 'line', end: [x, y] });
    } else if (call.name === 'threePointArc') {
      const [mx, my, x, y] = numbers(call, 4, 'threePointArc', line);
      segments.push({ kind: 'arc', mid: [mx, my], end: [x, y] });
    } else if (call.name === 'close') {
      if (index + 1 !== calls.length) throw syntax(line, 'close() must end the loop');
      if (call.args.length || call.keywords.length) throw syntax(line, 'close() takes no arguments');
      if (segments.length === 0) throw syntax(line, 'a loop needs at least one lineTo/threePointArc before close()');
      return { kind: 'path', start, segments };
    } else {
      throw syntax(line, `"${call.name}" is not part of the GenCAD loop grammar (moveTo, lineTo, threePointArc, circle, close)`);
    }
  }
  throw syntax(line, 'a loop must end with close() or be moveTo(...).circle(r)');
}

/** `wp.add(l0).add(l1)….extrude(d[, both=True])`: the loops' names, the distance, two-sidedness. */
function extrusionOf(calls: ChainCall[], line: number): { loops: string[]; distance: number; both: boolean } | undefined {
  const last = calls[calls.length - 1];
  if (last.name !== 'extrude' || calls.length < 2) return undefined;
  const adds = calls.slice(0, -1);
  if (adds.some((c) => c.name !== 'add' || c.keywords.length || c.args.length !== 1 || !nameOf(c.args[0]))) return undefined;
  const both =
    last.keywords.length === 1 && last.keywords[0].name === 'both' && last.keywords[0].value.type === 'Constant' && last.keywords[0].value.value === true;
  if (last.keywords.length !== (both ? 1 : 0) || last.args.length !== 1) throw syntax(line, 'extrude takes a distance and optionally both=True');
  const distance = numberOf(last.args[0]);
  if (distance === undefined) throw syntax(line, 'extrude expects 1 numbers');
  return { loops: adds.map((c) => nameOf(c.args[0])!), distance, both };
}

function isImportCadQuery(stmt: A.Stmt): boolean {
  return stmt.type === 'Import' && stmt.names.length === 1 && stmt.names[0].name === 'cadquery' && stmt.names[0].asName === 'cq';
}

/** Parses GenCAD-Code text into sketches in program order. */
export function parseGenCad(code: string): ParsedSketch[] {
  let program: A.Program;
  try {
    program = parseProgram(code);
  } catch (e) {
    if (e instanceof CadError) throw syntax(e.line ?? 1, e.message.replace(/^line \d+(:\d+)?: /, ''));
    throw e;
  }
  const sourceLines = code.split(/\r?\n/);
  const planes = new Map<string, { plane: ParsedPlane; line: number }>();
  const loops = new Map<string, { wp: string; loop: ParsedLoop }>();
  const solids = new Map<string, Extrusion>();
  const result: { op: BooleanOp; operand: Operand; line: number }[] = [];
  let temp: Extrusion[] | null = null;

  const solidOperand = (name: string, line: number): Extrusion => {
    const extrusion = solids.get(name);
    if (!extrusion) throw syntax(line, `"${name}" is not an extruded solid defined earlier`);
    return extrusion;
  };
  const notGenCad = (line: number): CadError => {
    const text = (sourceLines[line - 1] ?? '').trim();
    return syntax(line, `not part of the GenCAD-Code grammar: "${text.length > 80 ? `${text.slice(0, 80)}…` : text}"`);
  };

  for (const stmt of program.body) {
    const line = stmt.line;
    if (isImportCadQuery(stmt)) continue;
    if (stmt.type !== 'Assign' || stmt.targets.length !== 1 || !nameOf(stmt.targets[0])) throw notGenCad(line);
    const target = nameOf(stmt.targets[0])!;
    const value = stmt.value;

    const plane = workplanePlane(value, line);
    if (plane) {
      planes.set(target, { plane, line });
      continue;
    }
    const source = nameOf(value);
    if (source !== undefined) {
      if (target !== 'solid' && target !== 'solid_temp') throw notGenCad(line);
      if (target === 'solid_temp') {
        temp = [solidOperand(source, line)];
      } else if (source === 'solid_temp') {
        if (!temp) throw syntax(line, '"solid_temp" is used before it is assigned');
        if (result.length > 0) throw syntax(line, '"solid" is reassigned; combine with union/cut/intersect instead');
        result.push({ op: 'new', operand: { kind: 'group', parts: temp }, line });
        temp = null;
      } else {
        if (result.length > 0) throw syntax(line, '"solid" is reassigned; combine with union/cut/intersect instead');
        result.push({ op: 'new', operand: { kind: 'single', extrusion: solidOperand(source, line) }, line });
      }
      continue;
    }
    const chain = methodChain(value);
    const root = nameOf(chain?.root);
    if (!chain || root === undefined) throw notGenCad(line);
    const combine = chain.calls.length === 1 && ['union', 'cut', 'intersect'].includes(chain.calls[0].name) ? chain.calls[0] : undefined;
    if (combine && (target === 'solid' || target === 'solid_temp') && (root === 'solid' || root === 'solid_temp')) {
      const op = combine.name as BooleanOp;
      const operand = combine.args.length === 1 && combine.keywords.length === 0 ? nameOf(combine.args[0]) : undefined;
      if (operand === undefined) throw notGenCad(line);
      if (target !== root) throw syntax(line, `expected ${target}=${target}.${op}(...)`);
      if (target === 'solid_temp') {
        if (!temp) throw syntax(line, '"solid_temp" is used before it is assigned');
        if (op !== 'union') throw syntax(line, 'solid_temp only collects the halves of a two-sided extrude (union)');
        temp.push(solidOperand(operand, line));
        continue;
      }
      if (result.length === 0) throw syntax(line, '"solid" is combined before it is assigned');
      if (operand === 'solid_temp') {
        if (!temp) throw syntax(line, '"solid_temp" is used before it is assigned');
        result.push({ op, operand: { kind: 'group', parts: temp }, line });
        temp = null;
        continue;
      }
      const extrusion = solidOperand(operand, line);
      const previous = result[result.length - 1];
      // GenCAD writes a two-sided first sketch as: solid=solid0, redefine wp_sketch0, solid=solid.union(solid0).
      if (
        op === 'union' &&
        result.length === 1 &&
        previous.operand.kind === 'single' &&
        previous.operand.extrusion.wp === extrusion.wp &&
        previous.operand.extrusion !== extrusion
      ) {
        previous.operand = { kind: 'group', parts: [previous.operand.extrusion, extrusion] };
        continue;
      }
      result.push({ op, operand: { kind: 'single', extrusion }, line });
      continue;
    }
    const extrusion = extrusionOf(chain.calls, line);
    if (extrusion) {
      const wpPlane = planes.get(root);
      if (!wpPlane) throw syntax(line, `"${root}" is not a workplane defined earlier`);
      const sketchLoops = extrusion.loops.map((loopName) => {
        const entry = loops.get(loopName);
        if (!entry) throw syntax(line, `"${loopName}" is not a loop defined earlier`);
        if (entry.wp !== root) throw syntax(line, `"${loopName}" was drawn on ${entry.wp}, not ${root}`);
        return entry.loop;
      });
      if (extrusion.distance === 0) throw syntax(line, 'extrude distance must not be zero');
      solids.set(target, { wp: root, plane: wpPlane.plane, loops: sketchLoops, distance: extrusion.distance, both: extrusion.both, line });
      continue;
    }
    if (!planes.has(root)) throw syntax(line, `"${root}" is not a workplane defined earlier`);
    loops.set(target, { wp: root, loop: parseLoop(chain.calls, line) });
  }

  if (result.length === 0) throw new CadError('syntax', 'the program never assigns "solid"');
  return result.map(({ op, operand, line }) => toSketch(op, operand, line));
}

function toSketch(op: BooleanOp, operand: Operand, line: number): ParsedSketch {
  if (operand.kind === 'single') {
    const e = operand.extrusion;
    return {
      op,
      plane: e.plane,
      loops: e.loops,
      extrude: e.both ? { kind: 'both', distance: e.distance } : { kind: 'one', distance: e.distance },
      line: e.line,
    };
  }
  const parts = operand.parts;
  if (parts.length !== 2) {
    throw syntax(line, `a two-sided extrude joins exactly two extrusions, found ${parts.length}`);
  }
  const [a, b] = parts;
  if (a.both || b.both) throw syntax(b.line, 'a two-sided extrude is two one-sided extrusions, not both=True');
  if (a.wp !== b.wp || !samePlane(a.plane, b.plane) || !sameLoops(a.loops, b.loops)) {
    throw syntax(b.line, 'the two halves of a two-sided extrude must repeat the same workplane and loops');
  }
  return { op, plane: a.plane, loops: a.loops, extrude: { kind: 'two', distance: a.distance, distance2: b.distance }, line: a.line };
}

const SAME = 1e-9;

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) <= SAME);
}

function samePlane(a: ParsedPlane, b: ParsedPlane): boolean {
  return sameNumbers([...a.origin, ...a.xDir, ...a.normal], [...b.origin, ...b.xDir, ...b.normal]);
}

function loopNumbers(loop: ParsedLoop): number[] {
  if (loop.kind === 'circle') return [0, ...loop.center, loop.radius];
  return [1, ...loop.start, ...loop.segments.flatMap((s) => (s.kind === 'line' ? [0, ...s.end] : [1, ...s.mid, ...s.end]))];
}

function sameLoops(a: readonly ParsedLoop[], b: readonly ParsedLoop[]): boolean {
  return a.length === b.length && a.every((loop, i) => sameNumbers(loopNumbers(loop), loopNumbers(b[i])));
}
