/** `gift iou CANDIDATE REFERENCE [--protocol P] [--json]` */
import { toErrorInfo, formatError } from '../../core/errors';
import { KernelPool } from '../../core/pool/pool';
import { readShapeSource } from '../../core/shape/files';
import { IOU_PROTOCOLS, type IouProtocol } from '../../core/geometry/iou';
import type { IouJobResult } from '../../core/jobs/geometry';
import { intOption, parseCommandArgs, UsageError } from '../args';
import type { JobResult } from '../../core/pool/pool';

const help = `usage: gift iou CANDIDATE REFERENCE [--protocol ${IOU_PROTOCOLS.join('|')}] [--all-rotations] [--json] [--timeout MS]

3D IoU and Chamfer distance (×1000) of CANDIDATE against REFERENCE; each a .py (CadQuery),
.step, .stl, .obj or .ply file (meshes are compared as meshes, with manifold-3d's booleans).
The default protocol, aligned, is the GIFT / CAD-Coder evaluation protocol. Every IoU is checked
against an independent point estimate: status "inconsistent" (exit code 1) when they disagree.
  --all-rotations  intersect all four aligned rotations, as the authors' script does, even where
                   a half-turn symmetry of either shape makes two of them the same placement`;

/** The --all-rotations flag, shared by iou and verify. */
export const ALL_ROTATIONS_OPTION = { 'all-rotations': { type: 'boolean' } } as const;

/**
 * --protocol, checked. `fallback`: aligned (the paper's numbers) for iou, verify and eval;
 * aligned-robust (DEFAULT_BUCKET_PROTOCOL) where the IoU picks buckets or ranks: bootstrap,
 * round, generate.
 */
export function protocolOption(value: string | undefined, fallback: IouProtocol = 'aligned'): IouProtocol {
  const protocol = (value ?? fallback) as IouProtocol;
  if (!IOU_PROTOCOLS.includes(protocol)) throw new UsageError(`unknown --protocol '${value}': expected ${IOU_PROTOCOLS.join(', ')}`);
  return protocol;
}

export async function iouCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { protocol: { type: 'string' }, json: { type: 'boolean' }, timeout: { type: 'string' }, ...ALL_ROTATIONS_OPTION },
    help,
  );
  if (positionals.length !== 2) throw new UsageError(`expected CANDIDATE and REFERENCE\n\n${help}`);
  const protocol = protocolOption(values.protocol);
  const pool = new KernelPool({ workers: 1, timeoutMs: intOption('timeout', values.timeout, 30_000) });
  try {
    let result: JobResult<IouJobResult>;
    let best: IouJobResult['results'][number] | undefined;
    try {
      const [candidate, reference] = positionals.map(readShapeSource);
      result = await pool.run('shape.iou', { candidate, reference, protocol, chamfer: true, allRotations: values['all-rotations'] });
      if (result.ok) best = result.value.results[0];
    } catch (e) {
      result = { ok: false as const, error: toErrorInfo(e), ms: 0 };
    }
    if (values.json) {
      console.log(
        JSON.stringify(
          result.ok
            ? {
                ok: best!.status === 'ok',
                iou: best!.iou,
                chamfer: best!.chamfer?.chamferX1000 ?? null,
                protocol,
                status: best!.status,
                method: best!.method,
                sizeRatio: best!.sizeRatio,
                check: best!.check ? { iou: best!.check.iou, tolerance: best!.check.tolerance, reason: best!.check.reason } : null,
                ...(best!.axes ? { axes: best!.axes } : {}),
              }
            : { ok: false, error: { kind: result.error.kind, message: result.error.message, line: result.error.line ?? null } },
        ),
      );
    } else if (result.ok) {
      const b = best!;
      const axes = b.axes === 'degenerate' ? ', axes degenerate: two principal moments are equal, so rounding picked the rotation' : '';
      console.log(
        `IoU ${b.iou.toFixed(6)}  Chamfer×1000 ${b.chamfer?.chamferX1000.toFixed(4) ?? '—'}  size ×${b.sizeRatio.toFixed(3)}  (${protocol}, ${b.method === 'mesh' ? 'mesh booleans' : 'B-rep booleans'}${axes})`,
      );
      if (b.status !== 'ok') console.error(`inconsistent: ${b.check?.reason ?? 'the check failed'}`);
    } else {
      console.error(formatError(result.error));
    }
    return result.ok && best!.status === 'ok' ? 0 : 1;
  } finally {
    await pool.close();
  }
}
