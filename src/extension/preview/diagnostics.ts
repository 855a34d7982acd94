/** Kernel errors as editor diagnostics at the line (and column) the interpreter reported. */
import * as vscode from 'vscode';
import { INVALID_BREP_WARNING } from '../../core/jobs/execute';
import type { CadErrorInfo } from '../../protocol/messages';

export function diagnosticFor(document: vscode.TextDocument, error: CadErrorInfo): vscode.Diagnostic {
  const lastLine = Math.max(0, document.lineCount - 1);
  // Errors without a line (a timeout, a kernel crash) belong to the whole program: mark line 1.
  const line = error.line ? Math.min(Math.max(error.line - 1, 0), lastLine) : 0;
  const text = document.lineAt(line);
  const col = error.col ? Math.min(Math.max(error.col - 1, 0), text.range.end.character) : text.firstNonWhitespaceCharacterIndex;
  const end = col < text.range.end.character ? text.range.end : new vscode.Position(line, col + 1);
  const range = new vscode.Range(new vscode.Position(line, col), end);
  const severity = error.kind === 'unsupported' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Error;
  const diagnostic = new vscode.Diagnostic(range, error.message, severity);
  diagnostic.source = 'GIFT CAD';
  diagnostic.code = error.kind;
  return diagnostic;
}

/**
 * A result that is not a valid B-rep is never a quiet ok: a warning on the program's first line
 * (the preview still shows the shape, and says "invalid solid" beside its run time).
 */
export function invalidShapeDiagnostic(document: vscode.TextDocument): vscode.Diagnostic {
  const line = document.lineAt(0);
  const diagnostic = new vscode.Diagnostic(
    new vscode.Range(line.range.start, line.range.end),
    `${INVALID_BREP_WARNING}; IoU and exports may be wrong too (a fillet or boolean left a broken solid, or two features only touch)`,
    vscode.DiagnosticSeverity.Warning,
  );
  diagnostic.source = 'GIFT CAD';
  diagnostic.code = 'invalid-brep';
  return diagnostic;
}
