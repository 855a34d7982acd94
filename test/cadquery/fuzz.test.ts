/**
 * Mutated test100 programs (numbers perturbed, tokens dropped or duplicated, calls swapped,
 * extrudes zeroed) must each end with a result or a typed error inside the deadline: no crash, no
 * lost worker, bounded memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelPool } from '../../src/core/pool/pool';
import { loadTest100, seededRandom } from '../helpers/test100';

const MUTATIONS = Number(process.env.GIFT_FUZZ_COUNT ?? 2000);
const KINDS = new Set(['syntax', 'unsupported', 'geometry', 'runtime', 'timeout', 'limit']);
const CALLS = ['moveTo', 'lineTo', 'threePointArc', 'circle', 'close', 'add', 'extrude', 'union', 'cut', 'intersect'];

function mutate(code: string, rand: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const tokens = code.match(/\d+\.\d+(?:e-?\d+)?|\d+|[A-Za-z_]\w*|\s+|./g) ?? [];
  const op = Math.floor(rand() * 6);
  const at = Math.floor(rand() * tokens.length);
  switch (op) {
    case 0: // perturb numbers
      return tokens.map((t) => (/^\d/.test(t) && rand() < 0.3 ? String(Number(t) * (rand() * 4 - 2)) : t)).join('');
    case 1: // drop a token
      return [...tokens.slice(0, at), ...tokens.slice(at + 1)].join('');
    case 2: // duplicate a token
      return [...tokens.slice(0, at + 1), tokens[at], ...tokens.slice(at + 1)].join('');
    case 3: // swap one call for another
      return code.replace(new RegExp(`\\.${pick(CALLS)}\\(`), `.${pick(CALLS)}(`);
    case 4: // zero an extrude
      return code.replace(/extrude\(([-\d.e]+)/, 'extrude(0');
    default: // drop a whole line
      return code
        .split('\n')
        .filter((_, i, lines) => i !== Math.floor(rand() * lines.length))
        .join('\n');
  }
}

test(`${MUTATIONS} mutated test100 programs each end in a result or a typed error`, { timeout: 15 * 60_000 }, async () => {
  const samples = loadTest100();
  const rand = seededRandom(20261125);
  const pool = new KernelPool({ workers: 2, timeoutMs: 3_000, maxHeapBytes: 300 * 1024 ** 2 });
  const counts: Record<string, number> = { ok: 0 };
  const rssBefore = process.memoryUsage().rss;
  try {
    const programs = Array.from({ length: MUTATIONS }, () => mutate(samples[Math.floor(rand() * samples.length)].code, rand));
    const results = await Promise.all(programs.map((source) => pool.run('shape.execute', { source })));
    for (const r of results) {
      if (r.ok) {
        counts.ok++;
        assert.ok(Number.isFinite(r.value.volume));
        continue;
      }
      counts[r.error.kind] = (counts[r.error.kind] ?? 0) + 1;
      assert.ok(KINDS.has(r.error.kind), `unexpected error kind ${r.error.kind}: ${r.error.message}`);
      assert.doesNotMatch(r.error.message, /worker (crashed|exited)/);
      assert.ok(r.error.message.length > 0);
      if (r.error.kind !== 'timeout')
        assert.ok(r.error.kind === 'geometry' || r.error.kind === 'runtime' || r.error.line, `no line for ${r.error.kind}: ${r.error.message}`);
    }
    const stats = pool.stats();
    console.log(`fuzz outcomes: ${JSON.stringify(counts)}; pool: ${JSON.stringify(stats)}`);
    assert.equal(stats.crashes, 0);
    assert.ok(stats.workers <= 2);
    // Workers that leak WASM memory are recycled, so the process (workers included) stays bounded.
    const grown = process.memoryUsage().rss - rssBefore;
    console.log(`rss grew by ${(grown / 1024 ** 2).toFixed(0)} MiB`);
    assert.ok(grown < 1.5 * 1024 ** 3);
    assert.ok(counts.ok > MUTATIONS * 0.2, 'most mild mutations still run');
  } finally {
    await pool.close();
  }
});
