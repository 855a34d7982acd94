/**
 * Deterministic software rasteriser in the GenCAD image style: orthographic projection, z-buffered
 * triangles shaded by a headlight, B-rep edges drawn as 1 px aliased black lines with hidden-line
 * removal. Pure TypeScript on typed arrays: same input, same pixels, on any machine.
 */
import type { MeshData } from '../geometry/mesh';
import { frameBoundingBox, viewBasis, type Framing, type ViewName, type ViewBasis } from './views';
import { BACKGROUND, EDGE_COLOR, SHADE_LEVELS, SHADE_TABLE } from './style';

export interface RenderOptions {
  /** Default 'iso', the dataset's view. */
  view?: ViewName;
  /** Width and height in pixels. Default 448. */
  size?: number;
  /** Draw the B-rep edges (default true). */
  edges?: boolean;
  /** Sub-pixel shift of the whole picture, in pixels (x right, y down). Default [0, 0]. */
  offset?: readonly [number, number];
}

export interface RenderedImage {
  rgba: Uint8Array;
  width: number;
  height: number;
}

/** Per-pixel buffers of one rasterisation, for rendering and for analysis. */
export interface RasterBuffers {
  width: number;
  height: number;
  /** Distance towards the camera; −Infinity where no face covers the pixel centre. */
  depth: Float32Array;
  /** |n·toCamera| interpolated from the vertex normals. */
  facing: Float32Array;
  /** B-rep face index, −1 for background. */
  faceId: Int32Array;
  /** 1 where a visible B-rep edge is drawn. */
  edgeMask: Uint8Array;
  framing: Framing;
}

export const DEFAULT_SIZE = 448;
const MAX_SIZE = 8192;

/**
 * How far behind the surface an edge may be and still be drawn, in pixels of depth, added to the
 * surface's own depth change across one pixel (like OpenGL's polygon offset: factor·slope + units).
 */
const EDGE_SLOPE_FACTOR = 1.5;
const EDGE_UNITS_PX = 1.5;

function checkSize(size: number): number {
  if (!Number.isInteger(size) || size < 8 || size > MAX_SIZE) throw new Error(`render size must be an integer from 8 to ${MAX_SIZE}, got ${size}`);
  return size;
}

/** Rasterises a mesh into depth / facing / face-id / edge buffers. */
export function rasterize(mesh: MeshData, opts: RenderOptions = {}): RasterBuffers {
  const size = checkSize(opts.size ?? DEFAULT_SIZE);
  const basis = viewBasis(opts.view ?? 'iso');
  const framing = frameBoundingBox(mesh.bbox, basis, size);
  const width = size;
  const height = size;
  const pixels = width * height;
  const depth = new Float32Array(pixels).fill(-Infinity);
  const slope = new Float32Array(pixels);
  const facing = new Float32Array(pixels);
  const faceId = new Int32Array(pixels).fill(-1);
  const edgeMask = new Uint8Array(pixels);

  const offset = opts.offset ?? [0, 0];
  const { sx, sy, sz } = project(mesh.positions, basis, framing, size, offset);
  const nv = facingOf(mesh.normals, basis);
  rasterizeTriangles(mesh, sx, sy, sz, nv, width, height, depth, slope, facing, faceId);
  if (opts.edges !== false) {
    const e = project(mesh.edges, basis, framing, size, offset);
    drawEdges(e.sx, e.sy, e.sz, width, height, depth, slope, edgeMask);
  }
  return { width, height, depth, facing, faceId, edgeMask, framing };
}

/** Renders a mesh to RGBA pixels in the dataset's style. */
export function renderMesh(mesh: MeshData, opts: RenderOptions = {}): RenderedImage {
  const r = rasterize(mesh, opts);
  return { rgba: colorize(r), width: r.width, height: r.height };
}

