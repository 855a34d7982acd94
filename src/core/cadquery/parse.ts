/**
 * Parses the Python subset CadQuery programs are written in: @lezer/python builds a concrete
 * tree (error-tolerant), which is checked for errors and converted into the small AST of ast.ts.
 * Everything outside the subset is refused here, before anything runs.
 */
import { parser } from '@lezer/python';
import type { SyntaxNode, Tree } from '@lezer/common';
import { CadError } from '../errors';
import type * as A from './ast';
import { SPECIAL_METHODS } from './pyclass';

export function parseProgram(source: string): A.Program {
  let converter: Converter | null = null;
  try {
    let text = source.includes('\r') ? source.replace(/\r\n?/g, '\n') : source;
    let tree = parser.parse(text);
    // Python accepts `1.` and `1.e3`, and a `\` continuation onto a blank line; lezer does not.
    // Rewrite them in place (same length, so every position stays put) and parse again — rare, so
    // the second parse costs nothing usually.
    const scan = patchTrailingDotNumbers(text, tree);
    let patched = scan.text;
    // Only a `\` at a line end can need the second patch: most programs skip its walk of the tree.
    if (scan.errors && patched.includes('\\\n')) patched = patchContinuationsBeforeBlankLines(patched, tree);
    let errors = scan.errors;
    if (patched !== text) {
      text = patched;
      tree = parser.parse(text);
      errors = true; // not known for the new tree: let the check walk it
    }
    converter = new Converter(text);
    if (errors) converter.checkSyntaxErrors(tree);
    const program = converter.program(tree.topNode);
    converter.checkIndentation(program.body, true);
    return program;
  } catch (e) {
    if (e instanceof CadError) throw e;
    // Only a JS stack overflow on absurdly deep nesting (in lezer or here) gets here.
    const { line, col } = converter?.lastPosition() ?? { line: 1, col: 1 };
    const message = e instanceof RangeError ? 'the program nests too deeply to parse' : `cannot parse: ${String(e)}`;
    throw new CadError('limit', message, line, col);
  }
}

// ---- helpers over the lezer tree -----------------------------------------------------------

const COMPARE_OPS = new Set(['<', '>', '<=', '>=', '==', '!=']);

function childrenOf(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) {
    if (child.name !== 'Comment') out.push(child);
  }
  return out;
}

/** Splits a child list on top-level `,` tokens; `trailingComma` tells `(a,)` from `(a)`. */
function splitOnCommas(nodes: SyntaxNode[]): { groups: SyntaxNode[][]; trailingComma: boolean } {
  const groups: SyntaxNode[][] = [];
  let current: SyntaxNode[] = [];
  let trailingComma = false;
  for (const n of nodes) {
    if (n.name === ',') {
      groups.push(current);
      current = [];
      trailingComma = true;
    } else {
      current.push(n);
      trailingComma = false;
    }
  }
  if (current.length) groups.push(current);
  return { groups, trailingComma };
}

/**
 * `x = f()\` followed by a blank line: Python joins the blank line and ends the statement; lezer
 * marks an error after it. The backslash of such an error becomes a space.
 */
function patchContinuationsBeforeBlankLines(text: string, tree: Tree): string {
  let out = text;
  tree.iterate({
    enter(node) {
      if (!node.type.isError) return;
      // The last `\` before the error, with only blank and comment lines between them.
      const i = out.lastIndexOf('\\\n', node.from);
      if (i >= 0 && /^\n[ \t]*\n([ \t]*(#[^\n]*)?\n)*[ \t]*$/.test(out.slice(i + 1, node.from))) out = `${out.slice(0, i)} ${out.slice(i + 1)}`;
    },
  });
  return out;
}

/** The text with `1.`/`1.e3` rewritten, and whether the tree has any error node (one walk for both). */
function patchTrailingDotNumbers(text: string, tree: Tree): { text: string; errors: boolean } {
  let patches: number[] | undefined;
  let errors = false;
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors = true;
      if (node.name !== 'Number') return;
      if (text.charCodeAt(node.to) !== 46 /* . */) return;
      if (!/^\d[\d_]*$/.test(text.slice(node.from, node.to))) return;
      const after = text[node.to + 1] ?? '';
      if (/^[eE][+-]?\d/.test(text.slice(node.to + 1, node.to + 4)) || !/[\w.]/.test(after)) {
        (patches ??= []).push(node.to);
      }
    },
  });
  if (!patches) return { text, errors };
  let out = text;
  for (const dot of patches) {
    const after = out[dot + 1] ?? '';
    if (after === 'e' || after === 'E') {
      // `1.e3` → `1e3 `: drop the dot, keep the exponent, pad to the same length.
      const match = /^[eE][+-]?\d[\d_]*/.exec(out.slice(dot + 1))!;
      out = `${out.slice(0, dot) + match[0]} ${out.slice(dot + 1 + match[0].length)}`;
    } else {
      // `1.` → `1 `: ints and floats are both JS numbers, so the value is the same.
      out = `${out.slice(0, dot)} ${out.slice(dot + 1)}`;
    }
  }
  return { text: out, errors };
}

const UNSUPPORTED_STATEMENTS: Record<string, string> = {
  WhileStatement: 'while loops are not supported (use a for loop over range())',
  TryStatement: 'try/except is not supported',
  WithStatement: 'with statements are not supported',
  MatchStatement: 'match statements are not supported',
  ScopeStatement: 'global and nonlocal declarations are not supported',
  YieldStatement: 'generators (yield) are not supported',
  TypeDefinition: 'type aliases are not supported',
};

const UNSUPPORTED_EXPRESSIONS: Record<string, string> = {
  AwaitExpression: 'await is not supported',
  YieldExpression: 'generators (yield) are not supported',
  NamedExpression: 'the walrus operator := is not supported',
  Ellipsis: 'Ellipsis (...) is not supported',
};

const COMPOUND_KEYWORDS: Record<string, string> = {
  IfStatement: 'if',
  ForStatement: 'for',
  WhileStatement: 'while',
  FunctionDefinition: 'function definition',
  ClassDefinition: 'class definition',
  TryStatement: 'try',
  WithStatement: 'with',
};

class Converter {
  private readonly lineStarts: number[] = [0];
  private loopDepth = 0;
  private functionDepth = 0;
  private classDepth = 0;
  private lastOffset = 0;
  private readonly imports: A.ImportUse[] = [];

