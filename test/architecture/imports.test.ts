/**
 * The architecture rule, checked on the real import graph of src/: imports flow one way through
 * the layers of src/core (errors → occt → cadquery/geometry → shape → render → model → jobs →
 * pool → generate → dataset → evaluate → train → round), then protocol, then the two front ends (cli, extension);
 * folders of one layer never import each other, and no file imports itself through a circle
 * (type-only imports count: they couple the files all the same).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(__dirname, '..', '..', 'src');

/** Layer of each area, lowest first; areas sharing a number must not import each other. */
const LAYERS: Record<string, number> = {
  'core/errors': 0,
  'core/occt': 1,
  'core/cadquery': 2,
  'core/geometry': 2,
  'core/shape': 3,
  'core/render': 4,
  'core/model': 5,
  'core/jobs': 6,
  'core/pool': 7,
  'core/generate': 8,
  'core/dataset': 9,
  'core/evaluate': 10,
  'core/train': 11,
  'core/round': 12,
  protocol: 13,
  cli: 14,
  extension: 14,
};

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

/** The area of a file: `core/<folder>` (core/errors.ts is `core/errors`), or the top folder. */
function areaOf(file: string): string {
  const parts = path.relative(SRC, file).split(path.sep);
  if (parts[0] !== 'core') return parts[0];
  return `core/${parts[1].replace(/\.ts$/, '')}`;
}

function resolveImport(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  return [`${base}.ts`, path.join(base, 'index.ts'), base].find((f) => f.endsWith('.ts') && fs.existsSync(f));
}

/** Every relative import of a file (static, type-only, dynamic and `typeof import(…)`), resolved. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
  return specs.map((s) => resolveImport(file, s)).filter((f): f is string => !!f?.startsWith(SRC));
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const rel = (f: string) => path.relative(SRC, f);

test('every file of src/ lies in a known layer', () => {
  const unknown = files.filter((f) => LAYERS[areaOf(f)] === undefined).map(rel);
  assert.deepEqual(unknown, [], 'add the new area to LAYERS (and to the README architecture section)');
});

test('imports only go down the layers, never sideways between areas of one layer', () => {
  const wrong: string[] = [];
  for (const [file, imports] of graph) {
    const from = areaOf(file);
    for (const target of imports) {
      const to = areaOf(target);
      if (to === from) continue;
      if (LAYERS[to] > LAYERS[from]) wrong.push(`${rel(file)} → ${rel(target)} (up: ${from} ${LAYERS[from]} imports ${to} ${LAYERS[to]})`);
      else if (LAYERS[to] === LAYERS[from]) wrong.push(`${rel(file)} → ${rel(target)} (sideways: ${from} and ${to} share layer ${LAYERS[to]})`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('no import circles between files', () => {
  // Tarjan's strongly connected components: any component of more than one file is a circle.
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(rel(w));
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(component.sort());
    }
  };
  for (const f of files) if (!indices.has(f)) visit(f);
  assert.deepEqual(circles, []);
});

test('the rule is checked on a real graph (the reader finds the imports it must)', () => {
  const pool = path.join(SRC, 'core', 'pool', 'pool.ts');
  assert.ok(
    graph.get(pool)?.some((f) => rel(f) === path.join('core', 'jobs', 'catalog.ts')),
    'pool.ts imports the job catalogue',
  );
  assert.ok(files.length > 100, `${files.length} files read`);
});