/** Turns raster buffers into RGBA pixels. */
export function colorize(r: RasterBuffers): Uint8Array {
  const rgba = new Uint8Array(r.width * r.height * 4);
  const { edgeMask, faceId, facing } = r;
  // Locals: imported bindings compile to property reads on the module object, too slow per pixel.
  const [er, eg, eb] = EDGE_COLOR;
  const [br, bg, bb] = BACKGROUND;
  const table = SHADE_TABLE;
  const levels = SHADE_LEVELS;
  for (let p = 0, o = 0; p < faceId.length; p++, o += 4) {
    if (edgeMask[p]) {
      rgba[o] = er;
      rgba[o + 1] = eg;
      rgba[o + 2] = eb;
    } else if (faceId[p] < 0) {
      rgba[o] = br;
      rgba[o + 1] = bg;
      rgba[o + 2] = bb;
    } else {
      const i = Math.round(facing[p] * levels) * 3; // facing is already clamped to [0, 1]
      rgba[o] = table[i];
      rgba[o + 1] = table[i + 1];
      rgba[o + 2] = table[i + 2];
    }
    rgba[o + 3] = 255;
  }
  return rgba;
}

/** Screen coordinates (pixels, y down) and depth (towards the camera) of xyz triples. */
function project(xyz: Float32Array, basis: ViewBasis, framing: Framing, size: number, offset: readonly [number, number]) {
  const n = xyz.length / 3;
  const sx = new Float64Array(n);
  const sy = new Float64Array(n);
  const sz = new Float64Array(n);
  const [rx, ry, rz] = basis.right;
  const [ux, uy, uz] = basis.up;
  const [cx, cy, cz] = basis.toCamera;
  const half = size / 2;
  const { scale, centerU, centerV } = framing;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    const x = xyz[j],
      y = xyz[j + 1],
      z = xyz[j + 2];
    sx[i] = half + offset[0] + scale * (x * rx + y * ry + z * rz - centerU);
    sy[i] = half + offset[1] - scale * (x * ux + y * uy + z * uz - centerV);
    sz[i] = scale * (x * cx + y * cy + z * cz); // in pixels, so biases are in pixels too
  }
  return { sx, sy, sz };
}

function facingOf(normals: Float32Array, basis: ViewBasis): Float64Array {
  const n = normals.length / 3;
  const out = new Float64Array(n);
  const [cx, cy, cz] = basis.toCamera;
  for (let i = 0, j = 0; i < n; i++, j += 3) out[i] = normals[j] * cx + normals[j + 1] * cy + normals[j + 2] * cz;
  return out;
}

