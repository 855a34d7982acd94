import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseProfile } from '../../src/core/train/profile';
import { getRecipe, matchesFetchList, vllmServeCommand } from '../../src/core/train/recipes';
import {
  buildSbatchScript,
  combineStatus,
  normalizeSlurmState,
  parseSacct,
  parseSbatchParsable,
  parseScontrol,
  parseSqueue,
  parseStatusFiles,
  parseStatusProbe,
  readSbatchTemplate,
  renderTemplate,
  statusProbeCommand,
} from '../../src/core/train/slurm';
import { bootstrapCommand } from '../../src/core/train/bootstrap';

// Output captured from Slurm 22.05 (Debian 12) on this machine, accounting off.
const SCONTROL_COMPLETED =
  'JobId=1 JobName=wrap UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901759 Nice=0 Account=(null) QOS=(null) JobState=COMPLETED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:02 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-25T07:27:11 EligibleTime=2026-11-25T07:27:11 AccrueTime=2026-11-25T07:27:11 StartTime=2026-11-25T07:27:12 EndTime=2026-11-25T07:27:14 Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-25T07:27:12 Scheduler=Main Partition=debug AllocNode:Sid=localhost:4134 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=1000M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryCPU=1000M MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=(null) WorkDir=/tmp/h10 StdErr=/tmp/h10/j-1.out StdIn=/dev/null StdOut=/tmp/h10/j-1.out Power= ';
const SCONTROL_FAILED = SCONTROL_COMPLETED.replace('JobId=1 ', 'JobId=2 ')
  .replace('JobState=COMPLETED Reason=None', 'JobState=FAILED Reason=NonZeroExitCode')
  .replace('ExitCode=0:0', 'ExitCode=3:0');
const SCONTROL_CANCELLED = SCONTROL_COMPLETED.replace('JobId=1 ', 'JobId=3 ')
  .replace('JobState=COMPLETED', 'JobState=CANCELLED')
  .replace('ExitCode=0:0', 'ExitCode=0:15');
const SCONTROL_ARRAY = [
  'JobId=4 ArrayJobId=4 ArrayTaskId=3 JobName=wrap JobState=PENDING Reason=Resources Dependency=(null) ExitCode=0:0 RunTime=00:00:00 NodeList= NumNodes=1',
  'JobId=7 ArrayJobId=4 ArrayTaskId=2 JobName=wrap JobState=FAILED Reason=NonZeroExitCode Dependency=(null) ExitCode=2:0 RunTime=00:00:01 NodeList=vm',
  'JobId=6 ArrayJobId=4 ArrayTaskId=1 JobName=wrap JobState=RUNNING Reason=None Dependency=(null) ExitCode=0:0 RunTime=00:00:01 NodeList=vm',
  'JobId=5 ArrayJobId=4 ArrayTaskId=0 JobName=wrap JobState=COMPLETED Reason=None Dependency=(null) ExitCode=0:0 RunTime=00:00:01 NodeList=vm',
].join('\n');

test('Slurm state words fold into the six states', () => {
  const cases: [string, string][] = [
    ['PENDING', 'PENDING'],
    ['CONFIGURING', 'RUNNING'],
    ['COMPLETING', 'RUNNING'],
    ['RUNNING', 'RUNNING'],
    ['COMPLETED', 'COMPLETED'],
    ['FAILED', 'FAILED'],
    ['OUT_OF_MEMORY', 'FAILED'],
    ['NODE_FAIL', 'FAILED'],
    ['CANCELLED by 1000', 'CANCELLED'],
    ['CANCELLED+', 'CANCELLED'],
    ['TIMEOUT', 'TIMEOUT'],
    ['PREEMPTED', 'PENDING'],
    ['REQUEUED', 'PENDING'],
    ['CD', 'COMPLETED'],
    ['what', 'UNKNOWN'],
  ];
  for (const [raw, want] of cases) assert.equal(normalizeSlurmState(raw), want, raw);
});

