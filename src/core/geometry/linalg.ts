/**
 * Small dense linear algebra for the IoU protocols: 3×3 matrices (row-major number[9]) and a
 * symmetric eigen-solver that reproduces numpy.linalg.eigh.
 *
 * Why not a plain Jacobi solver: the `aligned` protocol tries four rotations built from the
 * eigenvectors, and whether those four are proper rotations or reflections depends on
 * det(Vt)·det(Vs) — i.e. on the arbitrary signs the solver gives the eigenvectors. To get the same
 * four candidates as the authors' Python, `eigh3` follows LAPACK's path for numpy's `eigh`
 * (dsyevd with UPLO='L' → dsytd2 → dstedc → dsteqr for n ≤ 25 → Householder back-transform),
 * step for step. The determinant of the result only depends on whether the one Householder
 * reflector is non-trivial and on the permutation of the final selection sort, both of which this
 * port reproduces; test/geometry/linalg.test.ts checks signs and values against numpy.
 */

export type Vec3 = [number, number, number];
/** Row-major 3×3: m[3*row + col]. */
export type Mat3 = number[];

export function identity3(): Mat3 {
  return [1, 0, 0, 0, 1, 0, 0, 0, 1];
}

export function det3(m: Mat3): number {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

export function transpose3(m: Mat3): Mat3 {
  return [m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]];
}

export function multiply3(a: Mat3, b: Mat3): Mat3 {
  const r = new Array<number>(9);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) r[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
  }
  return r;
}

export function apply3(m: Mat3, v: readonly number[]): Vec3 {
  return [m[0] * v[0] + m[1] * v[1] + m[2] * v[2], m[3] * v[0] + m[4] * v[1] + m[5] * v[2], m[6] * v[0] + m[7] * v[1] + m[8] * v[2]];
}

/** m · diag(d): scales the columns. */
export function scaleColumns3(m: Mat3, d: readonly number[]): Mat3 {
  return [m[0] * d[0], m[1] * d[1], m[2] * d[2], m[3] * d[0], m[4] * d[1], m[5] * d[2], m[6] * d[0], m[7] * d[1], m[8] * d[2]];
}

/** p ↦ matrix · p + translation */
export interface Affine {
  matrix: Mat3;
  translation: Vec3;
}

/** The inverse of a general 3×3 matrix (adjugate / determinant). */
export function inverse3(m: Mat3): Mat3 {
  const d = det3(m);
  const [a, b, c, e, f, g, h, i, j] = m;
  return [
    (f * j - g * i) / d,
    (c * i - b * j) / d,
    (b * g - c * f) / d,
    (g * h - e * j) / d,
    (a * j - c * h) / d,
    (c * e - a * g) / d,
    (e * i - f * h) / d,
    (b * h - a * i) / d,
    (a * f - b * e) / d,
  ];
}

/** The affine map undoing `a`. */
export function invertAffine(a: Affine): Affine {
  const matrix = inverse3(a.matrix);
  const t = apply3(matrix, a.translation);
  return { matrix, translation: [-t[0], -t[1], -t[2]] };
}

/** a ∘ b: the affine map p ↦ a(b(p)). */
export function composeAffine(a: Affine, b: Affine): Affine {
  const t = apply3(a.matrix, b.translation);
  return { matrix: multiply3(a.matrix, b.matrix), translation: [t[0] + a.translation[0], t[1] + a.translation[1], t[2] + a.translation[2]] };
}

export interface SymmetricEigen {
  /** Ascending, like numpy.linalg.eigh. */
  values: Vec3;
  /** Eigenvectors as columns (row-major storage): vectors[3*i + k] is component i of vector k. */
  vectors: Mat3;
}

const EPS = 2 ** -53; // dlamch('E'): relative machine epsilon (rounding)
const SAFMIN = 2 ** -1022; // dlamch('S')
const RTMIN = Math.sqrt(SAFMIN);
const RTMAX = Math.sqrt(1 / SAFMIN / 2);

/**
 * Eigen-decomposition of a symmetric 3×3 matrix as numpy.linalg.eigh (LAPACK dsyevd, UPLO='L')
 * computes it: same eigenvalue order, and — up to rounding — the same eigenvectors, signs included.
 * Only the lower triangle is read. (dsyevd's rescaling of huge/tiny matrices is left out: inertia
 * matrices of real parts are far from 1e±150.)
 */
