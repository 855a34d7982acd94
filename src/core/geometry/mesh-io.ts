/**
 * Triangle-mesh files in and out, as bytes: STL (binary and ASCII), OBJ (v/f, polygons fanned
 * into triangles, negative indices, `v/vt/vn` corners) and PLY (ascii, binary little and big
 * endian; the vertex x/y/z and the face list, other properties skipped). Readers give the raw
 * triangles; mesh-repair.ts makes them a closed solid. `name` (the file) only appears in errors.
 */
import { CadError } from '../errors';
import type { TriangleMesh } from './triangle-mesh';

export type MeshFormat = 'stl' | 'obj' | 'ply';

export const MESH_FORMATS: readonly MeshFormat[] = ['stl', 'obj', 'ply'];

export function isMeshFormat(x: unknown): x is MeshFormat {
  return typeof x === 'string' && (MESH_FORMATS as readonly string[]).includes(x);
}

function meshError(name: string, problem: string): CadError {
  return new CadError('geometry', `${name}: ${problem}`);
}

export function parseMesh(bytes: Uint8Array, format: MeshFormat, name: string): TriangleMesh {
  if (!(bytes instanceof Uint8Array)) throw meshError(name, 'expected the file contents as bytes');
  if (bytes.byteLength === 0) throw meshError(name, 'the file is empty');
  const mesh = format === 'stl' ? parseStl(bytes, name) : format === 'obj' ? parseObj(bytes, name) : parsePly(bytes, name);
  if (mesh.indices.length === 0) throw meshError(name, `the ${format.toUpperCase()} file has no triangles`);
  for (const v of mesh.positions) if (!Number.isFinite(v)) throw meshError(name, 'a vertex coordinate is not a finite number');
  return mesh;
}

// ---- STL ----

export function parseStl(bytes: Uint8Array, name: string): TriangleMesh {
  if (bytes.byteLength >= 84) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const count = view.getUint32(80, true);
    if (bytes.byteLength === 84 + 50 * count) {
      const positions = new Float64Array(9 * count);
      for (let t = 0; t < count; t++) {
        const at = 84 + 50 * t + 12;
        for (let k = 0; k < 9; k++) positions[9 * t + k] = view.getFloat32(at + 4 * k, true);
      }
      return { positions, indices: sequence(3 * count) };
    }
  }
  const text = new TextDecoder().decode(bytes);
  if (!/^\s*solid/.test(text)) throw meshError(name, 'not an STL file (neither binary STL of the right size nor ASCII "solid …")');
  const values: number[] = [];
  const re = /vertex\s+(\S+)\s+(\S+)\s+(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) values.push(Number(m[1]), Number(m[2]), Number(m[3]));
  if (values.length % 9 !== 0) throw meshError(name, 'the ASCII STL has a facet without three vertices');
  return { positions: Float64Array.from(values), indices: sequence(values.length / 3) };
}

