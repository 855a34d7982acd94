import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProgram } from '../../src/core/cadquery/parse';
import { CadError } from '../../src/core/errors';
import type * as A from '../../src/core/cadquery/ast';
import { loadTest100 } from '../helpers/test100';

function parseError(source: string): CadError {
  try {
    parseProgram(source);
  } catch (e) {
    assert.ok(e instanceof CadError, `expected a CadError, got ${String(e)}`);
    return e;
  }
  assert.fail(`expected an error for:\n${source}`);
}

function expectError(source: string, kind: string, message: RegExp, line: number, col?: number): void {
  const e = parseError(source);
  assert.equal(e.kind, kind, `kind for ${JSON.stringify(source)}: ${e.message}`);
  assert.match(e.message, message);
  assert.equal(e.line, line, `line for ${JSON.stringify(source)}: ${e.message}`);
  if (col !== undefined) assert.equal(e.col, col, `col for ${JSON.stringify(source)}: ${e.message}`);
}

function onlyExpr(source: string): A.Expr {
  const { body } = parseProgram(source);
  assert.equal(body.length, 1);
  const stmt = body[0];
  assert.equal(stmt.type, 'Expr');
  return (stmt as A.ExprStatement).value;
}

test('assignments, tuple unpacking and augmented assignment', () => {
  const { body } = parseProgram('a, b = 1, 2\nx = y = 3\nx += 1\nz: float = 2.5\n');
  assert.equal(body.length, 4);
  const unpack = body[0] as A.Assign;
  assert.equal(unpack.type, 'Assign');
  assert.equal(unpack.targets[0].type, 'Tuple');
  assert.equal(unpack.value.type, 'Tuple');
  assert.equal((body[1] as A.Assign).targets.length, 2);
  const aug = body[2] as A.AugAssign;
  assert.equal(aug.type, 'AugAssign');
  assert.equal(aug.op, '+');
  assert.deepEqual([body[3].line, body[3].col], [4, 1]);
});

test('every node carries 1-based line and col; chained methods point at their own line', () => {
  const { body } = parseProgram('import cadquery as cq\nr = (cq.Workplane("XY")\n     .box(1, 2, 3)\n     .faces(">Z"))\n');
  const call = (body[1] as A.Assign).value as A.Call;
  assert.equal(call.type, 'Call');
  assert.deepEqual([call.line, call.col], [4, 7], 'the .faces( call is at the method name');
  const inner = (call.func as A.Attribute).object as A.Call;
  assert.deepEqual([inner.line, inner.col], [3, 7]);
  const workplane = ((inner.func as A.Attribute).object as A.Call).func as A.Attribute;
  assert.deepEqual([workplane.line, workplane.col], [2, 9]);
  assert.deepEqual([body[1].line, body[1].col], [2, 1]);
});

test('backslash continuations and comments inside calls', () => {
  const { body } = parseProgram('r = cq.Workplane("XY") \\\n    .box(1, 2, 3) \\\n    .edges("|Z")  # trailing\nf(a,  # first\n  b)  # second\n');
  const call = (body[0] as A.Assign).value as A.Call;
  assert.equal((call.func as A.Attribute).name, 'edges');
  assert.equal(call.line, 3);
  const f = (body[1] as A.ExprStatement).value as A.Call;
  assert.equal(f.args.length, 2);
  // A continuation onto a blank line ends the statement, as in Python (CadQuery's free-func docs).
  const joined = parseProgram('s = f(1)\\\n\nt = 2\n').body;
  assert.deepEqual(
    joined.map((st) => [st.type, st.line]),
    [
      ['Assign', 1],
      ['Assign', 3],
    ],
  );
});

test('lambda: parsed as the def it stands for, with its parameters and one return', () => {
  const l = onlyExpr('lambda x, y=2, *a, **k: x + y') as A.Lambda;
  assert.equal(l.type, 'Lambda');
  assert.deepEqual(
    l.def.params.map((p) => [p.name, p.kind, p.default !== null]),
    [
      ['x', 'normal', false],
      ['y', 'normal', true],
      ['a', 'varargs', false],
      ['k', 'kwargs', false],
    ],
  );
  assert.equal(l.def.body[0].type, 'Return');
  assert.equal((onlyExpr('lambda: 1') as A.Lambda).def.params.length, 0);
});

