/**
 * `cadquery.selectors`: CadQuery's selector classes (selectors.py) as Python objects wrapping a
 * selector function — AreaNthSelector, LengthNthSelector, RadiusNthSelector, CenterNthSelector,
 * DirectionMinMaxSelector, DirectionNthSelector, Parallel/Perpendicular/DirectionSelector,
 * TypeSelector, NearestToPointSelector, BoxSelector, StringSyntaxSelector and the combinators
 * (And/Sum/Subtract/InverseSelector, and the operators & + - and unary -). Workplane.faces(sel),
 * Shape.edges(sel) and Sketch selections take them as they take selector strings.
 */
import { Edge, Face, Shell, Solid, Vertex, Wire, type AnyShape } from 'replicad';
import { CadError } from '../../errors';
import {
  bindArgs,
  builtin,
  expectBool,
  expectNumber,
  expectString,
  hostModule,
  typeName,
  type BinaryOperator,
  type HostObject,
  type Kwargs,
  type Value,
} from '../values';
import { areaOf, boundsOf, centerOf, lengthOf, occ } from './geom';
import { centerNth, GEOM_TYPES, nthSelector, parallelTo, parseSelector, perpendicularTo, sameDirection, typeSelector, type Selector } from './selectors';
import { facesOfWires } from './shape-ops';
import { toVec3 } from './vec';

export class SelectorObj implements HostObject {
  readonly kind = 'host';
  constructor(
    readonly typeName: string,
    readonly selector: Selector,
  ) {}

  getAttr(name: string): Value | undefined {
    if (name === 'filter')
      return builtin(`${this.typeName}.filter`, () => {
        throw new CadError('unsupported', `${this.typeName}.filter() is not supported yet: pass the selector to faces(), edges() …`);
      });
    return undefined;
  }

  binaryOp(op: BinaryOperator, other: Value, reflected: boolean): Value | undefined {
    if (!(other instanceof SelectorObj)) return undefined;
    const [l, r] = reflected ? [other.selector, this.selector] : [this.selector, other.selector];
    if (op === '&') return new SelectorObj('AndSelector', andSel(l, r));
    if (op === '+') return new SelectorObj('SumSelector', sumSel(l, r));
    if (op === '-') return new SelectorObj('SubtractSelector', subSel(l, r));
    return undefined;
  }
}

const has = (list: AnyShape[], s: AnyShape) => list.some((x) => x.isSame(s));
const andSel =
  (l: Selector, r: Selector): Selector =>
  (objs) => {
    const b = r(objs);
    return l(objs).filter((o) => has(b, o));
  };
const sumSel =
  (l: Selector, r: Selector): Selector =>
  (objs) => {
    const a = l(objs);
    return [...a, ...r(objs).filter((o) => !has(a, o))];
  };
const subSel =
  (l: Selector, r: Selector): Selector =>
  (objs) => {
    const b = r(objs);
    return l(objs).filter((o) => !has(b, o));
  };
const notSel =
  (s: Selector): Selector =>
  (objs) => {
    const b = s(objs);
    return objs.filter((o) => !has(b, o));
  };

/** A selector argument: a SelectorObj or a selector string. */
export function selectorOf(method: string, v: Value | undefined): Selector {
  if (v instanceof SelectorObj) return v.selector;
  if (typeof v === 'string') {
    try {
      return parseSelector(v);
    } catch (e) {
      if (e instanceof CadError) throw new CadError(e.kind, `${method}(): ${e.message}`);
      throw e;
    }
  }
  throw new CadError('runtime', `${method}(): expected a selector or a selector string, not ${v === undefined ? 'nothing' : typeName(v)}`);
}

function areaKey(o: AnyShape): number | undefined {
  if (o instanceof Face || o instanceof Shell || o instanceof Solid) return areaOf(o);
  if (o instanceof Wire) {
    try {
      return Math.abs(areaOf(facesOfWires('AreaNthSelector', [o])[0]));
    } catch {
      return undefined; // not a closed planar wire: dropped, as CadQuery's ValueError does
    }
  }
  return undefined;
}