export function eigh3(matrix: Mat3): SymmetricEigen {
  if (matrix.length !== 9 || matrix.some((v) => !Number.isFinite(v))) {
    throw new Error(`eigh3: expected 9 finite numbers, got [${matrix.join(', ')}]`);
  }
  // Column-major, 1-based like the Fortran: a(i, j) = A[i + 3j] with 0-based i, j.
  const A = [matrix[0], matrix[3], matrix[6], matrix[1], matrix[4], matrix[7], matrix[2], matrix[5], matrix[8]];
  const at = (i: number, j: number) => A[i + 3 * j];
  const set = (i: number, j: number, v: number) => (A[i + 3 * j] = v);

  // ---- dsytd2 (UPLO='L'): Q^T A Q = T tridiagonal. For n = 3 only the first reflector can be non-trivial.
  const d = [0, 0, 0];
  const e = [0, 0];
  let tau0 = 0;
  const v = [1, 0]; // the reflector's vector on rows 2..3 (v(1) = 1)
  {
    // dlarfg(2, a(2,1), a(3,1)): annihilates a(3,1).
    const alpha = at(1, 0);
    const x = at(2, 0);
    const xnorm = Math.abs(x);
    let beta = alpha;
    if (xnorm !== 0) {
      beta = -signOf(alpha) * dlapy2(alpha, xnorm);
      tau0 = (beta - alpha) / beta;
      v[1] = x * (1 / (alpha - beta));
    }
    e[0] = beta;
    if (tau0 !== 0) {
      // y := tau · A22 · v (dsymv, lower), then w := y − ½·tau·(yᵀv)·v, then A22 −= v wᵀ + w vᵀ (dsyr2).
      const a11 = at(1, 1);
      const a21 = at(2, 1);
      const a22 = at(2, 2);
      const y = [0, 0];
      // dsymv lower, column by column as the reference BLAS does.
      {
        let temp1 = tau0 * v[0];
        let temp2 = 0;
        y[0] += temp1 * a11;
        y[1] += temp1 * a21;
        temp2 += a21 * v[1];
        y[0] += tau0 * temp2;
        temp1 = tau0 * v[1];
        y[1] += temp1 * a22;
      }
      const alphaW = -0.5 * tau0 * (y[0] * v[0] + y[1] * v[1]);
      const w = [y[0] + alphaW * v[0], y[1] + alphaW * v[1]];
      // dsyr2 lower with alpha = −1, x = v, y = w.
      for (let j = 0; j < 2; j++) {
        if (v[j] !== 0 || w[j] !== 0) {
          const t1 = -w[j];
          const t2 = -v[j];
          for (let i = j; i < 2; i++) set(i + 1, j + 1, at(i + 1, j + 1) + v[i] * t1 + w[i] * t2);
        }
      }
    }
    d[0] = at(0, 0);
    // Second step: dlarfg(1, …) is always trivial.
    e[1] = at(2, 1);
    d[1] = at(1, 1);
    d[2] = at(2, 2);
  }

  // ---- dstedc('I') → dsteqr('I') on the tridiagonal (d, e), Z starts as the identity.
  const Z = [1, 0, 0, 0, 1, 0, 0, 0, 1]; // column-major
  dsteqr(d, e, Z);

  // ---- dormtr: eigenvectors of A = Q · Z, Q = H(1) = I − tau v vᵀ acting on rows 2..3.
  if (tau0 !== 0) {
    for (let k = 0; k < 3; k++) {
      const z1 = Z[1 + 3 * k];
      const z2 = Z[2 + 3 * k];
      const s = tau0 * (v[0] * z1 + v[1] * z2);
      Z[1 + 3 * k] = z1 - s * v[0];
      Z[2 + 3 * k] = z2 - s * v[1];
    }
  }
  return {
    values: [d[0], d[1], d[2]],
    vectors: [Z[0], Z[3], Z[6], Z[1], Z[4], Z[7], Z[2], Z[5], Z[8]],
  };
}

/** Fortran SIGN(1, x) as gfortran computes it: the sign bit decides, so −0 gives −1. */
function signOf(x: number): number {
  return x < 0 || Object.is(x, -0) ? -1 : 1;
}

function fortranSign(a: number, b: number): number {
  return signOf(b) * Math.abs(a);
}

function dlapy2(x: number, y: number): number {
  const xa = Math.abs(x);
  const ya = Math.abs(y);
  const w = Math.max(xa, ya);
  const z = Math.min(xa, ya);
  if (z === 0 || w > Number.MAX_VALUE) return w;
  return w * Math.sqrt(1 + (z / w) * (z / w));
}

/** LAPACK ≥ 3.10 dlartg (the sign of the rotation does not change any determinant we use). */
function dlartg(f: number, g: number): { c: number; s: number; r: number } {
  if (g === 0) return { c: 1, s: 0, r: f };
  if (f === 0) return { c: 0, s: signOf(g), r: Math.abs(g) };
  const f1 = Math.abs(f);
  const g1 = Math.abs(g);
  if (f1 > RTMIN && f1 < RTMAX && g1 > RTMIN && g1 < RTMAX) {
    const dd = Math.sqrt(f * f + g * g);
    const r = fortranSign(dd, f);
    return { c: f1 / dd, s: g / r, r };
  }
  const u = Math.min(1 / SAFMIN, Math.max(SAFMIN, f1, g1));
  const fs = f / u;
  const gs = g / u;
  const dd = Math.sqrt(fs * fs + gs * gs);
  const r = fortranSign(dd, f);
  return { c: Math.abs(fs) / dd, s: gs / r, r: r * u };
}

