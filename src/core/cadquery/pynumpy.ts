/**
 * The part of numpy CadQuery programs use to compute points: float arrays of any rank with
 * broadcasting arithmetic, indexing and slicing (also `a[::2, 0]`, and assignment to it), iteration,
 * `tolist`/`flatten`/`reshape`/`T`, and the module functions `array`, `asarray`, `zeros`, `ones`,
 * `full`, `arange`, `linspace`, `meshgrid`, `concatenate`/`vstack`/`hstack`/`stack`, `unique`,
 * `sum`/`min`/`max`/`mean`/`cumsum`, `dot`, `cross`, `linalg.norm`, `round` and the element-wise
 * math functions (`sin`, `cos`, `sqrt`, `radians`, `arctan2` …). Everything is float64; a 1-D array
 * of 2 or 3 numbers stands for a point wherever CadQuery takes one. Other numpy names fail as
 * `unsupported`, naming them.
 */
import { CadError } from '../errors';
import { iterate, PySlice, sliceIndices } from './pybuiltins';
import { bindArgs, builtin, hostModule, isHost, PyList, PyTuple, type BinaryOperator, type HostObject, type Kwargs, type Value } from './values';
import { Vec3 } from './api/vec';

function fail(message: string): never {
  throw new CadError('runtime', message);
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export class NdArray implements HostObject {
  readonly kind = 'host';
  readonly typeName = 'ndarray';
  constructor(
    readonly data: number[],
    readonly shape: number[],
  ) {
    if (data.length !== product(shape)) fail(`cannot make an array of shape (${shape.join(', ')}) from ${data.length} values`);
  }

  get ndim(): number {
    return this.shape.length;
  }

  private strides(): number[] {
    const s = new Array(this.ndim).fill(1);
    for (let i = this.ndim - 2; i >= 0; i--) s[i] = s[i + 1] * this.shape[i + 1];
    return s;
  }

  /** Row i (axis 0): a number for a 1-D array, else an array of one rank less. */
  row(i: number): Value {
    const n = this.shape[0];
    const k = i < 0 ? i + n : i;
    if (!(k >= 0 && k < n)) fail(`index ${i} is out of bounds for axis 0 with size ${n}`);
    if (this.ndim === 1) return this.data[k];
    const size = product(this.shape.slice(1));
    return new NdArray(this.data.slice(k * size, (k + 1) * size), this.shape.slice(1));
  }

  toValue(): Value {
    if (this.ndim === 0) return this.data[0];
    return new PyList(
      Array.from({ length: this.shape[0] }, (_, i) => {
        const r = this.row(i);
        return r instanceof NdArray ? r.toValue() : r;
      }),
    );
  }

  /** As a sequence for CadQuery's point lists (polyline(pts), pushPoints(…)). */
  asSequence(): Value[] {
    if (this.ndim === 0) fail('iteration over a 0-d array');
    return Array.from({ length: this.shape[0] }, (_, i) => this.row(i));
  }

  /** A 1-D array of 2 or 3 numbers is a point. */
  toVec3(): Vec3 | undefined {
    if (this.ndim === 1 && (this.data.length === 2 || this.data.length === 3)) return new Vec3(this.data[0], this.data[1], this.data[2] ?? 0);
    return undefined;
  }

  /** The flat positions selected by an index (ints and slices per axis), and the result's shape. */
  private select(index: Value | PySlice): { positions: number[]; shape: number[] } {
    const parts: (Value | PySlice)[] = index instanceof PyTuple ? [...index.items] : [index];
    if (parts.length > this.ndim) fail(`too many indices for array: array is ${this.ndim}-dimensional, but ${parts.length} were indexed`);
    const strides = this.strides();
    let positions = [0];
    const shape: number[] = [];
    for (let axis = 0; axis < this.ndim; axis++) {
      const p = parts[axis];
      const n = this.shape[axis];
      let picks: number[];
      if (p === undefined || p instanceof PySlice) {
        picks = p === undefined ? Array.from({ length: n }, (_, i) => i) : sliceIndices(p, n);
        shape.push(picks.length);
      } else if (typeof p === 'number' && Number.isInteger(p)) {
        const k = p < 0 ? p + n : p;
        if (!(k >= 0 && k < n)) fail(`index ${p} is out of bounds for axis ${axis} with size ${n}`);
        picks = [k];
      } else fail('only integers and slices are valid array indices here');
      const next: number[] = [];
      for (const base of positions) for (const k of picks) next.push(base + k * strides[axis]);
      positions = next;
    }
    return { positions, shape };
  }

  getItem(index: Value | PySlice): Value {
    const { positions, shape } = this.select(index);
    if (shape.length === 0) return this.data[positions[0]];
    return new NdArray(
      positions.map((p) => this.data[p]),
      shape,
    );
  }

  setItem(index: Value | PySlice, value: Value): void {
    const { positions, shape } = this.select(index);
    const v = broadcastTo(toArray(value), shape);
    positions.forEach((p, i) => {
      this.data[p] = v.data[i];
    });
  }

  getAttr(name: string): Value | undefined {
    const m = (fn: (a: Value[], k: Kwargs) => Value) => builtin(`ndarray.${name}`, fn);
    switch (name) {
      case 'shape':
        return new PyTuple(this.shape);
      case 'ndim':
        return this.ndim;
      case 'size':
        return this.data.length;
      case 'T':
        return transpose(this);
      case '__len__':
        return m(() => (this.ndim === 0 ? fail('len() of unsized object') : this.shape[0]));
      case '__iter__':
        return m(() => new PyList(this.asSequence()));
      case '__getitem__':
        return m(([i]) => this.getItem(i));
      case '__setitem__':
        return m(([i, v]) => {
          this.setItem(i, v);
          return null;
        });
      case '__neg__':
        return m(() => map(this, (x) => -x));
      case '__abs__':
        return m(() => map(this, Math.abs));
      case '__repr__':
      case '__str__':
        return m(() => `array(${JSON.stringify(this.toValue() instanceof PyList ? nested(this) : this.data[0])})`);
      case 'tolist':
        return m(() => this.toValue());
      case 'flatten':
      case 'ravel':
        return m(() => new NdArray(this.data.slice(), [this.data.length]));
      case 'copy':
        return m(() => new NdArray(this.data.slice(), this.shape.slice()));
      case 'astype':
        return m(() => new NdArray(this.data.slice(), this.shape.slice()));
      case 'reshape':
        return m((a) => reshape(this, a.length === 1 ? a[0] : new PyTuple(a)));
      case 'transpose':
        return m(() => transpose(this));
      case 'sum':
      case 'min':
      case 'max':
      case 'mean':
      case 'cumsum':
        return m((a, k) => reduce(name, this, a[0] ?? k.axis));
      default:
        return undefined;
    }
  }

  binaryOp(op: BinaryOperator, other: Value, reflected: boolean): Value | undefined {
    const fn = ARITHMETIC[op];
    if (!fn) return undefined;
    let o: NdArray;
    try {
      o = toArray(other);
    } catch {
      return undefined;
    }
    return reflected ? elementwise(o, this, fn) : elementwise(this, o, fn);
  }
}

function nested(a: NdArray): unknown {
  if (a.ndim === 1) return a.data;
  return a.asSequence().map((r) => nested(r as NdArray));
}

const ARITHMETIC: Partial<Record<BinaryOperator, (a: number, b: number) => number>> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '//': (a, b) => Math.floor(a / b),
  '%': (a, b) => a - b * Math.floor(a / b),
  '**': (a, b) => a ** b,
};