function radiusKey(o: AnyShape): number | undefined {
  if (!(o instanceof Edge)) return undefined;
  if ((o.geomType as string) !== 'CIRCLE') return undefined;
  return occ('RadiusNthSelector', (oc, keep) => keep(keep(new oc.BRepAdaptor_Curve(o.wrapped)).Circle()).Radius());
}

type Ctor = (args: Value[], kwargs: Kwargs) => SelectorObj;

const nthArgs = (name: string, a: Value[], k: Kwargs, vector: boolean) => {
  const b = bindArgs(name, vector ? ['vector', 'n', 'directionMax=', 'tolerance='] : ['n', 'directionMax=', 'tolerance='], a, k);
  return {
    vector: vector ? toVec3(name, 'vector', b.vector) : undefined,
    n: expectNumber(name, 'n', b.n),
    max: expectBool(name, 'directionMax', b.directionMax, true),
    tol: b.tolerance === undefined ? 1e-4 : expectNumber(name, 'tolerance', b.tolerance),
  };
};

const dirArgs = (name: string, a: Value[], k: Kwargs) => {
  const b = bindArgs(name, ['vector', 'tolerance='], a, k);
  return { d: toVec3(name, 'vector', b.vector), tol: b.tolerance === undefined ? 1e-4 : expectNumber(name, 'tolerance', b.tolerance) };
};

