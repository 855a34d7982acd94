/**
 * Orthographic views and the framing rule of the GenCAD images.
 *
 * Measured on the 100 test images against their STEP files: the camera looks at the part from
 * (+1, −1, +1) with Z up, and the part's 3D bounding box (its 8 corners projected) is scaled to
 * fit a 400 × 300 px window centred in the 448 × 448 frame (scale = min(400/width, 300/height)).
 * It is not the silhouette that is fitted: a disc's silhouette stays well inside the window.
 */
export type Vec3 = readonly [number, number, number];

export const VIEW_NAMES = [
  'iso', // the dataset's view: from (+1, −1, +1)
  'iso-front-left', // from (−1, −1, +1)
  'iso-back-right', // from (+1, +1, +1)
  'iso-back-left', // from (−1, +1, +1)
  'iso-bottom', // from (+1, −1, −1)
  'front', // from −Y
  'back', // from +Y
  'right', // from +X
  'left', // from −X
  'top', // from +Z, Y up
  'bottom', // from −Z, Y up
] as const;
export type ViewName = (typeof VIEW_NAMES)[number];

export interface ViewBasis {
  /** Unit vector from the part towards the camera. */
  toCamera: Vec3;
  /** Unit screen-right and screen-up vectors in model space. */
  right: Vec3;
  up: Vec3;
}

const VIEW_DIRECTIONS: Record<ViewName, Vec3> = {
  iso: [1, -1, 1],
  'iso-front-left': [-1, -1, 1],
  'iso-back-right': [1, 1, 1],
  'iso-back-left': [-1, 1, 1],
  'iso-bottom': [1, -1, -1],
  front: [0, -1, 0],
  back: [0, 1, 0],
  right: [1, 0, 0],
  left: [-1, 0, 0],
  top: [0, 0, 1],
  bottom: [0, 0, -1],
};

function normalize(v: Vec3): Vec3 {
  const l = Math.hypot(v[0], v[1], v[2]);
  return [v[0] / l, v[1] / l, v[2] / l];
}
function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

export function isViewName(name: unknown): name is ViewName {
  return typeof name === 'string' && (VIEW_NAMES as readonly string[]).includes(name);
}

/** Camera basis of a named view: Z is up on screen, except for top/bottom where Y is. */
export function viewBasis(view: ViewName): ViewBasis {
  const direction = VIEW_DIRECTIONS[view];
  if (!direction) throw new Error(`unknown view '${String(view)}' (expected one of ${VIEW_NAMES.join(', ')})`);
  const toCamera = normalize(direction);
  const worldUp: Vec3 = Math.abs(toCamera[2]) > 0.999 ? [0, 1, 0] : [0, 0, 1];
  const right = normalize(cross(worldUp, toCamera));
  const up = cross(toCamera, right);
  return { toCamera, right, up };
}

/** Fraction of the frame the projected bounding box may fill, measured on the GenCAD images. */
export const FIT_WIDTH_FRACTION = 400 / 448;
export const FIT_HEIGHT_FRACTION = 300 / 448;

export interface Framing {
  /** Pixels per model unit. */
  scale: number;
  /** Projected bounding-box centre (screen-right, screen-up) in model units; lands on the frame centre. */
  centerU: number;
  centerV: number;
}

/** Scale and centre that fit a 3D bounding box into a size × size frame the way the dataset does. */
export function frameBoundingBox(bbox: readonly number[], basis: ViewBasis, size: number): Framing {
  let u0 = Infinity,
    u1 = -Infinity,
    v0 = Infinity,
    v1 = -Infinity;
  for (const x of [bbox[0], bbox[3]]) {
    for (const y of [bbox[1], bbox[4]]) {
      for (const z of [bbox[2], bbox[5]]) {
        const u = x * basis.right[0] + y * basis.right[1] + z * basis.right[2];
        const v = x * basis.up[0] + y * basis.up[1] + z * basis.up[2];
        u0 = Math.min(u0, u);
        u1 = Math.max(u1, u);
        v0 = Math.min(v0, v);
        v1 = Math.max(v1, v);
      }
    }
  }
  const width = u1 - u0;
  const height = v1 - v0;
  const candidates = [width > 1e-12 ? (size * FIT_WIDTH_FRACTION) / width : Infinity, height > 1e-12 ? (size * FIT_HEIGHT_FRACTION) / height : Infinity];
  let scale = Math.min(...candidates);
  if (!Number.isFinite(scale)) scale = 1; // a point: nothing to fit
  return { scale, centerU: (u0 + u1) / 2, centerV: (v0 + v1) / 2 };
}
