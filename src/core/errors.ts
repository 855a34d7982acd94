/**
 * The project's error vocabulary, at the bottom of src/core: every folder may import it, it imports
 * nothing. Two families:
 *  - `UserError` and its subclasses: a problem the user can act on (bad input, a missing file, a
 *    refused connection). Their message is shown as is, never a stack trace.
 *  - `CadError`: the failure of a CadQuery program or a kernel job, with a kind and the place
 *    (line, column). It crosses the worker boundary as `CadErrorInfo`.
 * One `errorMessage` reads any thrown value; one `formatError` writes a CadErrorInfo for people.
 */

/** A problem the user can act on: shown as its message, never as a stack. Subclass per area. */
export class UserError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Every failure of a CadQuery program or a kernel job, with the place it happened. */
export type CadErrorKind =
  | 'syntax'
  | 'unsupported'
  | 'geometry'
  | 'runtime'
  | 'timeout'
  | 'limit'
  /** The caller cancelled the job (a newer edit, a closed panel). */
  | 'cancelled';

export interface CadErrorInfo {
  kind: CadErrorKind;
  message: string;
  /** 1-based line of the construct that failed, when known. */
  line?: number;
  /** 1-based column, when known. */
  col?: number;
}

export class CadError extends UserError {
  readonly kind: CadErrorKind;
  line?: number;
  col?: number;

  constructor(kind: CadErrorKind, message: string, line?: number, col?: number) {
    super(message);
    this.kind = kind;
    this.line = line;
    this.col = col;
  }

  toJSON(): CadErrorInfo {
    return { kind: this.kind, message: this.message, line: this.line, col: this.col };
  }
}

/** A problem with a training run the user can act on (bad input, a run that is not there, a failed job). */
export class TrainError extends UserError {}

/** A geometry failure: the program ran but the shape it asked for is degenerate or impossible. */
export function geometryError(message: string): CadError {
  return new CadError('geometry', message);
}

/** The message of anything thrown: an Error's message, else its string form. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  return String(error);
}

/** Any thrown value as a CadErrorInfo; what is not a CadError is a `runtime` error. */
export function toErrorInfo(error: unknown): CadErrorInfo {
  if (error instanceof CadError) return error.toJSON();
  return { kind: 'runtime', message: errorMessage(error) };
}

/**
 * The one way a CadErrorInfo is written for people: `[file:]line L[:C]: kind error: message`.
 * With a file, the place reads as compilers write it (`part.py:3:5: syntax error: …`).
 */
export function formatError(error: CadErrorInfo, file?: string): string {
  const at = error.line ? `${error.line}${error.col ? `:${error.col}` : ''}` : '';
  const where = file ? `${file}${at ? `:${at}` : ''}: ` : at ? `line ${at}: ` : '';
  return `${where}${error.kind} error: ${error.message}`;
}
