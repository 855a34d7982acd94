/** Kernel errors as editor diagnostics at the line (and column) the interpreter reported. */
import * as vscode from 'vscode';
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