test('squeue, sacct and scontrol outputs parse into task states with exit codes', () => {
  const sq = parseSqueue('3|PENDING|Resources|0:00|\n4_[0-3]|PENDING|Priority|0:00|\n1|RUNNING|None|0:03|vm\n');
  assert.deepEqual(
    sq.map((t) => [t.id, t.state, t.reason ?? null, t.nodes ?? null]),
    [
      ['3', 'PENDING', 'Resources', null],
      ['4_[0-3]', 'PENDING', 'Priority', null],
      ['1', 'RUNNING', null, 'vm'],
    ],
  );

  // sacct -X -P -n -o JobID,State,ExitCode,Elapsed,NodeList with slurmdbd
  const sa = parseSacct(
    '12|COMPLETED|0:0|00:00:02|vm\n13|FAILED|3:0|00:00:00|vm\n14|CANCELLED by 0|0:15|00:00:01|vm\n15|TIMEOUT|0:0|00:01:00|vm\n16_0|COMPLETED|0:0|00:00:01|vm\n16.batch|COMPLETED|0:0|00:00:01|vm\n',
  );
  assert.deepEqual(
    sa.map((t) => [t.id, t.state, t.exitCode, t.signal]),
    [
      ['12', 'COMPLETED', 0, 0],
      ['13', 'FAILED', 3, 0],
      ['14', 'CANCELLED', 0, 15],
      ['15', 'TIMEOUT', 0, 0],
      ['16_0', 'COMPLETED', 0, 0],
    ],
  );
  assert.deepEqual(parseSacct('Slurm accounting storage is disabled\n'), []);

  const sc = parseScontrol([SCONTROL_COMPLETED, SCONTROL_FAILED, SCONTROL_CANCELLED].join('\n'));
  assert.deepEqual(
    sc.map((t) => [t.id, t.state, t.exitCode, t.signal, t.reason ?? null, t.elapsed]),
    [
      ['1', 'COMPLETED', 0, 0, null, '00:00:02'],
      ['2', 'FAILED', 3, 0, 'NonZeroExitCode', '00:00:02'],
      ['3', 'CANCELLED', 0, 15, null, '00:00:02'],
    ],
  );
  assert.deepEqual(parseScontrol('slurm_load_jobs error: Invalid job id specified\n'), []);
});

test('array tasks combine into one job state; exit code of the failing task', () => {
  const status = combineStatus('4', { scontrol: parseScontrol(SCONTROL_ARRAY) });
  assert.equal(status.state, 'RUNNING');
  assert.deepEqual(
    status.tasks.map((t) => t.id),
    ['4_0', '4_1', '4_2', '4_3'],
  );
  assert.equal(status.exitCode, 2);
  assert.equal(status.rawState, '1 COMPLETED, 1 RUNNING, 1 FAILED, 1 PENDING');
  const done = combineStatus('4', { sacct: parseSacct('4_0|COMPLETED|0:0|00:00:01|vm\n4_1|FAILED|1:0|00:00:01|vm\n') });
  assert.equal(done.state, 'FAILED');
});

