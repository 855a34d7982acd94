/** Remote GPU training on Slurm clusters over SSH: profiles, connection, sync, jobs, recipes. Pure Node, no vscode. */
export {
  parseProfile,
  loadProfile,
  planConnection,
  describeEndpoint,
  ProfileError,
  type ClusterProfile,
  type ConnectionPlan,
  type SshEndpoint,
} from './profile';
export {
  parseSshConfig,
  resolveSshHost,
  loadSshConfig,
  parseJumpSpec,
  matchPattern,
  matchPatternList,
  SshConfigError,
  type ResolvedSshHost,
  type SshConfigLine,
} from './ssh-config';
export {
  parseKnownHosts,
  checkHostKey,
  fingerprintSha256,
  knownHostName,
  knownHostsLine,
  appendKnownHost,
  readKnownHostsFiles,
  keyTypeOf,
  type KnownHostEntry,
  type HostKeyVerdict,
} from './known-hosts';
export { ClusterConnection, SshError, shq, type ConnectOptions, type UnknownHostKey, type ExecResult, type RemoteStat } from './ssh';
export {
  normalizeSlurmState,
  parseSqueue,
  parseSacct,
  parseScontrol,
  parseStatusFiles,
  combineStatus,
  statusProbeCommand,
  parseStatusProbe,
  parseSbatchParsable,
  sbatchDirectives,
  buildSbatchScript,
  renderTemplate,
  readSbatchTemplate,
  findTrainingDir,
  isTerminal,
  TERMINAL_STATES,
  type JobState,
  type JobStatus,
  type TaskStatus,
  type SbatchJob,
} from './slurm';
export { RECIPES, RECIPE_NAMES, getRecipe, vllmServeCommand, type Recipe, type RecipeName, type RecipeOptions } from './recipes';
export { syncFolder, syncFiles, listLocalFiles, SYNC_MANIFEST, type SyncReport, type SyncProgress } from './sync';
export { RunStore, defaultStateFile, newRunId, type RunRecord } from './runs';
export {
  submitTraining,
  refreshStatus,
  readLog,
  followRun,
  cancelRun,
  fetchRun,
  tailLines,
  logPath,
  tokenizeForBundled,
  type SubmitOptions,
  type SubmitResult,
  type FetchResult,
  type FollowOptions,
} from './trainer';
export { submitBootstrapArray, mergeShards, bootstrapCommand, type MergeReport } from './bootstrap';
export { TrainError } from '../errors';