/** Any number, nested list/tuple of numbers, or array as an array (rectangular, or an error). */
export function toArray(v: Value): NdArray {
  if (v instanceof NdArray) return v;
  if (typeof v === 'number') return new NdArray([v], []);
  if (typeof v === 'boolean') return new NdArray([v ? 1 : 0], []);
  if (v instanceof PyList || v instanceof PyTuple || (isHost(v) && v.getAttr('__iter__'))) {
    const rows = Array.from(iterate(v)).map(toArray);
    if (rows.length === 0) return new NdArray([], [0]);
    const shape = rows[0].shape;
    for (const r of rows) if (r.shape.join() !== shape.join()) fail('setting an array element with a sequence: the rows differ in shape');
    return new NdArray(
      rows.flatMap((r) => r.data),
      [rows.length, ...shape],
    );
  }
  return fail(`could not convert ${isHost(v) ? v.typeName : typeof v} to a numeric array`);
}

function broadcastShapes(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) fail(`operands could not be broadcast together with shapes (${a.join(',')}) (${b.join(',')})`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

function broadcastTo(a: NdArray, shape: number[]): NdArray {
  if (a.shape.join() === shape.join()) return a;
  const full = broadcastShapes(a.shape, shape);
  if (full.join() !== shape.join()) fail(`could not broadcast shape (${a.shape.join(',')}) into (${shape.join(',')})`);
  const n = product(shape);
  const out = new Array<number>(n);
  const offset = shape.length - a.shape.length;
  for (let i = 0; i < n; i++) {
    let rest = i;
    let src = 0;
    let stride = 1;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      const idx = rest % shape[axis];
      rest = Math.floor(rest / shape[axis]);
      const own = axis - offset;
      if (own >= 0) {
        if (a.shape[own] !== 1) src += idx * stride;
        stride *= a.shape[own];
      }
    }
    out[i] = a.data[src];
  }
  return new NdArray(out, shape.slice());
}

