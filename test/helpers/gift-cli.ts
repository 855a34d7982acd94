/**
 * Runs `gift dataset …` or `gift train …` from source (the tests need no bundle):
 * node --import tsx test/helpers/gift-cli.ts dataset|train ARGS…
 */
import { UsageError } from '../../src/cli/args';
import { datasetCommand } from '../../src/cli/commands/dataset';
import { trainCommand } from '../../src/cli/commands/train';

const [command, ...args] = process.argv.slice(2);
const run = command === 'dataset' ? datasetCommand : command === 'train' ? trainCommand : undefined;
if (!run) {
  console.error(`gift-cli.ts: expected dataset or train, got '${command}'`);
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
