/**
 * `gift`: the command line over the same core as the extension, for terminals and cluster nodes.
 * Each subcommand lives in commands/<name>.ts and returns its exit code.
 */
import { bootstrapCommand } from './commands/bootstrap';
import { datasetCommand } from './commands/dataset';
import { evalCommand } from './commands/eval';
import { generateCommand } from './commands/generate';
import { iouCommand } from './commands/iou';
import { renderCommand, scoreCommand } from './commands/render';
import { roundCommand } from './commands/round';
import { runCommand } from './commands/run';
import { serveCommand } from './commands/serve';
import { trainCommand } from './commands/train';
import { verifyCommand } from './commands/verify';
import { UserError } from '../core/errors';
import { UsageError } from './args';

type Command = { summary: string; run: (argv: string[]) => Promise<number> };

const commands: Record<string, Command> = {
  generate: { summary: 'image → CadQuery: K samples from a model, each run and ranked (IoU with --reference, else image score)', run: generateCommand },
  serve: { summary: 'serve the ONNX model as an OpenAI-compatible endpoint (loopback unless a token is set)', run: serveCommand },
  run: { summary: 'run CadQuery .py files (or load .step/.stl) and report volume, bbox, validity', run: runCommand },
  iou: { summary: '3D IoU and Chamfer distance of a candidate against a reference', run: iouCommand },
  verify: { summary: 'batch IoU over a JSONL of pairs (resumable), with VSR and mean/median IoU', run: verifyCommand },
  eval: { summary: "the paper's measurement: K samples per image, pass@k, ranked@k, VSR and the gap (resumable); eval compare", run: evalCommand },
  render: { summary: 'render a shape as a PNG in the GenCAD dataset style', run: renderCommand },
  score: { summary: 'score how well a shape explains an image (no ground truth needed)', run: scoreCommand },
  bootstrap: { summary: 'GIFT data engine: sample K per sft pair, verify by IoU, add SRS/FDA records (resumable, sharded)', run: bootstrapCommand },
  round: { summary: 'one GIFT round here: bootstrap, export sft + SRS + FDA, train the bundled model, measure old vs new (resumable)', run: roundCommand },
  train: { summary: 'train on a Slurm cluster over SSH (submit/status/logs/cancel/fetch/bootstrap)', run: trainCommand },
  dataset: { summary: 'import, list, flag and export GIFT datasets (sft / srs / fda collections)', run: datasetCommand },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: gift <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'gift <command> --help' for a command's options.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`gift: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`gift ${name}: ${e.message}`);
      return 2;
    }
    // A problem the user can act on is its message; anything else keeps its stack (a bug).
    if (e instanceof UserError) {
      console.error(`gift ${name}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(`gift: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = 1;
  },
);
