/**
 * Runs `gift dataset …`, `gift train …` or `gift round …` from source (the tests need no bundle):
 * node --import tsx test/helpers/gift-cli.ts dataset|train|round ARGS…
 */
import { UsageError } from '../../src/cli/args';
import { datasetCommand } from '../../src/cli/commands/dataset';
import { roundCommand } from '../../src/cli/commands/round';
import { trainCommand } from '../../src/cli/commands/train';

const [command, ...args] = process.argv.slice(2);
const run = ({ dataset: datasetCommand, train: trainCommand, round: roundCommand } as Record<string, (argv: string[]) => Promise<number>>)[command];
if (!run) {
  console.error(`gift-cli.ts: expected dataset, train or round, got '${command}'`);
  process.exit(2);
}
run(args).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(e instanceof UsageError ? e.message : (e as Error).stack);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  },
);
