/**
 * The AST of the Python subset CadQuery programs are written in. Every node carries a 1-based
 * `line` and `col` (UTF-16 columns, as editors count). For most nodes that is where the node
 * starts; where an error is better reported elsewhere the node says so:
 * - Attribute: the attribute name (`.extrude` in a multi-line chain points at its own line),
 * - Call: the callee's name (the method name for `a.b(…)`),
 * - BinOp / Compare / BoolOp: the (first) operator.
 */

export interface Position {
  line: number;
  col: number;
}

// ---- Expressions --------------------------------------------------------------------------

export interface NumberLiteral extends Position {
  type: 'Number';
  value: number;
}

export interface StringLiteral extends Position {
  type: 'String';
  value: string;
}

/** One `{expr!conv:spec}` field of an f-string. */
export interface FormattedField {
  value: Expr;
  conversion: 's' | 'r' | 'a' | null;
  /** The format spec, itself possibly containing nested fields; null when absent. */
  spec: FormattedString | null;
}

export interface FormattedString extends Position {
  type: 'FString';
  parts: (string | FormattedField)[];
}

/** True, False or None. */
export interface Constant extends Position {
  type: 'Constant';
  value: boolean | null;
}

export interface Name extends Position {
  type: 'Name';
  id: string;
}

export interface TupleExpr extends Position {
  type: 'Tuple';
  items: Expr[];
}

export interface ListExpr extends Position {
  type: 'List';
  items: Expr[];
}

/** `{a, b}` (items) or `{x for x in …}` (a list comprehension whose items become the set's). */
export interface SetExpr extends Position {
  type: 'Set';
  items?: Expr[];
  comprehension?: ListComp;
}

export interface DictExpr extends Position {
  type: 'Dict';
  /** null marks a `**mapping` entry whose value is in `values`. */
  keys: (Expr | null)[];
  values: Expr[];
}

export interface Attribute extends Position {
  type: 'Attribute';
  object: Expr;
  name: string;
}

export interface Subscript extends Position {
  type: 'Subscript';
  object: Expr;
  index: Expr;
}

export interface Slice extends Position {
  type: 'Slice';
  lower: Expr | null;
  upper: Expr | null;
  step: Expr | null;
}

export interface Keyword {
  /** null for `**mapping`. */
  name: string | null;
  value: Expr;
}

export interface Call extends Position {
  type: 'Call';
  func: Expr;
  /** Positional arguments; `Starred` for `*args`. */
  args: Expr[];
  keywords: Keyword[];
}

export interface Starred extends Position {
  type: 'Starred';
  value: Expr;
}

export type BinaryOp = '+' | '-' | '*' | '/' | '//' | '%' | '**' | '&' | '|' | '^' | '<<' | '>>';

export interface BinOp extends Position {
  type: 'BinOp';
  op: BinaryOp;
  left: Expr;
  right: Expr;
}

export interface UnaryOp extends Position {
  type: 'UnaryOp';
  op: '-' | '+' | '~' | 'not';
  operand: Expr;
}

export interface BoolOp extends Position {
  type: 'BoolOp';
  op: 'and' | 'or';
  left: Expr;
  right: Expr;
}

export type CompareOp = '<' | '>' | '<=' | '>=' | '==' | '!=' | 'in' | 'not in' | 'is' | 'is not';

/** `a < b <= c`: ops.length === comparators.length. */
export interface Compare extends Position {
  type: 'Compare';
  left: Expr;
  ops: CompareOp[];
  comparators: Expr[];
}

export interface IfExp extends Position {
  type: 'IfExp';
  test: Expr;
  body: Expr;
  orelse: Expr;
}

export interface ComprehensionClause {
  target: Expr;
  iter: Expr;
  conditions: Expr[];
}

/** List comprehensions and generator expressions (evaluated eagerly into a list). */
export interface ListComp extends Position {
  type: 'ListComp';
  element: Expr;
  clauses: ComprehensionClause[];
}

