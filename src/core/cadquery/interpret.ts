/**
 * A tree-walking interpreter for the Python subset of parse.ts. The language has no file,
 * network or process access; imports are limited to `math` and the modules the caller passes
 * (checked before anything runs); every statement, expression and loop iteration counts against
 * a step limit, and user function calls against a depth limit.
 */
import type * as A from './ast';
import { CadError } from '../errors';
import { parseProgram } from './parse';
import { compareSets, PySet, setConstructor } from './pyset';
import { createNumpyModule } from './pynumpy';
import { createCollectionsModule, createTypesModule, methodDecorators, PyClass, raisedError } from './pyclass';
import {
  FORBIDDEN_NAMES,
  PyRange,
  PySlice,
  binaryOp,
  builtinMethod,
  callBuiltinMethod,
  collect,
  createMathModule,
  createTypingModule,
  createFutureModule,
  formatValue,
  getItem,
  iterate,
  dictKey,
  makeBuiltins,
  pyContains,
  pyEquals,
  pyLess,
  pyRepr,
  pyStr,
  setItem,
  deleteItem,
  truthy,
  unaryOp,
  type Runtime,
} from './pybuiltins';
import { builtin, PyDict, PyList, PyTuple, isCallable, isHost, typeName, type Callable, type HostObject, type Kwargs, type Value } from './values';

export interface InterpretOptions {
  /** importable modules besides `math` (built in here): the caller passes { cadquery: cqModule } */
  modules: Record<string, HostObject>;
  /** statement+expression evaluation steps before a `limit` CadError; default 1_000_000 */
  maxSteps?: number;
  /** Nested user function calls before a `limit` CadError; default 200. */
  maxCallDepth?: number;
  /** Receives each print() call's text (including its end); print is otherwise a no-op. */
  print?: (text: string) => void;
  /** Names defined before the program runs, as builtins (a program may rebind them): CQ-editor's `cq`. */
  predefined?: Record<string, Value>;
}

export interface InterpretResult {
  globals: Map<string, Value>;
  /** arguments of every show_object(obj, ...) call, in order */
  shown: Value[];
}

export const DEFAULT_MAX_STEPS = 1_000_000;
export const DEFAULT_MAX_CALL_DEPTH = 200;

/** Recently parsed programs: live previews and benches run the same source again and again. */
const parsedPrograms = new Map<string, A.Program>();
const PARSE_CACHE_SIZE = 16;

export function interpret(source: string, options: InterpretOptions): InterpretResult {
  let program = parsedPrograms.get(source);
  if (program) {
    parsedPrograms.delete(source); // re-inserted below as the most recent
  } else {
    program = parseProgram(source);
    if (parsedPrograms.size >= PARSE_CACHE_SIZE) parsedPrograms.delete(parsedPrograms.keys().next().value!);
  }
  parsedPrograms.set(source, program);
  return runProgram(program, options);
}

let mathModule: HostObject | undefined;
let typingModule: HostObject | undefined;
let collectionsModule: HostObject | undefined;
let futureModule: HostObject | undefined;
let typesModule: HostObject | undefined;

/** Runs an already parsed program (parse once, run many times). */
let numpyModule: HostObject | undefined;
export function runProgram(program: A.Program, options: InterpretOptions): InterpretResult {
  mathModule ??= createMathModule(); // stateless, so shared by every run
  typingModule ??= createTypingModule();
  collectionsModule ??= createCollectionsModule();
  futureModule ??= createFutureModule();
  typesModule ??= createTypesModule();
  const modules = new Map<string, HostObject>([
    ['types', typesModule],
    ['__future__', futureModule],
    ['math', mathModule],
    ['numpy', (numpyModule ??= createNumpyModule())],
    ['typing', typingModule],
    ['collections', collectionsModule],
  ]);
  for (const [name, module] of Object.entries(options.modules)) modules.set(name, module);
  // Refuse forbidden imports before anything runs.
  for (const use of program.imports) {
    if (!modules.has(use.module)) {
      const allowed = [...modules.keys()].filter((m) => !['math', 'numpy', 'typing', 'collections', '__future__', 'types'].includes(m)).concat('math');
      throw new CadError(
        'unsupported',
        `import of '${use.module}' is not allowed: only ${allowed.join(' and ')} can be imported (and a subset of numpy, typing, collections.namedtuple, types.SimpleNamespace)`,
        use.line,
        use.col,
      );
    }
  }
  const interpreter = new Interpreter(modules, options);
  interpreter.run(program);
  return { globals: interpreter.globals.vars, shown: interpreter.shown };
}