/** dlaev2: eigen-decomposition of [[a, b], [b, c]]; (cs1, sn1) is the eigenvector of rt1. */
function dlaev2(a: number, b: number, c: number): { rt1: number; rt2: number; cs1: number; sn1: number } {
  const sm = a + c;
  const df = a - c;
  const adf = Math.abs(df);
  const tb = b + b;
  const ab = Math.abs(tb);
  let acmx: number, acmn: number;
  if (Math.abs(a) > Math.abs(c)) {
    acmx = a;
    acmn = c;
  } else {
    acmx = c;
    acmn = a;
  }
  let rt: number;
  if (adf > ab) rt = adf * Math.sqrt(1 + (ab / adf) ** 2);
  else if (adf < ab) rt = ab * Math.sqrt(1 + (adf / ab) ** 2);
  else rt = ab * Math.SQRT2;
  let rt1: number, rt2: number, sgn1: number;
  if (sm < 0) {
    rt1 = 0.5 * (sm - rt);
    sgn1 = -1;
    rt2 = (acmx / rt1) * acmn - (b / rt1) * b;
  } else if (sm > 0) {
    rt1 = 0.5 * (sm + rt);
    sgn1 = 1;
    rt2 = (acmx / rt1) * acmn - (b / rt1) * b;
  } else {
    rt1 = 0.5 * rt;
    rt2 = -0.5 * rt;
    sgn1 = 1;
  }
  let cs: number, sgn2: number;
  if (df >= 0) {
    cs = df + rt;
    sgn2 = 1;
  } else {
    cs = df - rt;
    sgn2 = -1;
  }
  let cs1: number, sn1: number;
  if (Math.abs(cs) > ab) {
    const ct = -tb / cs;
    sn1 = 1 / Math.sqrt(1 + ct * ct);
    cs1 = ct * sn1;
  } else if (ab === 0) {
    cs1 = 1;
    sn1 = 0;
  } else {
    const tn = -cs / tb;
    cs1 = 1 / Math.sqrt(1 + tn * tn);
    sn1 = tn * cs1;
  }
  if (sgn1 === sgn2) {
    const tn = cs1;
    cs1 = -sn1;
    sn1 = tn;
  }
  return { rt1, rt2, cs1, sn1 };
}

/**
 * dlasr(SIDE='R', PIVOT='V'): Z := Z · Pᵀ for the plane rotations in columns `first`..`first+count-1`
 * (0-based), forward or backward.
 */
function dlasr(direct: 'F' | 'B', count: number, c: number[], s: number[], first: number, Z: number[]): void {
  const rotate = (j: number) => {
    const ct = c[j];
    const st = s[j];
    if (ct === 1 && st === 0) return;
    const col = first + j;
    for (let i = 0; i < 3; i++) {
      const temp = Z[i + 3 * (col + 1)];
      Z[i + 3 * (col + 1)] = ct * temp - st * Z[i + 3 * col];
      Z[i + 3 * col] = st * temp + ct * Z[i + 3 * col];
    }
  };
  if (direct === 'F') for (let j = 0; j < count - 1; j++) rotate(j);
  else for (let j = count - 2; j >= 0; j--) rotate(j);
}

