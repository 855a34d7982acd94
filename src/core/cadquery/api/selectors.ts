/**
 * CadQuery's string selectors (selectors.py): ">Z", "<X[1]", ">>Y[-2]", "|Z", "#Z", "+X", "-Y",
 * "%CIRCLE", named views, "(1,0,0)" directions, combined with and / or / exc[ept] / not and
 * parentheses (precedence, tightest first: and, or, exc, not).
 */
import { Edge, Face, Vertex, type AnyShape } from 'replicad';
import { CadError } from '../../errors';
import { centerOf, edgeGeomType, edgeTangent, faceGeomType, faceNormal } from './geom';
import { Vec3 } from './vec';

const TOLERANCE = 0.0001;

export type Selector = (objects: AnyShape[]) => AnyShape[];

const AXES: Record<string, Vec3> = {
  X: new Vec3(1, 0, 0),
  Y: new Vec3(0, 1, 0),
  Z: new Vec3(0, 0, 1),
  XY: new Vec3(1, 1, 0),
  YZ: new Vec3(0, 1, 1),
  XZ: new Vec3(1, 0, 1),
};

const NAMED_VIEWS: Record<string, [Vec3, boolean]> = {
  front: [new Vec3(0, 0, 1), true],
  back: [new Vec3(0, 0, 1), false],
  left: [new Vec3(1, 0, 0), false],
  right: [new Vec3(1, 0, 0), true],
  top: [new Vec3(0, 1, 0), true],
  bottom: [new Vec3(0, 1, 0), false],
};

const GEOM_TYPES = new Set([
  'PLANE',
  'CYLINDER',
  'CONE',
  'SPHERE',
  'TORUS',
  'BEZIER',
  'BSPLINE',
  'REVOLUTION',
  'EXTRUSION',
  'OFFSET',
  'OTHER',
  'LINE',
  'CIRCLE',
  'ELLIPSE',
  'HYPERBOLA',
  'PARABOLA',
]);

// ---- tokenizer ------------------------------------------------------------------------------

type Token = { t: 'op' | 'word' | 'num' | 'punct'; v: string; at: number };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '>>' || two === '<<') {
      out.push({ t: 'op', v: two, at: i });
      i += 2;
      continue;
    }
    if ('<>|#%'.includes(c)) {
      out.push({ t: 'op', v: c, at: i });
      i++;
      continue;
    }
    if ('()[],'.includes(c)) {
      out.push({ t: 'punct', v: c, at: i });
      i++;
      continue;
    }
    // + and - are direction operators, or signs inside numbers (after '(' ',' '[').
    if (c === '+' || c === '-') {
      const prev = out[out.length - 1];
      const inNumber = prev && prev.t === 'punct' && '(,['.includes(prev.v) && /[0-9.]/.test(src[i + 1] ?? '');
      if (!inNumber) {
        out.push({ t: 'op', v: c, at: i });
        i++;
        continue;
      }
    }
    const num = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i));
    if (num && /[0-9.+-]/.test(c)) {
      out.push({ t: 'num', v: num[0], at: i });
      i += num[0].length;
      continue;
    }
    const word = /^[A-Za-z_]\w*/.exec(src.slice(i));
    if (word) {
      out.push({ t: 'word', v: word[0], at: i });
      i += word[0].length;
      continue;
    }
    throw selectorError(src, `unexpected character '${c}' at position ${i + 1}`);
  }
  return out;
}

function selectorError(src: string, why: string): CadError {
  return new CadError('geometry', `invalid selector "${src}": ${why}`);
}

// ---- parser ---------------------------------------------------------------------------------

