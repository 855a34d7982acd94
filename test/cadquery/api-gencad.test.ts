/**
 * All 100 GenCAD-Code test programs run through the interpreter and the CadQuery API on real OCCT.
 * Single-sketch programs must match a volume computed by hand from the program text (Green's
 * theorem over lines and arcs, circles, holes by nesting) to 1e-6; multi-sketch programs must give
 * a solid whose bounding box matches the original DeepCAD STEP within 0.05.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { importSTEP } from 'replicad';
import { loadOpenCascade } from '../../src/core/occt/occt';
import { interpret } from '../../src/core/cadquery/interpret';
import { createCadQueryModule, resultShape } from '../../src/core/cadquery/api';
import { boundsOf, volumeOf } from '../../src/core/cadquery/api/geom';
import { loadTest100 } from '../helpers/test100';

type P = [number, number];

/** Signed area (½∮x dy − y dx) of a closed loop of line and arc segments, plus sample points. */
function loopArea(segments: ({ kind: 'line'; a: P; b: P } | { kind: 'arc'; a: P; m: P; b: P })[]): { area: number; samples: P[] } {
  let area = 0;
  const samples: P[] = [];
  for (const s of segments) {
    if (s.kind === 'line') {
      area += (s.a[0] * s.b[1] - s.b[0] * s.a[1]) / 2;
      samples.push(s.a);
      continue;
    }
    const [ax, ay] = s.a;
    const [mx, my] = s.m;
    const [bx, by] = s.b;
    const d = 2 * (ax * (my - by) + mx * (by - ay) + bx * (ay - my));
    const cx = ((ax * ax + ay * ay) * (my - by) + (mx * mx + my * my) * (by - ay) + (bx * bx + by * by) * (ay - my)) / d;
    const cy = ((ax * ax + ay * ay) * (bx - mx) + (mx * mx + my * my) * (ax - bx) + (bx * bx + by * by) * (mx - ax)) / d;
    const r = Math.hypot(ax - cx, ay - cy);
    const ang = (x: number, y: number) => Math.atan2(y - cy, x - cx);
    const t0 = ang(ax, ay);
    const norm = (t: number) => ((t % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI);
    const ccwToM = norm(ang(mx, my) - t0);
    const ccwToB = norm(ang(bx, by) - t0);
    const sweep = ccwToM < ccwToB ? ccwToB : ccwToB - 2 * Math.PI; // through m
    const t1 = t0 + sweep;
    area += (r * r * sweep + r * (cx * (Math.sin(t1) - Math.sin(t0)) - cy * (Math.cos(t1) - Math.cos(t0)))) / 2;
    for (let i = 0; i < 16; i++) {
      const t = t0 + (sweep * i) / 16;
      samples.push([cx + r * Math.cos(t), cy + r * Math.sin(t)]);
    }
  }
  return { area, samples };
}

function inside([x, y]: P, poly: P[]): boolean {
  let c = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}

const NUM = String.raw`-?\d+(?:\.\d+)?(?:e-?\d+)?`;

/** Volume of a single-sketch program, computed from its text alone. */
function handVolume(code: string): number {
  const loops: { area: number; samples: P[] }[] = [];
  for (const line of code.split('\n')) {
    const m = /^loop\d+=wp_sketch\d+(.*)$/.exec(line.trim());
    if (!m) continue;
    const calls = [...m[1].matchAll(/\.(moveTo|lineTo|threePointArc|circle|close)\(((?:[^()]|\([^()]*\))*)\)/g)];
    let cur: P = [0, 0];
    let first: P | undefined;
    const segs: Parameters<typeof loopArea>[0] = [];
    for (const [, name, argText] of calls) {
      const n = [...argText.matchAll(new RegExp(NUM, 'g'))].map((x) => Number(x[0]));
      if (name === 'moveTo') cur = [n[0], n[1]];
      else if (name === 'lineTo') {
        first ??= cur;
        segs.push({ kind: 'line', a: cur, b: [n[0], n[1]] });
        cur = [n[0], n[1]];
      } else if (name === 'threePointArc') {
        first ??= cur;
        segs.push({ kind: 'arc', a: cur, m: [n[0], n[1]], b: [n[2], n[3]] });
        cur = [n[2], n[3]];
      } else if (name === 'circle') {
        const r = n[0];
        const samples: P[] = [];
        for (let i = 0; i < 64; i++) samples.push([cur[0] + r * Math.cos((i * Math.PI) / 32), cur[1] + r * Math.sin((i * Math.PI) / 32)]);
        loops.push({ area: Math.PI * r * r, samples });
      } else if (name === 'close' && first) {
        if (Math.hypot(cur[0] - first[0], cur[1] - first[1]) > 1e-6) segs.push({ kind: 'line', a: cur, b: first });
      }
    }
    if (segs.length) loops.push(loopArea(segs));
  }
  // Nesting: a loop is inside another when most of its sample points are; depth parity decides.
  let area = 0;
  for (const l of loops) {
    let depth = 0;
    for (const o of loops) {
      if (o === l || Math.abs(o.area) <= Math.abs(l.area)) continue;
      if (l.samples.filter((p) => inside(p, o.samples)).length * 2 > l.samples.length) depth++;
    }
    area += (depth % 2 === 0 ? 1 : -1) * Math.abs(l.area);
  }
  const ex = /\.extrude\((NUM)(, both=True)?\)/.source.replace('NUM', NUM);
  const e = new RegExp(ex).exec(code)!;
  return area * Math.abs(Number(e[1])) * (e[2] ? 2 : 1);
}

function run(code: string) {
  const { globals, shown } = interpret(code, { modules: { cadquery: createCadQueryModule() } });
  return resultShape(globals, shown);
}

const samples = loadTest100();
const single = samples.filter((s) => s.code.split('cq.Workplane(').length === 2 && s.code.split('.extrude(').length === 2);
const multi = samples.filter((s) => !single.includes(s));

test(`single-sketch test100 programs (${single.length}) match hand-computed volumes to 1e-6`, async () => {
  await loadOpenCascade();
  for (const s of single) {
    const expected = handVolume(s.code);
    const got = volumeOf(run(s.code));
    assert.ok(expected > 0, `${s.id}: hand volume ${expected}`);
    assert.ok(Math.abs(got - expected) <= 1e-6 * expected, `${s.id}: volume ${got} != hand ${expected}`);
  }
});

test(`multi-sketch test100 programs (${multi.length}) give solids whose bbox matches the DeepCAD STEP within 0.05`, async () => {
  await loadOpenCascade();
  for (const s of multi) {
    const shape = run(s.code);
    assert.ok(volumeOf(shape) > 0, `${s.id}: no volume`);
    const ref = await importSTEP(new Blob([fs.readFileSync(s.step)]));
    const a = boundsOf(shape);
    const b = boundsOf(ref);
    for (const k of ['x', 'y', 'z'] as const) {
      assert.ok(
        Math.abs(a.min[k] - b.min[k]) <= 0.05 && Math.abs(a.max[k] - b.max[k]) <= 0.05,
        `${s.id}: bbox ${k} [${a.min[k]}, ${a.max[k]}] vs STEP [${b.min[k]}, ${b.max[k]}]`,
      );
    }
    ref.delete();
  }
});