// biome-ignore lint/suspicious/noConstEnum: file-local, inlined by esbuild and tsx; the interpreter's hot loop compares these.
const enum Flow {
  Normal,
  Break,
  Continue,
  Return,
}

class Scope {
  readonly vars = new Map<string, Value>();
  constructor(readonly parent: Scope | null) {}
}

/** A user `def`: callable from Python and from host code (e.g. CadQuery's `each`). */
class UserFunction implements Callable {
  readonly kind = 'callable';

  constructor(
    readonly def: A.FunctionDef,
    readonly defaults: (Value | undefined)[],
    readonly closure: Scope,
    private readonly interpreter: Interpreter,
  ) {}

  get name(): string {
    return this.def.name;
  }

  /** As CadQuery's get_arity: positional parameters less those with defaults. */
  get arity(): number {
    return this.def.params.filter((p) => p.kind === 'normal' && !p.keywordOnly && !p.default).length;
  }

  call(args: Value[], kwargs: Kwargs): Value {
    return this.interpreter.callUser(this, args, kwargs);
  }
}

function calleeName(func: A.Expr): string {
  if (func.type === 'Attribute') return func.name;
  if (func.type === 'Name') return func.id;
  return 'call';
}

function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

function isWasmException(e: unknown): boolean {
  const Exception = (globalThis as { WebAssembly?: { Exception?: new (...args: never[]) => unknown } }).WebAssembly?.Exception;
  return !!Exception && e instanceof Exception;
}

class Interpreter implements Runtime {
  readonly globals = new Scope(null);
  readonly shown: Value[] = [];
  private builtinsTable: Map<string, Value> | undefined;
  private readonly moduleNames = new Map<HostObject, string>();
  private readonly starImports: HostObject[] = [];
  private readonly maxSteps: number;
  private readonly maxDepth: number;
  private steps = 0;
  private depth = 0;
  private returnValue: Value = null;

  constructor(
    private readonly modules: Map<string, HostObject>,
    private readonly options: InterpretOptions,
  ) {
    this.maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
    this.maxDepth = options.maxCallDepth ?? DEFAULT_MAX_CALL_DEPTH;
    for (const [name, module] of modules) this.moduleNames.set(module, name);
  }

  /** Python's builtins, made on the first name that is not a global (many programs use none). */
  private get builtins(): Map<string, Value> {
    if (this.builtinsTable) return this.builtinsTable;
    const table = makeBuiltins(this);
    table.set('set', setConstructor(false));
    table.set('frozenset', setConstructor(true));
    for (const [name, fn] of Object.entries(methodDecorators())) table.set(name, fn);
    // CQ-editor's name for the script it runs: `if __name__ == "__main__":` blocks (exports, tests) do not run there.
    table.set('__name__', '__cq_main__');
    for (const [name, value] of Object.entries(this.options.predefined ?? {})) table.set(name, value);
    this.builtinsTable = table;
    return table;
  }

  run(program: A.Program): void {
    try {
      this.execBlock(program.body, this.globals);
    } catch (e) {
      throw this.toCadError(e, program.body[0] ?? { line: 1, col: 1 });
    }
  }

  // ---- Runtime (for builtins) ----

  tick(count = 1): void {
    this.steps += count;
    if (this.steps > this.maxSteps) throw this.stepLimitError();
  }

  callValue(fn: Value, args: Value[], kwargs: Kwargs = {}): Value {
    if (fn instanceof UserFunction) return this.callUser(fn, args, kwargs);
    if (!isCallable(fn)) throw new CadError('runtime', `'${typeName(fn)}' object is not callable`);
    return fn.call(args, kwargs) ?? null;
  }

  print(text: string): void {
    this.options.print?.(text);
  }

  show(obj: Value): void {
    this.shown.push(obj);
  }

  // ---- errors ----

  private stepLimitError(): CadError {
    return new CadError('limit', `step limit of ${this.maxSteps} exceeded (infinite loop?)`);
  }

