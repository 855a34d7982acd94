/** Argument parsing shared by the subcommands: node's parseArgs with errors that name the option. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError, errorMessage } from '../core/errors';

export class UsageError extends UserError {}

export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, help: string) {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(help);
    process.exit(0);
  }
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${errorMessage(e)}\n\n${help}`);
  }
}

export function intOption(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${value}'`);
  return n;
}

/**
 * `gift <command> <action> …`: runs the action, printing a UserError (bad input the user can fix)
 * as `gift <command> <action>: message` with exit code 1.
 */
export async function runAction(command: string, argv: string[], actions: Record<string, (argv: string[]) => Promise<number>>, help: string): Promise<number> {
  const [action, ...rest] = argv;
  if (!action || action === '--help' || action === '-h') {
    console.log(help);
    return action ? 0 : 2;
  }
  const run = actions[action];
  if (!run) throw new UsageError(`unknown action '${action}'\n\n${help}`);
  try {
    return await run(rest);
  } catch (e) {
    if (e instanceof UserError && !(e instanceof UsageError)) {
      console.error(`gift ${command} ${action}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

/** Options that take a string value, for parseCommandArgs: `{ ...stringOptions('samples', 'seed'), json: { type: 'boolean' } }`. */
export function stringOptions<const N extends string>(...names: N[]): Record<N, { type: 'string' }> {
  return Object.fromEntries(names.map((n) => [n, { type: 'string' }])) as Record<N, { type: 'string' }>;
}