test('numbers: ints, floats, exponents, underscores, hex and Python-only forms like 1. and 1.e3', () => {
  const values = ['1', '2.5', '1e-3', '.5', '1_000', '0x1F', '0o17', '0b101', '1.', '1.e3', '2.E-2'].map((text) => (onlyExpr(text) as A.NumberLiteral).value);
  assert.deepEqual(values, [1, 2.5, 0.001, 0.5, 1000, 31, 15, 5, 1, 1000, 0.02]);
  const { body } = parseProgram('x = 1.\ny = foo(2.)  # col stays put\n');
  const call = (body[1] as A.Assign).value as A.Call;
  assert.deepEqual([call.line, call.col], [2, 5]);
  assert.equal((call.args[0] as A.NumberLiteral).value, 2);
});

test('strings: quotes, escapes, raw, triple-quoted, implicit concatenation, f-strings', () => {
  const str = (src: string) => (onlyExpr(src) as A.StringLiteral).value;
  assert.equal(str(`'a"b'`), 'a"b');
  assert.equal(str(`"tab\\tnl\\n\\x41\\u00e9\\\\"`), 'tab\tnl\nAé\\');
  assert.equal(str(`r"\\d+\\n"`), '\\d+\\n');
  assert.equal(str(`"""line1\nline2"""`), 'line1\nline2');
  assert.equal(str(`'a' "b" '''c'''`), 'abc');
  const f = onlyExpr(`f"w={w:.2f} {{literal}} {name!r}"`) as A.FormattedString;
  assert.equal(f.type, 'FString');
  assert.equal(f.parts[0], 'w=');
  const field = f.parts[1] as A.FormattedField;
  assert.equal((field.value as A.Name).id, 'w');
  assert.deepEqual(field.spec?.parts, ['.2f']);
  assert.equal(f.parts[2], ' {literal} ');
  assert.equal((f.parts[3] as A.FormattedField).conversion, 'r');
});

test('operators: precedence, unary minus binds looser than **, chained comparisons', () => {
  const neg = onlyExpr('-2 ** 2') as A.UnaryOp;
  assert.equal(neg.type, 'UnaryOp');
  assert.equal((neg.operand as A.BinOp).op, '**');
  const chain = onlyExpr('a < b <= c != d') as A.Compare;
  assert.equal(chain.type, 'Compare');
  assert.deepEqual(chain.ops, ['<', '<=', '!=']);
  assert.equal(chain.comparators.length, 3);
  const grouped = onlyExpr('(a < b) < c') as A.Compare;
  assert.equal(grouped.left.type, 'Compare', 'a parenthesized comparison is not chained');
  const membership = onlyExpr('x not in y and z is not None') as A.BoolOp;
  assert.equal(membership.op, 'and');
  assert.deepEqual((membership.left as A.Compare).ops, ['not in']);
  assert.deepEqual((membership.right as A.Compare).ops, ['is not']);
  const sum = onlyExpr('1 + 2 * 3') as A.BinOp;
  assert.equal(sum.op, '+');
  assert.equal((sum.right as A.BinOp).op, '*');
  const cond = onlyExpr('a if c else b') as A.IfExp;
  assert.equal((cond.test as A.Name).id, 'c');
});

test('calls with keywords, *args, **kwargs; subscripts and slices; comprehensions', () => {
  const call = onlyExpr('f(1, *xs, k=2, **kw)') as A.Call;
  assert.equal(call.args.length, 2);
  assert.equal(call.args[1].type, 'Starred');
  assert.deepEqual(
    call.keywords.map((k) => k.name),
    ['k', null],
  );
  const sub = onlyExpr('a[1:-1:2]') as A.Subscript;
  const slice = sub.index as A.Slice;
  assert.equal(slice.type, 'Slice');
  assert.equal((slice.lower as A.NumberLiteral).value, 1);
  assert.equal(slice.upper?.type, 'UnaryOp');
  const open = (onlyExpr('a[::-1]') as A.Subscript).index as A.Slice;
  assert.equal(open.lower, null);
  assert.equal(open.upper, null);
  const comp = onlyExpr('[x * y for x in xs if x for y in ys]') as A.ListComp;
  assert.equal(comp.clauses.length, 2);
  assert.equal(comp.clauses[0].conditions.length, 1);
  const gen = onlyExpr('sum(x for x in xs)') as A.Call;
  assert.equal(gen.args[0].type, 'ListComp');
  const dict = onlyExpr('{k: v for k, v in items}') as A.DictComp;
  assert.equal(dict.type, 'DictComp');
});