function rasterizeTriangles(
  mesh: MeshData,
  sx: Float64Array,
  sy: Float64Array,
  sz: Float64Array,
  nv: Float64Array,
  width: number,
  height: number,
  depth: Float32Array,
  slope: Float32Array,
  facing: Float32Array,
  faceId: Int32Array,
): void {
  const idx = mesh.indices;
  const groups = mesh.faceGroups;
  for (let t = 0, k = 0; k < idx.length; t++, k += 3) {
    const a = idx[k],
      b = idx[k + 1],
      c = idx[k + 2];
    const x0 = sx[a],
      y0 = sy[a],
      x1 = sx[b],
      y1 = sy[b],
      x2 = sx[c],
      y2 = sy[c];
    const area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0);
    if (!(Math.abs(area) > 1e-12)) continue; // seen edge-on, or degenerate
    const inv = 1 / area;
    const z0 = sz[a],
      z1 = sz[b],
      z2 = sz[c];
    // Plane gradients of depth and facing over the screen.
    const dzdx = ((z1 - z0) * (y2 - y0) - (z2 - z0) * (y1 - y0)) * inv;
    const dzdy = ((z2 - z0) * (x1 - x0) - (z1 - z0) * (x2 - x0)) * inv;
    const triSlope = Math.max(Math.abs(dzdx), Math.abs(dzdy));
    const f0 = nv[a],
      f1 = nv[b],
      f2 = nv[c];
    const dfdx = ((f1 - f0) * (y2 - y0) - (f2 - f0) * (y1 - y0)) * inv;
    const dfdy = ((f2 - f0) * (x1 - x0) - (f1 - f0) * (x2 - x0)) * inv;
    const id = groups[t];

    const minX = Math.max(0, Math.ceil(Math.min(x0, x1, x2) - 0.5));
    const maxX = Math.min(width - 1, Math.floor(Math.max(x0, x1, x2) - 0.5));
    const minY = Math.max(0, Math.ceil(Math.min(y0, y1, y2) - 0.5));
    const maxY = Math.min(height - 1, Math.floor(Math.max(y0, y1, y2) - 0.5));
    if (minX > maxX || minY > maxY) continue;
    const sign = area > 0 ? 1 : -1;
    // Edge functions, each ≥ 0 inside (after the orientation sign), stepped per pixel.
    const e0x = -(y2 - y1) * sign,
      e0y = (x2 - x1) * sign;
    const e1x = -(y0 - y2) * sign,
      e1y = (x0 - x2) * sign;
    const e2x = -(y1 - y0) * sign,
      e2y = (x1 - x0) * sign;
    const px0 = minX + 0.5,
      py0 = minY + 0.5;
    let r0 = ((px0 - x1) * (y2 - y1) - (py0 - y1) * (x2 - x1)) * -sign;
    let r1 = ((px0 - x2) * (y0 - y2) - (py0 - y2) * (x0 - x2)) * -sign;
    let r2 = ((px0 - x0) * (y1 - y0) - (py0 - y0) * (x1 - x0)) * -sign;
    let rowZ = z0 + dzdx * (px0 - x0) + dzdy * (py0 - y0);
    let rowF = f0 + dfdx * (px0 - x0) + dfdy * (py0 - y0);
    for (let y = minY; y <= maxY; y++) {
      let w0 = r0,
        w1 = r1,
        w2 = r2,
        z = rowZ,
        f = rowF;
      let p = y * width + minX;
      for (let x = minX; x <= maxX; x++, p++) {
        if (w0 >= 0 && w1 >= 0 && w2 >= 0 && z > depth[p]) {
          depth[p] = z;
          slope[p] = triSlope;
          facing[p] = Math.min(1, Math.abs(f));
          faceId[p] = id;
        }
        w0 += e0x;
        w1 += e1x;
        w2 += e2x;
        z += dzdx;
        f += dfdx;
      }
      r0 += e0y;
      r1 += e1y;
      r2 += e2y;
      rowZ += dzdy;
      rowF += dfdy;
    }
  }
}

/**
 * 1 px lines through pixel centres (the pixel whose centre column/row the segment crosses, as
 * Bresenham does), kept where they are not behind the z-buffered surface.
 */
function drawEdges(
  sx: Float64Array,
  sy: Float64Array,
  sz: Float64Array,
  width: number,
  height: number,
  depth: Float32Array,
  slope: Float32Array,
  edgeMask: Uint8Array,
): void {
  const plot = (x: number, y: number, z: number) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const p = y * width + x;
    if (z + EDGE_UNITS_PX + EDGE_SLOPE_FACTOR * slope[p] >= depth[p]) edgeMask[p] = 1;
  };
  for (let s = 0; s < sx.length; s += 2) {
    const xa = sx[s],
      ya = sy[s],
      za = sz[s],
      xb = sx[s + 1],
      yb = sy[s + 1],
      zb = sz[s + 1];
    const dx = xb - xa,
      dy = yb - ya;
    if (Math.abs(dx) >= Math.abs(dy)) {
      if (dx === 0) {
        plot(Math.floor(xa), Math.floor(ya), Math.max(za, zb));
        continue;
      }
      // Pixel columns whose centre lies in [min x, max x): consecutive segments tile without gaps.
      const lo = Math.min(xa, xb),
        hi = Math.max(xa, xb);
      const first = Math.max(0, Math.ceil(lo - 0.5)),
        last = Math.min(width - 1, Math.ceil(hi - 0.5) - 1);
      for (let x = first; x <= last; x++) {
        const t = (x + 0.5 - xa) / dx;
        plot(x, Math.floor(ya + t * dy), za + t * (zb - za));
      }
    } else {
      const lo = Math.min(ya, yb),
        hi = Math.max(ya, yb);
      const first = Math.max(0, Math.ceil(lo - 0.5)),
        last = Math.min(height - 1, Math.ceil(hi - 0.5) - 1);
      for (let y = first; y <= last; y++) {
        const t = (y + 0.5 - ya) / dy;
        plot(Math.floor(xa + t * dx), y, za + t * (zb - za));
      }
    }
  }
}
