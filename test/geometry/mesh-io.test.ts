/**
 * Mesh files (#16): STL (binary, ASCII), OBJ and PLY (ascii, binary) read to the same solid;
 * repair merges, orients (an inside-out or mixed winding is fixed, a cavity stays a cavity) and
 * refuses an open mesh naming the file and its boundary edges.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMesh, writeObj, writePly, writeStlMesh } from '../../src/core/geometry/mesh-io';
import { repairMesh } from '../../src/core/geometry/mesh-repair';
import { meshMassProperties, meshVolume, type TriangleMesh } from '../../src/core/geometry/triangle-mesh';

/** An axis box [x0, x0 + s]³ as 12 outward triangles. */
function cube(s = 2, x0 = 0, inward = false): TriangleMesh {
  const v: number[] = [];
  for (let i = 0; i < 8; i++) v.push(x0 + (i & 1 ? s : 0), x0 + (i & 2 ? s : 0), x0 + (i & 4 ? s : 0));
  const quads = [
    [0, 2, 3, 1],
    [4, 5, 7, 6],
    [0, 1, 5, 4],
    [2, 6, 7, 3],
    [0, 4, 6, 2],
    [1, 3, 7, 5],
  ];
  const t: number[] = [];
  for (const [a, b, c, d] of quads) t.push(a, b, c, a, c, d);
  const mesh = { positions: Float64Array.from(v), indices: Uint32Array.from(t) };
  return inward ? { positions: mesh.positions, indices: mesh.indices.map((_, i) => mesh.indices[i - (i % 3) + [0, 2, 1][i % 3]]) } : mesh;
}

function asciiStl(mesh: TriangleMesh): Uint8Array {
  const lines = ['solid test'];
  for (let i = 0; i < mesh.indices.length; i += 3) {
    lines.push('facet normal 0 0 0', 'outer loop');
    for (let k = 0; k < 3; k++) lines.push(`vertex ${[0, 1, 2].map((a) => mesh.positions[3 * mesh.indices[i + k] + a]).join(' ')}`);
    lines.push('endloop', 'endfacet');
  }
  lines.push('endsolid test');
  return new TextEncoder().encode(lines.join('\n'));
}

test('the mass properties of a mesh: a 2-cube has volume 8, centre 1, moments V·(a²+b²)/12', () => {
  const m = meshMassProperties(cube(2));
  assert.ok(Math.abs(m.volume - 8) < 1e-12);
  assert.deepEqual(
    m.centre.map((c) => +c.toFixed(12)),
    [1, 1, 1],
  );
  assert.ok(Math.abs(m.inertia[0] - (8 * 8) / 12) < 1e-9);
  assert.ok(Math.abs(m.inertia[1]) < 1e-9);
});

test('every format reads to the same closed solid', () => {
  const mesh = cube(2, 1);
  const files: [string, 'stl' | 'obj' | 'ply', Uint8Array][] = [
    ['binary.stl', 'stl', writeStlMesh(mesh)],
    ['ascii.stl', 'stl', asciiStl(mesh)],
    ['cube.obj', 'obj', writeObj(mesh)],
    ['cube.ply', 'ply', writePly(mesh)],
    [
      'ascii.ply',
      'ply',
      new TextEncoder().encode(
        `ply\nformat ascii 1.0\nelement vertex 8\nproperty float x\nproperty float y\nproperty float z\nelement face 6\nproperty list uchar int vertex_indices\nend_header\n${Array.from(
          { length: 8 },
          (_, i) => `${1 + (i & 1 ? 2 : 0)} ${1 + (i & 2 ? 2 : 0)} ${1 + (i & 4 ? 2 : 0)}`,
        ).join('\n')}\n4 0 2 3 1\n4 4 5 7 6\n4 0 1 5 4\n4 2 6 7 3\n4 0 4 6 2\n4 1 3 7 5\n`,
      ),
    ],
    // Quads, a comment, texture/normal indices and negative (relative) indices.
    [
      'quads.obj',
      'obj',
      new TextEncoder().encode(
        `# cube\n${Array.from({ length: 8 }, (_, i) => `v ${1 + (i & 1 ? 2 : 0)} ${1 + (i & 2 ? 2 : 0)} ${1 + (i & 4 ? 2 : 0)}`).join('\n')}\nvn 0 0 1\nf 1//1 3//1 4//1 2//1\nf 5 6 8 7\nf -8 -7 -3 -4\nf 3 7 8 4\nf 1 5 7 3\nf 2 4 8 6\n`,
      ),
    ],
  ];
  for (const [name, format, bytes] of files) {
    const { mesh: read } = repairMesh(parseMesh(bytes, format, name), name);
    assert.ok(Math.abs(meshVolume(read) - 8) < 1e-6, `${name}: volume ${meshVolume(read)}`);
    assert.equal(read.positions.length / 3, 8, `${name}: vertices merged`);
  }
});

test('repair: an inside-out mesh, mixed windings and a cavity come out oriented', () => {
  assert.ok(Math.abs(meshVolume(repairMesh(cube(2, 0, true), 'inside-out').mesh) - 8) < 1e-12);
  const mixed = cube(2);
  const flipped = Uint32Array.from(mixed.indices);
  [flipped[4], flipped[5]] = [flipped[5], flipped[4]];
  assert.ok(Math.abs(meshVolume(repairMesh({ positions: mixed.positions, indices: flipped }, 'mixed').mesh) - 8) < 1e-12);
  // A 4-cube with a 2-cube cavity, both written outward: the cavity is turned inward.
  const outer = cube(4, 0);
  const inner = cube(2, 1);
  const hollow = {
    positions: Float64Array.from([...outer.positions, ...inner.positions]),
    indices: Uint32Array.from([...outer.indices, ...inner.indices.map((i) => i + 8)]),
  };
  assert.ok(Math.abs(meshVolume(repairMesh(hollow, 'hollow').mesh) - (64 - 8)) < 1e-9);
});

test('an open mesh is refused naming the file and its boundary edges', () => {
  const open = cube(2);
  const bytes = writeStlMesh({ positions: open.positions, indices: open.indices.slice(3) });
  assert.throws(() => repairMesh(parseMesh(bytes, 'stl', 'part.stl'), 'part.stl'), /part\.stl: the mesh is not closed: 3 boundary edges/);
  assert.throws(() => parseMesh(new TextEncoder().encode('hello'), 'ply', 'x.ply'), /x\.ply: not a PLY file/);
  assert.throws(() => parseMesh(new TextEncoder().encode('v 0 0 0\nf 1 2 3\n'), 'obj', 'x.obj'), /x\.obj: line 2: face index '2' names no vertex/);
});
