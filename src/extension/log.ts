/** The extension's one log channel ("GIFT CAD" in the Output view, with levels). */
import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

export function log(): vscode.LogOutputChannel {
  return (channel ??= vscode.window.createOutputChannel('GIFT CAD', { log: true }));
}

export function disposeLog(): void {
  channel?.dispose();
  channel = undefined;
}