function sequence(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

// ---- OBJ ----

export function parseObj(bytes: Uint8Array, name: string): TriangleMesh {
  const text = new TextDecoder().decode(bytes);
  const positions: number[] = [];
  const indices: number[] = [];
  let lineNo = 0;
  for (const raw of text.split('\n')) {
    lineNo++;
    const line = raw.trim();
    if (line.startsWith('v ')) {
      const f = line.split(/\s+/);
      if (f.length < 4) throw meshError(name, `line ${lineNo}: a vertex needs x y z`);
      positions.push(Number(f[1]), Number(f[2]), Number(f[3]));
    } else if (line.startsWith('f ')) {
      const count = positions.length / 3;
      const corners = line
        .split(/\s+/)
        .slice(1)
        .map((c) => {
          const i = Number.parseInt(c.split('/')[0], 10);
          const index = i < 0 ? count + i : i - 1;
          if (!Number.isInteger(i) || i === 0 || index < 0 || index >= count) throw meshError(name, `line ${lineNo}: face index '${c}' names no vertex`);
          return index;
        });
      if (corners.length < 3) throw meshError(name, `line ${lineNo}: a face needs three vertices`);
      for (let k = 1; k + 1 < corners.length; k++) indices.push(corners[0], corners[k], corners[k + 1]);
    }
  }
  return { positions: Float64Array.from(positions), indices: Uint32Array.from(indices) };
}

export function writeObj(mesh: TriangleMesh): Uint8Array {
  const lines = ['# written by GIFT CAD'];
  const p = mesh.positions;
  for (let i = 0; i < p.length; i += 3) lines.push(`v ${p[i]} ${p[i + 1]} ${p[i + 2]}`);
  const t = mesh.indices;
  for (let i = 0; i < t.length; i += 3) lines.push(`f ${t[i] + 1} ${t[i + 1] + 1} ${t[i + 2] + 1}`);
  return new TextEncoder().encode(`${lines.join('\n')}\n`);
}

// ---- PLY ----

const PLY_TYPES: Record<string, { size: number; read: (v: DataView, at: number, little: boolean) => number }> = {
  char: { size: 1, read: (v, a) => v.getInt8(a) },
  int8: { size: 1, read: (v, a) => v.getInt8(a) },
  uchar: { size: 1, read: (v, a) => v.getUint8(a) },
  uint8: { size: 1, read: (v, a) => v.getUint8(a) },
  short: { size: 2, read: (v, a, l) => v.getInt16(a, l) },
  int16: { size: 2, read: (v, a, l) => v.getInt16(a, l) },
  ushort: { size: 2, read: (v, a, l) => v.getUint16(a, l) },
  uint16: { size: 2, read: (v, a, l) => v.getUint16(a, l) },
  int: { size: 4, read: (v, a, l) => v.getInt32(a, l) },
  int32: { size: 4, read: (v, a, l) => v.getInt32(a, l) },
  uint: { size: 4, read: (v, a, l) => v.getUint32(a, l) },
  uint32: { size: 4, read: (v, a, l) => v.getUint32(a, l) },
  float: { size: 4, read: (v, a, l) => v.getFloat32(a, l) },
  float32: { size: 4, read: (v, a, l) => v.getFloat32(a, l) },
  double: { size: 8, read: (v, a, l) => v.getFloat64(a, l) },
  float64: { size: 8, read: (v, a, l) => v.getFloat64(a, l) },
};

interface PlyProperty {
  name: string;
  type: string;
  /** For list properties: the count's type. */
  countType?: string;
}

interface PlyElement {
  name: string;
  count: number;
  properties: PlyProperty[];
}

export function parsePly(bytes: Uint8Array, name: string): TriangleMesh {
  const headText = new TextDecoder('latin1').decode(bytes.subarray(0, Math.min(bytes.byteLength, 65536)));
  if (!headText.startsWith('ply')) throw meshError(name, 'not a PLY file (it does not start with "ply")');
  const endMatch = /end_header\r?\n/.exec(headText);
  if (!endMatch) throw meshError(name, 'the PLY header has no end_header');
  const bodyStart = endMatch.index + endMatch[0].length;
  let format = '';
  const elements: PlyElement[] = [];
  for (const line of headText.slice(0, endMatch.index).split(/\r?\n/)) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'format') format = f[1];
    else if (f[0] === 'element') elements.push({ name: f[1], count: Number(f[2]), properties: [] });
    else if (f[0] === 'property') {
      const element = elements[elements.length - 1];
      if (!element) throw meshError(name, 'a PLY property before any element');
      if (f[1] === 'list') element.properties.push({ name: f[4], type: f[3], countType: f[2] });
      else element.properties.push({ name: f[2], type: f[1] });
    }
  }
  for (const e of elements) {
    for (const p of e.properties) {
      for (const t of [p.type, p.countType]) if (t !== undefined && !PLY_TYPES[t]) throw meshError(name, `unknown PLY type '${t}'`);
    }
  }
  const vertex = elements.find((e) => e.name === 'vertex');
  const face = elements.find((e) => e.name === 'face');
  if (!vertex || !face) throw meshError(name, 'the PLY file needs a vertex and a face element');
  const axes = ['x', 'y', 'z'].map((a) => vertex.properties.findIndex((p) => p.name === a));
  if (axes.some((i) => i < 0)) throw meshError(name, 'the PLY vertices have no x, y, z');
  const faceList = face.properties.findIndex((p) => p.countType && (p.name === 'vertex_indices' || p.name === 'vertex_index'));
  if (faceList < 0) throw meshError(name, 'the PLY faces have no vertex_indices list');
  const positions = new Float64Array(3 * vertex.count);
  const indices: number[] = [];
  const addFace = (corners: number[]) => {
    for (const c of corners) if (!(c >= 0 && c < vertex.count)) throw meshError(name, `a PLY face names vertex ${c} of ${vertex.count}`);
    for (let k = 1; k + 1 < corners.length; k++) indices.push(corners[0], corners[k], corners[k + 1]);
  };
  if (format === 'ascii') {
    const tokens = new TextDecoder().decode(bytes.subarray(bodyStart)).split(/\s+/).filter(Boolean);
    let at = 0;
    const next = () => {
      if (at >= tokens.length) throw meshError(name, 'the PLY data ends early');
      return Number(tokens[at++]);
    };
    for (const e of elements) {
      for (let i = 0; i < e.count; i++) {
        e.properties.forEach((p, k) => {
          if (p.countType) {
            const n = next();
            const list = Array.from({ length: n }, next);
            if (e === face && k === faceList) addFace(list);
          } else {
            const v = next();
            if (e === vertex) {
              const axis = axes.indexOf(k);
              if (axis >= 0) positions[3 * i + axis] = v;
            }
          }
        });
      }
    }
  } else if (format === 'binary_little_endian' || format === 'binary_big_endian') {
    const little = format === 'binary_little_endian';
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = bodyStart;
    const read = (type: string) => {
      const t = PLY_TYPES[type];
      if (at + t.size > bytes.byteLength) throw meshError(name, 'the PLY data ends early');
      const v = t.read(view, at, little);
      at += t.size;
      return v;
    };
    for (const e of elements) {
      for (let i = 0; i < e.count; i++) {
        e.properties.forEach((p, k) => {
          if (p.countType) {
            const n = read(p.countType);
            const list: number[] = [];
            for (let j = 0; j < n; j++) list.push(read(p.type));
            if (e === face && k === faceList) addFace(list);
          } else {
            const v = read(p.type);
            if (e === vertex) {
              const axis = axes.indexOf(k);
              if (axis >= 0) positions[3 * i + axis] = v;
            }
          }
        });
      }
    }
  } else throw meshError(name, `unknown PLY format '${format}'`);
  return { positions, indices: Uint32Array.from(indices) };
}

