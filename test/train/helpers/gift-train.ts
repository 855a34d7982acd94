/** Runs `gift train …` from source (no bundle needed): node --import tsx gift-train.ts ARGS… */
import { trainCommand } from '../../../src/cli/commands/train';
import { UsageError } from '../../../src/cli/args';

trainCommand(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(e instanceof UsageError ? e.message : (e as Error).stack);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  },
);
