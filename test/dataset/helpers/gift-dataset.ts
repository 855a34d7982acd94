/** Runs `gift dataset …` from source (the tests need no bundle): node --import tsx gift-dataset.ts ARGS… */
import { datasetCommand } from '../../../src/cli/commands/dataset';
import { UsageError } from '../../../src/cli/args';

datasetCommand(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(e instanceof UsageError ? e.message : (e as Error).stack);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  },
);