  /** Gives any error a kind and a place: the innermost construct that saw it. */
  private toCadError(e: unknown, at: A.Position, callee?: string): CadError {
    if (e instanceof CadError) {
      if (e.line === undefined) {
        e.line = at.line;
        e.col = at.col;
      }
      return e;
    }
    let error: CadError;
    if (isStackOverflow(e)) {
      error = new CadError('limit', 'the program nests too deeply (recursion or a very long expression)');
    } else if (isWasmException(e)) {
      error = new CadError('geometry', `OpenCascade failed in ${callee ?? 'a geometry operation'}()`);
    } else {
      error = new CadError('runtime', e instanceof Error ? e.message : String(e));
    }
    error.line = at.line;
    error.col = at.col;
    return error;
  }

  // ---- statements ----

  private execBlock(body: A.Stmt[], scope: Scope): Flow {
    for (let i = 0; i < body.length; i++) {
      const flow = this.exec(body[i], scope);
      if (flow !== Flow.Normal) return flow;
    }
    return Flow.Normal;
  }

  private exec(stmt: A.Stmt, scope: Scope): Flow {
    if (++this.steps > this.maxSteps) throw this.located(this.stepLimitError(), stmt);
    try {
      switch (stmt.type) {
        case 'Expr':
          this.eval(stmt.value, scope);
          return Flow.Normal;
        case 'Assign': {
          const value = this.eval(stmt.value, scope);
          for (const target of stmt.targets) this.assign(target, value, scope);
          return Flow.Normal;
        }
        case 'AugAssign':
          this.augAssign(stmt, scope);
          return Flow.Normal;
        case 'If':
          if (truthy(this.eval(stmt.test, scope))) return this.execBlock(stmt.body, scope);
          return this.execBlock(stmt.orelse, scope);
        case 'For':
          return this.execFor(stmt, scope);
        case 'FunctionDef': {
          const defaults = stmt.params.map((p) => (p.default ? this.eval(p.default, scope) : undefined));
          scope.vars.set(stmt.name, this.decorate(stmt.decorators, new UserFunction(stmt, defaults, scope, this), scope));
          return Flow.Normal;
        }
        case 'ClassDef':
          scope.vars.set(stmt.name, this.decorate(stmt.decorators, this.defineClass(stmt, scope), scope));
          return Flow.Normal;
        case 'Raise':
          if (!stmt.value) throw new CadError('runtime', 'RuntimeError: No active exception to reraise');
          throw raisedError(this.eval(stmt.value, scope), pyRepr);
        case 'Return':
          this.returnValue = stmt.value ? this.eval(stmt.value, scope) : null;
          return Flow.Return;
        case 'Pass':
          return Flow.Normal;
        case 'Delete':
          for (const target of stmt.targets) this.delete(target, scope);
          return Flow.Normal;
        case 'Break':
          return Flow.Break;
        case 'Continue':
          return Flow.Continue;
        case 'Import':
          this.execImport(stmt, scope);
          return Flow.Normal;
        case 'ImportFrom':
          this.execImportFrom(stmt, scope);
          return Flow.Normal;
        case 'Assert':
          if (!truthy(this.eval(stmt.test, scope))) {
            const message = stmt.message ? pyStr(this.eval(stmt.message, scope)) : '';
            throw new CadError('runtime', message ? `AssertionError: ${message}` : 'AssertionError');
          }
          return Flow.Normal;
      }
    } catch (e) {
      throw this.toCadError(e, stmt);
    }
  }

  private located(error: CadError, at: A.Position): CadError {
    error.line ??= at.line;
    error.col ??= at.col;
    return error;
  }

  private execFor(stmt: A.For, scope: Scope): Flow {
    const iterable = this.eval(stmt.iter, scope);
    const target = stmt.target;
    const simpleName = target.type === 'Name' ? target.id : null;
    const body = stmt.body;
    const loop = (item: Value): Flow => {
      if (++this.steps > this.maxSteps) throw this.located(this.stepLimitError(), stmt);
      if (simpleName !== null) scope.vars.set(simpleName, item);
      else this.assign(target, item, scope);
      return this.execBlock(body, scope);
    };
    let flow: Flow = Flow.Normal;
    if (iterable instanceof PyRange) {
      for (let i = 0; i < iterable.length; i++) {
        flow = loop(iterable.start + i * iterable.step);
        if (flow === Flow.Break || flow === Flow.Return) break;
      }
    } else if (iterable instanceof PyList || iterable instanceof PyTuple) {
      const items = iterable.items;
      for (let i = 0; i < items.length; i++) {
        flow = loop(items[i]);
        if (flow === Flow.Break || flow === Flow.Return) break;
      }
    } else {
      for (const item of iterate(iterable)) {
        flow = loop(item);
        if (flow === Flow.Break || flow === Flow.Return) break;
      }
    }
    if (flow === Flow.Return) return Flow.Return;
    if (flow === Flow.Break) return Flow.Normal;
    return this.execBlock(stmt.orelse, scope);
  }