function elementwise(a: NdArray, b: NdArray, fn: (x: number, y: number) => number): Value {
  const shape = broadcastShapes(a.shape, b.shape);
  const x = broadcastTo(a, shape);
  const y = broadcastTo(b, shape);
  const r = new NdArray(
    x.data.map((v, i) => fn(v, y.data[i])),
    shape,
  );
  return shape.length === 0 ? r.data[0] : r;
}

function map(a: NdArray, fn: (x: number) => number): NdArray {
  return new NdArray(a.data.map(fn), a.shape.slice());
}

function transpose(a: NdArray): NdArray {
  if (a.ndim < 2) return a;
  if (a.ndim > 2) fail('transposing arrays of more than 2 dimensions is not supported');
  const [r, c] = a.shape;
  const out: number[] = [];
  for (let j = 0; j < c; j++) for (let i = 0; i < r; i++) out.push(a.data[i * c + j]);
  return new NdArray(out, [c, r]);
}

function reshape(a: NdArray, shapeValue: Value): NdArray {
  const dims = (shapeValue instanceof PyTuple || shapeValue instanceof PyList ? shapeValue.items : [shapeValue]).map(Number);
  const known = dims.filter((d) => d !== -1).reduce((x, y) => x * y, 1);
  const shape = dims.map((d) => (d === -1 ? a.data.length / known : d));
  return new NdArray(a.data.slice(), shape);
}

function reduce(name: string, a: NdArray, axisValue: Value | undefined): Value {
  const axis = axisValue === undefined || axisValue === null ? null : Number(axisValue);
  const reducers: Record<string, (xs: number[]) => number> = {
    sum: (xs) => xs.reduce((p, q) => p + q, 0),
    min: (xs) => (xs.length ? Math.min(...xs) : fail('zero-size array to reduction operation minimum')),
    max: (xs) => (xs.length ? Math.max(...xs) : fail('zero-size array to reduction operation maximum')),
    mean: (xs) => xs.reduce((p, q) => p + q, 0) / xs.length,
  };
  if (name === 'cumsum') {
    if (axis !== null) fail('cumsum(axis=) is not supported');
    let s = 0;
    return new NdArray(
      a.data.map((x) => (s += x)),
      [a.data.length],
    );
  }
  const r = reducers[name];
  if (axis === null) return r(a.data);
  const ax = axis < 0 ? axis + a.ndim : axis;
  if (!(ax >= 0 && ax < a.ndim)) fail(`axis ${axis} is out of bounds for array of dimension ${a.ndim}`);
  const outShape = a.shape.filter((_, i) => i !== ax);
  const out: number[] = [];
  const parts: Value[] = Array.from({ length: product(outShape) }, (_, flat) => {
    const idx: Value[] = [];
    let rest = flat;
    for (let i = outShape.length - 1; i >= 0; i--) {
      idx.unshift(rest % outShape[i]);
      rest = Math.floor(rest / outShape[i]);
    }
    idx.splice(ax, 0, new PySlice(null, null, null) as unknown as Value);
    return new PyTuple(idx);
  });
  for (const p of parts) out.push(r((a.getItem(p) as NdArray).data));
  return outShape.length === 0 ? out[0] : new NdArray(out, outShape);
}

function elementFn(name: string, fn: (x: number) => number): Value {
  return builtin(`numpy.${name}`, (a) => {
    if (a.length !== 1) fail(`numpy.${name}() takes one array`);
    const v = a[0];
    if (typeof v === 'number') return fn(v);
    return map(toArray(v), fn);
  });
}

