/**
 * A second writer for the concurrency and kill -9 tests: appends COUNT records (0 = until killed)
 * one at a time to collection sft of DIR, ids PREFIX-<n>, printing "ACK <id>" once each append
 * has returned (i.e. is acknowledged).
 * usage: node --import tsx append-child.ts DIR PREFIX COUNT IMAGE
 */
import { openDataset } from '../../../src/core/dataset';

async function main(): Promise<void> {
  const [dir, prefix, countText, image] = process.argv.slice(2);
  const count = Number(countText);
  const ds = await openDataset(dir, { lockTimeoutMs: 60_000 });
  // Long code so a write takes a moment and a kill can land inside it.
  const code = `import cadquery as cq\n# ${'x'.repeat(4000)}\nsolid = cq.Workplane("XY").box(1, 2, 3)\n`;
  for (let n = 0; count === 0 || n < count; n++) {
    const id = `${prefix}-${n}`;
    await ds.append({ id, collection: 'sft', image, code: `${code}# ${id}\n` });
    process.stdout.write(`ACK ${id}\n`);
  }
}

main().catch((e) => {
  console.error((e as Error).stack);
  process.exitCode = 1;
});