  private execImport(stmt: A.Import, scope: Scope): void {
    for (const alias of stmt.names) {
      const path = alias.name.split('.');
      const root = this.modules.get(path[0])!;
      if (alias.asName === null) {
        // `import a.b` binds `a`; check that `a.b` exists all the same.
        this.resolveModulePath(root, path, alias);
        scope.vars.set(path[0], root);
      } else {
        scope.vars.set(alias.asName, this.resolveModulePath(root, path, alias));
      }
    }
  }

  private resolveModulePath(root: HostObject, path: string[], at: A.Position): Value {
    let current: Value = root;
    for (let i = 1; i < path.length; i++) {
      const next: Value | undefined = isHost(current) ? current.getAttr(path[i]) : undefined;
      if (next === undefined) {
        throw new CadError('unsupported', `module '${path.slice(0, i + 1).join('.')}' is not available`, at.line, at.col);
      }
      current = next;
    }
    return current;
  }

  private execImportFrom(stmt: A.ImportFrom, scope: Scope): void {
    const path = stmt.module.split('.');
    const module = this.resolveModulePath(this.modules.get(path[0])!, path, stmt);
    if (stmt.names === null) {
      if (!isHost(module)) throw new CadError('runtime', `cannot import * from '${stmt.module}'`);
      this.starImports.push(module);
      return;
    }
    for (const alias of stmt.names) {
      const value = isHost(module) ? module.getAttr(alias.name) : undefined;
      if (value === undefined) {
        throw new CadError('runtime', `cannot import name '${alias.name}' from '${stmt.module}'`, alias.line, alias.col);
      }
      scope.vars.set(alias.asName ?? alias.name, value);
    }
  }

  private assign(target: A.Expr, value: Value, scope: Scope): void {
    switch (target.type) {
      case 'Name':
        scope.vars.set(target.id, value);
        return;
      case 'Tuple':
      case 'List':
        this.unpack(target.items, value, scope, target);
        return;
      case 'Subscript': {
        const obj = this.eval(target.object, scope);
        const index = this.evalIndex(target.index, scope);
        try {
          setItem(obj, index, value);
        } catch (e) {
          throw this.toCadError(e, target);
        }
        return;
      }
      case 'Attribute': {
        const obj = this.eval(target.object, scope);
        if ((isHost(obj) || isCallable(obj)) && obj.setAttr) {
          obj.setAttr(target.name, value);
          return;
        }
        throw new CadError('runtime', `cannot set attribute '${target.name}' of '${typeName(obj)}' object`, target.line, target.col);
      }
    }
    throw new CadError('syntax', 'invalid assignment target', target.line, target.col);
  }

  private delete(target: A.Expr, scope: Scope): void {
    switch (target.type) {
      case 'Name':
        if (!scope.vars.delete(target.id)) throw new CadError('runtime', `NameError: name '${target.id}' is not defined`, target.line, target.col);
        return;
      case 'Tuple':
      case 'List':
        for (const item of target.items) this.delete(item, scope);
        return;
      case 'Subscript': {
        const obj = this.eval(target.object, scope);
        const index = this.evalIndex(target.index, scope);
        try {
          deleteItem(obj, index);
        } catch (e) {
          throw this.toCadError(e, target);
        }
        return;
      }
    }
    throw new CadError(
      'unsupported',
      `del of ${target.type === 'Attribute' ? 'an attribute' : 'this expression'} is not supported (names and items only)`,
      target.line,
      target.col,
    );
  }