const CLASSES: Record<string, Ctor> = {
  AreaNthSelector: (a, k) => {
    const o = nthArgs('AreaNthSelector', a, k, false);
    return new SelectorObj('AreaNthSelector', nthSelector(areaKey, o.n, o.max, o.tol));
  },
  LengthNthSelector: (a, k) => {
    const o = nthArgs('LengthNthSelector', a, k, false);
    return new SelectorObj(
      'LengthNthSelector',
      nthSelector((s) => (s instanceof Edge || s instanceof Wire ? lengthOf(s) : undefined), o.n, o.max, o.tol),
    );
  },
  RadiusNthSelector: (a, k) => {
    const o = nthArgs('RadiusNthSelector', a, k, false);
    return new SelectorObj('RadiusNthSelector', nthSelector(radiusKey, o.n, o.max, o.tol));
  },
  CenterNthSelector: (a, k) => {
    const o = nthArgs('CenterNthSelector', a, k, true);
    return new SelectorObj('CenterNthSelector', centerNth(o.vector!, o.n, o.max, false, o.tol));
  },
  DirectionNthSelector: (a, k) => {
    const o = nthArgs('DirectionNthSelector', a, k, true);
    return new SelectorObj('DirectionNthSelector', centerNth(o.vector!, o.n, o.max, true, o.tol));
  },
  DirectionMinMaxSelector: (a, k) => {
    const b = bindArgs('DirectionMinMaxSelector', ['vector', 'directionMax=', 'tolerance='], a, k);
    const tol = b.tolerance === undefined ? 1e-4 : expectNumber('DirectionMinMaxSelector', 'tolerance', b.tolerance);
    const d = toVec3('DirectionMinMaxSelector', 'vector', b.vector);
    return new SelectorObj(
      'DirectionMinMaxSelector',
      centerNth(d, -1, expectBool('DirectionMinMaxSelector', 'directionMax', b.directionMax, true), false, tol),
    );
  },
  ParallelDirSelector: (a, k) => {
    const { d, tol } = dirArgs('ParallelDirSelector', a, k);
    return new SelectorObj('ParallelDirSelector', parallelTo(d, tol));
  },
  PerpendicularDirSelector: (a, k) => {
    const { d, tol } = dirArgs('PerpendicularDirSelector', a, k);
    return new SelectorObj('PerpendicularDirSelector', perpendicularTo(d, tol));
  },
  DirectionSelector: (a, k) => {
    const { d, tol } = dirArgs('DirectionSelector', a, k);
    return new SelectorObj('DirectionSelector', sameDirection(d, tol));
  },
  TypeSelector: (a, k) => {
    const t = expectString('TypeSelector', 'typeString', bindArgs('TypeSelector', ['typeString'], a, k).typeString).toUpperCase();
    if (!GEOM_TYPES.has(t)) throw new CadError('runtime', `TypeSelector(): unknown geometry type '${t}'`);
    return new SelectorObj('TypeSelector', typeSelector(t));
  },
  NearestToPointSelector: (a, k) => {
    const p = toVec3('NearestToPointSelector', 'pnt', bindArgs('NearestToPointSelector', ['pnt'], a, k).pnt);
    return new SelectorObj('NearestToPointSelector', (objs) => {
      let best: AnyShape | undefined;
      let bestD = Infinity;
      for (const o of objs) {
        const d = (o instanceof Vertex ? centerOf(o) : centerOf(o)).distance(p);
        if (d < bestD) {
          bestD = d;
          best = o;
        }
      }
      return best ? [best] : [];
    });
  },
  BoxSelector: (a, k) => {
    const b = bindArgs('BoxSelector', ['point0', 'point1', 'boundingbox='], a, k);
    const p0 = toVec3('BoxSelector', 'point0', b.point0);
    const p1 = toVec3('BoxSelector', 'point1', b.point1);
    const byBox = expectBool('BoxSelector', 'boundingbox', b.boundingbox, false);
    const inside = (p: { x: number; y: number; z: number }) => p.x < p0.x !== p.x < p1.x && p.y < p0.y !== p.y < p1.y && p.z < p0.z !== p.z < p1.z;
    return new SelectorObj('BoxSelector', (objs) =>
      objs.filter((o) => {
        if (!byBox) return inside(centerOf(o));
        const bb = boundsOf(o);
        return inside(bb.min) && inside(bb.max);
      }),
    );
  },
  StringSyntaxSelector: (a, k) => {
    const s = expectString('StringSyntaxSelector', 'selectorString', bindArgs('StringSyntaxSelector', ['selectorString'], a, k).selectorString);
    return new SelectorObj('StringSyntaxSelector', selectorOf('StringSyntaxSelector', s));
  },
  AndSelector: (a, k) => {
    const b = bindArgs('AndSelector', ['left', 'right'], a, k);
    return new SelectorObj('AndSelector', andSel(selectorOf('AndSelector', b.left), selectorOf('AndSelector', b.right)));
  },
  SumSelector: (a, k) => {
    const b = bindArgs('SumSelector', ['left', 'right'], a, k);
    return new SelectorObj('SumSelector', sumSel(selectorOf('SumSelector', b.left), selectorOf('SumSelector', b.right)));
  },
  SubtractSelector: (a, k) => {
    const b = bindArgs('SubtractSelector', ['left', 'right'], a, k);
    return new SelectorObj('SubtractSelector', subSel(selectorOf('SubtractSelector', b.left), selectorOf('SubtractSelector', b.right)));
  },
  InverseSelector: (a, k) => {
    const b = bindArgs('InverseSelector', ['selector'], a, k);
    return new SelectorObj('InverseSelector', notSel(selectorOf('InverseSelector', b.selector)));
  },
};

/** The `cadquery.selectors` module (also `cq.selectors`; the classes are also on `cq` itself). */
export function createSelectorsModule(): HostObject {
  const attrs: Record<string, Value> = {};
  for (const [name, ctor] of Object.entries(CLASSES)) attrs[name] = builtin(name, ctor);
  attrs.NearestToShapeSelector = builtin('NearestToShapeSelector', () => {
    throw new CadError('unsupported', 'cadquery.selectors.NearestToShapeSelector is not supported yet');
  });
  return hostModule('module', attrs);
}