test('the probe: squeue wins for live jobs; scontrol when accounting is off; status file once Slurm forgot', () => {
  const cmd = statusProbeCommand('17', '/scratch/gift/runs/r 1');
  assert.match(cmd, /squeue -h -j 17/);
  assert.match(cmd, /sacct -X -P -n -j 17/);
  assert.match(cmd, /scontrol show job -o 17/);
  assert.match(cmd, /'\/scratch\/gift\/runs\/r 1'\/status\*\.json/);
  assert.throws(() => statusProbeCommand('17; rm -rf ~', '/x'), /not a Slurm job id/);

  const section = (name: string, text: string) => `@@gift-section ${name}\n${text}`;
  const running = parseStatusProbe(
    '1',
    [
      section('squeue', '1|RUNNING|None|0:03|vm'),
      section('sacct', 'Slurm accounting storage is disabled'),
      section('scontrol', SCONTROL_COMPLETED.replace('JobState=COMPLETED', 'JobState=RUNNING')),
      section('status', ''),
    ].join('\n'),
  );
  assert.equal(running.state, 'RUNNING');
  assert.equal(running.accounting, false);
  assert.deepEqual(running.sources, ['squeue', 'scontrol']);

  const failed = parseStatusProbe(
    '2',
    [
      section('squeue', ''),
      section('sacct', 'Slurm accounting storage is disabled'),
      section('scontrol', SCONTROL_FAILED),
      section('status', '{"jobId": "2", "task": "", "exitCode": 3, "finished": "x", "host": "vm"}'),
    ].join('\n'),
  );
  assert.deepEqual([failed.state, failed.exitCode, failed.reason], ['FAILED', 3, 'NonZeroExitCode']);

  const forgotten = (body: string, cancelled = false) =>
    parseStatusProbe(
      '9',
      [
        section('squeue', 'slurm_load_jobs error: Invalid job id specified'),
        section('sacct', 'Slurm accounting storage is disabled'),
        section('scontrol', 'slurm_load_jobs error: Invalid job id specified'),
        section('status', body),
      ].join('\n'),
      cancelled,
    );
  assert.deepEqual(
    [forgotten('{"jobId": "9", "task": "", "exitCode": 0}').state, forgotten('{"jobId": "9", "task": "", "exitCode": 0}').sources],
    ['COMPLETED', ['status-file']],
  );
  assert.equal(forgotten('{"jobId": "9", "task": "", "exitCode": 1}').state, 'FAILED');
  assert.equal(forgotten('{"jobId": "9", "task": "", "exitCode": 143}', true).state, 'CANCELLED');
  assert.equal(forgotten('').state, 'UNKNOWN');
  assert.deepEqual(
    parseStatusFiles('{"jobId": "5", "task": "2", "exitCode": 0}\n{"jobId": "5", "task": "3", "exitCode": 137}', false).map((t) => [t.id, t.state, t.signal]),
    [
      ['5_2', 'COMPLETED', null],
      ['5_3', 'FAILED', 9],
    ],
  );
});

test('sbatch --parsable output', () => {
  assert.equal(parseSbatchParsable('123\n'), '123');
  assert.equal(parseSbatchParsable('456;cluster2\n'), '456');
  assert.throws(() => parseSbatchParsable('sbatch: error: invalid partition specified: gpu\n'), /did not print a job id.*invalid partition/);
});

const profile = parseProfile({
  host: 'hpc',
  workDir: '/scratch/ada/gift',
  partition: 'gpu',
  account: 'proj-42',
  qos: 'normal',
  gpus: 4,
  gpuType: 'a100',
  cpus: 32,
  memory: '256G',
  time: '1-00:00:00',
  sbatchOptions: ['--constraint=a100_80g'],
  setup: ['module load cuda/12.4', 'source ~/venvs/gift/bin/activate'],
  python: 'python',
});