  private unpack(targets: A.Expr[], value: Value, scope: Scope, at: A.Position): void {
    const items = value instanceof PyTuple || value instanceof PyList ? value.items : collectAt(this, value, at);
    const starIndex = targets.findIndex((t) => t.type === 'Starred');
    if (starIndex < 0) {
      if (items.length !== targets.length) {
        const message =
          items.length > targets.length
            ? `too many values to unpack (expected ${targets.length})`
            : `not enough values to unpack (expected ${targets.length}, got ${items.length})`;
        throw new CadError('runtime', message, at.line, at.col);
      }
      for (let i = 0; i < targets.length; i++) this.assign(targets[i], items[i], scope);
      return;
    }
    const after = targets.length - starIndex - 1;
    if (items.length < targets.length - 1) {
      throw new CadError('runtime', `not enough values to unpack (expected at least ${targets.length - 1}, got ${items.length})`, at.line, at.col);
    }
    for (let i = 0; i < starIndex; i++) this.assign(targets[i], items[i], scope);
    const starred = targets[starIndex] as A.Starred;
    this.assign(starred.value, new PyList(items.slice(starIndex, items.length - after)), scope);
    for (let i = 0; i < after; i++) this.assign(targets[starIndex + 1 + i], items[items.length - after + i], scope);
  }

  private augAssign(stmt: A.AugAssign, scope: Scope): void {
    const target = stmt.target;
    if (target.type === 'Name') {
      const current = this.lookup(target, scope);
      scope.vars.set(target.id, this.inPlace(stmt.op, current, this.eval(stmt.value, scope)));
      return;
    }
    if (target.type === 'Subscript') {
      const obj = this.eval(target.object, scope);
      const index = this.evalIndex(target.index, scope);
      const current = getItem(obj, index);
      setItem(obj, index, this.inPlace(stmt.op, current, this.eval(stmt.value, scope)));
      return;
    }
    throw new CadError('runtime', `augmented assignment to attribute '${(target as A.Attribute).name}' is not supported`);
  }

  /** `x += y`: lists extend in place, as in Python; everything else rebinds. */
  private inPlace(op: string, current: Value, operand: Value): Value {
    if (typeof current === 'number' && typeof operand === 'number') {
      if (op === '+') return current + operand;
      if (op === '-') return current - operand;
      if (op === '*') return current * operand;
    }
    if (op === '+' && current instanceof PyList) {
      for (const v of collect(this, operand)) current.items.push(v);
      return current;
    }
    return binaryOp(this, op, current, operand);
  }

  /** `class Name(object): body` (bases checked by the parser): the body runs in its own namespace, which becomes the class's attributes. */
  /** Applies `@` decorators to a new function or class, the one nearest the definition first. */
  private decorate(decorators: A.Expr[] | undefined, value: Value, scope: Scope): Value {
    if (!decorators) return value;
    let v = value;
    for (const d of [...decorators].reverse()) {
      const fn = this.eval(d, scope);
      if (!isCallable(fn)) throw new CadError('runtime', `'${typeName(fn)}' object is not callable (a decorator)`, d.line, d.col);
      v = fn.call([v], {});
    }
    return v;
  }

  private defineClass(stmt: A.ClassDef, scope: Scope): PyClass {
    const body = new Scope(scope);
    this.execBlock(stmt.body, body);
    return new PyClass(stmt.name, new Map(body.vars));
  }

  // ---- functions ----

  callUser(fn: UserFunction, args: Value[], kwargs: Kwargs): Value {
    const def = fn.def;
    if (this.depth >= this.maxDepth) {
      throw new CadError('limit', `maximum recursion depth of ${this.maxDepth} calls exceeded in ${def.name}()`);
    }
    const scope = new Scope(fn.closure);
    const vars = scope.vars;
    const params = def.params;
    let positional = 0;
    let varargs: A.Parameter | null = null;
    let varkw: A.Parameter | null = null;
    for (const p of params) {
      if (p.kind === 'varargs') varargs = p;
      else if (p.kind === 'kwargs') varkw = p;
      else if (!p.keywordOnly) positional++;
    }
    if (args.length > positional && !varargs) {
      throw new CadError(
        'runtime',
        `${def.name}() takes ${positional} positional argument${positional === 1 ? '' : 's'} but ${args.length} ${args.length === 1 ? 'was' : 'were'} given`,
      );
    }
    let i = 0;
    for (const p of params) {
      if (p.kind !== 'normal' || p.keywordOnly) continue;
      if (i < args.length) vars.set(p.name, args[i]);
      i++;
    }
    if (varargs) vars.set(varargs.name, new PyTuple(args.slice(positional)));
    let extra: PyDict | null = null;
    for (const key in kwargs) {
      const p = params.find((q) => q.name === key && q.kind === 'normal');
      if (p) {
        if (vars.has(key)) throw new CadError('runtime', `${def.name}() got multiple values for argument '${key}'`);
        vars.set(key, kwargs[key]);
      } else if (varkw) {
        (extra ??= new PyDict()).entries.set(key, kwargs[key]);
      } else {
        throw new CadError('runtime', `${def.name}() got an unexpected keyword argument '${key}'`);
      }
    }
    if (varkw) vars.set(varkw.name, extra ?? new PyDict());
    for (let j = 0; j < params.length; j++) {
      const p = params[j];
      if (p.kind !== 'normal' || vars.has(p.name)) continue;
      const fallback = fn.defaults[j];
      if (fallback === undefined) {
        throw new CadError('runtime', `${def.name}() missing required argument: '${p.name}'`);
      }
      vars.set(p.name, fallback);
    }
    this.depth++;
    try {
      const flow = this.execBlock(def.body, scope);
      if (flow === Flow.Return) {
        const value = this.returnValue;
        this.returnValue = null;
        return value;
      }
      return null;
    } finally {
      this.depth--;
    }
  }