/** Binary little-endian PLY: double vertices, uchar/uint triangle lists. */
export function writePly(mesh: TriangleMesh): Uint8Array {
  const vertices = mesh.positions.length / 3;
  const faces = mesh.indices.length / 3;
  const header = new TextEncoder().encode(
    `ply\nformat binary_little_endian 1.0\ncomment written by GIFT CAD\nelement vertex ${vertices}\nproperty double x\nproperty double y\nproperty double z\nelement face ${faces}\nproperty list uchar uint vertex_indices\nend_header\n`,
  );
  const out = new Uint8Array(header.byteLength + 24 * vertices + 13 * faces);
  out.set(header);
  const view = new DataView(out.buffer);
  let at = header.byteLength;
  for (const v of mesh.positions) {
    view.setFloat64(at, v, true);
    at += 8;
  }
  for (let t = 0; t < faces; t++) {
    view.setUint8(at, 3);
    at += 1;
    for (let k = 0; k < 3; k++) {
      view.setUint32(at, mesh.indices[3 * t + k], true);
      at += 4;
    }
  }
  return out;
}

/** Binary STL of an indexed mesh (float32, as the format has it). */
export function writeStlMesh(mesh: TriangleMesh): Uint8Array {
  const count = mesh.indices.length / 3;
  const out = new Uint8Array(84 + 50 * count);
  const view = new DataView(out.buffer);
  const header = 'binary STL written by GIFT CAD';
  for (let i = 0; i < header.length; i++) out[i] = header.charCodeAt(i);
  view.setUint32(80, count, true);
  const p = mesh.positions;
  let at = 84;
  for (let t = 0; t < count; t++) {
    const [a, b, c] = [3 * mesh.indices[3 * t], 3 * mesh.indices[3 * t + 1], 3 * mesh.indices[3 * t + 2]];
    const ux = p[b] - p[a],
      uy = p[b + 1] - p[a + 1],
      uz = p[b + 2] - p[a + 2];
    const vx = p[c] - p[a],
      vy = p[c + 1] - p[a + 1],
      vz = p[c + 2] - p[a + 2];
    const nx = uy * vz - uz * vy,
      ny = uz * vx - ux * vz,
      nz = ux * vy - uy * vx;
    const len = Math.hypot(nx, ny, nz) || 1;
    view.setFloat32(at, nx / len, true);
    view.setFloat32(at + 4, ny / len, true);
    view.setFloat32(at + 8, nz / len, true);
    at += 12;
    for (const v of [a, b, c]) {
      for (let k = 0; k < 3; k++) view.setFloat32(at + 4 * k, p[v + k], true);
      at += 12;
    }
    at += 2;
  }
  return out;
}
