/**
 * Cheap edits of a mesh that stand in for near-miss candidates (wrong proportions, a misplaced
 * feature, a wrong orientation) when checking that the render-vs-image score ranks correctly.
 * They act on the tessellation, not the B-rep, so they never fail on awkward geometry.
 */
import type { MeshData } from '../geometry/mesh';

export type MeshPerturbation =
  /** 0.8 × along X about the centre (a uniform scale would render identically: framing fits the box). */
  | 'scaled'
  /** Everything above the mid-height moved sideways by 15% of the largest extent: a misplaced feature. */
  | 'shifted'
  /** Rotated 90° about the vertical axis through the centre. */
  | 'rotated';

export const MESH_PERTURBATIONS: readonly MeshPerturbation[] = ['scaled', 'shifted', 'rotated'];

function centreAndExtent(bbox: MeshData['bbox']) {
  const centre = [(bbox[0] + bbox[3]) / 2, (bbox[1] + bbox[4]) / 2, (bbox[2] + bbox[5]) / 2];
  const extent = Math.max(bbox[3] - bbox[0], bbox[4] - bbox[1], bbox[5] - bbox[2]);
  return { centre, extent };
}

function mapPoints(a: Float32Array, f: (x: number, y: number, z: number, out: number[]) => void): Float32Array {
  const out = new Float32Array(a.length);
  const p = [0, 0, 0];
  for (let i = 0; i < a.length; i += 3) {
    f(a[i], a[i + 1], a[i + 2], p);
    out[i] = p[0];
    out[i + 1] = p[1];
    out[i + 2] = p[2];
  }
  return out;
}

function withBounds(m: Omit<MeshData, 'bbox'>): MeshData {
  const b: MeshData['bbox'] = [Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity];
  for (const a of [m.positions, m.edges]) {
    for (let i = 0; i < a.length; i += 3) {
      for (let k = 0; k < 3; k++) {
        b[k] = Math.min(b[k], a[i + k]);
        b[k + 3] = Math.max(b[k + 3], a[i + k]);
      }
    }
  }
  return { ...m, bbox: b[0] === Infinity ? [0, 0, 0, 0, 0, 0] : b };
}

/** A perturbed copy of the mesh (the input is not modified). */
export function perturbMesh(mesh: MeshData, kind: MeshPerturbation): MeshData {
  const { centre, extent } = centreAndExtent(mesh.bbox);
  const [cx, cy, cz] = centre;
  const base = { indices: mesh.indices, faceGroups: mesh.faceGroups, edgeGroups: mesh.edgeGroups };
  switch (kind) {
    case 'scaled': {
      const s = 0.8;
      const move = (x: number, y: number, z: number, o: number[]) => {
        o[0] = cx + (x - cx) * s;
        o[1] = y;
        o[2] = z;
      };
      // Normals transform by the inverse transpose.
      const normal = (x: number, y: number, z: number, o: number[]) => {
        const nx = x / s,
          l = Math.hypot(nx, y, z) || 1;
        o[0] = nx / l;
        o[1] = y / l;
        o[2] = z / l;
      };
      return withBounds({ ...base, positions: mapPoints(mesh.positions, move), normals: mapPoints(mesh.normals, normal), edges: mapPoints(mesh.edges, move) });
    }
    case 'shifted': {
      const d = 0.15 * extent;
      const move = (x: number, y: number, z: number, o: number[]) => {
        o[0] = z > cz ? x + d : x;
        o[1] = y;
        o[2] = z;
      };
      return withBounds({ ...base, positions: mapPoints(mesh.positions, move), normals: mesh.normals.slice(), edges: mapPoints(mesh.edges, move) });
    }
    case 'rotated': {
      const move = (x: number, y: number, z: number, o: number[]) => {
        o[0] = cx - (y - cy);
        o[1] = cy + (x - cx);
        o[2] = z;
      };
      const normal = (x: number, y: number, z: number, o: number[]) => {
        o[0] = -y;
        o[1] = x;
        o[2] = z;
      };
      return withBounds({ ...base, positions: mapPoints(mesh.positions, move), normals: mapPoints(mesh.normals, normal), edges: mapPoints(mesh.edges, move) });
    }
    default:
      throw new Error(`unknown mesh perturbation '${String(kind)}' (expected one of ${MESH_PERTURBATIONS.join(', ')})`);
  }
}