  // ---- expressions ----

  private lookup(node: A.Name, scope: Scope): Value {
    const id = node.id;
    for (let s: Scope | null = scope; s; s = s.parent) {
      const v = s.vars.get(id);
      if (v !== undefined) return v;
    }
    for (const module of this.starImports) {
      const v = module.getAttr(id);
      if (v !== undefined) return v;
    }
    const b = this.builtins.get(id);
    if (b !== undefined) return b;
    if (id === 'locals' || id === 'globals') return this.namespace(id, id === 'globals' ? this.globals : scope);
    const forbidden = FORBIDDEN_NAMES[id];
    if (forbidden) throw new CadError('unsupported', `'${id}' is not available: ${forbidden}`, node.line, node.col);
    throw new CadError('runtime', `name '${id}' is not defined`, node.line, node.col);
  }

  /**
   * locals() / globals(): a snapshot of the scope's names as a dict (for `"show_object" in
   * locals()`, CQ-editor's idiom); at module level with CQ-editor's predefined show_object and
   * debug. Writing to it changes no variable.
   */
  private namespace(name: string, scope: Scope): Callable {
    return builtin(name, (args) => {
      if (args.length) throw new CadError('runtime', `TypeError: ${name}() takes no arguments (${args.length} given)`);
      const dict = new PyDict();
      if (scope === this.globals) for (const predefined of ['show_object', 'debug']) dict.entries.set(predefined, this.builtins.get(predefined) ?? null);
      for (const [key, value] of scope.vars) dict.entries.set(key, value);
      return dict;
    });
  }

  private getAttribute(obj: Value, node: A.Attribute): Value {
    let value: Value | undefined;
    if (isHost(obj)) value = obj.getAttr(node.name);
    else value = (isCallable(obj) ? obj.getAttr?.(node.name) : undefined) ?? builtinMethod(this, obj, node.name);
    if (value === undefined) {
      const moduleName = isHost(obj) ? this.moduleNames.get(obj) : undefined;
      const message = moduleName ? `module '${moduleName}' has no attribute '${node.name}'` : `'${typeName(obj)}' object has no attribute '${node.name}'`;
      throw new CadError('runtime', message, node.line, node.col);
    }
    return value;
  }