/** Parses a CadQuery selector string; throws a CadError naming the problem when it doesn't parse. */
export function parseSelector(src: string): Selector {
  const tokens = tokenize(src);
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => tokens[pos++];
  const isWord = (w: string) => peek()?.t === 'word' && peek()!.v === w;
  const expectPunct = (v: string) => {
    const t = next();
    if (t?.t !== 'punct' || t.v !== v) throw selectorError(src, `expected '${v}'${t ? ` at position ${t.at + 1}` : ' at the end'}`);
  };

  function notLevel(): Selector {
    if (isWord('not')) {
      next();
      const inner = notLevel();
      return (objs) => {
        const drop = new Set(inner(objs));
        return objs.filter((o) => !drop.has(o));
      };
    }
    return excLevel();
  }
  function excLevel(): Selector {
    let left = orLevel();
    while (isWord('exc') || isWord('except')) {
      next();
      const l = left;
      const right = orLevel();
      left = (objs) => {
        const drop = new Set(right(objs));
        return l(objs).filter((o) => !drop.has(o));
      };
    }
    return left;
  }
  function orLevel(): Selector {
    let left = andLevel();
    while (isWord('or')) {
      next();
      const l = left;
      const right = andLevel();
      left = (objs) => {
        const picked = new Set([...l(objs), ...right(objs)]);
        return objs.filter((o) => picked.has(o));
      };
    }
    return left;
  }
  function andLevel(): Selector {
    let left = atom();
    while (isWord('and')) {
      next();
      const l = left;
      const right = atom();
      left = (objs) => {
        const r = new Set(right(objs));
        return l(objs).filter((o) => r.has(o));
      };
    }
    return left;
  }
  function atom(): Selector {
    const t = peek();
    if (!t) throw selectorError(src, 'unexpected end');
    if (t.t === 'punct' && t.v === '(') {
      // "(x, y, z)" direction or a parenthesised expression
      if (tokens[pos + 1]?.t === 'num') return directionOnly(direction());
      next();
      const inner = notLevel();
      expectPunct(')');
      return inner;
    }
    if (t.t === 'op') {
      next();
      switch (t.v) {
        case '%': {
          const w = next();
          if (w?.t !== 'word') throw selectorError(src, "expected a geometry type after '%'");
          const type = w.v.toUpperCase();
          if (!GEOM_TYPES.has(type)) throw selectorError(src, `unknown geometry type '${w.v}'`);
          return typeSelector(type);
        }
        case '>':
        case '<':
        case '>>':
        case '<<': {
          const d = direction();
          const max = t.v[0] === '>';
          const index = optionalIndex();
          if (t.v.length === 1) return index === undefined ? centerNth(d, -1, max, false) : centerNth(d, index, max, true);
          return centerNth(d, index ?? -1, max, false);
        }
        case '|':
          return parallelTo(direction());
        case '#':
          return perpendicularTo(direction());
        case '+':
          return directionOnly(direction());
        case '-':
          return directionOnly(direction().scale(-1));
      }
    }
    if (t.t === 'word' && NAMED_VIEWS[t.v]) {
      next();
      const [d, max] = NAMED_VIEWS[t.v];
      return centerNth(d, -1, max, false);
    }
    if (t.t === 'word' && AXES[t.v]) return directionOnly(direction());
    throw selectorError(src, `unexpected '${t.v}' at position ${t.at + 1}`);
  }
  function direction(): Vec3 {
    const t = next();
    if (!t) throw selectorError(src, 'expected a direction (X, Y, Z, XY, XZ, YZ or (x,y,z))');
    if (t.t === 'word' && AXES[t.v]) return AXES[t.v];
    if (t.t === 'punct' && t.v === '(') {
      const nums: number[] = [];
      for (let k = 0; k < 3; k++) {
        const n = next();
        if (n?.t !== 'num') throw selectorError(src, 'a direction vector needs three numbers');
        nums.push(Number(n.v));
        if (k < 2) expectPunct(',');
      }
      expectPunct(')');
      return new Vec3(nums[0], nums[1], nums[2]);
    }
    throw selectorError(src, `expected a direction (X, Y, Z, XY, XZ, YZ or (x,y,z)) at position ${t.at + 1}`);
  }
  function optionalIndex(): number | undefined {
    if (!(peek()?.t === 'punct' && peek()!.v === '[')) return undefined;
    next();
    let sign = 1;
    if (peek()?.t === 'op' && peek()!.v === '-') {
      next();
      sign = -1;
    }
    const n = next();
    if (n?.t !== 'num' || !/^[+-]?\d+$/.test(n.v)) throw selectorError(src, 'an index must be an integer');
    expectPunct(']');
    return sign * Number(n.v);
  }

  const result = notLevel();
  if (pos < tokens.length) throw selectorError(src, `unexpected '${tokens[pos].v}' at position ${tokens[pos].at + 1}`);
  return result;
}