test('sbatch script from profile + recipe: directives, setup, recipe command; valid bash', () => {
  const recipe = getRecipe('vlm');
  const ctx = { profile, options: { lora: true, epochs: 2, baseModel: '/models/cadcoder' }, gpus: 4, nodes: 1 };
  const script = buildSbatchScript(
    profile,
    { name: 'gift-vlm', runDir: '/scratch/ada/gift/runs/r1', runId: 'r1', recipe: 'vlm', command: recipe.command(ctx), env: recipe.env(ctx) },
    readSbatchTemplate('train'),
  );
  const directives = script.split('\n').filter((l) => l.startsWith('#SBATCH'));
  assert.deepEqual(directives, [
    '#SBATCH --job-name=gift-vlm',
    '#SBATCH --chdir=/scratch/ada/gift/runs/r1',
    '#SBATCH --output=/scratch/ada/gift/runs/r1/slurm-%j.out',
    '#SBATCH --error=/scratch/ada/gift/runs/r1/slurm-%j.out',
    '#SBATCH --partition=gpu',
    '#SBATCH --account=proj-42',
    '#SBATCH --qos=normal',
    '#SBATCH --nodes=1',
    '#SBATCH --ntasks-per-node=1',
    '#SBATCH --gres=gpu:a100:4',
    '#SBATCH --cpus-per-task=32',
    '#SBATCH --mem=256G',
    '#SBATCH --time=1-00:00:00',
    '#SBATCH --constraint=a100_80g',
  ]);
  assert.ok(script.startsWith('#!/bin/bash\n#SBATCH'), 'directives must come right after the shebang');
  assert.match(script, /module load cuda\/12\.4\nsource ~\/venvs\/gift\/bin\/activate/);
  assert.match(script, /export TOKENIZERS_PARALLELISM=false/);
  assert.match(
    script,
    /python -m torch\.distributed\.run --standalone --nproc-per-node=4 code\/recipe_vlm\.py --data data\/chat\.jsonl --image-root data --model \/models\/cadcoder --out out --resume auto --lora --epochs 2/,
  );
  assert.match(script, /trap write_status EXIT/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gift-sbatch-'));
  fs.writeFileSync(path.join(dir, 'job.sbatch'), script);
  const check = spawnSync('bash', ['-n', path.join(dir, 'job.sbatch')], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);

  // multi-node: one torchrun per node through srun
  const multi = recipe.command({ ...ctx, nodes: 2 });
  assert.match(multi, /srun --ntasks-per-node=1 python -m torch\.distributed\.run --nnodes=2 --nproc-per-node=4 --rdzv-backend=c10d/);

  // the bundled recipe on a CPU-only profile
  const cpu = parseProfile({ host: 'h', workDir: '/w', cpus: 2 });
  const bundled = getRecipe('bundled');
  const c2 = { profile: cpu, options: { config: 'tiny' as const, steps: 30 }, gpus: 0, nodes: 1 };
  assert.equal(bundled.command(c2), 'python3 code/train_bundled.py --data data --out out --config tiny --device cpu --steps 30');
  assert.deepEqual(bundled.env(c2), { OMP_NUM_THREADS: '2' });
  assert.ok(matchesFetchList('model.onnx', bundled.fetch) && !matchesFetchList('checkpoint.pt', bundled.fetch));
});

test('bootstrap job array script: --array, per-task log, shard command', () => {
  const script = buildSbatchScript(
    { ...profile, giftCommand: 'npx gift', gpus: 1 },
    {
      name: 'gift-bootstrap',
      runDir: '/w/runs/b1',
      runId: 'b1',
      recipe: 'bootstrap',
      command: bootstrapCommand({ ...profile, giftCommand: 'npx gift' }, 8, ['--samples', '4', '--data', 'data']),
      array: { count: 8, maxParallel: 2 },
    },
    readSbatchTemplate('bootstrap-array'),
  );
  assert.match(script, /#SBATCH --array=0-7%2/);
  assert.match(script, /#SBATCH --output=\/w\/runs\/b1\/slurm-%A_%a\.out/);
  assert.match(script, /npx gift bootstrap --shard "\$TASK\/8" --out "\$SHARD_DIR" --samples 4 --data data/);
  assert.match(script, /> "\$SHARD_DIR\/DONE"/);
});

test('templates: missing placeholders and whitespace in #SBATCH values are errors', () => {
  assert.throws(() => renderTemplate('a {{NOPE}}', {}, 't'), /t: no value for \{\{NOPE\}\}/);
  assert.throws(
    () =>
      buildSbatchScript(
        { ...profile, sbatchOptions: ['--comment=two words'] },
        { name: 'x', runDir: '/w/r', runId: 'r', recipe: 'command', command: 'true' },
        readSbatchTemplate('train'),
      ),
    /contains whitespace/,
  );
  assert.match(
    vllmServeCommand('/scratch/runs/r1/out/final', 'gift-cadcoder', 2),
    /^vllm serve \/scratch\/runs\/r1\/out\/final --served-model-name gift-cadcoder .*--tensor-parallel-size 2$/,
  );
});
