/**
 * Python semantics for the interpreter: truthiness, equality and ordering, arithmetic with
 * Python's floor division and modulo, indexing and slicing, str()/repr()/format(), the methods
 * of list/dict/str, the builtin functions and the `math` module.
 *
 * Host objects may opt into protocols by exposing these attributes through `getAttr` (programs
 * themselves cannot name dunder attributes): `__getitem__(index)`, `__len__()`, `__iter__()`
 * (returning a list or tuple), `__neg__()`, `__eq__(other)`, `__str__()`, `__repr__()`.
 */
import { CadError } from '../errors';
import { EXCEPTION_NAMES, PyException } from './pyclass';
import {
  PyDict,
  PyList,
  PyTuple,
  builtin,
  hostModule,
  isCallable,
  isHost,
  typeName,
  type BinaryOperator,
  type Callable,
  type DictKey,
  type HostObject,
  type Kwargs,
  type Value,
} from './values';

/** What builtins need from the running interpreter. */
export interface Runtime {
  /** Counts `count` steps against the step limit (throws a `limit` CadError). */
  tick(count?: number): void;
  /** Calls a Python callable (user `def`, builtin or host method). */
  callValue(fn: Value, args: Value[], kwargs?: Kwargs): Value;
  print(text: string): void;
  show(obj: Value): void;
}

function runtimeError(message: string): CadError {
  return new CadError('runtime', message);
}

// ---- lazy sequences --------------------------------------------------------------------------

/** `range(…)`: lazy, so `range(10**9)` allocates nothing. */
export class PyRange implements HostObject {
  readonly kind = 'host';
  readonly typeName = 'range';
  readonly length: number;

  constructor(
    readonly start: number,
    readonly stop: number,
    readonly step: number,
  ) {
    const span = step > 0 ? stop - start : start - stop;
    this.length = span > 0 ? Math.ceil(span / Math.abs(step)) : 0;
  }

  at(index: number): number {
    return this.start + index * this.step;
  }

  getAttr(name: string): Value | undefined {
    if (name === 'start') return this.start;
    if (name === 'stop') return this.stop;
    if (name === 'step') return this.step;
    if (name === 'index') {
      return builtin('index', ([v]) => {
        const i = typeof v === 'number' ? (v - this.start) / this.step : -1;
        if (Number.isInteger(i) && i >= 0 && i < this.length) return i;
        throw runtimeError(`${pyRepr(v ?? null)} is not in range`);
      });
    }
    if (name === 'count') return builtin('count', ([v]) => (rangeContains(this, v ?? null) ? 1 : 0));
    return undefined;
  }

  *[Symbol.iterator](): Iterator<Value> {
    for (let i = 0; i < this.length; i++) yield this.start + i * this.step;
  }
}

function rangeContains(r: PyRange, v: Value): boolean {
  if (typeof v !== 'number' && typeof v !== 'boolean') return false;
  const i = (Number(v) - r.start) / r.step;
  return Number.isInteger(i) && i >= 0 && i < r.length;
}

/** A single-pass iterator (enumerate, zip, map, filter, reversed). */
export class PyIterator implements HostObject {
  readonly kind = 'host';

  constructor(
    readonly typeName: string,
    readonly iterator: Iterator<Value>,
  ) {}

  getAttr(): Value | undefined {
    return undefined;
  }

  [Symbol.iterator](): Iterator<Value> {
    return this.iterator;
  }
}

/** A slice `a[lower:upper:step]`, only ever passed to getItem/setItem. */
export class PySlice {
  constructor(
    readonly lower: Value,
    readonly upper: Value,
    readonly step: Value,
  ) {}
}

// ---- host protocols ------------------------------------------------------------------------

function hostMethod(obj: HostObject, name: string): Callable | undefined {
  const m = obj.getAttr(name);
  return m !== undefined && isCallable(m) ? m : undefined;
}

// ---- truthiness, equality, ordering ---------------------------------------------------------

export function truthy(v: Value): boolean {
  if (v === null || v === false) return false;
  if (v === true) return true;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (v instanceof PyList || v instanceof PyTuple) return v.items.length > 0;
  if (v instanceof PyDict) return v.entries.size > 0;
  if (v instanceof PyRange) return v.length > 0;
  if (isHost(v)) {
    const len = hostMethod(v, '__len__');
    if (len) return truthy(len.call([], {}));
  }
  return true;
}

export function pyEquals(a: Value, b: Value): boolean {
  if (a === b) return typeof a !== 'number' || !Number.isNaN(a);
  const ta = typeof a;
  const tb = typeof b;
  if ((ta === 'number' || ta === 'boolean') && (tb === 'number' || tb === 'boolean')) return Number(a) === Number(b);
  if (a instanceof PyList) return b instanceof PyList && itemsEqual(a.items, b.items);
  if (a instanceof PyTuple) return b instanceof PyTuple && itemsEqual(a.items, b.items);
  if (a instanceof PyDict) {
    if (!(b instanceof PyDict) || a.entries.size !== b.entries.size) return false;
    for (const [k, v] of a.entries) {
      const other = b.entries.get(k);
      if (other === undefined || !pyEquals(v, other)) return false;
    }
    return true;
  }
  if (a instanceof PyRange && b instanceof PyRange) {
    return a.length === b.length && (a.length === 0 || (a.start === b.start && (a.length === 1 || a.step === b.step)));
  }
  if (isHost(a)) {
    const eq = hostMethod(a, '__eq__');
    if (eq) return truthy(eq.call([b], {}));
  }
  if (isHost(b)) {
    const eq = hostMethod(b, '__eq__');
    if (eq) return truthy(eq.call([a], {}));
  }
  return false;
}

function itemsEqual(a: readonly Value[], b: readonly Value[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!pyEquals(a[i], b[i])) return false;
  return true;
}