function elementFn2(name: string, fn: (x: number, y: number) => number): Value {
  return builtin(`numpy.${name}`, (a) => {
    if (a.length !== 2) fail(`numpy.${name}() takes two arrays`);
    if (typeof a[0] === 'number' && typeof a[1] === 'number') return fn(a[0], a[1]);
    return elementwise(toArray(a[0]), toArray(a[1]), fn);
  });
}

function shapeArg(v: Value | undefined): number[] {
  if (typeof v === 'number') return [v];
  if (v instanceof PyTuple || v instanceof PyList) return v.items.map(Number);
  return fail('a shape must be an int or a tuple of ints');
}

function arraysOf(v: Value | undefined): NdArray[] {
  return Array.from(iterate(v ?? new PyList([]))).map(toArray);
}

function join(arrays: NdArray[], axis: number): NdArray {
  if (arrays.length === 0) fail('need at least one array to concatenate');
  const nd = arrays[0].ndim;
  const ax = axis < 0 ? axis + nd : axis;
  if (ax === 0) {
    const rest = arrays[0].shape.slice(1).join();
    for (const a of arrays) if (a.shape.slice(1).join() !== rest) fail('all the input array dimensions except for the concatenation axis must match');
    return new NdArray(
      arrays.flatMap((a) => a.data),
      [arrays.reduce((n, a) => n + a.shape[0], 0), ...arrays[0].shape.slice(1)],
    );
  }
  if (ax === 1 && nd === 2) return transpose(join(arrays.map(transpose), 0));
  return fail('concatenating along this axis is not supported');
}

