// `npm run test:training`: brings up a real Slurm (slurmctld, slurmd, munge) behind a real sshd on
// 127.0.0.1, runs the training end-to-end tests through it, and takes both down again.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }).status ?? 1;

let status = run('bash', ['scripts/training-env-up.sh']);
if (status === 0) status = run(process.execPath, ['scripts/test.mjs', 'test/train/e2e']);
run('bash', ['scripts/training-env-down.sh']);
process.exit(status);