  eval(expr: A.Expr, scope: Scope): Value {
    if (++this.steps > this.maxSteps) throw this.located(this.stepLimitError(), expr);
    switch (expr.type) {
      case 'Number':
        return expr.value;
      case 'String':
        return expr.value;
      case 'Constant':
        return expr.value;
      case 'Name':
        return this.lookup(expr, scope);
    }
    try {
      switch (expr.type) {
        case 'Attribute':
          return this.getAttribute(this.eval(expr.object, scope), expr);
        case 'Call':
          return this.evalCall(expr, scope);
        case 'BinOp': {
          const left = this.eval(expr.left, scope);
          const right = this.eval(expr.right, scope);
          if (typeof left === 'number' && typeof right === 'number') {
            // The common arithmetic without the generic dispatch.
            switch (expr.op) {
              case '+':
                return left + right;
              case '-':
                return left - right;
              case '*':
                return left * right;
            }
          }
          return binaryOp(this, expr.op, left, right);
        }
        case 'UnaryOp': {
          const operand = this.eval(expr.operand, scope);
          if (expr.op === '-' && typeof operand === 'number') return -operand;
          return unaryOp(expr.op, operand);
        }
        case 'BoolOp': {
          const left = this.eval(expr.left, scope);
          if (expr.op === 'and' ? !truthy(left) : truthy(left)) return left;
          return this.eval(expr.right, scope);
        }
        case 'Compare':
          return this.evalCompare(expr, scope);
        case 'IfExp':
          return truthy(this.eval(expr.test, scope)) ? this.eval(expr.body, scope) : this.eval(expr.orelse, scope);
        case 'Tuple':
          return new PyTuple(this.evalItems(expr.items, scope));
        case 'List':
          return new PyList(this.evalItems(expr.items, scope));
        case 'Set':
          return new PySet(expr.items ? this.evalItems(expr.items, scope) : (this.eval(expr.comprehension!, scope) as PyList).items);
        case 'Dict': {
          const dict = new PyDict();
          for (let i = 0; i < expr.keys.length; i++) {
            const key = expr.keys[i];
            const value = this.eval(expr.values[i], scope);
            if (key === null) {
              if (!(value instanceof PyDict)) throw new CadError('runtime', `'${typeName(value)}' object is not a mapping`);
              for (const [k, v] of value.entries) dict.entries.set(k, v);
            } else dict.entries.set(dictKey(this.eval(key, scope)), value);
          }
          return dict;
        }
        case 'Subscript': {
          const obj = this.eval(expr.object, scope);
          return getItem(obj, this.evalIndex(expr.index, scope));
        }
        case 'FString':
          return this.evalFString(expr, scope);
        case 'ListComp': {
          const out: Value[] = [];
          this.comprehend(expr.clauses, 0, new Scope(scope), (s) => out.push(this.eval(expr.element, s)));
          return new PyList(out);
        }
        case 'DictComp': {
          const dict = new PyDict();
          this.comprehend(expr.clauses, 0, new Scope(scope), (s) => {
            dict.entries.set(dictKey(this.eval(expr.key, s)), this.eval(expr.value, s));
          });
          return dict;
        }
        case 'Lambda': {
          const def = expr.def;
          const defaults = def.params.map((p) => (p.default ? this.eval(p.default, scope) : undefined));
          return new UserFunction(def, defaults, scope, this);
        }
        case 'Slice':
          throw new CadError('syntax', 'a slice is only allowed inside [ ]');
        case 'Starred':
          throw new CadError('syntax', 'a starred expression is only allowed in calls, lists and tuples');
      }
    } catch (e) {
      throw this.toCadError(e, expr, expr.type === 'Call' ? calleeName(expr.func) : undefined);
    }
    throw new CadError('runtime', `cannot evaluate ${(expr as A.Expr).type}`, (expr as A.Expr).line, (expr as A.Expr).col);
  }

  private comprehend(clauses: A.ComprehensionClause[], index: number, scope: Scope, emit: (scope: Scope) => void): void {
    if (index === clauses.length) {
      emit(scope);
      return;
    }
    const clause = clauses[index];
    // The first iterable is evaluated in the enclosing scope, the rest see the loop variables.
    const iterable = this.eval(clause.iter, scope);
    for (const item of iterate(iterable)) {
      if (++this.steps > this.maxSteps) throw this.located(this.stepLimitError(), clause.iter);
      this.assign(clause.target, item, scope);
      let keep = true;
      for (const condition of clause.conditions) {
        if (!truthy(this.eval(condition, scope))) {
          keep = false;
          break;
        }
      }
      if (keep) this.comprehend(clauses, index + 1, scope, emit);
    }
  }

  private evalItems(items: A.Expr[], scope: Scope): Value[] {
    const out: Value[] = [];
    for (const item of items) {
      if (item.type === 'Starred') {
        for (const v of collect(this, this.eval(item.value, scope))) out.push(v);
      } else out.push(this.eval(item, scope));
    }
    return out;
  }

  private evalIndex(index: A.Expr, scope: Scope): Value | PySlice {
    if (index.type === 'Slice') {
      return new PySlice(
        index.lower ? this.eval(index.lower, scope) : null,
        index.upper ? this.eval(index.upper, scope) : null,
        index.step ? this.eval(index.step, scope) : null,
      );
    }
    // a[i, j:k]: a tuple of indices and slices (for numpy arrays)
    if (index.type === 'Tuple' && index.items.some((i) => i.type === 'Slice')) {
      return new PyTuple(index.items.map((i) => this.evalIndex(i, scope) as Value));
    }
    return this.eval(index, scope);
  }