test('control flow: if/elif/else, for/else, def with defaults and *args, return', () => {
  const { body } = parseProgram(
    [
      'if a:',
      '    pass',
      'elif b:',
      '    x = 1',
      'else:',
      '    x = 2',
      'for i, (p, q) in enumerate(pairs):',
      '    if i: continue',
      '    break',
      'else:',
      '    pass',
      'def f(a, b=2, *rest, scale=1, **opts) -> float:',
      '    return a * b',
    ].join('\n'),
  );
  const ifStmt = body[0] as A.If;
  assert.equal(ifStmt.orelse[0].type, 'If');
  assert.equal((ifStmt.orelse[0] as A.If).orelse.length, 1);
  const loop = body[1] as A.For;
  assert.equal(loop.target.type, 'Tuple');
  assert.equal(loop.orelse.length, 1);
  const def = body[2] as A.FunctionDef;
  assert.deepEqual(
    def.params.map((p) => [p.name, p.kind, p.default !== null, p.keywordOnly]),
    [
      ['a', 'normal', false, false],
      ['b', 'normal', true, false],
      ['rest', 'varargs', false, false],
      ['scale', 'normal', true, true],
      ['opts', 'kwargs', false, true],
    ],
  );
  assert.equal(def.body[0].type, 'Return');
});

test('imports are recorded for checking before the program runs', () => {
  const program = parseProgram('import cadquery as cq\nfrom math import pi, sqrt as root\nif x:\n    import os\nfrom cadquery.selectors import X\n');
  assert.deepEqual(
    program.imports.map((i) => [i.module, i.line]),
    [
      ['cadquery', 1],
      ['math', 2],
      ['os', 4],
      ['cadquery', 5],
    ],
  );
  const from = program.body[1] as A.ImportFrom;
  assert.deepEqual(
    from.names?.map((n) => [n.name, n.asName]),
    [
      ['pi', null],
      ['sqrt', 'root'],
    ],
  );
});

test('syntax errors name the problem and the place', () => {
  expectError('x = (1,\ny = 2\n', 'syntax', /'\(' was never closed/, 1, 5);
  expectError('r = cq.Workplane("XY").box(1, 2, 3\nshow_object(r)\n', 'syntax', /'\(' was never closed/, 1, 27);
  expectError('x = [1, 2\n', 'syntax', /'\[' was never closed/, 1, 5);
  expectError('x = 1)\n', 'syntax', /unmatched '\)'/, 1, 6);
  expectError('f(a]\n', 'syntax', /closing parenthesis '\]' does not match opening parenthesis '\('/, 1, 4);
  expectError('x = f(1 2)\n', 'syntax', /invalid syntax near '2'.*comma/, 1, 9);
  expectError('x = = 2\n', 'syntax', /invalid syntax near '='/, 1, 5);
  expectError('x = 1 +\ny = 2\n', 'syntax', /expected an expression after '\+'/, 1, 8);
  expectError('x = 1\nif x\n    y = 1\n', 'syntax', /expected ':'/, 2);
  expectError('if x:\ny = 1\n', 'syntax', /expected an indented block after 'if' statement on line 1/, 2);
  expectError('x = "abc\n', 'syntax', /unterminated string literal/, 1, 5);
  expectError('x = """abc\n', 'syntax', /unterminated triple-quoted string literal/, 1, 5);
  expectError('elif x:\n    pass\n', 'syntax', /'elif' without a matching 'if'/, 1, 1);
  expectError('print "x"\n', 'syntax', /Missing parentheses in call to 'print'/, 1, 1);
  expectError('x = 1\n\n\nx.y(\n', 'syntax', /never closed/, 4, 4);
  expectError('f("abc)\ny = 1\n', 'syntax', /unterminated string literal/, 1, 3);
  expectError("x = 'abc\ny = (1,\n", 'syntax', /unterminated string literal/, 1, 5);
});

test('very long chains and deep nesting end in a clear error, not a crash', () => {
  const chain = `r = cq.Workplane("XY")${'.lineTo(1, 2)'.repeat(400)}\n`;
  expectError(chain, 'syntax', /very long: split the chain/, 1);
  const ok = `r = cq.Workplane("XY")${'.lineTo(1, 2)'.repeat(150)}\n`;
  assert.equal(parseProgram(ok).body.length, 1);
  const nested = `r = ${'('.repeat(300)}1${')'.repeat(300)}\n`;
  assert.equal((parseProgram(nested).body[0] as A.Assign).value.type, 'Number');
  const tooDeep = parseError(`r = ${'['.repeat(20000)}${']'.repeat(20000)}\n`);
  assert.ok(tooDeep.kind === 'syntax' || tooDeep.kind === 'limit', tooDeep.message);
  assert.ok(tooDeep.line! >= 1);
});