/** dsteqr(COMPZ='I') for n = 3 (0-based indices; the Fortran labels are kept in comments). */
function dsteqr(d: number[], e: number[], Z: number[]): void {
  const n = 3;
  const eps2 = EPS * EPS;
  const nmaxit = n * 30;
  let jtot = 0;
  const work = new Array<number>(2 * (n - 1)).fill(0);
  let l1 = 0;
  // label 10
  while (l1 < n) {
    if (l1 > 0) e[l1 - 1] = 0;
    let m = n - 1;
    for (let mm = l1; mm < n - 1; mm++) {
      const tst = Math.abs(e[mm]);
      if (tst === 0) {
        m = mm;
        break;
      }
      if (tst <= Math.sqrt(Math.abs(d[mm])) * Math.sqrt(Math.abs(d[mm + 1])) * EPS) {
        e[mm] = 0;
        m = mm;
        break;
      }
    }
    // label 30
    let l = l1;
    const lsv = l;
    let lend = m;
    const lendsv = lend;
    l1 = m + 1;
    if (lend === l) continue;
    const anorm = Math.max(...d.slice(l, lend + 1).map(Math.abs), ...e.slice(l, lend).map(Math.abs));
    if (anorm === 0) continue;
    if (Math.abs(d[lend]) < Math.abs(d[l])) {
      lend = lsv;
      l = lendsv;
    }
    if (lend > l) {
      // QL iteration. label 40
      for (;;) {
        let mq = lend;
        if (l !== lend) {
          for (let k = l; k < lend; k++) {
            const tst = Math.abs(e[k]) ** 2;
            if (tst <= eps2 * Math.abs(d[k]) * Math.abs(d[k + 1]) + SAFMIN) {
              mq = k;
              break;
            }
          }
        }
        if (mq < lend) e[mq] = 0;
        let p = d[l];
        if (mq === l) {
          // label 80: eigenvalue found
          d[l] = p;
          l++;
          if (l <= lend) continue;
          break;
        }
        if (mq === l + 1) {
          const { rt1, rt2, cs1, sn1 } = dlaev2(d[l], e[l], d[l + 1]);
          work[l] = cs1;
          work[n - 1 + l] = sn1;
          dlasr('B', 2, work.slice(l), work.slice(n - 1 + l), l, Z);
          d[l] = rt1;
          d[l + 1] = rt2;
          e[l] = 0;
          l += 2;
          if (l <= lend) continue;
          break;
        }
        if (jtot === nmaxit) break;
        jtot++;
        let g = (d[l + 1] - p) / (2 * e[l]);
        let r = dlapy2(g, 1);
        g = d[mq] - p + e[l] / (g + fortranSign(r, g));
        let s = 1;
        let c = 1;
        p = 0;
        for (let i = mq - 1; i >= l; i--) {
          const f = s * e[i];
          const b = c * e[i];
          ({ c, s, r } = dlartg(g, f));
          if (i !== mq - 1) e[i + 1] = r;
          g = d[i + 1] - p;
          r = (d[i] - g) * s + 2 * c * b;
          p = s * r;
          d[i + 1] = g + p;
          g = c * r - b;
          work[i] = c;
          work[n - 1 + i] = -s;
        }
        dlasr('B', mq - l + 1, work.slice(l), work.slice(n - 1 + l), l, Z);
        d[l] = d[l] - p;
        e[l] = g;
      }
    } else {
      // QR iteration. label 90
      for (;;) {
        let mq = lend;
        if (l !== lend) {
          for (let k = l; k > lend; k--) {
            const tst = Math.abs(e[k - 1]) ** 2;
            if (tst <= eps2 * Math.abs(d[k]) * Math.abs(d[k - 1]) + SAFMIN) {
              mq = k;
              break;
            }
          }
        }
        if (mq > lend) e[mq - 1] = 0;
        let p = d[l];
        if (mq === l) {
          // label 130
          d[l] = p;
          l--;
          if (l >= lend) continue;
          break;
        }
        if (mq === l - 1) {
          const { rt1, rt2, cs1, sn1 } = dlaev2(d[l - 1], e[l - 1], d[l]);
          work[mq] = cs1;
          work[n - 1 + mq] = sn1;
          dlasr('F', 2, work.slice(mq), work.slice(n - 1 + mq), l - 1, Z);
          d[l - 1] = rt1;
          d[l] = rt2;
          e[l - 1] = 0;
          l -= 2;
          if (l >= lend) continue;
          break;
        }
        if (jtot === nmaxit) break;
        jtot++;
        let g = (d[l - 1] - p) / (2 * e[l - 1]);
        let r = dlapy2(g, 1);
        g = d[mq] - p + e[l - 1] / (g + fortranSign(r, g));
        let s = 1;
        let c = 1;
        p = 0;
        for (let i = mq; i <= l - 1; i++) {
          const f = s * e[i];
          const b = c * e[i];
          ({ c, s, r } = dlartg(g, f));
          if (i !== mq) e[i - 1] = r;
          g = d[i] - p;
          r = (d[i + 1] - g) * s + 2 * c * b;
          p = s * r;
          d[i] = g + p;
          g = c * r - b;
          work[i] = c;
          work[n - 1 + i] = s;
        }
        dlasr('F', l - mq + 1, work.slice(mq), work.slice(n - 1 + mq), mq, Z);
        d[l] = d[l] - p;
        e[l - 1] = g;
      }
    }
    // label 140
    if (jtot >= nmaxit) throw new Error('eigh3: the QL/QR iteration did not converge');
  }
  // label 160: selection sort, swapping eigenvector columns.
  for (let ii = 1; ii < n; ii++) {
    const i = ii - 1;
    let k = i;
    let p = d[i];
    for (let j = ii; j < n; j++) {
      if (d[j] < p) {
        k = j;
        p = d[j];
      }
    }
    if (k !== i) {
      d[k] = d[i];
      d[i] = p;
      for (let row = 0; row < 3; row++) {
        const t = Z[row + 3 * i];
        Z[row + 3 * i] = Z[row + 3 * k];
        Z[row + 3 * k] = t;
      }
    }
  }
}
