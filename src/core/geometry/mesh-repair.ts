/**
 * Makes the triangles of a mesh file a closed solid, or says why it can't (#16).
 *
 * Steps, in order:
 * 1. Merge vertices within 1e-6 of the bounding-box diagonal (an STL repeats every vertex per
 *    triangle, in float32); drop triangles that collapse and repeated triangles.
 * 2. Close small gaps: if edges are still open, merge again within 1e-4 of the diagonal (the
 *    cracks exporters leave where two faces were triangulated separately), then fill each
 *    remaining boundary loop no wider than 1e-2 of the diagonal with a fan of triangles (the
 *    slivers a T-junction leaves, or a pinhole; an invalid B-rep's tessellation has them).
 * 3. Orient: flip triangles so each edge is used once in each direction (breadth-first over
 *    neighbours, per connected piece), then each piece outward: positive volume, or negative
 *    for a piece that lies inside an odd number of others (a cavity).
 * An edge with one triangle after this is a boundary: the mesh is not closed, and the error names
 * the file and how many boundary edges it has.
 */
import { CadError } from '../errors';
import { MeshClassifier } from './membership';
import { meshBoundingBox, meshVolume, weldVertices, type TriangleMesh } from './triangle-mesh';

export interface RepairReport {
  vertices: number;
  triangles: number;
  /** Triangles dropped (collapsed or repeated). */
  dropped: number;
  /** Triangles flipped to orient the mesh. */
  flipped: number;
  /** The merge distance that closed the mesh, relative to the diagonal. */
  weld: number;
  /** Small boundary loops filled. */
  filled: number;
}

export function repairMesh(input: TriangleMesh, name: string): { mesh: TriangleMesh; report: RepairReport } {
  const b = meshBoundingBox(input);
  const diagonal = Math.hypot(b[3] - b[0], b[4] - b[1], b[5] - b[2]);
  if (!(diagonal > 0)) throw new CadError('geometry', `${name}: the mesh has no extent`);
  let weld = 1e-6;
  let mesh = dedupe(weldVertices(input.positions, input.indices, weld * diagonal));
  let edges = edgeUse(mesh);
  if (edges.boundary > 0) {
    weld = 1e-4;
    mesh = dedupe(weldVertices(input.positions, input.indices, weld * diagonal));
    edges = edgeUse(mesh);
  }
  let filled = 0;
  if (edges.boundary > 0) {
    const closed = fillSmallLoops(mesh, 1e-2 * diagonal);
    filled = closed.filled;
    mesh = closed.mesh;
    edges = edgeUse(mesh);
  }
  if (edges.boundary > 0) {
    throw new CadError(
      'geometry',
      `${name}: the mesh is not closed: ${edges.boundary} boundary edge${edges.boundary === 1 ? '' : 's'} (edges with one triangle) remain after merging vertices within ${weld} of its size, so it has no volume`,
    );
  }
  const { mesh: oriented, flipped } = orient(mesh);
  return {
    mesh: oriented,
    report: {
      vertices: oriented.positions.length / 3,
      triangles: oriented.indices.length / 3,
      dropped: input.indices.length / 3 - mesh.indices.length / 3,
      flipped,
      weld,
      filled,
    },
  };
}

/**
 * Fills each boundary loop whose bounding box is at most `width` wide with a fan from its first
 * vertex, wound against the loop's existing triangles. Loops are followed along boundary
 * half-edges (a→b used by one triangle only); the new triangles use b→a.
 */
function fillSmallLoops(mesh: TriangleMesh, width: number): { mesh: TriangleMesh; filled: number } {
  const t = mesh.indices;
  const p = mesh.positions;
  const n = p.length / 3;
  const directed = new Map<number, number>();
  for (let i = 0; i < t.length; i += 3) {
    for (let k = 0; k < 3; k++) {
      const a = t[i + k];
      const b = t[i + ((k + 1) % 3)];
      directed.set(a * n + b, (directed.get(a * n + b) ?? 0) + 1);
    }
  }
  // Boundary half-edges: a→b with no b→a (in either winding, an edge used once).
  const next = new Map<number, number[]>();
  for (const key of directed.keys()) {
    const a = Math.floor(key / n);
    const b = key - a * n;
    if (directed.has(b * n + a)) continue;
    const list = next.get(b);
    // The fill runs b→a: from b the loop continues to a.
    if (list) list.push(a);
    else next.set(b, [a]);
  }
  const added: number[] = [];
  let filled = 0;
  for (const start of [...next.keys()]) {
    const loop = [start];
    let at = start;
    let ok = false;
    for (let step = 0; step < 10000; step++) {
      const list = next.get(at);
      if (!list || list.length === 0) break;
      const to = list.shift()!;
      if (to === start) {
        ok = true;
        break;
      }
      loop.push(to);
      at = to;
    }
    if (!ok || loop.length < 3) continue;
    const lo = [Infinity, Infinity, Infinity];
    const hi = [-Infinity, -Infinity, -Infinity];
    for (const v of loop) {
      for (let k = 0; k < 3; k++) {
        lo[k] = Math.min(lo[k], p[3 * v + k]);
        hi[k] = Math.max(hi[k], p[3 * v + k]);
      }
    }
    if (Math.max(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]) > width) continue;
    for (let k = 1; k + 1 < loop.length; k++) added.push(loop[0], loop[k], loop[k + 1]);
    filled++;
  }
  if (added.length === 0) return { mesh, filled: 0 };
  const indices = new Uint32Array(t.length + added.length);
  indices.set(t);
  indices.set(added, t.length);
  return { mesh: { positions: p, indices }, filled };
}

