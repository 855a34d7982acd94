/**
 * The quantised GenCAD program: what one token sequence means, and how it prints as CadQuery.
 *
 * GenCAD-Code programs are DeepCAD models written out as CadQuery, and DeepCAD quantises every
 * number on a known grid, so the integer form below loses nothing for such programs:
 *  - plane origins and extrude distances are multiples of 1/128 (DeepCAD: 256 levels on [-1, 1]);
 *  - plane orientation is three Euler angles, multiples of π/128 (DeepCAD's θ, φ, γ);
 *  - each sketch has a size s = m/128 and its coordinates are integers j in units of s/95
 *    (DeepCAD normalises a profile to 95 units around its start point);
 *  - an arc is its end point plus a sweep angle k·2π/256 and a direction; the midpoint that
 *    `threePointArc` needs is derived.
 * Both the decoder and the procedural generator print through `printProgram`, so generated and
 * decoded programs have exactly the GenCAD text format.
 */

export type BooleanOp = 'new' | 'union' | 'cut' | 'intersect';

/** Integer units; see the module comment. */
export type IntPoint = readonly [number, number];

export type QPlane =
  | { readonly kind: 'table'; readonly index: number; readonly origin: readonly [number, number, number] }
  | {
      readonly kind: 'angles';
      /** θ, φ, γ in units of π/128. */
      readonly angles: readonly [number, number, number];
      readonly origin: readonly [number, number, number];
    };

export type QSegment =
  | { readonly kind: 'line'; readonly end: IntPoint }
  | { readonly kind: 'arc'; readonly end: IntPoint /** 1..255, units of 2π/256 */; readonly sweep: number; readonly ccw: boolean };

export type QLoop =
  | { readonly kind: 'circle'; readonly center: IntPoint; readonly radius: number }
  | { readonly kind: 'path'; readonly start: IntPoint; readonly segments: readonly QSegment[] };

export type QExtrude =
  | { readonly kind: 'one'; readonly distance: number }
  | { readonly kind: 'both'; readonly distance: number }
  /** DeepCAD's two-sided extent: GenCAD writes it as two extrusions of the same sketch, unioned. */
  | { readonly kind: 'two'; readonly distance: number; readonly distance2: number };

export interface QSketch {
  readonly op: BooleanOp;
  readonly plane: QPlane;
  /** Sketch size m: one coordinate unit is (m/128)/95. */
  readonly scale: number;
  readonly loops: readonly QLoop[];
  readonly extrude: QExtrude;
}

export interface QProgram {
  readonly sketches: readonly QSketch[];
}

/** Denominator of the DeepCAD position/distance grid. */
export const LINEAR_STEPS = 128;
/** Profile half-size in coordinate units (DeepCAD: 256/2 · 0.75 − 1). */
export const PROFILE_UNITS = 95;
/** Arc sweep steps per full turn. */
export const SWEEP_STEPS = 256;
/** Angle steps per π for plane orientation. */
export const ANGLE_STEPS = 128;

/** A sketch coordinate in model units; one exact division so equal values print identically. */
export function coordinateValue(units: number, scale: number): number {
  return (units * scale) / (LINEAR_STEPS * PROFILE_UNITS);
}

export function linearValue(steps: number): number {
  return steps / LINEAR_STEPS;
}

// ---------------------------------------------------------------------------------------------
// Python float formatting: GenCAD text is Python `repr` of floats.

