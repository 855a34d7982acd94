/**
 * The local Slurm + sshd environment that scripts/training-env-up.sh starts (its env.json), and the
 * cluster profile that reaches it: shared by the core e2e test and the VS Code Training suite.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ClusterProfile } from '../../src/core/train';

export interface TrainingEnv {
  host: string;
  port: number;
  user: string;
  identityFile: string;
  python: string;
  torch: boolean;
  workDir: string;
}

export const trainingEnvFile = process.env.GIFT_TRAINING_ENV_FILE ?? path.join(process.env.GIFT_TRAINING_ENV ?? '/tmp/gift-training-env', 'env.json');

/** The environment, or null when it is not up. */
export function readTrainingEnv(): TrainingEnv | null {
  return fs.existsSync(trainingEnvFile) ? (JSON.parse(fs.readFileSync(trainingEnvFile, 'utf8')) as TrainingEnv) : null;
}

/** The profile that reaches this environment, in a fresh remote folder. */
export function localClusterProfile(env: TrainingEnv, name: string, knownHosts: string, workDirPrefix: string): ClusterProfile {
  return {
    name,
    host: env.host,
    port: env.port,
    user: env.user,
    identityFile: env.identityFile,
    agent: false,
    sshConfig: false,
    knownHosts,
    workDir: `${env.workDir}/${workDirPrefix}-${crypto.randomBytes(3).toString('hex')}`,
    partition: 'debug',
    cpus: 1,
    time: '00:10:00',
    python: env.python,
  };
}