/** Drops repeated triangles (same three vertices, either winding). */
function dedupe(mesh: TriangleMesh): TriangleMesh {
  // Keyed by the two smallest vertex numbers (one exact number), then the largest.
  const n = mesh.positions.length / 3;
  const seen = new Map<number, number[]>();
  const out: number[] = [];
  const t = mesh.indices;
  for (let i = 0; i < t.length; i += 3) {
    let a = t[i],
      b = t[i + 1],
      c = t[i + 2];
    if (a > b) [a, b] = [b, a];
    if (b > c) [b, c] = [c, b];
    if (a > b) [a, b] = [b, a];
    const key = a * n + b;
    const thirds = seen.get(key);
    if (thirds?.includes(c)) continue;
    if (thirds) thirds.push(c);
    else seen.set(key, [c]);
    out.push(t[i], t[i + 1], t[i + 2]);
  }
  return { positions: mesh.positions, indices: Uint32Array.from(out) };
}

/** One number per undirected edge: exact while vertices² < 2⁵³ (94 M vertices). */
function edgeKeys(mesh: TriangleMesh): (a: number, b: number) => number {
  const n = mesh.positions.length / 3;
  return (a, b) => (a < b ? a * n + b : b * n + a);
}

/** How many undirected edges have one triangle (boundary) or more than two (non-manifold). */
function edgeUse(mesh: TriangleMesh): { boundary: number; nonManifold: number } {
  const count = new Map<number, number>();
  const edgeKey = edgeKeys(mesh);
  const t = mesh.indices;
  for (let i = 0; i < t.length; i += 3) {
    for (let k = 0; k < 3; k++) {
      const key = edgeKey(t[i + k], t[i + ((k + 1) % 3)]);
      count.set(key, (count.get(key) ?? 0) + 1);
    }
  }
  let boundary = 0;
  let nonManifold = 0;
  for (const c of count.values()) {
    if (c === 1) boundary++;
    else if (c > 2) nonManifold++;
  }
  return { boundary, nonManifold };
}

function orient(mesh: TriangleMesh): { mesh: TriangleMesh; flipped: number } {
  const t = Uint32Array.from(mesh.indices);
  const n = t.length / 3;
  const byEdge = new Map<number, number[]>();
  const edgeKey = edgeKeys(mesh);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      const key = edgeKey(t[3 * i + k], t[3 * i + ((k + 1) % 3)]);
      const list = byEdge.get(key);
      if (list) list.push(i);
      else byEdge.set(key, [i]);
    }
  }
  // Whether triangle i runs a→b (as opposed to b→a).
  const runs = (i: number, a: number, b: number) => {
    for (let k = 0; k < 3; k++) if (t[3 * i + k] === a && t[3 * i + ((k + 1) % 3)] === b) return true;
    return false;
  };
  const flip = (i: number) => {
    const x = t[3 * i + 1];
    t[3 * i + 1] = t[3 * i + 2];
    t[3 * i + 2] = x;
  };
  const piece = new Int32Array(n).fill(-1);
  let flipped = 0;
  const pieces: number[][] = [];
  for (let seed = 0; seed < n; seed++) {
    if (piece[seed] >= 0) continue;
    const id = pieces.length;
    const members = [seed];
    piece[seed] = id;
    for (let q = 0; q < members.length; q++) {
      const i = members[q];
      for (let k = 0; k < 3; k++) {
        const a = t[3 * i + k];
        const b = t[3 * i + ((k + 1) % 3)];
        const list = byEdge.get(edgeKey(a, b))!;
        // Only a manifold edge (two triangles) decides a neighbour's orientation.
        if (list.length !== 2) continue;
        const j = list[0] === i ? list[1] : list[0];
        if (piece[j] >= 0) continue;
        piece[j] = id;
        // The neighbour must run b→a.
        if (runs(j, a, b)) {
          flip(j);
          flipped++;
        }
        members.push(j);
      }
    }
    pieces.push(members);
  }
  const oriented: TriangleMesh = { positions: mesh.positions, indices: t };
  if (pieces.length === 1) {
    if (meshVolume(oriented) < 0) {
      for (let i = 0; i < n; i++) flip(i);
      flipped = n - flipped;
    }
    return { mesh: oriented, flipped };
  }
  const sub = pieces.map((members) => {
    const idx = new Uint32Array(3 * members.length);
    for (const [k, i] of members.entries()) idx.set(t.subarray(3 * i, 3 * i + 3), 3 * k);
    return { positions: mesh.positions, indices: idx };
  });
  const classifiers = sub.map((m) => new MeshClassifier(m));
  sub.forEach((m, p) => {
    // Nesting depth: how many other pieces contain a point of this one (closed pieces do not
    // cross). The centroid of a triangle, not a vertex: a ray from a vertex can run exactly along
    // another piece's edges (axis-aligned parts), where parity counts twice.
    const [a, b, c] = [0, 1, 2].map((k) => 3 * m.indices[k]);
    const [x, y, z] = [0, 1, 2].map((k) => (m.positions[a + k] + m.positions[b + k] + m.positions[c + k]) / 3);
    const depth = classifiers.filter((c, q) => q !== p && c.contains(x, y, z)).length;
    const wantPositive = depth % 2 === 0;
    if (meshVolume(m) > 0 !== wantPositive) {
      for (const i of pieces[p]) flip(i);
      flipped += pieces[p].length;
    }
  });
  return { mesh: oriented, flipped };
}