/** Python's `a < b`. */
export function pyLess(a: Value, b: Value, op = '<'): boolean {
  const ta = typeof a;
  const tb = typeof b;
  if ((ta === 'number' || ta === 'boolean') && (tb === 'number' || tb === 'boolean')) return Number(a) < Number(b);
  if (ta === 'string' && tb === 'string') return (a as string) < (b as string);
  if ((a instanceof PyList && b instanceof PyList) || (a instanceof PyTuple && b instanceof PyTuple)) {
    const x = a.items;
    const y = b.items;
    const n = Math.min(x.length, y.length);
    for (let i = 0; i < n; i++) {
      if (!pyEquals(x[i], y[i])) return pyLess(x[i], y[i], op);
    }
    return x.length < y.length;
  }
  throw runtimeError(`'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
}

export function pyContains(container: Value, item: Value): boolean {
  if (container instanceof PyList || container instanceof PyTuple) {
    for (const v of container.items) if (pyEquals(v, item)) return true;
    return false;
  }
  if (typeof container === 'string') {
    if (typeof item !== 'string') {
      throw runtimeError(`'in <string>' requires string as left operand, not ${typeName(item)}`);
    }
    return container.includes(item);
  }
  if (container instanceof PyDict) return container.entries.has(dictKey(item));
  if (container instanceof PyRange) return rangeContains(container, item);
  if (isHost(container) && (hostMethod(container, '__iter__') || container instanceof PyIterator)) {
    for (const v of iterate(container)) if (pyEquals(v, item)) return true;
    return false;
  }
  throw runtimeError(`argument of type '${typeName(container)}' is not iterable`);
}

export function dictKey(v: Value): DictKey {
  if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof PyList || v instanceof PyDict) throw runtimeError(`unhashable type: '${typeName(v)}'`);
  throw runtimeError(`dict keys must be numbers, strings, booleans or None, not '${typeName(v)}'`);
}

// ---- iteration ------------------------------------------------------------------------------

/** Python iteration over a value. Lists iterate live, as Python's do. */
export function iterate(v: Value): Iterable<Value> {
  if (v instanceof PyList || v instanceof PyTuple) return v.items;
  if (typeof v === 'string') return v;
  if (v instanceof PyDict) return v.entries.keys();
  if (v instanceof PyRange || v instanceof PyIterator) return v;
  if (isHost(v)) {
    const iter = hostMethod(v, '__iter__');
    if (iter) {
      const items = iter.call([], {});
      if (items instanceof PyList || items instanceof PyTuple) return items.items;
      if (items instanceof PyIterator) return items;
    }
  }
  throw runtimeError(`'${typeName(v)}' object is not iterable`);
}

/** All items of an iterable, counting one step per item (so lazy ranges cannot exhaust memory). */
export function collect(rt: Runtime, v: Value): Value[] {
  if (v instanceof PyList || v instanceof PyTuple) {
    rt.tick(v.items.length);
    return v.items.slice();
  }
  const out: Value[] = [];
  for (const item of iterate(v)) {
    rt.tick();
    out.push(item);
  }
  return out;
}

// ---- arithmetic -----------------------------------------------------------------------------

function floorDiv(a: number, b: number): number {
  if (b === 0) throw new CadError('runtime', 'division by zero');
  if (Number.isInteger(a) && Number.isInteger(b)) return Math.floor(a / b);
  // CPython's float_floor_div, so results agree exactly.
  let mod = a % b;
  let div = (a - mod) / b;
  if (mod && b < 0 !== mod < 0) {
    mod += b;
    div -= 1;
  }
  if (!div) return a / b < 0 ? -0 : 0;
  let floored = Math.floor(div);
  if (div - floored > 0.5) floored += 1;
  return floored;
}

function pyMod(a: number, b: number): number {
  if (b === 0) throw new CadError('runtime', 'division by zero');
  let mod = a % b;
  if (mod) {
    if (b < 0 !== mod < 0) mod += b;
  } else mod = b < 0 ? -0 : 0;
  return mod;
}

function power(a: number, b: number): number {
  if (a === 0 && b < 0) throw new CadError('runtime', 'division by zero: 0 cannot be raised to a negative power');
  if (a < 0 && !Number.isInteger(b)) {
    throw runtimeError('a negative number cannot be raised to a fractional power (complex numbers are not supported)');
  }
  if (a === 1 || b === 0) return 1;
  return a ** b;
}

function requireInt(op: string, v: number): bigint {
  if (!Number.isInteger(v)) throw runtimeError(`unsupported operand type(s) for ${op}: 'float'`);
  return BigInt(v);
}

function numericOp(op: string, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      if (b === 0) throw new CadError('runtime', 'division by zero');
      return a / b;
    case '//':
      return floorDiv(a, b);
    case '%':
      return pyMod(a, b);
    case '**':
      return power(a, b);
    case '&':
      return Number(requireInt(op, a) & requireInt(op, b));
    case '|':
      return Number(requireInt(op, a) | requireInt(op, b));
    case '^':
      return Number(requireInt(op, a) ^ requireInt(op, b));
    case '<<':
      if (b < 0) throw runtimeError('negative shift count');
      return Number(requireInt(op, a) << requireInt(op, b));
    case '>>':
      if (b < 0) throw runtimeError('negative shift count');
      return Number(requireInt(op, a) >> requireInt(op, b));
  }
  throw runtimeError(`unknown operator ${op}`);
}

function repeatCount(n: Value): number {
  if (typeof n === 'boolean') return n ? 1 : 0;
  if (typeof n !== 'number' || !Number.isInteger(n)) {
    throw runtimeError(`can't multiply sequence by non-int of type '${typeName(n)}'`);
  }
  return Math.max(0, n);
}

function repeatItems(rt: Runtime, items: readonly Value[], n: number): Value[] {
  rt.tick(items.length * n);
  if (items.length === 0) return [];
  const out: Value[] = [];
  for (let i = 0; i < n; i++) for (const v of items) out.push(v);
  return out;
}

