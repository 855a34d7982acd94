/**
 * Shape files in and out: STEP, STL, OBJ and PLY as bytes (the caller reads and writes the files; kernel
 * workers get and return bytes). OpenCascade's readers and writers only work on files, so the
 * bytes go through the WASM module's in-memory file system under a unique name.
 */
import { cast, getOC, type Shape3D } from 'replicad';
import { CadError } from '../errors';
import { occtErrorMessage } from '../occt/occt';
import { meshShape } from './mesh';
import { parseMesh, writeStlMesh, type MeshFormat } from './mesh-io';
import { repairMesh } from './mesh-repair';
import { boundingBox, shapeVolume, unwrapShape, type ShapeLike } from './measure';

export type ShapeFormat = 'step' | 'brep' | MeshFormat;

let scratchCounter = 0;
function scratchPath(extension: string): string {
  return `/gift-io-${process.pid}-${++scratchCounter}.${extension}`;
}

function withScratchFile<T>(oc: any, extension: string, bytes: Uint8Array | undefined, fn: (path: string) => T): T {
  const path = scratchPath(extension);
  if (bytes) oc.FS.writeFile(path, bytes);
  try {
    return fn(path);
  } finally {
    try {
      oc.FS.unlink(path);
    } catch {
      // Never created (a writer that failed before writing).
    }
  }
}

function ioError(name: string, problem: string): CadError {
  return new CadError('geometry', `${name}: ${problem}`);
}

/**
 * Reads a STEP, STL, OBJ or PLY file's bytes into a shape. `name` (the file name) only appears
 * in errors. STEP: every root, as one shape (a solid, or a compound of several).
 * Meshes: read and repaired (mesh-repair.ts: merged, gaps closed, oriented; an open mesh is
 * refused with its count of boundary edges), then sewn by OCCT into a faceted solid. The verifier
 * does not use that solid (OCCT's booleans fail on it silently): it compares meshes as meshes.
 */
export function readShape(bytes: Uint8Array, format: ShapeFormat, name: string): Shape3D {
  if (!(bytes instanceof Uint8Array)) throw ioError(name, 'expected the file contents as bytes');
  if (bytes.byteLength === 0) throw ioError(name, 'the file is empty');
  const oc = getOC();
  try {
    if (format === 'step') return readStep(oc, bytes, name);
    if (format === 'brep') return readBrep(oc, bytes, name);
    return readStl(oc, writeStlMesh(repairMesh(parseMesh(bytes, format, name), name).mesh), name);
  } catch (e) {
    if (e instanceof CadError) throw e;
    throw ioError(name, `could not read the ${format.toUpperCase()} data: ${occtErrorMessage(oc, e)}`);
  }
}

/** OpenCascade's native BREP text (BRepTools::Write; CadQuery's exportBrep, the Python engine's result). */
function readBrep(oc: any, bytes: Uint8Array, name: string): Shape3D {
  const text = new TextDecoder('latin1').decode(bytes);
  if (!text.includes('CASCADE Topology')) throw ioError(name, 'not a BREP file (no "CASCADE Topology" header)');
  const shape = oc.BRepToolsWrapper.Read(text);
  if (!shape || shape.IsNull()) throw ioError(name, 'the BREP data holds no shape');
  return requireSolid(cast(shape), name);
}

function readStep(oc: any, bytes: Uint8Array, name: string): Shape3D {
  const head = new TextDecoder().decode(bytes.subarray(0, Math.min(bytes.byteLength, 64))).trimStart();
  if (!head.startsWith('ISO-10303-21')) throw ioError(name, 'not a STEP file (it does not start with ISO-10303-21)');
  return withScratchFile(oc, 'step', bytes, (path) => {
    const reader = new oc.STEPControl_Reader();
    try {
      const status = reader.ReadFile(path);
      if (status !== oc.IFSelect_ReturnStatus.IFSelect_RetDone) {
        throw ioError(name, `the STEP data is corrupt or unsupported (reader status ${String(status).replace('IFSelect_', '')})`);
      }
      const roots = reader.TransferRoots(new oc.Message_ProgressRange());
      if (!roots) throw ioError(name, 'the STEP file contains no shape');
      const shape = reader.OneShape();
      if (shape.IsNull()) throw ioError(name, 'the STEP file contains no shape');
      return requireSolid(cast(shape), name);
    } finally {
      reader.delete();
    }
  });
}

function readStl(oc: any, bytes: Uint8Array, name: string): Shape3D {
  checkStlBytes(bytes, name);
  return withScratchFile(oc, 'stl', bytes, (path) => {
    const raw = new oc.TopoDS_Shape();
    const reader = new oc.StlAPI_Reader();
    const owned: any[] = [raw, reader];
    try {
      if (!reader.Read(raw, path) || raw.IsNull()) throw ioError(name, 'the STL data is corrupt (no triangles could be read)');
      // StlAPI merges coincident nodes and shares edges between triangles; sewing closes what it
      // missed (nodes a rounding error apart).
      const tolerance = Math.max(1e-7, 1e-6 * diagonalOf(raw));
      const sewing = new oc.BRepBuilderAPI_Sewing(tolerance, true, true, true, false);
      owned.push(sewing);
      sewing.Add(raw);
      sewing.Perform(new oc.Message_ProgressRange());
      const sewn = sewing.SewedShape();
      owned.push(sewn);
      const shells = subShapes(oc, sewn, oc.TopAbs_ShapeEnum.TopAbs_SHELL);
      if (shells.length === 0) throw ioError(name, 'the STL triangles do not form a surface');
      const builder = new oc.BRepBuilderAPI_MakeSolid();
      owned.push(builder);
      for (const shell of shells) {
        if (!oc.BRep_Tool.IsClosed(shell)) throw ioError(name, 'the STL mesh is not closed (it has holes), so it has no volume');
        builder.Add(oc.TopoDS.Shell(shell));
      }
      let solid = builder.Solid();
      // Facet normals in STL files are often wrong; orient by the signed volume instead.
      if (shapeVolume(solid) < 0) solid = oc.TopoDS.Solid(solid.Reversed());
      return requireSolid(cast(solid), name);
    } finally {
      for (const o of owned) o.delete();
    }
  });
}