// ---- selector semantics ---------------------------------------------------------------------

/** The direction a face or edge "points": a planar face's normal, a line's tangent; else none. */
function testVector(o: AnyShape): Vec3 | undefined {
  if (o instanceof Face) return faceGeomType(o) === 'PLANE' ? faceNormal(o) : undefined;
  if (o instanceof Edge) return edgeGeomType(o) === 'LINE' ? edgeTangent(o) : undefined;
  return undefined;
}

function dirSelector(d: Vec3, test: (v: Vec3, d: Vec3) => boolean): Selector {
  return (objs) =>
    objs.filter((o) => {
      const v = testVector(o);
      return v !== undefined && test(v, d);
    });
}

function directionOnly(d: Vec3): Selector {
  return sameDirection(d);
}

function typeSelector(type: string): Selector {
  return (objs) => objs.filter((o) => (o instanceof Face ? faceGeomType(o) === type : o instanceof Edge ? edgeGeomType(o) === type : false));
}

function centerKey(o: AnyShape, d: Vec3): number {
  const c = o instanceof Vertex ? centerOf(o) : centerOf(o);
  return c.dot(d);
}

/**
 * CadQuery's _NthSelector: sort by `key` (objects without one are dropped), cluster keys within
 * the tolerance, pick cluster `n` (ascending when `max`, else descending; negative n from the end).
 */
export function nthSelector(key: (o: AnyShape) => number | undefined, n: number, max: boolean, tolerance = TOLERANCE): Selector {
  return (objs) => {
    if (objs.length === 0) throw new CadError('geometry', 'selector: cannot take the Nth element of an empty list');
    const keyed: { o: AnyShape; k: number }[] = [];
    for (const o of objs) {
      const k = key(o);
      if (k !== undefined) keyed.push({ o, k });
    }
    keyed.sort((a, b) => a.k - b.k);
    const clusters: AnyShape[][] = [];
    let start = Number.NaN;
    for (const { o, k } of keyed) {
      if (clusters.length && Math.abs(k - start) <= tolerance) clusters[clusters.length - 1].push(o);
      else {
        clusters.push([o]);
        start = k;
      }
    }
    if (!max) clusters.reverse();
    const idx = n < 0 ? clusters.length + n : n;
    if (idx < 0 || idx >= clusters.length) {
      throw new CadError('geometry', `selector index ${n} is out of range: only ${clusters.length} group${clusters.length === 1 ? '' : 's'} to choose from`);
    }
    return clusters[idx];
  };
}

/**
 * Sort by the centre's projection on `d` (CadQuery's CenterNthSelector).
 * `parallelOnly` is DirectionNthSelector's pre-filter (planar faces / linear edges parallel to d).
 */
export function centerNth(d: Vec3, n: number, max: boolean, parallelOnly: boolean, tolerance = TOLERANCE): Selector {
  const nth = nthSelector((o) => centerKey(o, d), n, max, tolerance);
  return (objs) => {
    const list = parallelOnly ? parallelTo(d, tolerance)(objs) : objs;
    return nth(list);
  };
}

/** ParallelDirSelector: planar faces whose normal, linear edges whose direction is parallel to d. */
export function parallelTo(d: Vec3, tolerance = TOLERANCE): Selector {
  return dirSelector(d, (v, dd) => dd.cross(v).length < tolerance);
}

/** PerpendicularDirSelector. */
export function perpendicularTo(d: Vec3, tolerance = TOLERANCE): Selector {
  return dirSelector(d, (v, dd) => Math.abs(dd.angle(v) - Math.PI / 2) < tolerance);
}

/** DirectionSelector: pointing the same way as d. */
export function sameDirection(d: Vec3, tolerance = TOLERANCE): Selector {
  return dirSelector(d, (v, dd) => dd.angle(v) < tolerance);
}

export { typeSelector, GEOM_TYPES };
