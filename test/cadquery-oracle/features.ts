/**
 * Generated programs beyond the GenCAD style (sketch + extrude): a seeded grammar of the Workplane
 * operations people write by hand — primitives, holes (plain, counterbored, countersunk) on
 * selected faces, pushed/rectangular/polar point arrays, fillets and chamfers of selected edges,
 * shells, tapers, both-way and blind cuts, revolves, mirrors, booleans of placed primitives. Each
 * program is a plain CadQuery script; real CadQuery is the oracle (see differential.test.ts and
 * report.ts --features N). Sizes are kept clear of degenerate cases (a fillet smaller than the
 * thinnest wall it touches), so a failure on either side is worth reading.
 */
import { mulberry32 } from '../../src/core/model/synthetic';
import type { Program } from './oracle';

type Rng = () => number;

const fmt = (x: number): string => String(Math.round(x * 100) / 100);
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
const uniform = (rng: Rng, a: number, b: number): number => a + (b - a) * rng();

interface Part {
  lines: string[];
  /** Smallest dimension of the base part: bounds every feature size. */
  t: number;
  /** Half extents of the base part in x and y (features are placed inside them). */
  hx: number;
  hy: number;
}

function base(rng: Rng): Part {
  const kind = pick(rng, [
    'box',
    'box',
    'cylinder',
    'extrude-rect',
    'polygon',
    'slot',
    'polyline',
    'revolve',
    'loft',
    'sweep',
    'twist',
    'ellipse',
    'spline',
    'sketch',
  ] as const);
  const l = uniform(rng, 20, 60);
  const w = uniform(rng, 15, 50);
  const h = uniform(rng, 6, 25);
  switch (kind) {
    case 'box':
      return { lines: [`result = cq.Workplane("XY").box(${fmt(l)}, ${fmt(w)}, ${fmt(h)})`], t: Math.min(l, w, h), hx: l / 2, hy: w / 2 };
    case 'cylinder': {
      const r = w / 2;
      return { lines: [`result = cq.Workplane("XY").cylinder(${fmt(h)}, ${fmt(r)})`], t: Math.min(2 * r, h), hx: r * 0.6, hy: r * 0.6 };
    }
    case 'extrude-rect':
      return { lines: [`result = cq.Workplane("XY").rect(${fmt(l)}, ${fmt(w)}).extrude(${fmt(h)})`], t: Math.min(l, w, h), hx: l / 2, hy: w / 2 };
    case 'polygon': {
      const n = pick(rng, [5, 6, 8]);
      return { lines: [`result = cq.Workplane("XY").polygon(${n}, ${fmt(l)}).extrude(${fmt(h)})`], t: Math.min(l * 0.7, h), hx: l * 0.3, hy: l * 0.3 };
    }
    case 'slot':
      return {
        lines: [`result = cq.Workplane("XY").slot2D(${fmt(l + w)}, ${fmt(w)}).extrude(${fmt(h)})`],
        t: Math.min(w, h),
        hx: l / 2,
        hy: w / 3,
      };
    case 'polyline': {
      // An L or a U profile: reflex corners.
      const a = l / 2;
      const b = w / 2;
      const c = uniform(rng, 0.3, 0.6);
      const pts =
        rng() < 0.5
          ? [
              [-a, -b],
              [a, -b],
              [a, -b + 2 * b * c],
              [-a + 2 * a * c, -b + 2 * b * c],
              [-a + 2 * a * c, b],
              [-a, b],
            ]
          : [
              [-a, -b],
              [a, -b],
              [a, b],
              [a - 2 * a * c * 0.5, b],
              [a - 2 * a * c * 0.5, -b + 2 * b * c],
              [-a + 2 * a * c * 0.5, -b + 2 * b * c],
              [-a + 2 * a * c * 0.5, b],
              [-a, b],
            ];
      const list = pts.map(([x, y]) => `(${fmt(x)}, ${fmt(y)})`).join(', ');
      return {
        lines: [`result = cq.Workplane("XY").polyline([${list}]).close().extrude(${fmt(h)})`],
        t: Math.min(2 * b * c, 2 * a * c * 0.5, h),
        hx: a * c * 0.5,
        hy: b * c * 0.5,
      };
    }
    case 'loft': {
      const r = Math.min(l, w) / 3;
      return {
        lines: [
          `result = cq.Workplane("XY").rect(${fmt(l)}, ${fmt(w)}).workplane(offset=${fmt(h)}).${rng() < 0.5 ? `circle(${fmt(r)})` : `rect(${fmt(l / 2)}, ${fmt(w / 2)})`}.loft(${rng() < 0.3 ? 'ruled=True' : ''})`,
        ],
        t: Math.min(r, h),
        hx: r * 0.5,
        hy: r * 0.5,
      };
    }
    case 'sweep': {
      const r = Math.min(w, h) / 4;
      const path =
        rng() < 0.5
          ? `cq.Workplane("XZ").threePointArc((${fmt(l / 2)}, ${fmt(l / 4)}), (${fmt(l)}, 0))`
          : `cq.Workplane("XZ").polyline([(0, 0), (0, ${fmt(h)}), (${fmt(l / 2)}, ${fmt(h * 1.5)})])`;
      const section = rng() < 0.5 ? `circle(${fmt(r)})` : `rect(${fmt(2 * r)}, ${fmt(1.5 * r)})`;
      return {
        lines: [
          `path = ${path}`,
          `result = cq.Workplane("XY").${section}.sweep(path${path.includes('polyline') ? `, transition="${pick(rng, ['right', 'round'])}"` : ''})`,
        ],
        t: r,
        hx: 0,
        hy: 0,
      };
    }
    case 'twist':
      return {
        lines: [`result = cq.Workplane("XY").rect(${fmt(l)}, ${fmt(w)}).twistExtrude(${fmt(h)}, ${pick(rng, [15, 30, 45])})`],
        t: Math.min(l, w, h),
        hx: 0,
        hy: 0,
      };
    case 'ellipse':
      return { lines: [`result = cq.Workplane("XY").ellipse(${fmt(l / 2)}, ${fmt(w / 2)}).extrude(${fmt(h)})`], t: Math.min(w, h), hx: l / 4, hy: w / 4 };
    case 'spline': {
      const a = l / 2;
      const b = w / 2;
      return {
        lines: [
          `result = cq.Workplane("XY").moveTo(${fmt(-a)}, ${fmt(-b)}).lineTo(${fmt(a)}, ${fmt(-b)}).spline([(${fmt(a * 0.8)}, 0), (${fmt(a)}, ${fmt(b)})], includeCurrent=True).lineTo(${fmt(-a)}, ${fmt(b)}).close().extrude(${fmt(h)})`,
        ],
        t: Math.min(l, w, h) * 0.8,
        hx: a * 0.5,
        hy: b * 0.5,
      };
    }
    case 'sketch': {
      const r = Math.min(l, w) * uniform(rng, 0.05, 0.15);
      const body =
        rng() < 0.5
          ? `cq.Sketch().rect(${fmt(l)}, ${fmt(w)}).vertices().fillet(${fmt(r)})`
          : `cq.Sketch().rect(${fmt(l)}, ${fmt(w)}).push([(0, 0)]).circle(${fmt(r * 2)}, mode="s").reset().vertices().chamfer(${fmt(r)})`;
      return { lines: [`result = cq.Workplane("XY").placeSketch(${body}).extrude(${fmt(h)})`], t: Math.min(l, w, h), hx: l / 2 - 2 * r, hy: w / 2 - 2 * r };
    }
    case 'revolve': {
      const r1 = w / 2;
      const r0 = r1 * uniform(rng, 0.2, 0.5);
      const pts = [
        [r0, 0],
        [r1, 0],
        [r1, h * 0.4],
        [r1 * 0.7, h * 0.6],
        [r1 * 0.7, h],
        [r0, h],
      ];
      const list = pts.map(([x, y]) => `(${fmt(x)}, ${fmt(y)})`).join(', ');
      const deg = pick(rng, [360, 360, 180, 270]);
      return {
        lines: [`result = cq.Workplane("XZ").polyline([${list}]).close().revolve(${deg}, (0, 0, 0), (0, 1, 0))`],
        t: Math.min(r1 - r0, h * 0.4),
        hx: 0,
        hy: 0,
      };
    }
  }
}

