/**
 * Simple user classes (`class Point(object): …` with `__init__`, methods, class attributes and the
 * special methods the builtins and operators look for: __add__ and friends, __len__, __getitem__,
 * __iter__, __str__, __repr__), `collections.namedtuple`, and the exceptions `raise` takes.
 *
 * No inheritance beyond `object`, no metaclasses, no attribute access to dunders from outside
 * (`x.__class__` stays refused by the parser): a class is a namespace whose functions become
 * methods bound to the instance.
 */
import { CadError } from '../errors';
import {
  bindArgs,
  builtin,
  expectString,
  hostModule,
  isCallable,
  PyDict,
  PyList,
  PyTuple,
  sequenceItems,
  type BinaryOperator,
  type Callable,
  type HostObject,
  type Kwargs,
  type Value,
} from './values';

/** The special method an operator calls (and its reflected form). */
const OPERATOR_METHODS: Record<BinaryOperator, [string, string]> = {
  '+': ['__add__', '__radd__'],
  '-': ['__sub__', '__rsub__'],
  '*': ['__mul__', '__rmul__'],
  '/': ['__truediv__', '__rtruediv__'],
  '//': ['__floordiv__', '__rfloordiv__'],
  '%': ['__mod__', '__rmod__'],
  '**': ['__pow__', '__rpow__'],
  '&': ['__and__', '__rand__'],
  '|': ['__or__', '__ror__'],
  '^': ['__xor__', '__rxor__'],
};

/** The special methods a class may define (others with dunder names are refused by the parser). */
export const SPECIAL_METHODS = new Set([
  '__init__',
  '__len__',
  '__getitem__',
  '__iter__',
  '__str__',
  '__repr__',
  '__call__',
  '__neg__',
  '__abs__',
  ...Object.values(OPERATOR_METHODS).flat(),
]);

/** `@staticmethod`: a function of the class that binds neither instance nor class. */
export class StaticMethod implements Callable {
  readonly kind = 'callable';
  readonly name: string;
  constructor(readonly fn: Callable) {
    this.name = fn.name;
  }
  call(args: Value[], kwargs: Kwargs): Value {
    return this.fn.call(args, kwargs);
  }
}

/** `@classmethod`: bound to the class, through the class or an instance. */
export class ClassMethod implements HostObject {
  readonly kind = 'host';
  readonly typeName = 'classmethod';
  constructor(readonly fn: Callable) {}
  getAttr(): Value | undefined {
    return undefined;
  }
  bound(cls: PyClass): Callable {
    return builtin(`${cls.name}.${this.fn.name}`, (a, k) => this.fn.call([cls, ...a], k));
  }
}

/** `@property`: read through an instance, the getter called with it (read-only here). */
export class PyProperty implements HostObject {
  readonly kind = 'host';
  readonly typeName = 'property';
  constructor(readonly getter: Callable) {}
  getAttr(name: string): Value | undefined {
    if (name === 'setter' || name === 'deleter') {
      return builtin(`property.${name}`, () => {
        throw new CadError('unsupported', `property setters and deleters are not supported`);
      });
    }
    return undefined;
  }
}

function wrapperOf(name: string, make: (fn: Callable) => Value): Callable {
  return builtin(name, (args, kwargs) => {
    const { fn } = bindArgs(name, ['fn'], args, kwargs);
    if (fn === undefined || !isCallable(fn)) throw new CadError('runtime', `${name}() expects a function`);
    return make(fn);
  });
}

/** The decorator builtins: staticmethod, classmethod, property. */
export function methodDecorators(): Record<string, Callable> {
  return {
    staticmethod: wrapperOf('staticmethod', (fn) => new StaticMethod(fn)),
    classmethod: wrapperOf('classmethod', (fn) => new ClassMethod(fn)),
    property: wrapperOf('property', (fn) => new PyProperty(fn)),
  };
}

export class PyClass implements Callable {
  readonly kind = 'callable';
  constructor(
    readonly name: string,
    readonly attrs: Map<string, Value>,
  ) {}

  call(args: Value[], kwargs: Kwargs): Value {
    const instance = new PyInstance(this);
    const init = this.attrs.get('__init__');
    if (init !== undefined && isCallable(init)) {
      const r = init.call([instance, ...args], kwargs);
      if (r !== null && r !== undefined) throw new CadError('runtime', `__init__() should return None, not '${typeof r}'`);
    } else if (args.length || Object.keys(kwargs).length) {
      throw new CadError('runtime', `${this.name}() takes no arguments`);
    }
    return instance;
  }

  getAttr(name: string): Value | undefined {
    const v = this.attrs.get(name);
    if (v instanceof ClassMethod) return v.bound(this);
    if (v instanceof StaticMethod) return v.fn;
    return v;
  }

  setAttr(name: string, value: Value): void {
    this.attrs.set(name, value);
  }
}

export class PyInstance implements HostObject {
  readonly kind = 'host';
  /** The instance's `__dict__`: its attributes, live (`self.__dict__.update(params)` sets them). */
  readonly dict = new PyDict();
  readonly attrs = this.dict.entries as Map<string, Value>;
  constructor(readonly cls: PyClass) {}

  get typeName(): string {
    return this.cls.name;
  }