/** `repr(float(x))` as Python prints it: shortest round-trip digits, "1.0", "1e-05", "-0.0". */
export function pyFloat(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`cannot print non-finite number ${x}`);
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, exponentText] = x.toExponential().split('e');
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  if (exponent < -4 || exponent >= 16) {
    const fraction = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const expSign = exponent < 0 ? '-' : '+';
    return `${sign}${fraction}e${expSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const intDigits = exponent + 1;
  if (digits.length <= intDigits) return `${sign}${digits}${'0'.repeat(intDigits - digits.length)}.0`;
  return `${sign}${digits.slice(0, intDigits)}.${digits.slice(intDigits)}`;
}

// ---------------------------------------------------------------------------------------------
// Plane frames, computed exactly as DeepCAD does (so the text matches GenCAD's, 6.12e-17 included).

export type Vec3 = [number, number, number];

export interface Frame {
  readonly xDir: Vec3;
  readonly normal: Vec3;
}

function rotateByY([x, y, z]: Vec3, angle: number): Vec3 {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return [c * x + 0 * y + s * z, 0 * x + 1 * y + 0 * z, -s * x + 0 * y + c * z];
}

function rotateByZ([x, y, z]: Vec3, angle: number): Vec3 {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return [c * x - s * y + 0 * z, s * x + c * y + 0 * z, 0 * x + 0 * y + 1 * z];
}

export function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

export function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/** DeepCAD's `polar_parameterization_inverse(θ, φ, γ)`; angles in units of π/128. */
export function frameFromAngles(thetaSteps: number, phiSteps: number, gammaSteps: number): Frame {
  const theta = (thetaSteps / ANGLE_STEPS) * Math.PI;
  const phi = (phiSteps / ANGLE_STEPS) * Math.PI;
  const gamma = (gammaSteps / ANGLE_STEPS) * Math.PI;
  const normal: Vec3 = [Math.sin(theta) * Math.cos(phi), Math.sin(theta) * Math.sin(phi), Math.cos(theta)];
  const refX = rotateByZ(rotateByY([1, 0, 0], theta), phi);
  const refY = cross(normal, refX);
  const xDir: Vec3 = [
    refX[0] * Math.cos(gamma) + refY[0] * Math.sin(gamma),
    refX[1] * Math.cos(gamma) + refY[1] * Math.sin(gamma),
    refX[2] * Math.cos(gamma) + refY[2] * Math.sin(gamma),
  ];
  return { xDir, normal };
}

export interface AxisPlane {
  /** Canonical DeepCAD angles (units of π/128) whose frame is printed for this orientation. */
  readonly angles: readonly [number, number, number];
  readonly frame: Frame;
  /** Readable token name, e.g. "PLANE_N+Z_X+X". */
  readonly name: string;
}

function axisName(v: Vec3): string {
  const i = v.findIndex((c) => Math.abs(c) > 0.5);
  return `${v[i] > 0 ? '+' : '-'}${'XYZ'[i]}`;
}

/**
 * The 24 axis-aligned orientations, each with the first DeepCAD angle triple (in a fixed search
 * order that starts with the triples GenCAD data uses) that produces it. Fixed by this code, so
 * token order is stable.
 */
export const AXIS_PLANES: readonly AxisPlane[] = (() => {
  const thetas = [0, 64, 128];
  const phis = [0, -64, 64, 128];
  const gammas = [0, 64, -64, 128];
  const out: AxisPlane[] = [];
  const seen = new Set<string>();
  for (const t of thetas)
    for (const p of phis)
      for (const g of gammas) {
        const frame = frameFromAngles(t, p, g);
        const name = `PLANE_N${axisName(frame.normal)}_X${axisName(frame.xDir)}`;
        if (seen.has(name)) continue;
        seen.add(name);
        out.push({ angles: [t, p, g], frame, name });
      }
  // The GenCAD data's four common planes first, in order of frequency, then the rest.
  const preferred = ['PLANE_N+Z_X+X', 'PLANE_N-Y_X+X', 'PLANE_N+X_X+Y', 'PLANE_N+Y_X-X'];
  out.sort((a, b) => rank(a.name) - rank(b.name));
  function rank(name: string): number {
    const i = preferred.indexOf(name);
    return i >= 0 ? i : preferred.length;
  }
  if (out.length !== 24) throw new Error(`internal: expected 24 axis planes, found ${out.length}`);
  return out;
})();

export function planeFrame(plane: QPlane): Frame {
  if (plane.kind === 'table') return AXIS_PLANES[plane.index].frame;
  return frameFromAngles(plane.angles[0], plane.angles[1], plane.angles[2]);
}

// ---------------------------------------------------------------------------------------------
// Arcs: derive the `threePointArc` midpoint from the chord and the sweep.

export type Point2 = readonly [number, number];

/** The point halfway along the arc from `start` to `end` that sweeps `sweepRadians` (0, 2π). */
export function arcMidpoint(start: Point2, end: Point2, sweepRadians: number, ccw: boolean): Point2 {
  const cx = end[0] - start[0];
  const cy = end[1] - start[1];
  const chord = Math.hypot(cx, cy);
  const half = sweepRadians / 2;
  const radius = chord / 2 / Math.sin(half);
  const sagitta = radius * (1 - Math.cos(half));
  // Left normal of the chord; a counter-clockwise arc bulges to the right of its chord.
  const nx = -cy / chord;
  const ny = cx / chord;
  const side = ccw ? -1 : 1;
  return [(start[0] + end[0]) / 2 + side * nx * sagitta, (start[1] + end[1]) / 2 + side * ny * sagitta];
}

/**
 * Sweep (radians, in (0, 2π)) and direction of the circular arc through start, mid, end;
 * null when the three points are (nearly) collinear or coincide.
 */
export function arcSweep(start: Point2, mid: Point2, end: Point2): { sweep: number; ccw: boolean } | null {
  const [ax, ay] = start;
  const [bx, by] = mid;
  const [cx, cy] = end;
  const d = 2 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by));
  const scale = Math.max(Math.hypot(bx - ax, by - ay), Math.hypot(cx - bx, cy - by), Math.hypot(cx - ax, cy - ay));
  if (!(scale > 0) || Math.abs(d) <= 1e-12 * scale * scale) return null;
  const a2 = ax * ax + ay * ay;
  const b2 = bx * bx + by * by;
  const c2 = cx * cx + cy * cy;
  const ux = (a2 * (by - cy) + b2 * (cy - ay) + c2 * (ay - by)) / d;
  const uy = (a2 * (cx - bx) + b2 * (ax - cx) + c2 * (bx - ax)) / d;
  const turn = 2 * Math.PI;
  const a0 = Math.atan2(ay - uy, ax - ux);
  const a1 = Math.atan2(by - uy, bx - ux);
  const a3 = Math.atan2(cy - uy, cx - ux);
  const toMid = (((a1 - a0) % turn) + turn) % turn;
  const toEnd = (((a3 - a0) % turn) + turn) % turn;
  const ccw = toMid < toEnd;
  const sweep = ccw ? toEnd : turn - toEnd;
  return { sweep, ccw };
}

// ---------------------------------------------------------------------------------------------
// Printing: the exact GenCAD-Code text layout.

function vector(v: readonly number[]): string {
  return `cq.Vector(${v.map(pyFloat).join(', ')})`;
}

function pointText(p: IntPoint, scale: number): string {
  return `${pyFloat(coordinateValue(p[0], scale))}, ${pyFloat(coordinateValue(p[1], scale))}`;
}

export function loopChain(loop: QLoop, scale: number): string {
  if (loop.kind === 'circle') {
    return `.moveTo(${pointText(loop.center, scale)}).circle(${pyFloat(coordinateValue(loop.radius, scale))})`;
  }
  let text = `.moveTo(${pointText(loop.start, scale)})`;
  let current: Point2 = [coordinateValue(loop.start[0], scale), coordinateValue(loop.start[1], scale)];
  for (const segment of loop.segments) {
    const end: Point2 = [coordinateValue(segment.end[0], scale), coordinateValue(segment.end[1], scale)];
    if (segment.kind === 'line') {
      text += `.lineTo(${pointText(segment.end, scale)})`;
    } else {
      const mid = arcMidpoint(current, end, (segment.sweep / SWEEP_STEPS) * 2 * Math.PI, segment.ccw);
      text += `.threePointArc((${pyFloat(mid[0])}, ${pyFloat(mid[1])}), (${pointText(segment.end, scale)}))`;
    }
    current = end;
  }
  return `${text}.close()`;
}

function extrudeCall(distance: number, both: boolean): string {
  return both ? `.extrude(${pyFloat(linearValue(distance))}, both=True)` : `.extrude(${pyFloat(linearValue(distance))})`;
}

/** The GenCAD-Code text of a quantised program (result variable `solid`). */
export function printProgram(program: QProgram): string {
  const lines = ['import cadquery as cq'];
  let loopCounter = 0;
  program.sketches.forEach((sketch, index) => {
    const wp = `wp_sketch${index}`;
    const solid = `solid${index}`;
    const frame = planeFrame(sketch.plane);
    const origin = sketch.plane.origin.map(linearValue);
    const wpLine = `${wp} = cq.Workplane(cq.Plane(${vector(origin)}, ${vector(frame.xDir)}, ${vector(frame.normal)}))`;
    const loopNames = sketch.loops.map(() => `loop${loopCounter++}`);
    const loopLines = sketch.loops.map((loop, i) => `${loopNames[i]}=${wp}${loopChain(loop, sketch.scale)}`);
    const adds = loopNames.map((name) => `.add(${name})`).join('');
    const extrusion = (distance: number, both: boolean) => `${solid}=${wp}${adds}${extrudeCall(distance, both)}`;
    lines.push(`# Generating a workplane for sketch ${index}`, wpLine, ...loopLines);
    const { extrude } = sketch;
    const combine = (operand: string) => (sketch.op === 'new' ? `solid=${operand}` : `solid=solid.${sketch.op}(${operand})`);
    if (extrude.kind !== 'two') {
      lines.push(extrusion(extrude.distance, extrude.kind === 'both'), combine(solid));
    } else if (sketch.op === 'new') {
      lines.push(extrusion(extrude.distance, false), `solid=${solid}`, wpLine, ...loopLines);
      lines.push(extrusion(extrude.distance2, false), `solid=solid.union(${solid})`);
    } else {
      lines.push(extrusion(extrude.distance, false), `solid_temp=${solid}`, wpLine, ...loopLines);
      lines.push(extrusion(extrude.distance2, false), `solid_temp=solid_temp.union(${solid})`, combine('solid_temp'));
    }
  });
  return `${lines.join('\n')}\n`;
}