const FACE_SELECTORS = ['">Z"', '"<Z"', '">X"', '"<Y"'] as const;

function feature(rng: Rng, p: Part): string[] {
  const t = p.t;
  const d = Math.max(1, t * uniform(rng, 0.15, 0.3));
  const sel = pick(rng, FACE_SELECTORS);
  const onTop = sel === '">Z"' || sel === '"<Z"';
  const ox = onTop ? uniform(rng, -p.hx, p.hx) * 0.4 : 0;
  const oy = onTop ? uniform(rng, -p.hy, p.hy) * 0.4 : 0;
  const wp = `result = result.faces(${sel}).workplane(centerOption="CenterOfBoundBox")`;
  const kind = pick(rng, [
    'hole',
    'cbore',
    'csk',
    'pocket',
    'boss',
    'rarray',
    'polar',
    'fillet',
    'chamfer',
    'shell',
    'taper',
    'both',
    'union',
    'cut',
    'mirror',
    'thru',
    'transformed',
    'offset2D',
    'chamfer2',
    'sketchcut',
    'split',
    'intersect',
    'slotcut',
    'index',
    'untilnext',
    'tagged',
    'rotate',
    'notselector',
    'cutboth',
    'shellarc',
    'eachpoint',
    'revolvecut',
  ] as const);
  switch (kind) {
    case 'hole':
      return [`${wp}.center(${fmt(ox)}, ${fmt(oy)}).hole(${fmt(d)}${rng() < 0.5 ? `, ${fmt(t * 0.5)}` : ''})`];
    case 'cbore':
      return [`${wp}.center(${fmt(ox)}, ${fmt(oy)}).cboreHole(${fmt(d)}, ${fmt(d * 1.6)}, ${fmt(t * 0.15)})`];
    case 'csk':
      return [`${wp}.center(${fmt(ox)}, ${fmt(oy)}).cskHole(${fmt(d)}, ${fmt(d * 1.8)}, ${pick(rng, [82, 90, 100])})`];
    case 'pocket':
      return [`${wp}.center(${fmt(ox)}, ${fmt(oy)}).rect(${fmt(d * 1.5)}, ${fmt(d)}).cutBlind(-${fmt(t * 0.3)})`];
    case 'boss':
      return [`${wp}.center(${fmt(ox)}, ${fmt(oy)}).circle(${fmt(d / 2)}).extrude(${fmt(t * 0.3)})`];
    case 'rarray':
      return [`${wp}.rarray(${fmt(d * 1.8)}, ${fmt(d * 1.8)}, 2, 2).hole(${fmt(d * 0.5)}, ${fmt(t * 0.4)})`];
    case 'polar':
      return [`${wp}.polarArray(${fmt(d * 1.5)}, ${pick(rng, [0, 15, 30])}, 360, ${pick(rng, [3, 4, 6])}).hole(${fmt(d * 0.4)}, ${fmt(t * 0.4)})`];
    case 'fillet':
      return [`result = result.edges(${pick(rng, ['"|Z"', '">Z"', '"<Z"', '"#Z"'])}).fillet(${fmt(t * uniform(rng, 0.04, 0.1))})`];
    case 'chamfer':
      return [`result = result.edges(${pick(rng, ['"|Z"', '">Z"', '"<Z"'])}).chamfer(${fmt(t * uniform(rng, 0.04, 0.1))})`];
    case 'shell':
      return [`result = result.faces(${pick(rng, ['">Z"', '"<Z"'])}).shell(${rng() < 0.7 ? '-' : ''}${fmt(t * uniform(rng, 0.06, 0.12))})`];
    case 'taper':
      return [`${wp}.center(${fmt(ox)}, ${fmt(oy)}).rect(${fmt(d * 1.4)}, ${fmt(d)}).extrude(${fmt(t * 0.4)}, taper=${pick(rng, [5, 10, -5])})`];
    case 'both':
      return [
        `result = result.union(cq.Workplane("XZ").center(${fmt(ox)}, ${fmt(t * 0.3)}).circle(${fmt(d / 2)}).extrude(${fmt(p.hy + t * 0.2)}, both=True), clean=True)`,
      ];
    case 'union':
      return [
        `result = result.union(cq.Workplane("XY").box(${fmt(d * 2)}, ${fmt(d)}, ${fmt(t * 0.8)}).translate((${fmt(p.hx)}, ${fmt(ox)}, ${fmt(t * 0.3)})))`,
      ];
    case 'cut':
      return [`result = result.cut(cq.Workplane("XY").sphere(${fmt(d)}).translate((${fmt(ox)}, ${fmt(oy)}, ${fmt(t * 0.5)})))`];
    case 'mirror':
      return [`result = result.union(result.translate((${fmt(p.hx * 0.5 + 1)}, 0, 0)).mirror("YZ"))`];
    case 'transformed':
      return [`${wp}.transformed(rotate=(0, 0, ${pick(rng, [30, 45, 60])})).rect(${fmt(d * 1.5)}, ${fmt(d)}).cutBlind(-${fmt(t * 0.3)})`];
    case 'offset2D':
      return [
        `${wp}.center(${fmt(ox)}, ${fmt(oy)}).rect(${fmt(d * 1.2)}, ${fmt(d)}).offset2D(${fmt(d * 0.2)}${rng() < 0.5 ? ', "intersection"' : ''}).extrude(${fmt(t * 0.3)})`,
      ];
    case 'chamfer2':
      return [`result = result.edges(${pick(rng, ['">Z"', '"<Z"'])}).chamfer(${fmt(t * 0.08)}, ${fmt(t * 0.05)})`];
    case 'sketchcut':
      return [
        `${wp}.center(${fmt(ox)}, ${fmt(oy)}).sketch().${pick(rng, [`slot(${fmt(d * 2)}, ${fmt(d)})`, `regularPolygon(${fmt(d)}, ${pick(rng, [3, 5, 6])})`, `trapezoid(${fmt(d * 2)}, ${fmt(d)}, 70)`])}.finalize().cutBlind(-${fmt(t * 0.3)})`,
      ];
    case 'split':
      return [`result = result.faces(">Z").workplane(-${fmt(t * 0.3)}).split(keepBottom=True)`];
    case 'intersect':
      return [`result = result.intersect(cq.Workplane("XY").sphere(${fmt(Math.max(p.hx, p.hy, t) * 1.2)}))`];
    case 'slotcut':
      return [`${wp}.center(${fmt(ox)}, ${fmt(oy)}).slot2D(${fmt(d * 2.5)}, ${fmt(d)}, ${pick(rng, [0, 30, 90])}).cutBlind(-${fmt(t * 0.3)})`];
    case 'index':
      return [`result = result.faces(">Z[-2]").workplane(centerOption="CenterOfMass").hole(${fmt(d * 0.5)}, ${fmt(t * 0.3)})`];
    case 'untilnext':
      return [
        `result = result.faces("<Z").workplane(centerOption="CenterOfBoundBox", invert=True).center(${fmt(ox)}, ${fmt(oy)}).circle(${fmt(d / 2)}).extrude("next", combine="cut")`,
      ];
    case 'tagged':
      return [
        `result = result.faces(">Z").tag("top").end().faces("<Z").workplane(centerOption="CenterOfBoundBox").circle(${fmt(d / 2)}).cutBlind(-${fmt(t * 0.2)})`,
        `result = result.workplaneFromTagged("top").center(${fmt(ox)}, ${fmt(oy)}).rect(${fmt(d)}, ${fmt(d)}).cutBlind(-${fmt(t * 0.2)})`,
      ];
    case 'rotate':
      return [`result = result.union(result.rotate((0, 0, 0), (0, 0, 1), ${pick(rng, [45, 90, 30])}).translate((${fmt(d)}, 0, 0)))`];
    case 'notselector':
      return [`result = result.edges("not(<Z or >Z)").${pick(rng, ['fillet', 'chamfer'])}(${fmt(t * 0.05)})`];
    case 'cutboth':
      return [
        `result = result.faces(">Z").workplane(-${fmt(t * 0.5)}).center(${fmt(ox)}, ${fmt(oy)}).rect(${fmt(d)}, ${fmt(d * 0.8)}).cutBlind(${fmt(t * 0.2)}, both=True)`,
      ];
    case 'shellarc':
      return [`result = result.faces(">Z").shell(-${fmt(t * 0.08)}, kind="${pick(rng, ['arc', 'intersection'])}")`];
    case 'eachpoint':
      return [
        `result = result.faces(">Z").workplane(centerOption="CenterOfBoundBox").rarray(${fmt(d * 2)}, ${fmt(d * 2)}, 2, 1).eachpoint(lambda loc: cq.Solid.makeBox(${fmt(d / 2)}, ${fmt(d / 2)}, ${fmt(d / 2)}).moved(loc), combine="a")`,
      ];
    case 'revolvecut':
      return [
        `result = result.cut(cq.Workplane("XZ").center(${fmt(p.hx * 0.5)}, ${fmt(t * 0.5)}).circle(${fmt(d / 2)}).revolve(360, (-${fmt(p.hx * 0.5)}, 0, 0), (-${fmt(p.hx * 0.5)}, 1, 0)))`,
      ];
    case 'thru':
      return [`${wp}.center(${fmt(ox)}, ${fmt(oy)}).${pick(rng, ['slot2D', 'rect'])}(${fmt(d * 2)}, ${fmt(d)}).cutThruAll()`];
  }
}

export function generateFeatureProgram(rng: Rng): string {
  const p = base(rng);
  const lines = ['import cadquery as cq', ...p.lines];
  const n = 1 + Math.floor(rng() * 3);
  for (let i = 0; i < n; i++) lines.push(...feature(rng, p));
  return `${lines.join('\n')}\n`;
}

export function featurePrograms(count: number, seed = 1): Program[] {
  const rng = mulberry32(seed * 7919 + 17);
  return Array.from({ length: count }, (_, i) => ({ id: `features/${seed}-${i}`, source: generateFeatureProgram(rng) }));
}
