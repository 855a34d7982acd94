/** `gift render FILE --out OUT.png [--size N] [--view V]` and `gift score IMAGE FILE [--json]` */
import fs from 'node:fs';
import { toErrorInfo, type CadErrorInfo, formatError } from '../../core/errors';
import { readShapeSource } from '../../core/shape/files';
import { KernelPool, type JobKind, type JobPayload, type JobResult, type JobValue } from '../../core/pool/pool';
import { VIEW_NAMES, type ViewName } from '../../core/render/views';
import { intOption, parseCommandArgs, UsageError } from '../args';

const renderHelp = `usage: gift render FILE --out OUT.png [--size 448] [--view ${VIEW_NAMES.join('|')}]

Renders a .py (CadQuery), .step or .stl in the GenCAD dataset's image style: white background,
flat grey faces, black B-rep edges, orthographic isometric view from (+1, −1, +1).`;

const scoreHelp = `usage: gift score IMAGE FILE [--json]

How well FILE (.py, .step, .stl) explains IMAGE: renders it the way the image was made and
compares silhouettes and edges. Prints {"score", "silhouette", "edges"} with --json.`;

function reportError(error: CadErrorInfo, json: boolean | undefined): void {
  if (json) console.log(JSON.stringify({ ok: false, error }));
  else console.error(formatError(error));
}

/** Runs one job on a one-worker pool, turning input errors (a missing file) into results too. */
async function runJob<K extends JobKind>(kind: K, payload: () => JobPayload<K>, timeoutMs: number): Promise<JobResult<JobValue<K>>> {
  const pool = new KernelPool({ workers: 1, timeoutMs });
  try {
    return await pool.run(kind, payload());
  } catch (e) {
    return { ok: false, error: toErrorInfo(e), ms: 0 };
  } finally {
    await pool.close();
  }
}

export async function renderCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { out: { type: 'string' }, size: { type: 'string' }, view: { type: 'string' }, timeout: { type: 'string' } },
    renderHelp,
  );
  if (positionals.length !== 1) throw new UsageError(`expected one FILE\n\n${renderHelp}`);
  if (!values.out) throw new UsageError(`--out OUT.png is required\n\n${renderHelp}`);
  const size = intOption('size', values.size, 448, 16);
  if (size > 8192) throw new UsageError(`--size must be at most 8192, got ${size}`);
  const result = await runJob(
    'render.image',
    () => ({ shape: readShapeSource(positionals[0]), size, view: (values.view ?? 'iso') as ViewName }), // the job checks the name
    intOption('timeout', values.timeout, 30_000),
  );
  if (!result.ok) {
    reportError(result.error, false);
    return 1;
  }
  fs.writeFileSync(values.out, result.value.png);
  console.log(`${values.out}: ${result.value.width}×${result.value.height}`);
  return 0;
}

export async function scoreCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' }, timeout: { type: 'string' } }, scoreHelp);
  if (positionals.length !== 2) throw new UsageError(`expected IMAGE and FILE\n\n${scoreHelp}`);
  const [imageFile, shapeFile] = positionals;
  const result = await runJob(
    'render.score',
    () => {
      if (!fs.existsSync(imageFile)) throw new UsageError(`${imageFile}: no such file`);
      return { shape: readShapeSource(shapeFile), image: new Uint8Array(fs.readFileSync(imageFile)), imageName: imageFile };
    },
    intOption('timeout', values.timeout, 30_000),
  );
  if (!result.ok) {
    reportError(result.error, values.json);
    return 1;
  }
  const { score, silhouette, edges } = result.value;
  if (values.json) console.log(JSON.stringify({ score, silhouette, edges }));
  else console.log(`score ${score.toFixed(4)}  silhouette IoU ${silhouette.toFixed(4)}  edges ${edges.toFixed(4)}`);
  return 0;
}