/** `a OP b` with Python semantics; host objects get `binaryOp` (then the reflected form). */
export function binaryOp(rt: Runtime, op: string, a: Value, b: Value): Value {
  const ta = typeof a;
  const tb = typeof b;
  if ((ta === 'number' || ta === 'boolean') && (tb === 'number' || tb === 'boolean')) {
    return numericOp(op, Number(a), Number(b));
  }
  if (ta === 'string') {
    if (op === '+' && tb === 'string') {
      rt.tick(Math.floor(((a as string).length + (b as string).length) / 64));
      return (a as string) + (b as string);
    }
    if (op === '*') {
      const n = repeatCount(b);
      rt.tick((a as string).length * n);
      return (a as string).repeat(n);
    }
    if (op === '%') return percentFormat(a as string, b);
  }
  if (op === '*' && tb === 'string' && (ta === 'number' || ta === 'boolean')) {
    const n = repeatCount(a);
    rt.tick((b as string).length * n);
    return (b as string).repeat(n);
  }
  if (a instanceof PyList) {
    if (op === '+' && b instanceof PyList) return new PyList(a.items.concat(b.items));
    if (op === '*') return new PyList(repeatItems(rt, a.items, repeatCount(b)));
  }
  if (a instanceof PyTuple) {
    if (op === '+' && b instanceof PyTuple) return new PyTuple(a.items.concat(b.items));
    if (op === '*') return new PyTuple(repeatItems(rt, a.items, repeatCount(b)));
  }
  if (op === '*' && (ta === 'number' || ta === 'boolean')) {
    if (b instanceof PyList) return new PyList(repeatItems(rt, b.items, repeatCount(a)));
    if (b instanceof PyTuple) return new PyTuple(repeatItems(rt, b.items, repeatCount(a)));
  }
  if (op === '|' && a instanceof PyDict && b instanceof PyDict) {
    const merged = new PyDict();
    for (const [k, v] of a.entries) merged.entries.set(k, v);
    for (const [k, v] of b.entries) merged.entries.set(k, v);
    return merged;
  }
  if (isHost(a) && a.binaryOp) {
    const r = a.binaryOp(op as BinaryOperator, b, false);
    if (r !== undefined) return r;
  }
  if (isHost(b) && b.binaryOp) {
    const r = b.binaryOp(op as BinaryOperator, a, true);
    if (r !== undefined) return r;
  }
  throw runtimeError(`unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
}

export function unaryOp(op: string, v: Value): Value {
  if (op === 'not') return !truthy(v);
  if (typeof v === 'number' || typeof v === 'boolean') {
    const n = Number(v);
    if (op === '-') return -n;
    if (op === '+') return n;
    if (op === '~') return Number(~requireInt('~', n));
  }
  if (isHost(v) && op === '-') {
    const neg = hostMethod(v, '__neg__');
    if (neg) return neg.call([], {});
    const r = v.binaryOp?.('*', -1, true);
    if (r !== undefined) return r;
  }
  if (isHost(v) && op === '+') return v;
  throw runtimeError(`bad operand type for unary ${op}: '${typeName(v)}'`);
}

// ---- indexing -------------------------------------------------------------------------------

function toIndex(v: Value, what: string): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw runtimeError(`${what} indices must be integers or slices, not ${typeName(v)}`);
}

export function sliceIndices(s: PySlice, length: number): number[] {
  const step = s.step === null ? 1 : toIndex(s.step, 'slice');
  if (step === 0) throw runtimeError('slice step cannot be zero');
  const clamp = (v: Value, fallback: number): number => {
    if (v === null) return fallback;
    let i = toIndex(v, 'slice');
    if (i < 0) i += length;
    if (step > 0) return Math.min(Math.max(i, 0), length);
    return Math.min(Math.max(i, -1), length - 1);
  };
  const lower = clamp(s.lower, step > 0 ? 0 : length - 1);
  const upper = clamp(s.upper, step > 0 ? length : -1);
  const out: number[] = [];
  if (step > 0) for (let i = lower; i < upper; i += step) out.push(i);
  else for (let i = lower; i > upper; i += step) out.push(i);
  return out;
}

function sequenceIndex(v: Value, length: number, what: string): number {
  let i = toIndex(v, what);
  if (i < 0) i += length;
  if (i < 0 || i >= length) throw runtimeError(`${what} index out of range`);
  return i;
}

export function getItem(obj: Value, index: Value | PySlice): Value {
  if (obj instanceof PyList || obj instanceof PyTuple) {
    const what = obj instanceof PyList ? 'list' : 'tuple';
    if (index instanceof PySlice) {
      const picked = sliceIndices(index, obj.items.length).map((i) => obj.items[i]);
      return obj instanceof PyList ? new PyList(picked) : new PyTuple(picked);
    }
    return obj.items[sequenceIndex(index, obj.items.length, what)];
  }
  if (typeof obj === 'string') {
    const chars = Array.from(obj);
    if (index instanceof PySlice)
      return sliceIndices(index, chars.length)
        .map((i) => chars[i])
        .join('');
    return chars[sequenceIndex(index, chars.length, 'string')];
  }
  if (obj instanceof PyDict) {
    if (index instanceof PySlice) throw runtimeError("unhashable type: 'slice'");
    const v = obj.entries.get(dictKey(index));
    if (v === undefined) throw runtimeError(`KeyError: ${pyRepr(index)}`);
    return v;
  }
  if (obj instanceof PyRange) {
    if (index instanceof PySlice) {
      const picked = sliceIndices(index, obj.length);
      if (picked.length === 0) return new PyRange(0, 0, 1);
      const step = picked.length > 1 ? (picked[1] - picked[0]) * obj.step : obj.step;
      return new PyRange(obj.at(picked[0]), obj.at(picked[picked.length - 1]) + step, step);
    }
    return obj.at(sequenceIndex(index, obj.length, 'range'));
  }
  if (isHost(obj)) {
    // A host with its own indexing (numpy arrays: ints, slices and tuples of them) gets it whole.
    const own = (obj as { getItem?: (i: Value | PySlice) => Value }).getItem;
    if (typeof own === 'function') return own.call(obj, index);
    if (index instanceof PySlice && obj.sliceItems) return obj.sliceItems((n) => sliceIndices(index, n));
    const get = hostMethod(obj, '__getitem__');
    if (get && !(index instanceof PySlice)) return get.call([index], {});
  }
  throw runtimeError(`'${typeName(obj)}' object is not subscriptable`);
}

export function setItem(obj: Value, index: Value | PySlice, value: Value): void {
  if (obj instanceof PyList) {
    if (index instanceof PySlice) {
      const items = sequenceItemsOf(value);
      const step = index.step === null ? 1 : toIndex(index.step, 'slice');
      const positions = sliceIndices(index, obj.items.length);
      if (step === 1) {
        const length = obj.items.length;
        const bound = (v: Value, fallback: number): number => {
          if (v === null) return fallback;
          const i = toIndex(v, 'slice');
          return Math.min(Math.max(i < 0 ? i + length : i, 0), length);
        };
        const lower = bound(index.lower, 0);
        const upper = Math.max(lower, bound(index.upper, length));
        obj.items.splice(lower, upper - lower, ...items);
        return;
      }
      if (positions.length !== items.length) {
        throw runtimeError(`attempt to assign sequence of size ${items.length} to extended slice of size ${positions.length}`);
      }
      positions.forEach((p, i) => {
        obj.items[p] = items[i];
      });
      return;
    }
    obj.items[sequenceIndex(index, obj.items.length, 'list assignment')] = value;
    return;
  }
  if (obj instanceof PyDict) {
    if (index instanceof PySlice) throw runtimeError("unhashable type: 'slice'");
    obj.entries.set(dictKey(index), value);
    return;
  }
  const own = isHost(obj) ? (obj as { setItem?: (i: Value | PySlice, v: Value) => void }).setItem : undefined;
  if (typeof own === 'function') {
    own.call(obj, index, value);
    return;
  }
  throw runtimeError(`'${typeName(obj)}' object does not support item assignment`);
}

/** `del obj[index]`: a list item or slice, a dict key. */
export function deleteItem(obj: Value, index: Value | PySlice): void {
  if (obj instanceof PyList) {
    if (index instanceof PySlice) {
      const doomed = new Set(sliceIndices(index, obj.items.length));
      const kept = obj.items.filter((_, i) => !doomed.has(i));
      obj.items.splice(0, obj.items.length, ...kept);
      return;
    }
    obj.items.splice(sequenceIndex(index, obj.items.length, 'list assignment'), 1);
    return;
  }
  if (obj instanceof PyDict) {
    if (index instanceof PySlice) throw runtimeError("unhashable type: 'slice'");
    if (!obj.entries.delete(dictKey(index))) throw runtimeError(`KeyError: ${pyRepr(index)}`);
    return;
  }
  throw runtimeError(`'${typeName(obj)}' object does not support item deletion`);
}

function sequenceItemsOf(v: Value): Value[] {
  return Array.from(iterate(v));
}

export function pyLen(v: Value): number {
  if (v instanceof PyList || v instanceof PyTuple) return v.items.length;
  if (typeof v === 'string') return Array.from(v).length;
  if (v instanceof PyDict) return v.entries.size;
  if (v instanceof PyRange) return v.length;
  if (isHost(v)) {
    const len = hostMethod(v, '__len__');
    if (len) {
      const n = len.call([], {});
      if (typeof n === 'number') return n;
    }
  }
  throw runtimeError(`object of type '${typeName(v)}' has no len()`);
}

// ---- str, repr, format ----------------------------------------------------------------------

export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return Object.is(x, -0) ? '-0.0' : String(x);
  // Python switches to exponent notation below 1e-4 and from 1e16 on; JS at 1e-7 and 1e21.
  const exp = Math.floor(Math.log10(Math.abs(x)));
  if (exp < -4 || exp >= 16) {
    const [mantissa, e] = x.toExponential().split('e');
    const n = Number(e);
    return `${mantissa}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  return String(x);
}

/**
 * `x.toFixed(digits)` / `x.toExponential(digits)` as Python rounds: both round the exact binary
 * value, but JS sends exact ties away from zero where Python sends them to even.
 */
function exactTieToEven(x: number, digits: number, exponential: boolean): string | null {
  const extra = Math.min(100, digits + 25);
  const expansion = exponential ? x.toExponential(extra) : x.toFixed(extra);
  const e = expansion.indexOf('e');
  const mantissa = e >= 0 ? expansion.slice(0, e) : expansion;
  const dot = mantissa.indexOf('.');
  const kept = digits === 0 ? mantissa.slice(0, dot) : mantissa.slice(0, dot + 1 + digits);
  const tail = mantissa.slice(dot + 1 + digits);
  if (!/^50*$/.test(tail) || Number(kept[kept.length - 1]) % 2 !== 0) return null;
  return e >= 0 ? kept + expansion.slice(e) : kept;
}

export function toFixedPy(x: number, digits: number): string {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return floatRepr(x);
  const magnitude = Math.abs(x);
  const text = exactTieToEven(magnitude, digits, false) ?? magnitude.toFixed(digits);
  return (x < 0 || Object.is(x, -0) ? '-' : '') + text;
}

function toExponentialPy(x: number, digits: number): string {
  const magnitude = Math.abs(x);
  const text = exactTieToEven(magnitude, digits, true) ?? magnitude.toExponential(digits);
  return (x < 0 ? '-' : '') + text;
}

export function stringRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 32 || code === 127) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

export function pyRepr(v: Value): string {
  return toText(v, true, 0);
}

export function pyStr(v: Value): string {
  return toText(v, false, 0);
}