  private evalCompare(expr: A.Compare, scope: Scope): boolean {
    let left = this.eval(expr.left, scope);
    for (let i = 0; i < expr.ops.length; i++) {
      const right = this.eval(expr.comparators[i], scope);
      if (!compare(expr.ops[i], left, right)) return false;
      left = right;
    }
    return true;
  }

  private evalFString(expr: A.FormattedString, scope: Scope): string {
    let out = '';
    for (const part of expr.parts) {
      if (typeof part === 'string') {
        out += part;
        continue;
      }
      let value = this.eval(part.value, scope);
      if (part.conversion === 'r' || part.conversion === 'a') value = pyRepr(value);
      else if (part.conversion === 's') value = pyStr(value);
      out += part.spec ? formatValue(value, this.evalFString(part.spec, scope)) : pyStr(value);
    }
    return out;
  }

  private evalCall(expr: A.Call, scope: Scope): Value {
    const func = expr.func;
    let fn: Value;
    if (func.type === 'Attribute') {
      if (++this.steps > this.maxSteps) throw this.located(this.stepLimitError(), func);
      const obj = this.eval(func.object, scope);
      if (obj instanceof PyList || obj instanceof PyDict || typeof obj === 'string' || obj instanceof PyTuple) {
        // list.append(x) and friends without allocating a bound method.
        const args = this.evalArgs(expr, scope);
        const kwargs = this.evalKwargs(expr, scope);
        const result = callBuiltinMethod(this, obj, func.name, args, kwargs);
        if (result === undefined) this.getAttribute(obj, func); // throws "no attribute"
        return result ?? null;
      }
      fn = this.getAttribute(obj, func);
    } else {
      fn = this.eval(func, scope);
    }
    const args = this.evalArgs(expr, scope);
    const kwargs = this.evalKwargs(expr, scope);
    if (fn instanceof UserFunction) return this.callUser(fn, args, kwargs);
    if (!isCallable(fn)) throw new CadError('runtime', `'${typeName(fn)}' object is not callable`);
    const result = fn.call(args, kwargs);
    return result === undefined ? null : result;
  }

  private evalArgs(expr: A.Call, scope: Scope): Value[] {
    const args = expr.args;
    const out: Value[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a.type === 'Starred') {
        for (const v of collect(this, this.eval(a.value, scope))) out.push(v);
      } else out.push(this.eval(a, scope));
    }
    return out;
  }

  private evalKwargs(expr: A.Call, scope: Scope): Kwargs {
    const kwargs: Kwargs = {};
    for (const k of expr.keywords) {
      const value = this.eval(k.value, scope);
      if (k.name !== null) {
        kwargs[k.name] = value;
        continue;
      }
      if (!(value instanceof PyDict)) {
        throw new CadError('runtime', `argument after ** must be a mapping, not ${typeName(value)}`);
      }
      for (const [key, v] of value.entries) {
        if (typeof key !== 'string') throw new CadError('runtime', 'keywords must be strings');
        if (key.startsWith('__')) throw new CadError('unsupported', `keyword '${key}' is not allowed`);
        if (Object.hasOwn(kwargs, key)) {
          throw new CadError('runtime', `got multiple values for keyword argument '${key}'`);
        }
        kwargs[key] = v;
      }
    }
    return kwargs;
  }
}

function collectAt(rt: Runtime, value: Value, at: A.Position): Value[] {
  try {
    return collect(rt, value);
  } catch (e) {
    if (e instanceof CadError && e.line === undefined && e.kind === 'runtime') {
      throw new CadError('runtime', `cannot unpack non-iterable ${typeName(value)} object`, at.line, at.col);
    }
    throw e;
  }
}

function compare(op: A.CompareOp, a: Value, b: Value): boolean {
  const subset = compareSets(op, a, b);
  if (subset !== undefined) return subset;
  switch (op) {
    case '==':
      return pyEquals(a, b);
    case '!=':
      return !pyEquals(a, b);
    case '<':
      return pyLess(a, b, '<');
    case '>':
      return pyLess(b, a, '>');
    case '<=':
      return typeof a === 'number' && typeof b === 'number' ? a <= b : pyEquals(a, b) || pyLess(a, b, '<=');
    case '>=':
      return typeof a === 'number' && typeof b === 'number' ? a >= b : pyEquals(a, b) || pyLess(b, a, '>=');
    case 'in':
      return pyContains(b, a);
    case 'not in':
      return !pyContains(b, a);
    case 'is':
      return a === b || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b));
    case 'is not':
      return !(a === b);
  }
}