  getAttr(name: string): Value | undefined {
    const own = this.attrs.get(name);
    if (own !== undefined) return own;
    if (name === '__dict__') return this.dict;
    const v = this.cls.attrs.get(name);
    if (v === undefined && name === '__iter__') return this.sequenceIterator();
    if (v instanceof StaticMethod) return v.fn;
    if (v instanceof ClassMethod) return v.bound(this.cls);
    if (v instanceof PyProperty) return v.getter.call([this], {});
    // Functions of the class are methods: bound to this instance.
    if (v !== undefined && isCallable(v) && !(v instanceof PyClass)) return builtin(`${this.cls.name}.${name}`, (a, k) => v.call([this, ...a], k));
    return v;
  }

  setAttr(name: string, value: Value): void {
    this.attrs.set(name, value);
  }

  binaryOp(op: BinaryOperator, other: Value, reflected: boolean): Value | undefined {
    const names = OPERATOR_METHODS[op];
    const m = names && this.getAttr(reflected ? names[1] : names[0]);
    return m !== undefined && isCallable(m) ? m.call([other], {}) : undefined;
  }

  /** Python's fallback iteration over __getitem__ (here bounded by __len__). */
  private sequenceIterator(): Value | undefined {
    const len = this.getAttr('__len__');
    const get = this.getAttr('__getitem__');
    if (!len || !get || !isCallable(len) || !isCallable(get)) return undefined;
    return builtin('__iter__', () => {
      const n = len.call([], {});
      return new PyList(Array.from({ length: typeof n === 'number' ? n : 0 }, (_, i) => get.call([i], {})));
    });
  }

  /** An instance with __len__ 2 or 3 and numeric __getitem__ stands for a point (CadQuery takes any sequence). */
  toVec3(): { x: number; y: number; z: number } | undefined {
    const len = this.getAttr('__len__');
    const get = this.getAttr('__getitem__');
    if (!len || !get || !isCallable(len) || !isCallable(get)) return undefined;
    const n = len.call([], {});
    if (n !== 2 && n !== 3) return undefined;
    const items = Array.from({ length: n }, (_, i) => get.call([i], {}));
    if (!items.every((i) => typeof i === 'number')) return undefined;
    return { x: items[0] as number, y: items[1] as number, z: (items[2] as number | undefined) ?? 0 };
  }
}

// ---- collections.namedtuple ------------------------------------------------------------------

class NamedTupleInstance implements HostObject {
  readonly kind = 'host';
  constructor(
    readonly typeName: string,
    readonly fields: string[],
    readonly items: Value[],
  ) {}

  getAttr(name: string): Value | undefined {
    const i = this.fields.indexOf(name);
    if (i >= 0) return this.items[i];
    switch (name) {
      case '__len__':
        return builtin('__len__', () => this.items.length);
      case '__iter__':
        return builtin('__iter__', () => new PyList([...this.items]));
      case '__getitem__':
        return builtin('__getitem__', (a) => new PyTuple(this.items).items.at(Number(a[0])) ?? null);
      case '_fields':
        return new PyTuple(this.fields);
      case '_asdict':
        return undefined;
    }
    return undefined;
  }
}

function namedtuple(args: Value[], kwargs: Kwargs): Value {
  const b = bindArgs('namedtuple', ['typename', 'field_names', '*', 'rename=', 'defaults=', 'module='], args, kwargs);
  const typename = expectString('namedtuple', 'typename', b.typename);
  const raw = b.field_names;
  const fields =
    typeof raw === 'string'
      ? raw.replace(/,/g, ' ').split(/\s+/).filter(Boolean)
      : (sequenceItems(raw) ?? []).map((f) => expectString('namedtuple', 'field_names', f));
  return builtin(typename, (a, k) => {
    const bound = bindArgs(typename, fields, a, k);
    return new NamedTupleInstance(
      typename,
      fields,
      fields.map((f) => bound[f] ?? null),
    );
  });
}

export function createCollectionsModule(): HostObject {
  return hostModule('module', { namedtuple: builtin('namedtuple', namedtuple) });
}

/** `from types import SimpleNamespace`: an object whose attributes are its keyword arguments, settable. */
export function createTypesModule(): HostObject {
  return hostModule('module', {
    SimpleNamespace: builtin('SimpleNamespace', (args, kwargs) => {
      if (args.length) throw new CadError('runtime', 'TypeError: SimpleNamespace() takes no positional arguments');
      const attrs = new Map(Object.entries(kwargs));
      return {
        kind: 'host',
        typeName: 'types.SimpleNamespace',
        getAttr: (name) => attrs.get(name),
        setAttr: (name, value) => void attrs.set(name, value),
      } satisfies HostObject;
    }),
  });
}

// ---- exceptions --------------------------------------------------------------------------------

export class PyException implements HostObject {
  readonly kind = 'host';
  constructor(
    readonly typeName: string,
    readonly message: string,
  ) {}
  getAttr(name: string): Value | undefined {
    if (name === 'args') return new PyTuple(this.message ? [this.message] : []);
    return undefined;
  }
}

export const EXCEPTION_NAMES = [
  'Exception',
  'ValueError',
  'TypeError',
  'RuntimeError',
  'KeyError',
  'IndexError',
  'AssertionError',
  'NotImplementedError',
  'ZeroDivisionError',
  'AttributeError',
];

/** The error `raise value` ends the program with. */
export function raisedError(value: Value, text: (v: Value) => string): CadError {
  if (value instanceof PyException) return new CadError('runtime', value.message ? `${value.typeName}: ${value.message}` : value.typeName);
  if (isCallable(value) && EXCEPTION_NAMES.includes(value.name)) return new CadError('runtime', value.name);
  throw new CadError('runtime', `exceptions must derive from BaseException, not ${text(value)}`);
}