function toText(v: Value, repr: boolean, depth: number): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return floatRepr(v);
  if (typeof v === 'string') return repr ? stringRepr(v) : v;
  if (depth > 20) return '...';
  if (v instanceof PyList) return `[${v.items.map((x) => toText(x, true, depth + 1)).join(', ')}]`;
  if (v instanceof PyTuple) {
    const inner = v.items.map((x) => toText(x, true, depth + 1));
    return `(${inner.join(', ')}${inner.length === 1 ? ',)' : ')'}`;
  }
  if (v instanceof PyDict) {
    const parts: string[] = [];
    for (const [k, x] of v.entries) parts.push(`${toText(k, true, depth + 1)}: ${toText(x, true, depth + 1)}`);
    return `{${parts.join(', ')}}`;
  }
  if (v instanceof PyRange) {
    return v.step === 1 ? `range(${v.start}, ${v.stop})` : `range(${v.start}, ${v.stop}, ${v.step})`;
  }
  if (isCallable(v)) return `<function ${v.name}>`;
  const method = hostMethod(v, repr ? '__repr__' : '__str__') ?? hostMethod(v, '__repr__');
  if (method) {
    const s = method.call([], {});
    if (typeof s === 'string') return s;
  }
  return `<${v.typeName} object>`;
}

const FORMAT_SPEC = /^(?:([\s\S])?([<>=^]))?([-+ ])?(z)?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/;

