/**
 * Python's `set` and `frozenset` for the interpreter: `{a, b}`, `{x for x in …}`, `set(…)`,
 * `frozenset(…)`, membership, len, iteration (in insertion order: CPython's order is by hash, which
 * programs should not rely on), the operators | & - ^ and comparisons, and the methods programs use.
 * Members must be hashable as in Python (no lists, dicts or sets); equality is Python's (1 == 1.0 == True).
 */
import { CadError } from '../errors';
import { iterate, pyEquals, pyRepr } from './pybuiltins';
import { builtin, PyDict, PyList, PyTuple, typeName, type BinaryOperator, type HostObject, type Value } from './values';

function checkHashable(v: Value): void {
  if (v instanceof PyList || v instanceof PyDict || v instanceof PySet) throw new CadError('runtime', `unhashable type: '${typeName(v)}'`);
  if (v instanceof PyTuple) for (const item of v.items) checkHashable(item);
}

export class PySet implements HostObject {
  readonly kind = 'host';
  readonly items: Value[] = [];
  constructor(
    values: Iterable<Value> = [],
    readonly frozen = false,
  ) {
    for (const v of values) this.addItem(v);
  }

  get typeName(): string {
    return this.frozen ? 'frozenset' : 'set';
  }

  has(v: Value): boolean {
    return this.items.some((x) => pyEquals(x, v));
  }

  private addItem(v: Value): void {
    checkHashable(v);
    if (!this.has(v)) this.items.push(v);
  }

  private mutable(method: string): void {
    if (this.frozen) throw new CadError('runtime', `'frozenset' object has no attribute '${method}'`);
  }

  private make(values: Iterable<Value>): PySet {
    return new PySet(values, this.frozen);
  }

  private static of(v: Value, method: string): PySet {
    if (v instanceof PySet) return v;
    try {
      return new PySet(iterate(v));
    } catch {
      throw new CadError('runtime', `${method}(): '${typeName(v)}' object is not iterable`);
    }
  }

  union(others: Value[]): PySet {
    const out = this.make(this.items);
    for (const o of others) for (const v of PySet.of(o, 'union').items) out.addItem(v);
    return out;
  }

  intersection(others: Value[]): PySet {
    const sets = others.map((o) => PySet.of(o, 'intersection'));
    return this.make(this.items.filter((v) => sets.every((s) => s.has(v))));
  }

  difference(others: Value[]): PySet {
    const sets = others.map((o) => PySet.of(o, 'difference'));
    return this.make(this.items.filter((v) => !sets.some((s) => s.has(v))));
  }

  symmetricDifference(other: Value): PySet {
    const o = PySet.of(other, 'symmetric_difference');
    return this.make([...this.items.filter((v) => !o.has(v)), ...o.items.filter((v) => !this.has(v))]);
  }

  subsetOf(o: PySet): boolean {
    return this.items.every((v) => o.has(v));
  }

  getAttr(name: string): Value | undefined {
    const m = (fn: (args: Value[]) => Value) => builtin(`${this.typeName}.${name}`, (a) => fn(a));
    switch (name) {
      case '__len__':
        return m(() => this.items.length);
      case '__iter__':
        return m(() => new PyList(this.items.slice()));
      case '__eq__':
        return m(([o]) => o instanceof PySet && o.items.length === this.items.length && this.subsetOf(o));
      case '__repr__':
      case '__str__':
        return m(() =>
          this.items.length === 0
            ? `${this.typeName}()`
            : this.frozen
              ? `frozenset({${this.items.map(pyRepr).join(', ')}})`
              : `{${this.items.map(pyRepr).join(', ')}}`,
        );
      case 'add':
        this.mutable(name);
        return m(([v]) => {
          this.addItem(v);
          return null;
        });
      case 'update':
        this.mutable(name);
        return m((a) => {
          for (const o of a) for (const v of iterate(o)) this.addItem(v);
          return null;
        });
      case 'remove':
        this.mutable(name);
        return m(([v]) => {
          const i = this.items.findIndex((x) => pyEquals(x, v));
          if (i < 0) throw new CadError('runtime', `KeyError: ${pyRepr(v)}`);
          this.items.splice(i, 1);
          return null;
        });
      case 'discard':
        this.mutable(name);
        return m(([v]) => {
          const i = this.items.findIndex((x) => pyEquals(x, v));
          if (i >= 0) this.items.splice(i, 1);
          return null;
        });
      case 'pop':
        this.mutable(name);
        return m(() => {
          if (this.items.length === 0) throw new CadError('runtime', "KeyError: 'pop from an empty set'");
          return this.items.shift()!;
        });
      case 'clear':
        this.mutable(name);
        return m(() => {
          this.items.splice(0);
          return null;
        });
      case 'copy':
        return m(() => this.make(this.items));
      case 'union':
        return m((a) => this.union(a));
      case 'intersection':
        return m((a) => this.intersection(a));
      case 'difference':
        return m((a) => this.difference(a));
      case 'symmetric_difference':
        return m(([o]) => this.symmetricDifference(o));
      case 'issubset':
        return m(([o]) => this.subsetOf(PySet.of(o, name)));
      case 'issuperset':
        return m(([o]) => PySet.of(o, name).subsetOf(this));
      case 'isdisjoint':
        return m(([o]) => !PySet.of(o, name).items.some((v) => this.has(v)));
      default:
        return undefined;
    }
  }

  binaryOp(op: BinaryOperator, other: Value, reflected: boolean): Value | undefined {
    if (!(other instanceof PySet)) return undefined;
    const [a, b] = reflected ? [other, this] : [this, other];
    switch (op) {
      case '|':
        return a.union([b]);
      case '&':
        return a.intersection([b]);
      case '-':
        return a.difference([b]);
      case '^':
        return a.symmetricDifference(b);
      default:
        return undefined;
    }
  }
}

/** `set(iterable)` / `frozenset(iterable)`. */
export function setConstructor(frozen: boolean): Value {
  const name = frozen ? 'frozenset' : 'set';
  return builtin(name, (args, kwargs) => {
    if (Object.keys(kwargs).length) throw new CadError('runtime', `${name}() takes no keyword arguments`);
    if (args.length > 1) throw new CadError('runtime', `${name} expected at most 1 argument, got ${args.length}`);
    return new PySet(args.length ? iterate(args[0]) : [], frozen);
  });
}

/** `a < b`, `a <= b` … between sets: subset comparisons; undefined when either is not a set. */
export function compareSets(op: string, a: Value, b: Value): boolean | undefined {
  if (!(a instanceof PySet && b instanceof PySet)) return undefined;
  switch (op) {
    case '<=':
      return a.subsetOf(b);
    case '<':
      return a.subsetOf(b) && a.items.length < b.items.length;
    case '>=':
      return b.subsetOf(a);
    case '>':
      return b.subsetOf(a) && b.items.length < a.items.length;
    default:
      return undefined;
  }
}