test('indentation errors lezer tolerates are still reported', () => {
  expectError('x = 1\n  y = 2\n', 'syntax', /unexpected indent/, 2, 3);
  expectError('  x = 1\n', 'syntax', /unexpected indent/, 1, 3);
  expectError('if x:\n    y = 1\n  z = 2\n', 'syntax', /unexpected indent|unindent/, 3);
  expectError('if x:\n    y = 1\n      z = 2\n', 'syntax', /unexpected indent/, 3);
  expectError('for i in x:\n    y = 1\n  z = 2\n', 'syntax', /unindent does not match|unexpected indent/, 3);
  expectError('for i in x:\n\ty = 1\n        z = 2\n', 'syntax', /inconsistent use of tabs and spaces/, 3);
});

test('misplaced statements are syntax errors', () => {
  expectError('return 5\n', 'syntax', /'return' outside function/, 1, 1);
  expectError('x = 1\nbreak\n', 'syntax', /'break' outside loop/, 2, 1);
  expectError('def f():\n    continue\n', 'syntax', /'continue' outside loop/, 2);
  expectError('f() = 3\n', 'syntax', /cannot assign to function call/, 1);
  expectError('f(a=1, 2)\n', 'syntax', /positional argument follows keyword argument/, 1);
  expectError('def f(a=1, b):\n    pass\n', 'syntax', /parameter without a default/, 1);
  expectError('def f(a, a):\n    pass\n', 'syntax', /duplicate argument/, 1);
});

test('each construct outside the subset is refused as unsupported at its line', () => {
  const cases: [string, RegExp, number][] = [
    ['x = 1\nwhile x:\n    pass\n', /while loops are not supported/, 2],
    ['class A(B):\n    pass\n', /class inheritance is not supported/, 1],
    ['class A:\n    for i in range(3):\n        pass\n', /a class body may only define methods and attributes/, 2],
    ['class A:\n    def __class__(self):\n        pass\n', /dunder names are not supported/, 2],
    ['try:\n    pass\nexcept Exception:\n    pass\n', /try\/except is not supported/, 1],
    ['with open("f") as fh:\n    pass\n', /with statements are not supported/, 1],
    ['x = 1\ndel x.y\n', /del of an attribute is not supported/, 2],
    ['global x\n', /global and nonlocal/, 1],
    ['def g():\n    yield 1\n', /generators \(yield\)/, 2],
    ['if (n := 3):\n    pass\n', /walrus/, 1],
    ['x = ...\n', /Ellipsis/, 1],
    ['x = 3j\n', /complex numbers/, 1],
    ['x = b"bytes"\n', /bytes literals/, 1],
    ['x = a @ b\n', /matrix multiplication/, 1],
    ['async def f():\n    pass\n', /async functions/, 1],
    ['from . import x\n', /relative imports/, 1],
    ['x = 1\ny = x.__class__\n', /attribute '__class__' is not allowed/, 2],
    ['__import__("os")\n', /'__import__' is not allowed/, 1],
    ['match x:\n    case 1:\n        pass\n', /match statements are not supported/, 1],
  ];
  for (const [source, message, line] of cases) expectError(source, 'unsupported', message, line);
});

test('CAD-Recode style programs parse', () => {
  const programs = [
    "import cadquery as cq\nr = cq.Workplane('XY', origin=(0, 0, -5)).sketch().segment((0,0),(10,0)).segment((10,5)).close().assemble().finalize().extrude(10)\n",
    'import cadquery as cq\nw0 = cq.Workplane("XY", origin=(0, 0, 0))\nr = w0.sketch()\\\n    .push([(0, 0)])\\\n    .rect(10, 20)\\\n    .push([(2, 3)])\\\n    .circle(1, mode="s")\\\n    .finalize()\\\n    .extrude(5)\n',
    'from cadquery import *\nr = Workplane("XY").box(1, 1, 1).union(Workplane("XY").sphere(0.7))\n',
  ];
  for (const source of programs) {
    const program = parseProgram(source);
    assert.ok(program.body.length >= 2);
  }
});

test('Windows line endings and tabs', () => {
  const { body } = parseProgram('x = 1\r\nif x:\r\n\ty = 2\r\n\tz = (3,\r\n\t\t4)\r\n');
  assert.equal(body.length, 2);
  assert.equal((body[1] as A.If).body.length, 2);
  assert.equal((body[1] as A.If).body[1].line, 4);
});

test('all 100 GenCAD ground-truth programs parse', () => {
  const samples = loadTest100();
  assert.equal(samples.length, 100);
  for (const sample of samples) {
    const program = parseProgram(sample.code);
    const assigns = program.body.filter((s) => s.type === 'Assign') as A.Assign[];
    assert.ok(
      assigns.some((a) => a.targets.some((t) => t.type === 'Name' && t.id === 'solid')),
      sample.id,
    );
    assert.deepEqual(
      program.imports.map((i) => i.module),
      ['cadquery'],
    );
  }
});