export interface DictComp extends Position {
  type: 'DictComp';
  key: Expr;
  value: Expr;
  clauses: ComprehensionClause[];
}

/** `lambda params: body`, kept as the `def` it is equivalent to (a body of one `return`). */
export interface Lambda extends Position {
  type: 'Lambda';
  def: FunctionDef;
}

export type Expr =
  | NumberLiteral
  | StringLiteral
  | FormattedString
  | Constant
  | Name
  | TupleExpr
  | ListExpr
  | DictExpr
  | Attribute
  | Subscript
  | Slice
  | Call
  | Starred
  | BinOp
  | UnaryOp
  | BoolOp
  | Compare
  | IfExp
  | ListComp
  | SetExpr
  | DictComp
  | Lambda;

// ---- Statements ---------------------------------------------------------------------------

/** `a = b = value`; each target is a Name, Tuple/List of targets, Attribute, Subscript or Starred. */
export interface Assign extends Position {
  type: 'Assign';
  targets: Expr[];
  value: Expr;
}

export interface AugAssign extends Position {
  type: 'AugAssign';
  target: Expr;
  op: BinaryOp;
  value: Expr;
}

export interface ExprStatement extends Position {
  type: 'Expr';
  value: Expr;
}

export interface If extends Position {
  type: 'If';
  test: Expr;
  body: Stmt[];
  /** `elif` chains nest as a single If here. */
  orelse: Stmt[];
}

export interface For extends Position {
  type: 'For';
  target: Expr;
  iter: Expr;
  body: Stmt[];
  orelse: Stmt[];
}

export interface Parameter extends Position {
  name: string;
  default: Expr | null;
  /** `*args` / `**kwargs` collectors. */
  kind: 'normal' | 'varargs' | 'kwargs';
  /** Declared after `*` or `*args`: bound only by keyword. */
  keywordOnly: boolean;
}

export interface FunctionDef extends Position {
  type: 'FunctionDef';
  name: string;
  params: Parameter[];
  body: Stmt[];
  /** `@expr` lines above the def, outermost first (applied innermost first). */
  decorators?: Expr[];
}

export interface Return extends Position {
  type: 'Return';
  value: Expr | null;
}

export interface Pass extends Position {
  type: 'Pass';
}

/** `del a, b[i], c[i:j]`: names, and items of lists and dicts. */
export interface Delete extends Position {
  type: 'Delete';
  targets: Expr[];
}

export interface Break extends Position {
  type: 'Break';
}

export interface Continue extends Position {
  type: 'Continue';
}

export interface ImportAlias extends Position {
  /** Dotted module path (`import a.b`) or imported name (`from m import name`). */
  name: string;
  asName: string | null;
}

export interface Import extends Position {
  type: 'Import';
  names: ImportAlias[];
}

export interface ImportFrom extends Position {
  type: 'ImportFrom';
  module: string;
  /** null for `from module import *`. */
  names: ImportAlias[] | null;
}

export interface Assert extends Position {
  type: 'Assert';
  test: Expr;
  message: Expr | null;
}

/** `class Name(object): body` — a namespace whose functions become methods. */
export interface ClassDef extends Position {
  type: 'ClassDef';
  name: string;
  bases: Expr[];
  body: Stmt[];
  decorators?: Expr[];
}

/** `raise value` (or a bare `raise`, value null). */
export interface Raise extends Position {
  type: 'Raise';
  value: Expr | null;
}

export type Stmt =
  | Assign
  | AugAssign
  | ExprStatement
  | If
  | For
  | FunctionDef
  | ClassDef
  | Return
  | Pass
  | Delete
  | Break
  | Continue
  | Import
  | ImportFrom
  | Assert
  | Raise;

/** A module import anywhere in the program, for checking before anything runs. */
export interface ImportUse extends Position {
  /** The top-level module name (`cadquery` for `from cadquery.selectors import X`). */
  module: string;
}

export interface Program {
  body: Stmt[];
  imports: ImportUse[];
}
