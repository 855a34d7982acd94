/** What every GIFT command returns (the tests read it), and the one way commands report failure. */
import * as vscode from 'vscode';
import { log } from './log';

export type CommandOutcome = { ok: true; detail?: string; uri?: vscode.Uri } | { ok: false; message: string };

/** Logs the failure, shows it with a "Show Logs" button, and returns it as the command's outcome. */
export function fail(message: string, ...actions: { title: string; run: () => unknown }[]): CommandOutcome {
  log().error(message);
  void vscode.window.showErrorMessage(message, ...actions.map((a) => a.title), 'Show Logs').then((choice) => {
    const action = actions.find((a) => a.title === choice);
    if (action) void action.run();
    else if (choice) log().show(true);
  });
  return { ok: false, message };
}