function checkStlBytes(bytes: Uint8Array, name: string): void {
  if (bytes.byteLength >= 84) {
    const count = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(80, true);
    if (bytes.byteLength === 84 + 50 * count) {
      if (count === 0) throw ioError(name, 'the STL file has no triangles');
      return;
    }
  }
  const text = new TextDecoder().decode(bytes.subarray(0, Math.min(bytes.byteLength, 4096)));
  if (!/^\s*solid/.test(text)) throw ioError(name, 'not an STL file (neither binary STL of the right size nor ASCII "solid …")');
  if (!/facet/.test(new TextDecoder().decode(bytes))) throw ioError(name, 'the STL file has no triangles');
}

function subShapes(oc: any, shape: any, kind: unknown): any[] {
  const found: any[] = [];
  const explorer = new oc.TopExp_Explorer(shape, kind, oc.TopAbs_ShapeEnum.TopAbs_SHAPE);
  try {
    for (; explorer.More(); explorer.Next()) found.push(explorer.Current());
  } finally {
    explorer.delete();
  }
  return found;
}

function diagonalOf(shape: any): number {
  const b = boundingBox(shape);
  return Math.hypot(b[3] - b[0], b[4] - b[1], b[5] - b[2]);
}

function requireSolid(shape: any, name: string): Shape3D {
  const volume = shapeVolume(shape);
  if (!(Math.abs(volume) > 0)) throw ioError(name, 'the file contains no solid (zero volume)');
  return shape as Shape3D;
}

/** The shape as a STEP file (AP214, millimetres). */
export function writeStep(shape: ShapeLike): Uint8Array {
  const oc = getOC();
  const raw = unwrapShape(shape);
  return withScratchFile(oc, 'step', undefined, (path) => {
    const writer = new oc.STEPControl_Writer();
    const progress = new oc.Message_ProgressRange();
    try {
      const transferred = writer.Transfer(raw, oc.STEPControl_StepModelType.STEPControl_AsIs, true, progress);
      if (transferred !== oc.IFSelect_ReturnStatus.IFSelect_RetDone)
        throw new CadError('geometry', `STEP export failed: the shape could not be translated (${transferred})`);
      const written = writer.Write(path);
      if (written !== oc.IFSelect_ReturnStatus.IFSelect_RetDone) throw new CadError('geometry', `STEP export failed while writing (${written})`);
      return ownBytes(oc.FS.readFile(path));
    } catch (e) {
      if (e instanceof CadError) throw e;
      throw new CadError('geometry', `STEP export failed: ${occtErrorMessage(oc, e)}`);
    } finally {
      progress.delete();
      writer.delete();
    }
  });
}

export interface StlOptions {
  /** Chordal deviation in model units; default 1e-3 × the bounding-box diagonal. */
  tolerance?: number;
  /** Radians; default 0.1 (CadQuery's default for STL export). */
  angularTolerance?: number;
}

/** The shape as a binary STL, triangles wound counter-clockwise seen from outside. */
export function writeStl(shape: ShapeLike, options: StlOptions = {}): Uint8Array {
  const mesh = meshShape(shape, { tolerance: options.tolerance, angularTolerance: options.angularTolerance ?? 0.1 });
  const { positions, indices } = mesh;
  const count = indices.length / 3;
  const out = new Uint8Array(84 + 50 * count);
  const view = new DataView(out.buffer);
  const header = 'binary STL written by GIFT CAD';
  for (let i = 0; i < header.length; i++) out[i] = header.charCodeAt(i);
  view.setUint32(80, count, true);
  let at = 84;
  for (let t = 0; t < count; t++) {
    const a = indices[3 * t] * 3;
    const b = indices[3 * t + 1] * 3;
    const c = indices[3 * t + 2] * 3;
    const ux = positions[b] - positions[a],
      uy = positions[b + 1] - positions[a + 1],
      uz = positions[b + 2] - positions[a + 2];
    const vx = positions[c] - positions[a],
      vy = positions[c + 1] - positions[a + 1],
      vz = positions[c + 2] - positions[a + 2];
    let nx = uy * vz - uz * vy,
      ny = uz * vx - ux * vz,
      nz = ux * vy - uy * vx;
    const len = Math.hypot(nx, ny, nz) || 1;
    nx /= len;
    ny /= len;
    nz /= len;
    view.setFloat32(at, nx, true);
    view.setFloat32(at + 4, ny, true);
    view.setFloat32(at + 8, nz, true);
    at += 12;
    for (const p of [a, b, c]) {
      view.setFloat32(at, positions[p], true);
      view.setFloat32(at + 4, positions[p + 1], true);
      view.setFloat32(at + 8, positions[p + 2], true);
      at += 12;
    }
    at += 2; // attribute byte count
  }
  return out;
}

/** A copy that owns its whole ArrayBuffer (transferable, and not a view into the WASM heap). */
function ownBytes(view: Uint8Array): Uint8Array {
  return new Uint8Array(view);
}
