/**
 * The one command table (as rust-analyzer's createCommands): every command GIFT CAD contributes,
 * by its id without the `gift.` prefix, registered in one place. Feature areas hand in their part
 * (DatasetCommands.commands(), TrainingCommands.commands()); a VS Code test checks the table
 * against package.json's contributes.commands both ways.
 */
import * as vscode from 'vscode';

export const COMMAND_PREFIX = 'gift.';

/** Arguments come from VS Code (menus, the palette, other extensions): each handler checks its own. */
export type CommandTable = Record<string, (...args: never[]) => unknown>;

/** Registers every command of the table under `gift.<id>`; the disposables go to the extension's subscriptions. */
export function registerCommands(table: CommandTable): vscode.Disposable[] {
  return Object.entries(table).map(([id, run]) => vscode.commands.registerCommand(COMMAND_PREFIX + id, run));
}
