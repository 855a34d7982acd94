/**
 * The values a CadQuery program computes with. The interpreter owns the Python semantics; the
 * CadQuery API (Workplane, Sketch, Vector …) plugs in as host objects.
 *
 * Python ints and floats are both JS numbers; bool is a JS boolean; None is null.
 */
import { CadError } from '../errors';

export type Value = number | string | boolean | null | PyList | PyTuple | PyDict | Callable | HostObject;

export class PyList {
  constructor(public items: Value[]) {}
}

export class PyTuple {
  constructor(readonly items: readonly Value[]) {}
}

export type DictKey = number | string | boolean | null;

export class PyDict {
  readonly entries = new Map<DictKey, Value>();
}

/** Keyword arguments, in call order. */
export type Kwargs = Record<string, Value>;

/** Anything callable from Python: builtins, bound host methods, user `def`s. */
export interface Callable {
  readonly kind: 'callable';
  readonly name: string;
  call(args: Value[], kwargs: Kwargs): Value;
  /** A callable with attributes, as a class is (`cq.Plane(...)` and `cq.Plane.XY()`). */
  getAttr?(name: string): Value | undefined;
  /** `Class.name = value` (a CadQuery plugin added to `cq.Workplane`); absent when read-only. */
  setAttr?(name: string, value: Value): void;
  /** Positional parameters without a default (Python's co_argcount − defaults), when known. */
  readonly arity?: number;
}

export function builtin(name: string, fn: (args: Value[], kwargs: Kwargs) => Value): Callable {
  return { kind: 'callable', name, call: fn };
}

/**
 * An object implemented in TypeScript (a module, a Workplane, a Vector). Attribute access goes
 * through `getAttr`; operators through `binaryOp` when present.
 */
export interface HostObject {
  readonly kind: 'host';
  /** The Python type name, for error messages ("'Workplane' object has no attribute 'foo'"). */
  readonly typeName: string;
  getAttr(name: string): Value | undefined;
  /** `self OP other` (or `other OP self` when `reflected`); undefined when unsupported. */
  binaryOp?(op: BinaryOperator, other: Value, reflected: boolean): Value | undefined;
  /** `obj.name = value`; absent when the object's attributes are read-only. */
  setAttr?(name: string, value: Value): void;
  /** `self[a:b:c]`: given a function from the length to the indices picked. */
  sliceItems?(pick: (length: number) => number[]): Value;
}

export type BinaryOperator = '+' | '-' | '*' | '/' | '//' | '%' | '**' | '&' | '|' | '^';

export function isCallable(v: Value): v is Callable {
  return typeof v === 'object' && v !== null && (v as Callable).kind === 'callable';
}

export function isHost(v: Value): v is HostObject {
  return typeof v === 'object' && v !== null && (v as HostObject).kind === 'host';
}

export function typeName(v: Value): string {
  if (v === null) return 'NoneType';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof PyList) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyDict) return 'dict';
  if (isCallable(v)) return 'function';
  return v.typeName;
}

/** A host object built from a table of methods; `self` is bound at lookup. */
export function hostModule(typeName: string, attrs: Record<string, Value>): HostObject {
  return {
    kind: 'host',
    typeName,
    getAttr: (name) => (Object.hasOwn(attrs, name) ? attrs[name] : undefined),
  };
}

// ---- Argument binding for host functions -------------------------------------------------

/**
 * Binds Python call arguments to a signature like `['length', 'width', 'height', 'centered=']`:
 * a trailing `=` marks an optional parameter, `*` ends the positional ones (CadQuery's keyword-
 * only arguments). Errors read like Python's.
 */
export function bindArgs(fname: string, params: readonly string[], args: readonly Value[], kwargs: Kwargs): Record<string, Value | undefined> {
  const bound: Record<string, Value | undefined> = {};
  const names: string[] = [];
  const required = new Set<string>();
  let positionalCount = Infinity;
  for (const p of params) {
    if (p === '*') {
      positionalCount = names.length;
      continue;
    }
    const optional = p.endsWith('=');
    const name = optional ? p.slice(0, -1) : p;
    names.push(name);
    if (!optional) required.add(name);
  }
  const maxPositional = Math.min(positionalCount, names.length);
  if (args.length > maxPositional) {
    throw new CadError('runtime', `${fname}() takes at most ${maxPositional} positional argument${maxPositional === 1 ? '' : 's'} (${args.length} given)`);
  }
  args.forEach((a, i) => {
    bound[names[i]] = a;
  });
  for (const [k, v] of Object.entries(kwargs)) {
    if (!names.includes(k)) throw new CadError('runtime', `${fname}() got an unexpected keyword argument '${k}'`);
    if (bound[k] !== undefined) throw new CadError('runtime', `${fname}() got multiple values for argument '${k}'`);
    bound[k] = v;
  }
  for (const r of required) {
    if (bound[r] === undefined) throw new CadError('runtime', `${fname}() missing required argument '${r}'`);
  }
  return bound;
}

export function expectNumber(fname: string, arg: string, v: Value | undefined): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new CadError('runtime', `${fname}(): '${arg}' must be a number, not ${v === undefined ? 'missing' : typeName(v)}`);
}

export function expectString(fname: string, arg: string, v: Value | undefined): string {
  if (typeof v === 'string') return v;
  throw new CadError('runtime', `${fname}(): '${arg}' must be a string, not ${v === undefined ? 'missing' : typeName(v)}`);
}

export function expectBool(fname: string, arg: string, v: Value | undefined, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (v === null) return false;
  throw new CadError('runtime', `${fname}(): '${arg}' must be a bool, not ${typeName(v)}`);
}

/** Items of a list or tuple, or undefined when `v` is neither. */
export function sequenceItems(v: Value | undefined): readonly Value[] | undefined {
  if (v instanceof PyList || v instanceof PyTuple) return v.items;
  // A host that is a sequence of values (a numpy array: its rows).
  const seq = v !== undefined && isHost(v) ? (v as { asSequence?: () => Value[] }).asSequence : undefined;
  if (typeof seq === 'function') return seq.call(v);
  return undefined;
}