function groupDigits(digits: string, separator: string): string {
  const [intPart, frac] = digits.split('.');
  const grouped = intPart.replace(/\B(?=(\d{3})+(?!\d))/g, separator);
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

function fixExponent(s: string): string {
  // JS writes 1.5e+0; Python 1.5e+00.
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

function generalFormat(x: number, precision: number, alternate: boolean): string {
  const p = precision === 0 ? 1 : precision;
  if (x === 0) return alternate ? (0).toFixed(p - 1) : '0';
  const exp = Number(x.toExponential(p - 1).split('e')[1]);
  let s: string;
  if (exp >= -4 && exp < p) s = toFixedPy(x, p - 1 - exp);
  else s = fixExponent(toExponentialPy(x, p - 1));
  if (!alternate) {
    s = s.replace(/(\.\d*?)0+(e|$)/, '$1$2').replace(/\.(e|$)/, '$1');
  }
  return s;
}

/** `format(value, spec)`: Python's format mini-language for numbers and strings. */
export function formatValue(v: Value, spec: string): string {
  if (spec === '') return pyStr(v);
  const m = FORMAT_SPEC.exec(spec);
  if (!m) throw runtimeError(`invalid format specifier '${spec}'`);
  const [, fillChar, alignChar, sign, , alternate, zero, widthText, grouping, precisionText, type] = m;
  let fill = fillChar ?? ' ';
  let align = alignChar;
  const width = widthText ? Number(widthText) : 0;
  const precision = precisionText === undefined ? undefined : Number(precisionText);
  let body: string;
  let signText = '';
  let prefix = '';
  const isNumber = typeof v === 'number' || typeof v === 'boolean';
  if (!isNumber || type === 's') {
    if (type && type !== 's') {
      throw runtimeError(`unknown format code '${type}' for object of type '${typeName(v)}'`);
    }
    body = pyStr(v);
    if (precision !== undefined) body = Array.from(body).slice(0, precision).join('');
    align ??= '<';
  } else {
    let x = Number(v);
    const negative = x < 0 || Object.is(x, -0);
    x = Math.abs(x);
    switch (type) {
      case 'd':
      case 'n':
        if (!Number.isInteger(x) && type === 'd') {
          throw runtimeError(`unknown format code 'd' for object of type 'float'`);
        }
        body = Number.isInteger(x) ? String(x) : generalFormat(x, precision ?? 6, false);
        break;
      case 'f':
      case 'F':
        body = Number.isFinite(x) ? toFixedPy(x, precision ?? 6) : Number.isNaN(x) ? 'nan' : 'inf';
        if (type === 'F') body = body.toUpperCase();
        break;
      case 'e':
      case 'E':
        body = Number.isFinite(x) ? fixExponent(toExponentialPy(x, precision ?? 6)) : Number.isNaN(x) ? 'nan' : 'inf';
        if (type === 'E') body = body.toUpperCase();
        break;
      case 'g':
      case 'G':
        body = Number.isFinite(x) ? generalFormat(x, precision ?? 6, !!alternate) : Number.isNaN(x) ? 'nan' : 'inf';
        if (type === 'G') body = body.toUpperCase();
        break;
      case '%':
        body = `${toFixedPy(x * 100, precision ?? 6)}%`;
        break;
      case 'x':
      case 'X':
      case 'o':
      case 'b': {
        if (!Number.isInteger(x)) throw runtimeError(`unknown format code '${type}' for object of type 'float'`);
        const base = type === 'o' ? 8 : type === 'b' ? 2 : 16;
        body = x.toString(base);
        if (type === 'X') body = body.toUpperCase();
        if (alternate) prefix = type === 'o' ? '0o' : type === 'b' ? '0b' : type === 'X' ? '0X' : '0x';
        break;
      }
      case 'c':
        body = String.fromCodePoint(x);
        break;
      default:
        // No type: like str() for ints, like 'g' with at least one digit for a precision.
        body = precision !== undefined ? generalFormat(x, precision, false) : floatRepr(x);
    }
    if (grouping) body = groupDigits(body, grouping);
    signText = negative && !(type === '%' && x === 0) ? '-' : sign === '+' ? '+' : sign === ' ' ? ' ' : '';
    if (zero && !alignChar) {
      fill = '0';
      align = '=';
    }
    align ??= '>';
  }
  const content = signText + prefix + body;
  const padding = Math.max(0, width - Array.from(content).length);
  if (padding === 0) return content;
  switch (align) {
    case '<':
      return content + fill.repeat(padding);
    case '^':
      return fill.repeat(Math.floor(padding / 2)) + content + fill.repeat(Math.ceil(padding / 2));
    case '=':
      return signText + prefix + fill.repeat(padding) + body;
    default:
      return fill.repeat(padding) + content;
  }
}

/** `str.format(*args, **kwargs)`. */
function strFormat(template: string, args: Value[], kwargs: Kwargs): string {
  let auto = 0;
  const field = (inner: string): string => {
    const m = /^([^!:]*)(?:!([sra]))?(?::([\s\S]*))?$/.exec(inner)!;
    const [, name, conversion, specRaw] = m;
    let value: Value | undefined;
    if (name === '') value = args[auto++];
    else if (/^\d+$/.test(name)) value = args[Number(name)];
    else if (/^[A-Za-z_]\w*$/.test(name)) value = kwargs[name];
    else throw runtimeError(`format field '{${name}}' is not supported`);
    if (value === undefined) {
      throw runtimeError(name === '' || /^\d+$/.test(name) ? 'Replacement index out of range for format()' : `KeyError: '${name}'`);
    }
    if (conversion === 'r' || conversion === 'a') value = pyRepr(value);
    else if (conversion === 's') value = pyStr(value);
    const spec = specRaw ? specRaw.replace(/\{([^{}]*)\}/g, (_, nested: string) => field(nested)) : '';
    return formatValue(value, spec);
  };
  let out = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if (c === '{') {
      if (template[i + 1] === '{') {
        out += '{';
        i += 2;
        continue;
      }
      let depth = 1;
      let j = i + 1;
      while (j < template.length && depth > 0) {
        if (template[j] === '{') depth++;
        else if (template[j] === '}') depth--;
        j++;
      }
      if (depth > 0) throw runtimeError("single '{' encountered in format string");
      out += field(template.slice(i + 1, j - 1));
      i = j;
    } else if (c === '}') {
      if (template[i + 1] !== '}') throw runtimeError("single '}' encountered in format string");
      out += '}';
      i += 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** `"%5.2f" % value` and `"%s, %d" % (a, b)`. */
function percentFormat(template: string, values: Value): string {
  const args = values instanceof PyTuple ? values.items : [values];
  let next = 0;
  const out = template.replace(
    /%([-+ 0#]*)(\d+)?(?:\.(\d+))?([diouxXeEfFgGcrs%])/g,
    (_all, flags: string, width: string | undefined, precision: string | undefined, type: string) => {
      if (type === '%') return '%';
      if (next >= args.length) throw runtimeError('not enough arguments for format string');
      let v = args[next++];
      let code = type;
      if (type === 'r') {
        v = pyRepr(v);
        code = 's';
      }
      if (type === 'i' || type === 'u') code = 'd';
      if (code === 'd' && typeof v === 'number') v = Math.trunc(v);
      let spec = '';
      if (flags.includes('-')) spec += '<';
      if (flags.includes('+')) spec += '+';
      else if (flags.includes(' ')) spec += ' ';
      if (flags.includes('#')) spec += '#';
      if (flags.includes('0') && !flags.includes('-')) spec += '0';
      if (width) spec += width;
      if (precision !== undefined) spec += `.${precision}`;
      spec += code === 's' ? '' : code;
      if (code === 's') return formatValue(pyStr(v), spec);
      if (typeof v !== 'number' && typeof v !== 'boolean') {
        throw runtimeError(`%${type} format: a number is required, not ${typeName(v)}`);
      }
      return formatValue(v, spec);
    },
  );
  if (next < args.length) throw runtimeError('not all arguments converted during string formatting');
  return out;
}

// ---- methods of list, dict and str ----------------------------------------------------------

function argCount(name: string, args: Value[], min: number, max: number): void {
  if (args.length < min || args.length > max) {
    const expected = min === max ? `${min}` : `${min} to ${max}`;
    throw runtimeError(`${name}() takes ${expected} argument${max === 1 ? '' : 's'} (${args.length} given)`);
  }
}

function noKwargs(name: string, kwargs: Kwargs): void {
  for (const k in kwargs) throw runtimeError(`${name}() got an unexpected keyword argument '${k}'`);
}

function listMethod(rt: Runtime, list: PyList, name: string, args: Value[], kwargs: Kwargs): Value | undefined {
  const items = list.items;
  switch (name) {
    case 'append':
      argCount('append', args, 1, 1);
      items.push(args[0]);
      return null;
    case 'extend':
      argCount('extend', args, 1, 1);
      for (const v of collect(rt, args[0])) items.push(v);
      return null;
    case 'insert': {
      argCount('insert', args, 2, 2);
      let i = toIndex(args[0], 'list');
      if (i < 0) i = Math.max(0, i + items.length);
      items.splice(Math.min(i, items.length), 0, args[1]);
      return null;
    }
    case 'pop': {
      argCount('pop', args, 0, 1);
      if (items.length === 0) throw runtimeError('pop from empty list');
      const i = args.length ? sequenceIndex(args[0], items.length, 'pop') : items.length - 1;
      return items.splice(i, 1)[0];
    }
    case 'remove': {
      argCount('remove', args, 1, 1);
      const i = items.findIndex((v) => pyEquals(v, args[0]));
      if (i < 0) throw runtimeError('list.remove(x): x not in list');
      items.splice(i, 1);
      return null;
    }
    case 'index': {
      argCount('index', args, 1, 1);
      const i = items.findIndex((v) => pyEquals(v, args[0]));
      if (i < 0) throw runtimeError(`${pyRepr(args[0])} is not in list`);
      return i;
    }
    case 'count':
      argCount('count', args, 1, 1);
      return items.filter((v) => pyEquals(v, args[0])).length;
    case 'reverse':
      argCount('reverse', args, 0, 0);
      items.reverse();
      return null;
    case 'clear':
      argCount('clear', args, 0, 0);
      items.length = 0;
      return null;
    case 'copy':
      argCount('copy', args, 0, 0);
      return new PyList(items.slice());
    case 'sort': {
      argCount('sort', args, 0, 0);
      const sorted = sortValues(rt, items, kwargs);
      items.splice(0, items.length, ...sorted);
      return null;
    }
  }
  return undefined;
}

function dictMethod(rt: Runtime, dict: PyDict, name: string, args: Value[], kwargs: Kwargs): Value | undefined {
  const entries = dict.entries;
  switch (name) {
    case 'get': {
      argCount('get', args, 1, 2);
      const v = entries.get(dictKey(args[0]));
      return v === undefined ? (args[1] ?? null) : v;
    }
    case 'keys':
      argCount('keys', args, 0, 0);
      return new PyList([...entries.keys()]);
    case 'values':
      argCount('values', args, 0, 0);
      return new PyList([...entries.values()]);
    case 'items':
      argCount('items', args, 0, 0);
      return new PyList([...entries].map(([k, v]) => new PyTuple([k, v])));
    case 'pop': {
      argCount('pop', args, 1, 2);
      const key = dictKey(args[0]);
      const v = entries.get(key);
      if (v === undefined) {
        if (args.length > 1) return args[1];
        throw runtimeError(`KeyError: ${pyRepr(args[0])}`);
      }
      entries.delete(key);
      return v;
    }
    case 'setdefault': {
      argCount('setdefault', args, 1, 2);
      const key = dictKey(args[0]);
      const v = entries.get(key);
      if (v !== undefined) return v;
      entries.set(key, args[1] ?? null);
      return args[1] ?? null;
    }
    case 'update':
      argCount('update', args, 0, 1);
      if (args.length) fillDict(rt, dict, args[0]);
      for (const k in kwargs) entries.set(k, kwargs[k]);
      return null;
    case 'copy': {
      argCount('copy', args, 0, 0);
      const copy = new PyDict();
      for (const [k, v] of entries) copy.entries.set(k, v);
      return copy;
    }
    case 'clear':
      entries.clear();
      return null;
  }
  return undefined;
}

function stringMethod(rt: Runtime, s: string, name: string, args: Value[], kwargs: Kwargs): Value | undefined {
  const str = (i: number, fallback?: string): string => {
    const v = args[i];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string') throw runtimeError(`${name}() argument must be str, not ${typeName(v ?? null)}`);
    return v;
  };
  switch (name) {
    case 'format':
      return strFormat(s, args, kwargs);
    case 'upper':
      return s.toUpperCase();
    case 'lower':
      return s.toLowerCase();
    case 'strip':
    case 'lstrip':
    case 'rstrip': {
      const chars = args[0] === undefined || args[0] === null ? null : str(0);
      let start = 0;
      let end = s.length;
      const strippable = (c: string) => (chars === null ? /\s/.test(c) : chars.includes(c));
      if (name !== 'rstrip') while (start < end && strippable(s[start])) start++;
      if (name !== 'lstrip') while (end > start && strippable(s[end - 1])) end--;
      return s.slice(start, end);
    }
    case 'split': {
      const sep = args[0] === undefined || args[0] === null ? null : str(0);
      if (sep === '') throw runtimeError('empty separator');
      const parts =
        sep === null
          ? s
              .trim()
              .split(/\s+/)
              .filter((p) => p !== '')
          : s.split(sep);
      return new PyList(parts);
    }
    case 'join': {
      const parts = collect(rt, args[0] ?? null).map((v) => {
        if (typeof v !== 'string') throw runtimeError(`sequence item: expected str instance, ${typeName(v)} found`);
        return v;
      });
      return parts.join(s);
    }
    case 'replace':
      return s.split(str(0)).join(str(1));
    case 'startswith':
      return s.startsWith(str(0));
    case 'endswith':
      return s.endsWith(str(0));
    case 'find':
      return s.indexOf(str(0));
    case 'count':
      return str(0) === '' ? s.length + 1 : s.split(str(0)).length - 1;
    case 'zfill': {
      const width = toIndex(args[0] ?? 0, 'zfill');
      const sign = s[0] === '-' || s[0] === '+' ? s[0] : '';
      return sign + s.slice(sign.length).padStart(width - sign.length, '0');
    }
    case 'isdigit':
      return s.length > 0 && /^\d+$/.test(s);
    case 'title':
      return s.replace(/\w\S*/g, (w) => w[0].toUpperCase() + w.slice(1).toLowerCase());
    case 'capitalize':
      return s.length ? s[0].toUpperCase() + s.slice(1).toLowerCase() : s;
  }
  return undefined;
}

/** Calls `obj.name(*args, **kwargs)` for list, dict and str; undefined when there is no such method. */
export function callBuiltinMethod(rt: Runtime, obj: Value, name: string, args: Value[], kwargs: Kwargs): Value | undefined {
  if (obj instanceof PyList) return listMethod(rt, obj, name, args, kwargs);
  if (obj instanceof PyDict) return dictMethod(rt, obj, name, args, kwargs);
  if (typeof obj === 'string') return stringMethod(rt, obj, name, args, kwargs);
  if (obj instanceof PyTuple) {
    if (name === 'index' || name === 'count') {
      return listMethod(rt, new PyList(obj.items as Value[]), name, args, kwargs);
    }
  }
  return undefined;
}

const METHOD_NAMES: Record<string, ReadonlySet<string>> = {
  list: new Set(['append', 'extend', 'insert', 'pop', 'remove', 'index', 'count', 'reverse', 'clear', 'copy', 'sort']),
  dict: new Set(['get', 'keys', 'values', 'items', 'pop', 'setdefault', 'update', 'copy', 'clear']),
  str: new Set([
    'format',
    'upper',
    'lower',
    'strip',
    'lstrip',
    'rstrip',
    'split',
    'join',
    'replace',
    'startswith',
    'endswith',
    'find',
    'count',
    'zfill',
    'isdigit',
    'title',
    'capitalize',
  ]),
  tuple: new Set(['index', 'count']),
};

/** `obj.name` for list, dict, str and tuple values: a bound method, or undefined. */
export function builtinMethod(rt: Runtime, obj: Value, name: string): Callable | undefined {
  const kind = obj instanceof PyList ? 'list' : obj instanceof PyDict ? 'dict' : typeof obj === 'string' ? 'str' : obj instanceof PyTuple ? 'tuple' : null;
  if (!kind || !METHOD_NAMES[kind].has(name)) return undefined;
  return builtin(name, (args, kwargs) => callBuiltinMethod(rt, obj, name, args, kwargs) ?? null);
}

// ---- builtin functions ----------------------------------------------------------------------

function sortValues(rt: Runtime, items: readonly Value[], kwargs: Kwargs): Value[] {
  const key = kwargs.key ?? null;
  const reverse = truthy(kwargs.reverse ?? false);
  for (const k in kwargs) if (k !== 'key' && k !== 'reverse') throw runtimeError(`sort() got an unexpected keyword argument '${k}'`);
  rt.tick(items.length);
  const keyed = items.map((v) => ({ v, k: key === null ? v : rt.callValue(key, [v]) }));
  // Stable, and `reverse` keeps equal elements in order, as Python's does.
  keyed.sort((a, b) => (pyLess(a.k, b.k) ? -1 : pyLess(b.k, a.k) ? 1 : 0) * (reverse ? -1 : 1));
  return keyed.map((e) => e.v);
}

function fillDict(rt: Runtime, dict: PyDict, source: Value): void {
  if (source instanceof PyDict) {
    for (const [k, v] of source.entries) dict.entries.set(k, v);
    return;
  }
  for (const pair of collect(rt, source)) {
    const kv = pair instanceof PyList || pair instanceof PyTuple ? pair.items : null;
    if (kv?.length !== 2) throw runtimeError('dictionary update sequence element has wrong length; 2 is required');
    dict.entries.set(dictKey(kv[0]), kv[1]);
  }
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function pyRound(x: number, ndigits: number | null): number {
  if (!Number.isFinite(x)) {
    if (ndigits === null) throw runtimeError(`cannot convert float ${floatRepr(x)} to integer`);
    return x;
  }
  if (ndigits === null) return roundHalfEven(x);
  if (ndigits > 0) {
    if (Math.abs(x) >= 1e21 || ndigits > 100) return x;
    return Number(toFixedPy(x, ndigits));
  }
  const factor = 10 ** -ndigits;
  return roundHalfEven(x / factor) * factor;
}

function toInt(v: Value, base: number | null): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' && base === null) {
    if (!Number.isFinite(v)) throw runtimeError(`cannot convert float ${floatRepr(v)} to integer`);
    return Math.trunc(v);
  }
  if (typeof v === 'string') {
    const text = v.trim().replace(/_/g, '');
    const b = base ?? 10;
    const digits =
      b === 16 ? text.replace(/^([-+]?)0[xX]/, '$1') : b === 8 ? text.replace(/^([-+]?)0[oO]/, '$1') : b === 2 ? text.replace(/^([-+]?)0[bB]/, '$1') : text;
    const valid = new RegExp(`^[-+]?[${'0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, b)}]+$`, 'i');
    if (valid.test(digits)) return parseInt(digits, b);
    throw runtimeError(`invalid literal for int() with base ${b}: ${stringRepr(v)}`);
  }
  throw runtimeError(`int() argument must be a string or a number, not '${typeName(v)}'`);
}

function toFloat(v: Value): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const text = v.trim().replace(/_/g, '').toLowerCase();
    if (/^[-+]?(inf|infinity)$/.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
    if (/^[-+]?nan$/.test(text)) return NaN;
    if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/.test(text)) return Number(text);
    throw runtimeError(`could not convert string to float: ${stringRepr(v)}`);
  }
  throw runtimeError(`float() argument must be a string or a number, not '${typeName(v)}'`);
}

function number(fname: string, v: Value | undefined): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw runtimeError(`${fname}() argument must be a number, not '${typeName(v ?? null)}'`);
}

function extremum(rt: Runtime, name: 'min' | 'max', args: Value[], kwargs: Kwargs): Value {
  const key = kwargs.key ?? null;
  for (const k in kwargs) if (k !== 'key' && k !== 'default') throw runtimeError(`${name}() got an unexpected keyword argument '${k}'`);
  const items = args.length === 1 ? collect(rt, args[0]) : args;
  if (items.length === 0) {
    if (args.length === 0) throw runtimeError(`${name} expected at least 1 argument, got 0`);
    if (kwargs.default !== undefined) return kwargs.default;
    throw runtimeError(`${name}() arg is an empty sequence`);
  }
  let best = items[0];
  let bestKey = key === null ? best : rt.callValue(key, [best]);
  for (let i = 1; i < items.length; i++) {
    const k = key === null ? items[i] : rt.callValue(key, [items[i]]);
    if (name === 'min' ? pyLess(k, bestKey) : pyLess(bestKey, k)) {
      best = items[i];
      bestKey = k;
    }
  }
  return best;
}

function* zipIterator(rt: Runtime, sources: Iterator<Value>[]): Generator<Value> {
  if (sources.length === 0) return;
  for (;;) {
    const row: Value[] = [];
    for (const it of sources) {
      const next = it.next();
      if (next.done) return;
      row.push(next.value);
    }
    rt.tick();
    yield new PyTuple(row);
  }
}

/** Names a program may not use at all; each says why instead of "not defined". */
export const FORBIDDEN_NAMES: Record<string, string> = {
  open: 'files cannot be accessed from a CadQuery program',
  eval: 'eval() is not allowed',
  exec: 'exec() is not allowed',
  compile: 'compile() is not allowed',
  __import__: '__import__() is not allowed',
  getattr: 'getattr() is not allowed',
  setattr: 'setattr() is not allowed',
  delattr: 'delattr() is not allowed',
  hasattr: 'hasattr() is not allowed',
  vars: 'vars() is not allowed',
  dir: 'dir() is not allowed',
  input: 'input() is not allowed: programs cannot read input',
  breakpoint: 'breakpoint() is not allowed',
  exit: 'exit() is not allowed',
  quit: 'quit() is not allowed',
  help: 'help() is not allowed',
  type: 'type() is not supported',
  object: 'object is not supported',
  super: 'super() is not supported',
  memoryview: 'memoryview is not supported',
  bytearray: 'bytearray is not supported',
  bytes: 'bytes is not supported',
  isinstance: 'isinstance() is not supported',
  issubclass: 'issubclass() is not supported',
  id: 'id() is not supported',
  hash: 'hash() is not supported',
};

export function makeBuiltins(rt: Runtime): Map<string, Value> {
  const fns: Record<string, (args: Value[], kwargs: Kwargs) => Value> = {
    range(args, kwargs) {
      noKwargs('range', kwargs);
      argCount('range', args, 1, 3);
      const ints = args.map((a) => {
        if (typeof a === 'boolean') return a ? 1 : 0;
        if (typeof a !== 'number' || !Number.isInteger(a)) {
          throw runtimeError(`'${typeName(a)}' object cannot be interpreted as an integer`);
        }
        return a;
      });
      const [start, stop, step] = ints.length === 1 ? [0, ints[0], 1] : [ints[0], ints[1], ints[2] ?? 1];
      if (step === 0) throw runtimeError('range() arg 3 must not be zero');
      return new PyRange(start, stop, step);
    },
    len(args, kwargs) {
      noKwargs('len', kwargs);
      argCount('len', args, 1, 1);
      return pyLen(args[0]);
    },
    abs(args) {
      argCount('abs', args, 1, 1);
      const v = args[0];
      if (isHost(v)) {
        const m = hostMethod(v, '__abs__');
        if (m) return m.call([], {});
      }
      return Math.abs(number('abs', v));
    },
    min: (args, kwargs) => extremum(rt, 'min', args, kwargs),
    max: (args, kwargs) => extremum(rt, 'max', args, kwargs),
    sum(args, kwargs) {
      argCount('sum', args, 1, 2);
      let total: Value = args[1] ?? kwargs.start ?? 0;
      if (typeof total === 'string') throw runtimeError("sum() can't sum strings (use ''.join(seq) instead)");
      for (const v of iterate(args[0])) {
        rt.tick();
        total = typeof total === 'number' && typeof v === 'number' ? total + v : binaryOp(rt, '+', total, v);
      }
      return total;
    },
    round(args, kwargs) {
      argCount('round', args, 1, 2);
      const digits = args[1] ?? kwargs.ndigits ?? null;
      return pyRound(number('round', args[0]), digits === null ? null : toIndex(digits, 'round'));
    },
    int(args, kwargs) {
      argCount('int', args, 0, 2);
      if (args.length === 0) return 0;
      const base = args[1] ?? kwargs.base ?? null;
      return toInt(args[0], base === null ? null : toIndex(base, 'int'));
    },
    float(args) {
      argCount('float', args, 0, 1);
      return args.length ? toFloat(args[0]) : 0;
    },
    str(args) {
      argCount('str', args, 0, 1);
      return args.length ? pyStr(args[0]) : '';
    },
    repr(args) {
      argCount('repr', args, 1, 1);
      return pyRepr(args[0]);
    },
    format(args) {
      argCount('format', args, 1, 2);
      const spec = args[1] ?? '';
      if (typeof spec !== 'string') throw runtimeError('format() argument 2 must be str');
      return formatValue(args[0], spec);
    },
    bool(args) {
      argCount('bool', args, 0, 1);
      return args.length ? truthy(args[0]) : false;
    },
    list(args) {
      argCount('list', args, 0, 1);
      return new PyList(args.length ? collect(rt, args[0]) : []);
    },
    tuple(args) {
      argCount('tuple', args, 0, 1);
      if (args[0] instanceof PyTuple) return args[0];
      return new PyTuple(args.length ? collect(rt, args[0]) : []);
    },
    dict(args, kwargs) {
      argCount('dict', args, 0, 1);
      const d = new PyDict();
      if (args.length) fillDict(rt, d, args[0]);
      for (const k in kwargs) d.entries.set(k, kwargs[k]);
      return d;
    },
    enumerate(args, kwargs) {
      argCount('enumerate', args, 1, 2);
      const source = iterate(args[0])[Symbol.iterator]();
      let i = toIndex(args[1] ?? kwargs.start ?? 0, 'enumerate');
      return new PyIterator(
        'enumerate',
        (function* () {
          for (let next = source.next(); !next.done; next = source.next()) {
            rt.tick();
            yield new PyTuple([i++, next.value]);
          }
        })(),
      );
    },
    zip(args, kwargs) {
      noKwargs('zip', kwargs);
      return new PyIterator(
        'zip',
        zipIterator(
          rt,
          args.map((a) => iterate(a)[Symbol.iterator]()),
        ),
      );
    },
    map(args, kwargs) {
      noKwargs('map', kwargs);
      if (args.length < 2) throw runtimeError('map() must have at least two arguments.');
      const [fn, ...sources] = args;
      const rows = zipIterator(
        rt,
        sources.map((a) => iterate(a)[Symbol.iterator]()),
      );
      return new PyIterator(
        'map',
        (function* () {
          for (const row of rows) yield rt.callValue(fn, [...(row as PyTuple).items]);
        })(),
      );
    },
    filter(args, kwargs) {
      noKwargs('filter', kwargs);
      argCount('filter', args, 2, 2);
      const [fn, source] = args;
      const items = iterate(source);
      return new PyIterator(
        'filter',
        (function* () {
          for (const v of items) {
            rt.tick();
            if (truthy(fn === null ? v : rt.callValue(fn, [v]))) yield v;
          }
        })(),
      );
    },
    sorted(args, kwargs) {
      argCount('sorted', args, 1, 1);
      return new PyList(sortValues(rt, collect(rt, args[0]), kwargs));
    },
    reversed(args) {
      argCount('reversed', args, 1, 1);
      const v = args[0];
      if (!(v instanceof PyList || v instanceof PyTuple || v instanceof PyRange || typeof v === 'string')) {
        throw runtimeError(`'${typeName(v)}' object is not reversible`);
      }
      return new PyIterator('reversed', collect(rt, v).reverse()[Symbol.iterator]());
    },
    any(args) {
      argCount('any', args, 1, 1);
      for (const v of iterate(args[0])) {
        rt.tick();
        if (truthy(v)) return true;
      }
      return false;
    },
    all(args) {
      argCount('all', args, 1, 1);
      for (const v of iterate(args[0])) {
        rt.tick();
        if (!truthy(v)) return false;
      }
      return true;
    },
    pow(args) {
      argCount('pow', args, 2, 2);
      return binaryOp(rt, '**', args[0], args[1]);
    },
    divmod(args) {
      argCount('divmod', args, 2, 2);
      return new PyTuple([binaryOp(rt, '//', args[0], args[1]), binaryOp(rt, '%', args[0], args[1])]);
    },
    print(args, kwargs) {
      const sep = kwargs.sep ?? ' ';
      const end = kwargs.end ?? '\n';
      if (typeof sep !== 'string' || typeof end !== 'string') throw runtimeError('print(): sep and end must be strings');
      rt.print(args.map(pyStr).join(sep) + end);
      return null;
    },
    iter(args, kwargs) {
      noKwargs('iter', kwargs);
      argCount('iter', args, 1, 1);
      if (args[0] instanceof PyIterator) return args[0];
      return new PyIterator(`${typeName(args[0])}_iterator`, iterate(args[0])[Symbol.iterator]());
    },
    next(args, kwargs) {
      noKwargs('next', kwargs);
      argCount('next', args, 1, 2);
      const it = args[0];
      if (!(it instanceof PyIterator)) throw runtimeError(`'${typeName(it)}' object is not an iterator`);
      rt.tick();
      const r = it.iterator.next();
      if (!r.done) return r.value;
      if (args.length === 2) return args[1];
      throw runtimeError('StopIteration');
    },
    ord(args, kwargs) {
      noKwargs('ord', kwargs);
      argCount('ord', args, 1, 1);
      const c = args[0];
      if (typeof c !== 'string' || Array.from(c).length !== 1) throw runtimeError(`ord() expected a character, but got ${typeName(c)}`);
      return c.codePointAt(0)!;
    },
    chr(args, kwargs) {
      noKwargs('chr', kwargs);
      argCount('chr', args, 1, 1);
      const n = args[0];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0x10ffff) throw runtimeError('chr() arg not in range(0x110000)');
      return String.fromCodePoint(n);
    },
    show_object(args, kwargs) {
      argCount('show_object', args, 1, 3);
      for (const k in kwargs) {
        if (k !== 'name' && k !== 'options') throw runtimeError(`show_object() got an unexpected keyword argument '${k}'`);
      }
      rt.show(args[0]);
      return null;
    },
  };
  const table = new Map<string, Value>();
  for (const [name, fn] of Object.entries(fns)) table.set(name, builtin(name, fn));
  // The exceptions `raise` takes: ValueError("message") and friends.
  for (const name of EXCEPTION_NAMES)
    table.set(
      name,
      builtin(name, (args) => new PyException(name, args.map((a) => pyStr(a)).join(', '))),
    );
  table.set(
    'debug',
    builtin('debug', () => null),
  ); // CQ-editor's debug(): a no-op here
  return table;
}

// ---- math -----------------------------------------------------------------------------------

function mathFn(name: string, arity: number, fn: (...xs: number[]) => number, domain?: (...xs: number[]) => boolean): Callable {
  return builtin(name, (args, kwargs) => {
    noKwargs(name, kwargs);
    argCount(name, args, arity, arity);
    const xs = args.map((a) => number(name, a));
    if (domain && !domain(...xs)) throw runtimeError(`math domain error in ${name}()`);
    return fn(...xs);
  });
}

function isClose(args: Value[], kwargs: Kwargs): boolean {
  argCount('isclose', args, 2, 2);
  const a = number('isclose', args[0]);
  const b = number('isclose', args[1]);
  const rel = number('isclose', kwargs.rel_tol ?? 1e-9);
  const abs = number('isclose', kwargs.abs_tol ?? 0);
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  const diff = Math.abs(b - a);
  return diff <= Math.abs(rel * b) || diff <= Math.abs(rel * a) || diff <= abs;
}

/**
 * `typing`: its names exist so that annotated programs run (`from typing import List`,
 * `def f(x: Optional[float]) -> Tuple[float, float]`); each is an opaque marker that subscripts to
 * itself, as annotations need nothing more here.
 */
export function createTypingModule(): HostObject {
  const names = [
    'Any',
    'Callable',
    'Dict',
    'Iterable',
    'Iterator',
    'List',
    'Literal',
    'Optional',
    'Sequence',
    'Set',
    'Tuple',
    'Type',
    'Union',
    'Mapping',
    'NamedTuple',
    'Final',
    'ClassVar',
  ];
  const attrs: Record<string, Value> = {};
  for (const n of names) {
    const marker: HostObject = {
      kind: 'host',
      typeName: `typing.${n}`,
      getAttr: (name) => (name === '__getitem__' ? builtin(`typing.${n}.__getitem__`, () => marker) : undefined),
    };
    attrs[n] = marker;
  }
  attrs.TYPE_CHECKING = false;
  attrs.cast = builtin('typing.cast', (args) => args[1] ?? null);
  return hostModule('module', attrs);
}

/** `from __future__ import division` and the like: Python 3 has them all already, so each is a no-op. */
export function createFutureModule(): HostObject {
  const features = [
    'division',
    'print_function',
    'absolute_import',
    'unicode_literals',
    'generators',
    'nested_scopes',
    'with_statement',
    'annotations',
    'generator_stop',
  ];
  return hostModule('module', Object.fromEntries(features.map((f) => [f, true])));
}

export function createMathModule(): HostObject {
  return hostModule('module', {
    pi: Math.PI,
    e: Math.E,
    tau: 2 * Math.PI,
    inf: Infinity,
    nan: NaN,
    sqrt: mathFn('sqrt', 1, Math.sqrt, (x) => x >= 0),
    sin: mathFn('sin', 1, Math.sin, Number.isFinite),
    cos: mathFn('cos', 1, Math.cos, Number.isFinite),
    tan: mathFn('tan', 1, Math.tan, Number.isFinite),
    asin: mathFn('asin', 1, Math.asin, (x) => x >= -1 && x <= 1),
    acos: mathFn('acos', 1, Math.acos, (x) => x >= -1 && x <= 1),
    atan: mathFn('atan', 1, Math.atan),
    atan2: mathFn('atan2', 2, Math.atan2),
    sinh: mathFn('sinh', 1, Math.sinh),
    cosh: mathFn('cosh', 1, Math.cosh),
    tanh: mathFn('tanh', 1, Math.tanh),
    radians: mathFn('radians', 1, (x) => (x * Math.PI) / 180),
    degrees: mathFn('degrees', 1, (x) => (x * 180) / Math.PI),
    hypot: builtin('hypot', (args) => Math.hypot(...args.map((a) => number('hypot', a)))),
    floor: mathFn('floor', 1, Math.floor, Number.isFinite),
    ceil: mathFn('ceil', 1, Math.ceil, Number.isFinite),
    trunc: mathFn('trunc', 1, Math.trunc, Number.isFinite),
    fabs: mathFn('fabs', 1, Math.abs),
    copysign: mathFn('copysign', 2, (x, y) => (y < 0 || Object.is(y, -0) ? -Math.abs(x) : Math.abs(x))),
    fmod: mathFn(
      'fmod',
      2,
      (x, y) => x % y,
      (_x, y) => y !== 0,
    ),
    pow: mathFn('pow', 2, Math.pow, (x, y) => !(x === 0 && y < 0) && !(x < 0 && !Number.isInteger(y))),
    exp: mathFn('exp', 1, Math.exp),
    log: builtin('log', (args, kwargs) => {
      noKwargs('log', kwargs);
      argCount('log', args, 1, 2);
      const x = number('log', args[0]);
      if (!(x > 0)) throw runtimeError('math domain error in log()');
      if (args.length === 1) return Math.log(x);
      const base = number('log', args[1]);
      if (!(base > 0) || base === 1) throw runtimeError('math domain error in log()');
      return Math.log(x) / Math.log(base);
    }),
    log10: mathFn('log10', 1, Math.log10, (x) => x > 0),
    log2: mathFn('log2', 1, Math.log2, (x) => x > 0),
    isclose: builtin('isclose', isClose),
    isfinite: builtin('isfinite', ([x]) => Number.isFinite(number('isfinite', x))),
    isinf: builtin('isinf', ([x]) => Math.abs(number('isinf', x)) === Infinity),
    isnan: builtin('isnan', ([x]) => Number.isNaN(number('isnan', x))),
    gcd: builtin('gcd', (args) => {
      let g = 0;
      for (const a of args) {
        let x = Math.abs(toIndex(a, 'gcd'));
        while (x) [g, x] = [x, g % x];
      }
      return g;
    }),
    factorial: builtin('factorial', ([n]) => {
      const k = toIndex(n ?? null, 'factorial');
      if (k < 0) throw runtimeError('factorial() not defined for negative values');
      let r = 1;
      for (let i = 2; i <= k; i++) r *= i;
      return r;
    }),
  });
}