  constructor(private readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  // ---- positions and errors ----

  private lineOf(offset: number): number {
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  private at(offset: number): A.Position {
    const line = this.lineOf(offset);
    return { line, col: offset - this.lineStarts[line - 1] + 1 };
  }

  private error(kind: 'syntax' | 'unsupported', message: string, offset: number): CadError {
    const { line, col } = this.at(offset);
    return new CadError(kind, message, line, col);
  }

  private unsupported(message: string, node: SyntaxNode): CadError {
    return this.error('unsupported', message, node.from);
  }

  private src(node: SyntaxNode): string {
    return this.text.slice(node.from, node.to);
  }

  private lineIndent(line: number): string {
    const start = this.lineStarts[line - 1];
    let end = start;
    while (end < this.text.length && (this.text[end] === ' ' || this.text[end] === '\t')) end++;
    return this.text.slice(start, end);
  }

  // ---- syntax errors ----

  checkSyntaxErrors(tree: Tree): void {
    let firstError: SyntaxNode | null = null;
    tree.iterate({
      enter: (ref) => {
        if (firstError) return false;
        if (ref.type.isError) {
          firstError = ref.node;
          return false;
        }
        return undefined;
      },
    });
    if (!firstError) return;
    throw this.describeSyntaxError(firstError);
  }

  private describeSyntaxError(errorNode: SyntaxNode): CadError {
    const text = this.text;
    const errorAt = errorNode.from;
    const bracket = scanBrackets(text);
    if (bracket) {
      if (bracket.kind === 'unterminated' || bracket.kind === 'unterminated-triple') {
        if (bracket.offset < errorAt || this.lineOf(bracket.offset) === this.lineOf(errorAt)) {
          const triple = bracket.kind === 'unterminated-triple' ? 'triple-quoted ' : '';
          return this.error('syntax', `unterminated ${triple}string literal`, bracket.offset);
        }
      } else if (bracket.kind === 'unclosed' && bracket.offset < errorAt) {
        return this.error('syntax', `'${bracket.char}' was never closed`, bracket.offset);
      } else if (bracket.kind !== 'unclosed' && this.lineOf(bracket.offset) <= this.lineOf(errorAt)) {
        const message =
          bracket.kind === 'unmatched'
            ? `unmatched '${bracket.char}'`
            : `closing parenthesis '${bracket.char}' does not match opening parenthesis '${bracket.opener}'`;
        return this.error('syntax', message, bracket.offset);
      }
    }
    for (let p: SyntaxNode | null = errorNode.parent; p; p = p.parent) {
      if (p.name === 'String' || p.name === 'FormatString') {
        const triple = /^[a-zA-Z]*('''|""")/.test(this.src(p));
        return this.error('syntax', `unterminated ${triple ? 'triple-quoted ' : ''}string literal`, p.from);
      }
    }
    const parent = errorNode.parent;
    const lineStart = this.lineStarts[this.lineOf(errorAt) - 1];
    const atLineStart = text.slice(lineStart, errorAt).trim() === '';
    const nextToken = /^[ \t]*(\S*)/.exec(text.slice(errorAt, text.indexOf('\n', errorAt) >>> 0))![1];

    if (parent?.name === 'Body') {
      const statements = childrenOf(parent).filter((c) => c.name !== ':' && !c.type.isError);
      const owner = parent.parent;
      if (statements.length === 0 && owner) {
        const what = COMPOUND_KEYWORDS[owner.name] ?? 'block';
        return this.error('syntax', `expected an indented block after '${what}' statement on line ${this.lineOf(owner.from)}`, errorAt);
      }
    }
    if (atLineStart && errorNode.from === errorNode.to) {
      // An error at the start of a line that is indented deeper than the statement before it.
      const line = this.lineOf(errorAt);
      let next = errorAt;
      while (next < text.length && /\s/.test(text[next])) next++;
      const nextLine = this.lineOf(next);
      const previous = this.previousCodeLine(line);
      if (nextLine >= line && previous && this.lineIndent(nextLine).length > this.lineIndent(previous).length) {
        return this.error('syntax', 'unexpected indent', next);
      }
    }
    if (parent && COMPOUND_KEYWORDS[parent.name] && !childrenOf(parent).some((c) => c.name === 'Body')) {
      const first = nextToken === '' || nextToken.startsWith('#');
      if (first) return this.error('syntax', `expected ':'`, errorAt);
    }
    const token = errorNode.to > errorNode.from ? this.src(errorNode).trim().split(/\s/)[0] : nextToken;
    if (token === '' || token.startsWith('#')) {
      const previousToken = /(\S+)\s*$/.exec(text.slice(lineStart, errorAt))?.[1] ?? '';
      if (/[-+*/%&|^<>=~@]$/.test(previousToken) && !/[)\]}]$/.test(previousToken)) {
        return this.error('syntax', `expected an expression after '${previousToken}'`, errorAt);
      }
      return this.error('syntax', 'invalid syntax: unexpected end of line', errorAt);
    }
    const tokenAt = errorNode.to > errorNode.from ? errorAt : text.indexOf(token, errorAt);
    const inList = parent && /^(ArgList|ArrayExpression|TupleExpression|DictionaryExpression)$/.test(parent.name);
    const looksLikeValue = /^[\w"'([{.]/.test(token);
    const hint = inList && looksLikeValue ? ' (perhaps you forgot a comma?)' : '';
    if (token === 'elif' || token === 'else') {
      return this.error('syntax', `'${token}' without a matching 'if' (check the indentation)`, tokenAt);
    }
    let statement: SyntaxNode = errorNode;
    while (statement.parent && statement.parent.name !== 'Script') statement = statement.parent;
    // lezer deliberately cuts left-associative chains (a.b().c()… or 1 + 1 + …) that run past
    // about 2000 characters and 300 operations; say so instead of pointing at valid code.
    const tooLong = statement.to - statement.from > 2000 ? ' (this expression is very long: split the chain into several statements)' : '';
    return this.error('syntax', `invalid syntax near '${token.slice(0, 20)}'${tooLong || hint}`, tokenAt);
  }

  private previousCodeLine(line: number): number | null {
    for (let l = line - 1; l >= 1; l--) {
      const start = this.lineStarts[l - 1];
      const end = l < this.lineStarts.length ? this.lineStarts[l] - 1 : this.text.length;
      const content = this.text.slice(start, end).trim();
      if (content !== '' && !content.startsWith('#')) return l;
    }
    return null;
  }

  /**
   * lezer accepts some indentation Python rejects (a first statement indented, a dedent to a
   * column no enclosing block uses); every statement that starts a line in one block must
   * start at the same indentation.
   */
  checkIndentation(body: A.Stmt[], topLevel: boolean): void {
    let blockIndent: string | null = null;
    let previousLine = -1;
    for (const stmt of body) {
      if (stmt.line !== previousLine) {
        const indent = this.lineIndent(stmt.line);
        const startsLine = indent.length === stmt.col - 1;
        if (startsLine) {
          if (topLevel && blockIndent === null && indent !== '') {
            throw new CadError('syntax', 'unexpected indent', stmt.line, stmt.col);
          }
          if (blockIndent === null) blockIndent = indent;
          else if (indent !== blockIndent) {
            const mixed = (indent + blockIndent).includes('\t') && (indent + blockIndent).includes(' ');
            const message = mixed
              ? 'inconsistent use of tabs and spaces in indentation'
              : indent.length > blockIndent.length
                ? 'unexpected indent'
                : 'unindent does not match any outer indentation level';
            throw new CadError('syntax', message, stmt.line, stmt.col);
          }
        }
      }
      previousLine = stmt.line;
      switch (stmt.type) {
        case 'If':
          this.checkIndentation(stmt.body, false);
          this.checkIndentation(stmt.orelse, false);
          break;
        case 'For':
          this.checkIndentation(stmt.body, false);
          this.checkIndentation(stmt.orelse, false);
          break;
        case 'FunctionDef':
        case 'ClassDef':
          this.checkIndentation(stmt.body, false);
          break;
      }
    }
  }

  // ---- statements ----

  program(top: SyntaxNode): A.Program {
    const body = this.statements(childrenOf(top));
    return { body, imports: this.imports };
  }

  private statements(nodes: SyntaxNode[]): A.Stmt[] {
    const out: A.Stmt[] = [];
    for (const node of nodes) this.statement(node, out);
    return out;
  }

  private body(node: SyntaxNode): A.Stmt[] {
    return this.statements(childrenOf(node).filter((c) => c.name !== ':'));
  }

  private statement(node: SyntaxNode, out: A.Stmt[]): void {
    const pos = this.at(node.from);
    switch (node.name) {
      case 'StatementGroup':
        for (const child of childrenOf(node)) if (child.name !== ';') this.statement(child, out);
        return;
      case 'AssignStatement':
        this.assignment(node, out);
        return;
      case 'UpdateStatement': {
        const kids = childrenOf(node);
        const opIndex = kids.findIndex((k) => k.name === 'UpdateOp');
        const targetNodes = kids.slice(0, opIndex);
        if (targetNodes.length !== 1) {
          throw this.error('syntax', 'illegal expression for augmented assignment', node.from);
        }
        const target = this.expression(targetNodes[0]);
        if (target.type !== 'Name' && target.type !== 'Attribute' && target.type !== 'Subscript') {
          throw this.error('syntax', `'${describeExpr(target)}' is an illegal expression for augmented assignment`, node.from);
        }
        const op = this.src(kids[opIndex]).slice(0, -1);
        if (op === '@') throw this.unsupported("matrix multiplication '@' is not supported", kids[opIndex]);
        const value = this.expressionList(kids.slice(opIndex + 1), node);
        out.push({ type: 'AugAssign', ...pos, target, op: op as A.BinaryOp, value });
        return;
      }
      case 'ExpressionStatement':
        out.push({ type: 'Expr', ...pos, value: this.expressionList(childrenOf(node), node) });
        return;
      case 'PassStatement':
        out.push({ type: 'Pass', ...pos });
        return;
      case 'DeleteStatement': {
        const target = this.expressionList(childrenOf(node).slice(1), node);
        const targets = target.type === 'Tuple' || target.type === 'List' ? target.items : [target];
        for (const t of targets) {
          if (t.type !== 'Name' && t.type !== 'Subscript') {
            throw this.unsupported(`del of ${t.type === 'Attribute' ? 'an attribute' : 'this expression'} is not supported (names and items only)`, node);
          }
        }
        out.push({ type: 'Delete', ...pos, targets });
        return;
      }
      case 'BreakStatement':
      case 'ContinueStatement': {
        const word = node.name === 'BreakStatement' ? 'break' : 'continue';
        if (this.loopDepth === 0) throw this.error('syntax', `'${word}' outside loop`, node.from);
        out.push({ type: node.name === 'BreakStatement' ? 'Break' : 'Continue', ...pos });
        return;
      }
      case 'ReturnStatement': {
        if (this.functionDepth === 0) throw this.error('syntax', "'return' outside function", node.from);
        const rest = childrenOf(node).slice(1);
        out.push({ type: 'Return', ...pos, value: rest.length ? this.expressionList(rest, node) : null });
        return;
      }
      case 'AssertStatement': {
        const { groups } = splitOnCommas(childrenOf(node).slice(1));
        out.push({
          type: 'Assert',
          ...pos,
          test: this.single(groups[0], node),
          message: groups[1] ? this.single(groups[1], node) : null,
        });
        return;
      }
      case 'ImportStatement':
        out.push(this.importStatement(node));
        return;
      case 'IfStatement':
        out.push(this.ifStatement(node));
        return;
      case 'ForStatement':
        out.push(this.forStatement(node));
        return;
      case 'FunctionDefinition':
        out.push(this.functionDefinition(node));
        return;
      case 'ClassDefinition':
        out.push(this.classDefinition(node));
        return;
      case 'DecoratedStatement': {
        // @dec … def/class: the definition, then each decorator applied from the innermost out.
        const kids = childrenOf(node);
        const def = kids[kids.length - 1];
        const decorators = kids.filter((k) => k.name === 'Decorator').map((d) => this.decorator(d));
        if (def.name === 'FunctionDefinition') out.push({ ...this.functionDefinition(def), ...this.at(node.from), decorators });
        else if (def.name === 'ClassDefinition') out.push({ ...this.classDefinition(def), ...this.at(node.from), decorators });
        else throw this.unsupported('this decorated statement is not supported', node);
        return;
      }
      case 'RaiseStatement': {
        const rest = childrenOf(node).slice(1);
        const fromAt = rest.findIndex((n) => n.name === 'from');
        const value = fromAt >= 0 ? rest.slice(0, fromAt) : rest;
        out.push({ type: 'Raise', ...pos, value: value.length ? this.expressionList(value, node) : null });
        return;
      }
      case 'PrintStatement':
        throw this.error('syntax', "Missing parentheses in call to 'print'. Did you mean print(...)?", node.from);
    }
    const unsupported = UNSUPPORTED_STATEMENTS[node.name];
    if (unsupported) throw this.unsupported(unsupported, node);
    throw this.unsupported(`'${this.src(node).split(/\s/)[0]}' statements are not supported`, node);
  }

  private assignment(node: SyntaxNode, out: A.Stmt[]): void {
    const kids = childrenOf(node);
    const segments: SyntaxNode[][] = [[]];
    let annotated = false;
    for (const k of kids) {
      if (k.name === 'AssignOp') segments.push([]);
      else if (k.name === 'TypeDef')
        annotated = true; // annotations are ignored, as Python does at runtime
      else segments[segments.length - 1].push(k);
    }
    if (segments.length === 1) {
      if (annotated) {
        out.push({ type: 'Pass', ...this.at(node.from) });
        return;
      }
      throw this.error('syntax', 'invalid assignment', node.from);
    }
    const valueNodes = segments.pop()!;
    const value = this.expressionList(valueNodes, node);
    const targets = segments.map((seg) => {
      const target = this.expressionList(seg, node);
      this.checkTarget(target, false);
      return target;
    });
    out.push({ type: 'Assign', ...this.at(node.from), targets, value });
  }

  private checkTarget(target: A.Expr, insideSequence: boolean): void {
    switch (target.type) {
      case 'Name':
      case 'Attribute':
      case 'Subscript':
        return;
      case 'Tuple':
      case 'List': {
        let starred = 0;
        for (const item of target.items) {
          if (item.type === 'Starred') starred++;
          this.checkTarget(item, true);
        }
        if (starred > 1) {
          throw new CadError('syntax', 'multiple starred expressions in assignment', target.line, target.col);
        }
        return;
      }
      case 'Starred':
        if (!insideSequence) {
          throw new CadError('syntax', 'starred assignment target must be in a list or tuple', target.line, target.col);
        }
        this.checkTarget(target.value, false);
        return;
    }
    throw new CadError('syntax', `cannot assign to ${describeExpr(target)}`, target.line, target.col);
  }

  private importStatement(node: SyntaxNode): A.Stmt {
    const kids = childrenOf(node);
    const pos = this.at(node.from);
    const aliases = (nodes: SyntaxNode[]): A.ImportAlias[] =>
      splitOnCommas(nodes.filter((n) => n.name !== '(' && n.name !== ')')).groups.map((group) => {
        const asIndex = group.findIndex((n) => n.name === 'as');
        const nameNodes = asIndex >= 0 ? group.slice(0, asIndex) : group;
        const name = nameNodes.map((n) => this.src(n)).join('');
        for (const n of nameNodes) if (n.name === 'VariableName') this.checkIdentifier(n);
        const asNode = asIndex >= 0 ? group[asIndex + 1] : null;
        if (asNode) this.checkIdentifier(asNode);
        return { ...this.at(group[0].from), name, asName: asNode ? this.src(asNode) : null };
      });
    if (kids[0].name === 'import') {
      const names = aliases(kids.slice(1));
      for (const a of names) this.imports.push({ line: a.line, col: a.col, module: a.name.split('.')[0] });
      return { type: 'Import', ...pos, names };
    }
    const importIndex = kids.findIndex((k) => k.name === 'import');
    const moduleNodes = kids.slice(1, importIndex);
    if (moduleNodes.some((n) => n.name === '.' || n.name === 'Ellipsis') && moduleNodes[0].name !== 'VariableName') {
      throw this.unsupported('relative imports are not supported', node);
    }
    const module = moduleNodes.map((n) => this.src(n)).join('');
    this.imports.push({ ...this.at(moduleNodes[0].from), module: module.split('.')[0] });
    const rest = kids.slice(importIndex + 1);
    if (rest.length === 1 && rest[0].name === '*') return { type: 'ImportFrom', ...pos, module, names: null };
    return { type: 'ImportFrom', ...pos, module, names: aliases(rest) };
  }

  private ifStatement(node: SyntaxNode): A.If {
    const kids = childrenOf(node);
    // if cond Body (elif cond Body)* (else Body)?
    const build = (i: number): A.If => {
      const test = this.expression(kids[i + 1]);
      const body = this.body(kids[i + 2]);
      let orelse: A.Stmt[] = [];
      const next = kids[i + 3];
      if (next?.name === 'elif') orelse = [build(i + 3)];
      else if (next?.name === 'else') orelse = this.body(kids[i + 4]);
      return { type: 'If', ...this.at(kids[i].from), test, body, orelse };
    };
    return build(0);
  }

  private forStatement(node: SyntaxNode): A.For {
    const kids = childrenOf(node);
    if (kids[0].name === 'async') throw this.unsupported('async for is not supported', node);
    const inIndex = kids.findIndex((k) => k.name === 'in');
    const bodyIndex = kids.findIndex((k) => k.name === 'Body');
    const target = this.expressionList(kids.slice(1, inIndex), node);
    this.checkTarget(target, false);
    const iter = this.expressionList(kids.slice(inIndex + 1, bodyIndex), node);
    this.loopDepth++;
    const body = this.body(kids[bodyIndex]);
    this.loopDepth--;
    const orelse = kids[bodyIndex + 1]?.name === 'else' ? this.body(kids[bodyIndex + 2]) : [];
    return { type: 'For', ...this.at(node.from), target, iter, body, orelse };
  }

  private classDefinition(node: SyntaxNode): A.ClassDef {
    const kids = childrenOf(node);
    const nameNode = kids[1];
    this.checkIdentifier(nameNode);
    const argList = kids.find((k) => k.name === 'ArgList');
    const bases = argList ? splitOnCommas(childrenOf(argList).filter((n) => n.name !== '(' && n.name !== ')')).groups.map((g) => this.single(g, node)) : [];
    for (const base of bases) {
      if (!(base.type === 'Name' && base.id === 'object')) {
        throw new CadError('unsupported', 'class inheritance is not supported (only `object` as a base)', base.line, base.col);
      }
    }
    const saved = this.loopDepth;
    this.loopDepth = 0;
    this.classDepth++;
    const body = this.body(kids.find((k) => k.name === 'Body')!);
    this.classDepth--;
    this.loopDepth = saved;
    for (const st of body) {
      if (st.type !== 'FunctionDef' && st.type !== 'Assign' && st.type !== 'Pass' && st.type !== 'Expr') {
        throw new CadError('unsupported', 'a class body may only define methods and attributes', st.line, st.col);
      }
    }
    return { type: 'ClassDef', ...this.at(node.from), name: this.src(nameNode), bases, body };
  }

  private functionDefinition(node: SyntaxNode): A.FunctionDef {
    const kids = childrenOf(node);
    if (kids[0].name === 'async') throw this.unsupported('async functions are not supported', node);
    const nameNode = kids[1];
    // A class may define the special methods the builtins and operators call (__init__, __add__ …).
    const special = this.classDepth > 0 && this.functionDepth === 0 && SPECIAL_METHODS.has(this.src(nameNode));
    if (!special) this.checkIdentifier(nameNode);
    if (kids.some((k) => k.name === 'TypeParamList')) {
      throw this.unsupported('generic type parameters are not supported', node);
    }
    const params = this.parameters(kids.find((k) => k.name === 'ParamList')!, true);
    const saved = this.loopDepth;
    this.loopDepth = 0;
    this.functionDepth++;
    const body = this.body(kids.find((k) => k.name === 'Body')!);
    this.functionDepth--;
    this.loopDepth = saved;
    return { type: 'FunctionDef', ...this.at(node.from), name: this.src(nameNode), params, body };
  }

  /** A `def`'s (parenthesized) or a `lambda`'s parameter list. */
  private parameters(paramList: SyntaxNode, parenthesized: boolean): A.Parameter[] {
    const params: A.Parameter[] = [];
    let keywordOnly = false;
    const seen = new Set<string>();
    const inner = childrenOf(paramList).filter((n) => !parenthesized || (n.name !== '(' && n.name !== ')'));
    for (const group of splitOnCommas(inner).groups) {
      const first = group[0];
      if (first.name === '/') continue; // positional-only marker: every parameter here binds positionally anyway
      let kind: A.Parameter['kind'] = 'normal';
      let nameAt = first;
      if (first.name === '*' || first.name === '**') {
        kind = first.name === '*' ? 'varargs' : 'kwargs';
        if (group.length === 1) {
          keywordOnly = true; // bare `*`
          continue;
        }
        nameAt = group[1];
      }
      this.checkIdentifier(nameAt);
      const name = this.src(nameAt);
      if (seen.has(name)) throw this.error('syntax', `duplicate argument '${name}' in function definition`, nameAt.from);
      seen.add(name);
      const defaultIndex = group.findIndex((n) => n.name === 'AssignOp');
      const defaultValue = defaultIndex >= 0 ? this.expression(group[defaultIndex + 1]) : null;
      if (kind === 'normal' && !defaultValue && !keywordOnly && params.some((p) => p.kind === 'normal' && p.default)) {
        throw this.error('syntax', 'parameter without a default follows parameter with a default', nameAt.from);
      }
      params.push({ ...this.at(nameAt.from), name, default: defaultValue, kind, keywordOnly });
      if (kind === 'varargs') keywordOnly = true;
    }
    return params;
  }

  /** `lambda params: expr` → the function `def <lambda>(params): return expr`. */
  private lambda(node: SyntaxNode): A.Lambda {
    const kids = childrenOf(node);
    const pos = this.at(node.from);
    const paramList = kids.find((k) => k.name === 'ParamList');
    const params = paramList ? this.parameters(paramList, false) : [];
    const colon = kids.findIndex((k) => k.name === ':');
    const value = this.single(kids.slice(colon + 1), node);
    const def: A.FunctionDef = {
      type: 'FunctionDef',
      ...pos,
      name: '<lambda>',
      params,
      body: [{ type: 'Return', ...this.at(kids[colon + 1]?.from ?? node.to), value }],
    };
    return { type: 'Lambda', ...pos, def };
  }

  // ---- expressions ----

  /** A comma-separated expression list: one expression, or a tuple when there is a comma. */
  private expressionList(nodes: SyntaxNode[], owner: SyntaxNode): A.Expr {
    const { groups, trailingComma } = splitOnCommas(nodes);
    if (groups.length === 0) throw this.error('syntax', 'expected an expression', owner.to);
    if (groups.length === 1 && !trailingComma) return this.single(groups[0], owner);
    const items = groups.map((g) => this.single(g, owner));
    return { type: 'Tuple', ...this.at(groups[0][0].from), items };
  }

  /** One list item: an expression, or `*expression`. */
  private single(group: SyntaxNode[] | undefined, owner: SyntaxNode): A.Expr {
    if (!group || group.length === 0) throw this.error('syntax', 'expected an expression', owner.from);
    if (group[0].name === '*') {
      return { type: 'Starred', ...this.at(group[0].from), value: this.expression(group[1]) };
    }
    if (group[0].name === '**') throw this.error('syntax', "'**' is not allowed here", group[0].from);
    if (group.length > 1) throw this.error('syntax', `invalid syntax near '${this.src(group[1])}'`, group[1].from);
    return this.expression(group[0]);
  }

  private checkIdentifier(node: SyntaxNode): void {
    const name = this.src(node);
    if (name.startsWith('__') && name.endsWith('__') && name !== '__name__') {
      throw this.unsupported(`'${name}' is not allowed: dunder names are not supported`, node);
    }
  }

  lastPosition(): A.Position {
    return this.at(this.lastOffset);
  }

  expression(node: SyntaxNode): A.Expr {
    this.lastOffset = node.from;
    const pos = this.at(node.from);
    switch (node.name) {
      case 'Number':
        return { type: 'Number', ...pos, value: this.number(node) };
      case 'String':
        return { type: 'String', ...pos, value: this.stringLiteral(node) };
      case 'FormatString':
        return { type: 'FString', ...pos, parts: this.formatString(node) };
      case 'ContinuedString': {
        const parts: (string | A.FormattedField)[] = [];
        let formatted = false;
        for (const piece of childrenOf(node)) {
          if (piece.name === 'FormatString') {
            formatted = true;
            parts.push(...this.formatString(piece));
          } else parts.push(this.stringLiteral(piece));
        }
        if (!formatted) return { type: 'String', ...pos, value: parts.join('') };
        return { type: 'FString', ...pos, parts };
      }
      case 'Boolean':
        return { type: 'Constant', ...pos, value: this.src(node) === 'True' };
      case 'None':
        return { type: 'Constant', ...pos, value: null };
      case 'VariableName':
        this.checkIdentifier(node);
        return { type: 'Name', ...pos, id: this.src(node) };
      case 'ParenthesizedExpression': {
        const inner = childrenOf(node).filter((c) => c.name !== '(' && c.name !== ')');
        if (inner[0]?.name === '*') throw this.error('syntax', 'cannot use starred expression here', inner[0].from);
        return this.expression(inner[0]);
      }
      case 'TupleExpression': {
        const inner = childrenOf(node).filter((c) => c.name !== '(' && c.name !== ')');
        return { type: 'Tuple', ...pos, items: splitOnCommas(inner).groups.map((g) => this.single(g, node)) };
      }
      case 'ArrayExpression': {
        const inner = childrenOf(node).filter((c) => c.name !== '[' && c.name !== ']');
        return { type: 'List', ...pos, items: splitOnCommas(inner).groups.map((g) => this.single(g, node)) };
      }
      case 'DictionaryExpression':
        return this.dictionary(node);
      case 'SetExpression': {
        const inner = childrenOf(node).filter((c) => c.name !== '{' && c.name !== '}');
        return { type: 'Set', ...pos, items: splitOnCommas(inner).groups.map((g) => this.single(g, node)) };
      }
      case 'SetComprehensionExpression': {
        const inner = childrenOf(node).slice(1, -1);
        const forIndex = inner.findIndex((c) => c.name === 'for' || c.name === 'async');
        const element = this.single(inner.slice(0, forIndex), node);
        return { type: 'Set', ...pos, comprehension: { type: 'ListComp', ...pos, element, clauses: this.comprehensionClauses(inner.slice(forIndex)) } };
      }
      case 'ArrayComprehensionExpression':
      case 'ComprehensionExpression': {
        const inner = childrenOf(node).slice(1, -1);
        const forIndex = inner.findIndex((c) => c.name === 'for' || c.name === 'async');
        const element = this.single(inner.slice(0, forIndex), node);
        return { type: 'ListComp', ...pos, element, clauses: this.comprehensionClauses(inner.slice(forIndex)) };
      }
      case 'DictionaryComprehensionExpression': {
        const inner = childrenOf(node).slice(1, -1);
        const forIndex = inner.findIndex((c) => c.name === 'for' || c.name === 'async');
        if (inner[0].name === '**') throw this.unsupported('** in a dict comprehension is not supported', node);
        return {
          type: 'DictComp',
          ...pos,
          key: this.expression(inner[0]),
          value: this.expression(inner[2]),
          clauses: this.comprehensionClauses(inner.slice(forIndex)),
        };
      }
      case 'CallExpression':
        return this.call(node);
      case 'LambdaExpression':
        return this.lambda(node);
      case 'MemberExpression':
        return this.member(node);
      case 'UnaryExpression': {
        const [opNode, operandNode] = childrenOf(node);
        const op = this.src(opNode) as A.UnaryOp['op'];
        return { type: 'UnaryOp', ...pos, op, operand: this.expression(operandNode) };
      }
      case 'BinaryExpression':
        return this.binary(node);
      case 'ConditionalExpression': {
        const kids = childrenOf(node);
        // body if test else orelse
        return {
          type: 'IfExp',
          ...this.at(kids[1].from),
          body: this.expression(kids[0]),
          test: this.expression(kids[2]),
          orelse: this.expression(kids[4]),
        };
      }
    }
    const unsupported = UNSUPPORTED_EXPRESSIONS[node.name];
    if (unsupported) throw this.unsupported(unsupported, node);
    throw this.unsupported(`'${this.src(node).slice(0, 20)}' is not supported`, node);
  }

  private number(node: SyntaxNode): number {
    const raw = this.src(node).replace(/_/g, '');
    if (/[jJ]$/.test(raw)) throw this.unsupported('complex numbers are not supported', node);
    if (/^0[xX]/.test(raw)) return parseInt(raw.slice(2), 16);
    if (/^0[oO]/.test(raw)) return parseInt(raw.slice(2), 8);
    if (/^0[bB]/.test(raw)) return parseInt(raw.slice(2), 2);
    return Number(raw);
  }

  private stringParts(node: SyntaxNode): { prefix: string; quote: string; from: number; to: number } {
    const text = this.src(node);
    const prefix = /^[a-zA-Z]*/.exec(text)![0];
    const q = text[prefix.length];
    const quote = text.startsWith(q.repeat(3), prefix.length) ? q.repeat(3) : q;
    // lezer ends an unterminated one-line string at the newline without marking an error.
    let backslashes = 0;
    while (text[text.length - quote.length - 1 - backslashes] === '\\') backslashes++;
    if (text.length < prefix.length + 2 * quote.length || !text.endsWith(quote) || backslashes % 2 === 1) {
      throw this.error('syntax', `unterminated ${quote.length === 3 ? 'triple-quoted ' : ''}string literal`, node.from);
    }
    return {
      prefix: prefix.toLowerCase(),
      quote,
      from: node.from + prefix.length + quote.length,
      to: node.to - quote.length,
    };
  }

  private stringLiteral(node: SyntaxNode): string {
    if (node.name === 'FormatString') throw this.unsupported('f-string not expected here', node);
    const { prefix, from, to } = this.stringParts(node);
    if (prefix.includes('b')) throw this.unsupported('bytes literals are not supported', node);
    const body = this.text.slice(from, to);
    return prefix.includes('r') ? body : this.unescape(body, from);
  }

  private unescape(body: string, offset: number): string {
    if (!body.includes('\\')) return body;
    return body.replace(/\\(\n|[\\'"abfnrtv]|[0-7]{1,3}|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|N\{[^}]*\}|.)/g, (all, esc: string, at: number) => {
      switch (esc[0]) {
        case '\n':
          return '';
        case 'a':
          return '\x07';
        case 'b':
          return '\b';
        case 'f':
          return '\f';
        case 'n':
          return '\n';
        case 'r':
          return '\r';
        case 't':
          return '\t';
        case 'v':
          return '\v';
        case 'x':
        case 'u':
        case 'U':
          if (esc.length > 1) return String.fromCodePoint(parseInt(esc.slice(1), 16));
          return all;
        case 'N':
          if (esc.length > 1) throw this.error('unsupported', 'named unicode escapes (\\N{...}) are not supported', offset + at);
          return all;
      }
      if (/[0-7]/.test(esc[0])) return String.fromCharCode(parseInt(esc, 8));
      if (esc === '\\' || esc === "'" || esc === '"') return esc;
      return all; // Python keeps unknown escapes as written
    });
  }

  private formatString(node: SyntaxNode): (string | A.FormattedField)[] {
    const { prefix, from, to } = this.stringParts(node);
    if (prefix.includes('b')) throw this.unsupported('bytes literals are not supported', node);
    return this.formatParts(node, from, to, prefix.includes('r'));
  }

  /** Literal text and `{…}` fields of an f-string (or of a nested format spec) between from and to. */
  private formatParts(node: SyntaxNode, from: number, to: number, raw: boolean): (string | A.FormattedField)[] {
    const parts: (string | A.FormattedField)[] = [];
    let cursor = from;
    const literal = (end: number) => {
      if (end <= cursor) return;
      let text = this.text.slice(cursor, end).replace(/\{\{/g, '{').replace(/\}\}/g, '}');
      if (!raw) text = this.unescape(text, cursor);
      if (text) parts.push(text);
    };
    for (const child of childrenOf(node)) {
      if (child.name !== 'FormatReplacement' || child.from < from || child.to > to) continue;
      literal(child.from);
      parts.push(...this.formatField(child, raw));
      cursor = child.to;
    }
    literal(to);
    return parts;
  }

  private formatField(node: SyntaxNode, raw: boolean): (string | A.FormattedField)[] {
    const kids = childrenOf(node).filter((k) => k.name !== '{' && k.name !== '}');
    const conversionNode = kids.find((k) => k.name === 'FormatConversion');
    const specNode = kids.find((k) => k.name === 'FormatSpec');
    const selfDoc = kids.find((k) => k.name === 'FormatSelfDoc');
    const exprNodes = kids.filter((k) => k !== conversionNode && k !== specNode && k !== selfDoc);
    const value = this.expressionList(exprNodes, node);
    const conversion = conversionNode ? (this.src(conversionNode)[1] as 's' | 'r' | 'a') : null;
    let spec: A.FormattedString | null = null;
    if (specNode) {
      spec = { type: 'FString', ...this.at(specNode.from), parts: this.formatParts(specNode, specNode.from + 1, specNode.to, raw) };
    }
    const field: A.FormattedField = { value, conversion: conversion ?? (selfDoc && !spec ? 'r' : null), spec };
    if (!selfDoc) return [field];
    // f"{x=}" prints the expression text, `=`, then the value.
    return [this.text.slice(node.from + 1, selfDoc.to), field];
  }

  private dictionary(node: SyntaxNode): A.DictExpr {
    const inner = childrenOf(node).filter((c) => c.name !== '{' && c.name !== '}');
    const keys: (A.Expr | null)[] = [];
    const values: A.Expr[] = [];
    for (const group of splitOnCommas(inner).groups) {
      if (group[0].name === '**') {
        keys.push(null);
        values.push(this.expression(group[1]));
      } else {
        keys.push(this.expression(group[0]));
        values.push(this.expression(group[2]));
      }
    }
    return { type: 'Dict', ...this.at(node.from), keys, values };
  }

  private comprehensionClauses(nodes: SyntaxNode[]): A.ComprehensionClause[] {
    const clauses: A.ComprehensionClause[] = [];
    let i = 0;
    while (i < nodes.length) {
      const word = nodes[i];
      if (word.name === 'async') throw this.unsupported('async comprehensions are not supported', word);
      if (word.name === 'for') {
        const inIndex = nodes.findIndex((n, j) => j > i && n.name === 'in');
        const target = this.expressionList(nodes.slice(i + 1, inIndex), word);
        this.checkTarget(target, false);
        clauses.push({ target, iter: this.expression(nodes[inIndex + 1]), conditions: [] });
        i = inIndex + 2;
      } else if (word.name === 'if') {
        clauses[clauses.length - 1].conditions.push(this.expression(nodes[i + 1]));
        i += 2;
      } else {
        throw this.error('syntax', `invalid syntax near '${this.src(word)}'`, word.from);
      }
    }
    return clauses;
  }

  private call(node: SyntaxNode): A.Call {
    const [funcNode, argList] = childrenOf(node);
    const func = this.expression(funcNode);
    return this.callWith(func, funcNode, argList);
  }

  /** `@name`, `@a.b`, `@name(args)`: the decorator's parts come flat (a name, `.`-names, an ArgList). */
  private decorator(d: SyntaxNode): A.Expr {
    const parts = childrenOf(d).filter((c) => c.name !== 'At');
    if (parts[0]?.name !== 'VariableName') throw this.unsupported('this decorator expression is not supported', d);
    let expr: A.Expr = this.expression(parts[0]);
    for (let i = 1; i < parts.length; i++) {
      const p = parts[i];
      if (p.name === '.' && parts[i + 1]) {
        const nameNode = parts[++i];
        const name = this.src(nameNode);
        if (name.startsWith('__')) throw this.unsupported(`access to attribute '${name}' is not allowed`, nameNode);
        expr = { type: 'Attribute', ...this.at(nameNode.from), object: expr, name };
      } else if (p.name === 'ArgList' && i === parts.length - 1) {
        expr = this.callWith(expr, parts[0], p);
      } else throw this.unsupported('this decorator expression is not supported', d);
    }
    return expr;
  }

  private callWith(func: A.Expr, funcNode: SyntaxNode, argList: SyntaxNode): A.Call {
    const args: A.Expr[] = [];
    const keywords: A.Keyword[] = [];
    const inner = childrenOf(argList).filter((c) => c.name !== '(' && c.name !== ')');
    // f(x for k, v in items): a generator argument is the call's only one, and its target's
    // commas are not argument separators.
    const { groups } = inner[1]?.name === 'for' || inner[1]?.name === 'async' ? { groups: [inner] } : splitOnCommas(inner);
    for (const group of groups) {
      const first = group[0];
      if (first.name === '*') {
        if (keywords.some((k) => k.name === null)) {
          throw this.error('syntax', 'iterable argument unpacking follows keyword argument unpacking', first.from);
        }
        args.push({ type: 'Starred', ...this.at(first.from), value: this.expression(group[1]) });
      } else if (first.name === '**') {
        keywords.push({ name: null, value: this.expression(group[1]) });
      } else if (group[1]?.name === 'AssignOp') {
        if (this.src(group[1]) !== '=') throw this.unsupported('the walrus operator := is not supported', group[1]);
        this.checkIdentifier(first);
        const name = this.src(first);
        if (keywords.some((k) => k.name === name)) throw this.error('syntax', `keyword argument repeated: ${name}`, first.from);
        keywords.push({ name, value: this.expression(group[2]) });
      } else if (group[1]?.name === 'for' || group[1]?.name === 'async') {
        // f(x for x in xs): a generator argument, evaluated as a list
        const element = this.expression(first);
        args.push({ type: 'ListComp', ...this.at(first.from), element, clauses: this.comprehensionClauses(group.slice(1)) });
      } else {
        if (keywords.length) {
          throw this.error('syntax', 'positional argument follows keyword argument', first.from);
        }
        args.push(this.single(group, argList));
      }
    }
    const at = func.type === 'Attribute' ? { line: func.line, col: func.col } : this.at(funcNode.from);
    return { type: 'Call', ...at, func, args, keywords };
  }

  private member(node: SyntaxNode): A.Expr {
    const kids = childrenOf(node);
    const object = this.expression(kids[0]);
    if (kids[1].name === '.') {
      const nameNode = kids[2];
      const name = this.src(nameNode);
      // Dunder attributes stay out of reach (no way to an interpreter internal), except an
      // instance's __dict__ (its attributes as a dict: `self.__dict__.update(params)`).
      if (name.startsWith('__') && name !== '__dict__') {
        throw this.unsupported(`access to attribute '${name}' is not allowed`, nameNode);
      }
      return { type: 'Attribute', ...this.at(nameNode.from), object, name };
    }
    // subscript: [ items ]
    const inner = kids.slice(2, -1);
    const { groups, trailingComma } = splitOnCommas(inner);
    const items = groups.map((g) => this.subscriptItem(g, node));
    const index: A.Expr = items.length === 1 && !trailingComma ? items[0] : { type: 'Tuple', ...this.at(kids[1].from), items };
    return { type: 'Subscript', ...this.at(kids[1].from), object, index };
  }

  private subscriptItem(group: SyntaxNode[], owner: SyntaxNode): A.Expr {
    if (!group.some((n) => n.name === ':')) return this.single(group, owner);
    const parts: (A.Expr | null)[] = [null];
    for (const n of group) {
      if (n.name === ':') parts.push(null);
      else parts[parts.length - 1] = this.expression(n);
    }
    return {
      type: 'Slice',
      ...this.at(group[0].from),
      lower: parts[0],
      upper: parts[1] ?? null,
      step: parts[2] ?? null,
    };
  }

  private binary(node: SyntaxNode): A.Expr {
    const kids = childrenOf(node);
    const leftNode = kids[0];
    const rightNode = kids[kids.length - 1];
    const opNodes = kids.slice(1, -1);
    const opText = opNodes.map((n) => this.src(n)).join(' ');
    const opPos = this.at(opNodes[0].from);
    if (opText === 'and' || opText === 'or') {
      return { type: 'BoolOp', ...opPos, op: opText, left: this.expression(leftNode), right: this.expression(rightNode) };
    }
    if (COMPARE_OPS.has(opText) || opText === 'in' || opText === 'not in' || opText === 'is' || opText === 'is not') {
      if (opText === '<>') throw this.error('syntax', "'<>' is not Python 3: use '!='", opNodes[0].from);
      const left = this.expression(leftNode);
      const right = this.expression(rightNode);
      const op = opText as A.CompareOp;
      // lezer nests `a < b < c` as (a < b) < c; Python chains it. A parenthesized left side
      // arrives as a ParenthesizedExpression, so only a bare comparison is merged.
      if (left.type === 'Compare' && leftNode.name === 'BinaryExpression') {
        return { ...left, ops: [...left.ops, op], comparators: [...left.comparators, right] };
      }
      return { type: 'Compare', ...opPos, left, ops: [op], comparators: [right] };
    }
    if (opText === '@') throw this.unsupported("matrix multiplication '@' is not supported", opNodes[0]);
    if (opText === '<>') throw this.error('syntax', "'<>' is not Python 3: use '!='", opNodes[0].from);
    return {
      type: 'BinOp',
      ...opPos,
      op: opText as A.BinaryOp,
      left: this.expression(leftNode),
      right: this.expression(rightNode),
    };
  }
}

function describeExpr(e: A.Expr): string {
  switch (e.type) {
    case 'Call':
      return 'function call';
    case 'Number':
    case 'String':
    case 'FString':
    case 'Constant':
      return 'literal';
    case 'BinOp':
    case 'UnaryOp':
      return 'expression';
    case 'Compare':
      return 'comparison';
    default:
      return e.type.toLowerCase();
  }
}

interface BracketProblem {
  kind: 'unclosed' | 'unmatched' | 'mismatch' | 'unterminated' | 'unterminated-triple';
  char: string;
  opener?: string;
  offset: number;
}

/** Finds the first bracket problem, skipping strings and comments. */
function scanBrackets(text: string): BracketProblem | null {
  const stack: { char: string; offset: number }[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '"' || c === "'") {
      const triple = text.startsWith(c + c + c, i);
      const close = triple ? c + c + c : c;
      const start = i;
      i += close.length;
      while (i < text.length && !text.startsWith(close, i)) {
        if (text[i] === '\\') i++;
        else if (!triple && text[i] === '\n') break;
        i++;
      }
      if (i >= text.length || text[i] === '\n') {
        return { kind: triple ? 'unterminated-triple' : 'unterminated', char: c, offset: start };
      }
      i += close.length - 1;
    } else if (c === '(' || c === '[' || c === '{') {
      stack.push({ char: c, offset: i });
    } else if (c === ')' || c === ']' || c === '}') {
      const top = stack.pop();
      if (!top) return { kind: 'unmatched', char: c, offset: i };
      if (top.char !== pairs[c]) return { kind: 'mismatch', char: c, opener: top.char, offset: i };
    }
  }
  const last = stack.pop();
  return last ? { kind: 'unclosed', char: last.char, offset: last.offset } : null;
}
