/**
 * Runs `gift serve` / `gift generate` as a separate process the way src/cli/main.ts does (usage
 * errors → exit 2), for the CLI tests: `node --import tsx test/model/generate-cli.ts serve …`.
 */
import { UsageError } from '../../src/cli/args';
import { generateCommand } from '../../src/cli/commands/generate';
import { serveCommand } from '../../src/cli/commands/serve';

const commands: Record<string, (argv: string[]) => Promise<number>> = { serve: serveCommand, generate: generateCommand };
const [name, ...rest] = process.argv.slice(2);
commands[name](rest).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(e instanceof UsageError ? `gift ${name}: ${e.message}` : e);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  },
);
