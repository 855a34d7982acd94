/** Every failure of a CadQuery program, with the place it happened. */
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

export class CadError extends Error {
  readonly kind: CadErrorKind;
  line?: number;
  col?: number;

  constructor(kind: CadErrorKind, message: string, line?: number, col?: number) {
    super(message);
    this.name = 'CadError';
    this.kind = kind;
    this.line = line;
    this.col = col;
  }

  toJSON(): CadErrorInfo {
    return { kind: this.kind, message: this.message, line: this.line, col: this.col };
  }
}

/** A geometry failure: the program ran but the shape it asked for is degenerate or impossible. */
export function geometryError(message: string): CadError {
  return new CadError('geometry', message);
}

export function toErrorInfo(error: unknown): CadErrorInfo {
  if (error instanceof CadError) return error.toJSON();
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'runtime', message };
}