export function createNumpyModule(): HostObject {
  const fns: Record<string, Value> = {
    pi: Math.PI,
    e: Math.E,
    inf: Infinity,
    nan: NaN,
    float64: builtin('numpy.float64', ([v]) => Number(v)),
    array: builtin('numpy.array', (a, k) => {
      const b = bindArgs('numpy.array', ['object', 'dtype='], a, k);
      const arr = toArray(b.object!);
      return new NdArray(arr.data.slice(), arr.shape.slice());
    }),
    asarray: builtin('numpy.asarray', (a, k) => toArray(bindArgs('numpy.asarray', ['a', 'dtype='], a, k).a!)),
    zeros: builtin('numpy.zeros', (a, k) => {
      const s = shapeArg(bindArgs('numpy.zeros', ['shape', 'dtype='], a, k).shape);
      return new NdArray(new Array(product(s)).fill(0), s);
    }),
    ones: builtin('numpy.ones', (a, k) => {
      const s = shapeArg(bindArgs('numpy.ones', ['shape', 'dtype='], a, k).shape);
      return new NdArray(new Array(product(s)).fill(1), s);
    }),
    full: builtin('numpy.full', (a, k) => {
      const b = bindArgs('numpy.full', ['shape', 'fill_value', 'dtype='], a, k);
      const s = shapeArg(b.shape);
      return new NdArray(new Array(product(s)).fill(Number(b.fill_value)), s);
    }),
    arange: builtin('numpy.arange', (a, k) => {
      const b = bindArgs('numpy.arange', ['start', 'stop=', 'step=', 'dtype='], a, k);
      const [start, stop] = b.stop === undefined || b.stop === null ? [0, Number(b.start)] : [Number(b.start), Number(b.stop)];
      const step = b.step === undefined || b.step === null ? 1 : Number(b.step);
      if (step === 0) fail('numpy.arange(): step must not be zero');
      const n = Math.max(0, Math.ceil((stop - start) / step));
      if (n > 10_000_000) fail('numpy.arange(): too many values');
      return new NdArray(
        Array.from({ length: n }, (_, i) => start + i * step),
        [n],
      );
    }),
    linspace: builtin('numpy.linspace', (a, k) => {
      const b = bindArgs('numpy.linspace', ['start', 'stop', 'num=', 'endpoint=', 'retstep=', 'dtype='], a, k);
      const start = Number(b.start);
      const stop = Number(b.stop);
      const num = b.num === undefined ? 50 : Number(b.num);
      const endpoint = b.endpoint === undefined ? true : Boolean(b.endpoint);
      const div = endpoint ? num - 1 : num;
      const step = div > 0 ? (stop - start) / div : NaN;
      const data = Array.from({ length: num }, (_, i) => (endpoint && i === num - 1 && num > 1 ? stop : start + i * step));
      const arr = new NdArray(data, [num]);
      return b.retstep ? new PyTuple([arr, step]) : arr;
    }),
    meshgrid: builtin('numpy.meshgrid', (a, k) => {
      const indexing = k.indexing === undefined ? 'xy' : String(k.indexing);
      const xs = a.map((v) => toArray(v).data);
      if (xs.length < 1 || xs.length > 3) fail('numpy.meshgrid() takes one to three arrays here');
      // 'xy' swaps the first two output axes (Cartesian), as numpy does.
      const dims = xs.map((x) => x.length);
      const outDims = indexing === 'xy' && dims.length >= 2 ? [dims[1], dims[0], ...dims.slice(2)] : dims;
      const n = product(outDims);
      return new PyTuple(
        xs.map((x, which) => {
          const data = new Array<number>(n);
          for (let flat = 0; flat < n; flat++) {
            let rest = flat;
            const idx = new Array<number>(outDims.length);
            for (let ax = outDims.length - 1; ax >= 0; ax--) {
              idx[ax] = rest % outDims[ax];
              rest = Math.floor(rest / outDims[ax]);
            }
            const axisOf = indexing === 'xy' && dims.length >= 2 && which < 2 ? 1 - which : which;
            data[flat] = x[idx[axisOf]];
          }
          return new NdArray(data, outDims.slice());
        }),
      );
    }),
    concatenate: builtin('numpy.concatenate', (a, k) => {
      const b = bindArgs('numpy.concatenate', ['arrays', 'axis='], a, k);
      return join(arraysOf(b.arrays), b.axis === undefined ? 0 : Number(b.axis));
    }),
    vstack: builtin('numpy.vstack', ([v]) =>
      join(
        arraysOf(v).map((x) => (x.ndim === 1 ? new NdArray(x.data, [1, x.data.length]) : x)),
        0,
      ),
    ),
    hstack: builtin('numpy.hstack', ([v]) => {
      const xs = arraysOf(v);
      return join(xs, xs[0]?.ndim === 1 ? 0 : 1);
    }),
    stack: builtin('numpy.stack', (a, k) => {
      const b = bindArgs('numpy.stack', ['arrays', 'axis='], a, k);
      const xs = arraysOf(b.arrays).map((x) => new NdArray(x.data, [1, ...x.shape]));
      const r = join(xs, 0);
      return b.axis === undefined || Number(b.axis) === 0
        ? r
        : Number(b.axis) === 1 || Number(b.axis) === -1
          ? transpose(r)
          : fail('numpy.stack(axis=) beyond 1 is not supported');
    }),
    unique: builtin('numpy.unique', (a, k) => {
      const b = bindArgs('numpy.unique', ['ar', 'return_index=', 'return_inverse=', 'return_counts=', 'axis='], a, k);
      if (b.return_index || b.return_inverse || b.return_counts) throw new CadError('unsupported', 'numpy.unique(return_…=True) is not supported');
      const arr = toArray(b.ar!);
      const cmp = (x: number[], y: number[]) => {
        for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
        return 0;
      };
      if (b.axis === undefined || b.axis === null) {
        const sorted = [...new Set(arr.data)].sort((x, y) => x - y);
        return new NdArray(sorted, [sorted.length]);
      }
      if (Number(b.axis) !== 0 || arr.ndim !== 2) throw new CadError('unsupported', 'numpy.unique(axis=) is supported for axis 0 of 2-D arrays');
      const rows = arr
        .asSequence()
        .map((r) => (r as NdArray).data)
        .sort(cmp);
      const kept = rows.filter((r, i) => i === 0 || cmp(r, rows[i - 1]) !== 0);
      return new NdArray(kept.flat(), [kept.length, arr.shape[1]]);
    }),
    sum: builtin('numpy.sum', (a, k) => reduce('sum', toArray(a[0]), a[1] ?? k.axis)),
    min: builtin('numpy.min', (a, k) => reduce('min', toArray(a[0]), a[1] ?? k.axis)),
    max: builtin('numpy.max', (a, k) => reduce('max', toArray(a[0]), a[1] ?? k.axis)),
    amin: builtin('numpy.amin', (a, k) => reduce('min', toArray(a[0]), a[1] ?? k.axis)),
    amax: builtin('numpy.amax', (a, k) => reduce('max', toArray(a[0]), a[1] ?? k.axis)),
    mean: builtin('numpy.mean', (a, k) => reduce('mean', toArray(a[0]), a[1] ?? k.axis)),
    cumsum: builtin('numpy.cumsum', (a) => reduce('cumsum', toArray(a[0]), undefined)),
    dot: builtin('numpy.dot', ([x, y]) => {
      const a = toArray(x);
      const b = toArray(y);
      if (a.ndim === 1 && b.ndim === 1) return a.data.reduce((s, v, i) => s + v * b.data[i], 0);
      if (a.ndim === 2 && b.ndim === 1)
        return new NdArray(
          a.asSequence().map((r) => (r as NdArray).data.reduce((s, v, i) => s + v * b.data[i], 0)),
          [a.shape[0]],
        );
      if (a.ndim === 2 && b.ndim === 2) {
        const bt = transpose(b);
        return new NdArray(
          a.asSequence().flatMap((r) => bt.asSequence().map((c) => (r as NdArray).data.reduce((s, v, i) => s + v * (c as NdArray).data[i], 0))),
          [a.shape[0], b.shape[1]],
        );
      }
      if (a.ndim === 0 || b.ndim === 0) return elementwise(a, b, (p, q) => p * q);
      return fail('numpy.dot() of these shapes is not supported');
    }),
    cross: builtin('numpy.cross', ([x, y]) => {
      const a = toArray(x).data;
      const b = toArray(y).data;
      const [a0, a1, a2 = 0] = a;
      const [b0, b1, b2 = 0] = b;
      if (a.length === 2 && b.length === 2) return a0 * b1 - a1 * b0;
      return new NdArray([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], [3]);
    }),
    round: builtin('numpy.round', (a, k) => {
      const digits = Number(a[1] ?? k.decimals ?? 0);
      const f = 10 ** digits;
      const r = (x: number) => {
        // numpy rounds half to even
        const y = x * f;
        const fl = Math.floor(y);
        const d = y - fl;
        const n = d > 0.5 ? fl + 1 : d < 0.5 ? fl : fl % 2 === 0 ? fl : fl + 1;
        return n / f;
      };
      return typeof a[0] === 'number' ? r(a[0]) : map(toArray(a[0]), r);
    }),
    linalg: hostModule('module', {
      norm: builtin('numpy.linalg.norm', ([x]) => Math.sqrt(toArray(x).data.reduce((s, v) => s + v * v, 0))),
    }),
    sqrt: elementFn('sqrt', Math.sqrt),
    sin: elementFn('sin', Math.sin),
    cos: elementFn('cos', Math.cos),
    tan: elementFn('tan', Math.tan),
    arcsin: elementFn('arcsin', Math.asin),
    arccos: elementFn('arccos', Math.acos),
    arctan: elementFn('arctan', Math.atan),
    exp: elementFn('exp', Math.exp),
    log: elementFn('log', Math.log),
    floor: elementFn('floor', Math.floor),
    ceil: elementFn('ceil', Math.ceil),
    abs: elementFn('abs', Math.abs),
    absolute: elementFn('absolute', Math.abs),
    radians: elementFn('radians', (x) => (x * Math.PI) / 180),
    deg2rad: elementFn('deg2rad', (x) => (x * Math.PI) / 180),
    degrees: elementFn('degrees', (x) => (x * 180) / Math.PI),
    rad2deg: elementFn('rad2deg', (x) => (x * 180) / Math.PI),
    arctan2: elementFn2('arctan2', Math.atan2),
    hypot: elementFn2('hypot', Math.hypot),
  };
  return {
    kind: 'host',
    typeName: 'module',
    getAttr: (name) => {
      if (Object.hasOwn(fns, name)) return fns[name];
      if (name.startsWith('_')) return undefined;
      const refuse = () => {
        throw new CadError(
          'unsupported',
          `numpy.${name} is not supported (the built-in engine has a subset of numpy: array, arange, linspace, meshgrid, the math functions …)`,
        );
      };
      return Object.assign(builtin(`numpy.${name}`, refuse), { getAttr: refuse });
    },
  };
}
