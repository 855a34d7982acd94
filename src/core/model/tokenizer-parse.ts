/**
 * Reads GenCAD-Code text (the CadQuery dialect of the GenCAD dataset) into plain sketches with
 * float coordinates. Only that dialect is accepted; anything else is a CadError('syntax') naming
 * the line, so callers can tell "not a GenCAD program" from a bug.
 */
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

const NUM = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`;
const VEC = String.raw`cq\.Vector\(\s*(${NUM})\s*,\s*(${NUM})\s*,\s*(${NUM})\s*\)`;
const WORKPLANE_RE = new RegExp(String.raw`^(\w+)\s*=\s*cq\.Workplane\(\s*cq\.Plane\(\s*${VEC}\s*,\s*${VEC}\s*,\s*${VEC}\s*\)\s*\)$`);
const LOOP_RE = /^(\w+)\s*=\s*(\w+)\s*((?:\.\s*\w+\s*\(.*\))+)$/;
const EXTRUDE_RE = new RegExp(String.raw`^(\w+)\s*=\s*(\w+)\s*((?:\.add\(\s*\w+\s*\))+)\s*\.extrude\(\s*(${NUM})\s*(,\s*both\s*=\s*True\s*)?\)$`);
const ASSIGN_RE = /^(solid|solid_temp)\s*=\s*(\w+)$/;
const COMBINE_RE = /^(solid|solid_temp)\s*=\s*(solid|solid_temp)\.(union|cut|intersect)\(\s*(\w+)\s*\)$/;

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

/** Splits `.name(args).name(args)…` into calls, respecting nested parentheses. */
function splitCalls(chain: string, line: number): { name: string; args: string }[] {
  const calls: { name: string; args: string }[] = [];
  let i = 0;
  while (i < chain.length) {
    const head = /^\s*\.\s*(\w+)\s*\(/.exec(chain.slice(i));
    if (!head) throw syntax(line, `expected ".method(...)" in "${chain.slice(i, i + 40)}"`);
    i += head[0].length;
    let depth = 1;
    const argStart = i;
    while (i < chain.length && depth > 0) {
      if (chain[i] === '(') depth++;
      else if (chain[i] === ')') depth--;
      i++;
    }
    if (depth !== 0) throw syntax(line, 'unbalanced parentheses');
    calls.push({ name: head[1], args: chain.slice(argStart, i - 1).trim() });
    while (i < chain.length && /\s/.test(chain[i])) i++;
  }
  return calls;
}

function numbers(args: string, count: number, what: string, line: number): number[] {
  const text = args.replace(/[()\s]/g, '');
  const parts = text === '' ? [] : text.split(',');
  const values = parts.map(Number);
  if (values.length !== count || values.some((v, k) => !Number.isFinite(v) || !new RegExp(`^${NUM}$`).test(parts[k]))) {
    throw syntax(line, `${what} expects ${count} numbers, got "${args}"`);
  }
  return values;
}

function parseLoop(chain: string, line: number): ParsedLoop {
  const calls = splitCalls(chain, line);
  let start: Point2 = [0, 0];
  let index = 0;
  if (calls[0]?.name === 'moveTo') {
    const [x, y] = numbers(calls[0].args, 2, 'moveTo', line);
    start = [x, y];
    index = 1;
  }
  if (calls[index]?.name === 'circle') {
    if (index + 1 !== calls.length) throw syntax(line, 'nothing may follow circle(...) in a loop');
    const [radius] = numbers(calls[index].args, 1, 'circle', line);
    if (!(radius > 0)) throw syntax(line, `circle radius must be positive, got ${radius}`);
    return { kind: 'circle', center: start, radius };
  }
  const segments: ParsedSegment[] = [];
  for (; index < calls.length; index++) {
    const { name, args } = calls[index];
    if (name === 'lineTo') {
      const [x, y] = numbers(args, 2, 'lineTo', line);
      segments.push({ kind: 'line', end: [x, y] });
    } else if (name === 'threePointArc') {
      const [mx, my, x, y] = numbers(args, 4, 'threePointArc', line);
      segments.push({ kind: 'arc', mid: [mx, my], end: [x, y] });
    } else if (name === 'close') {
      if (index + 1 !== calls.length) throw syntax(line, 'close() must end the loop');
      if (args !== '') throw syntax(line, 'close() takes no arguments');
      if (segments.length === 0) throw syntax(line, 'a loop needs at least one lineTo/threePointArc before close()');
      return { kind: 'path', start, segments };
    } else {
      throw syntax(line, `"${name}" is not part of the GenCAD loop grammar (moveTo, lineTo, threePointArc, circle, close)`);
    }
  }
  throw syntax(line, 'a loop must end with close() or be moveTo(...).circle(r)');
}

/** Parses GenCAD-Code text into sketches in program order. */
export function parseGenCad(code: string): ParsedSketch[] {
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

  code.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const text = raw.trim();
    if (text === '' || text.startsWith('#') || /^import\s+cadquery\s+as\s+cq$/.test(text)) return;
    let m: RegExpExecArray | null;
    if ((m = WORKPLANE_RE.exec(text))) {
      const v = m.slice(2, 11).map(Number);
      planes.set(m[1], {
        plane: { origin: [v[0], v[1], v[2]], xDir: [v[3], v[4], v[5]], normal: [v[6], v[7], v[8]] },
        line,
      });
      return;
    }
    if ((m = EXTRUDE_RE.exec(text))) {
      const [, name, wp, adds, distanceText, both] = m;
      const plane = planes.get(wp);
      if (!plane) throw syntax(line, `"${wp}" is not a workplane defined earlier`);
      const loopNames = [...adds.matchAll(/\.add\(\s*(\w+)\s*\)/g)].map((a) => a[1]);
      const sketchLoops = loopNames.map((loopName) => {
        const entry = loops.get(loopName);
        if (!entry) throw syntax(line, `"${loopName}" is not a loop defined earlier`);
        if (entry.wp !== wp) throw syntax(line, `"${loopName}" was drawn on ${entry.wp}, not ${wp}`);
        return entry.loop;
      });
      const distance = Number(distanceText);
      if (distance === 0) throw syntax(line, 'extrude distance must not be zero');
      solids.set(name, { wp, plane: plane.plane, loops: sketchLoops, distance, both: both !== undefined, line });
      return;
    }
    if ((m = ASSIGN_RE.exec(text))) {
      const [, target, source] = m;
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
      return;
    }
    if ((m = COMBINE_RE.exec(text))) {
      const [, target, base, op, source] = m;
      if (target !== base) throw syntax(line, `expected ${target}=${target}.${op}(...)`);
      if (target === 'solid_temp') {
        if (!temp) throw syntax(line, '"solid_temp" is used before it is assigned');
        if (op !== 'union') throw syntax(line, 'solid_temp only collects the halves of a two-sided extrude (union)');
        temp.push(solidOperand(source, line));
        return;
      }
      if (result.length === 0) throw syntax(line, '"solid" is combined before it is assigned');
      if (source === 'solid_temp') {
        if (!temp) throw syntax(line, '"solid_temp" is used before it is assigned');
        result.push({ op: op as BooleanOp, operand: { kind: 'group', parts: temp }, line });
        temp = null;
        return;
      }
      const extrusion = solidOperand(source, line);
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
        return;
      }
      result.push({ op: op as BooleanOp, operand: { kind: 'single', extrusion }, line });
      return;
    }
    if ((m = LOOP_RE.exec(text))) {
      const [, name, wp, chain] = m;
      if (!planes.has(wp)) throw syntax(line, `"${wp}" is not a workplane defined earlier`);
      loops.set(name, { wp, loop: parseLoop(chain, line) });
      return;
    }
    throw syntax(line, `not part of the GenCAD-Code grammar: "${text.length > 80 ? `${text.slice(0, 80)}…` : text}"`);
  });

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
