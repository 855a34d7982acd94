/**
 * Renderer bench: every test100 STEP rendered in the dataset style and compared with its real
 * image (silhouette IoU, edge agreement), timings warm at 448², and the score's ranking of the
 * true shape against perturbed ones. `node --import tsx bench/render.ts [--montage]`
 * (--montage also writes docs/render-montage.png: 8 real | ours pairs).
 */
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { loadOpenCascade } from '../src/core/occt/occt';
import { meshShape, type MeshData } from '../src/core/geometry/mesh';
import { encodePng, renderMesh, scoreRenderAgainstImage, type RgbaImage } from '../src/core/render';
import { MESH_PERTURBATIONS, perturbMesh } from '../src/core/render/perturb';
import { IMAGE_STEP_MISMATCH, imagePath, loadImage, loadStep, sampleIds } from '../test/render/fixtures';
import { printTable, quantile } from './table';

/** IoU of the non-white pixels of two same-size images, in the original frame (no refitting). */
function rawSilhouetteIou(a: RgbaImage, b: RgbaImage): number {
  let inter = 0,
    union = 0;
  for (let o = 0; o < a.rgba.length; o += 4) {
    const fa = a.rgba[o] < 235 ? 1 : 0,
      fb = b.rgba[o] < 235 ? 1 : 0;
    inter += fa & fb;
    union += fa | fb;
  }
  return union ? inter / union : 0;
}

/** CPU milliseconds of this process: on a shared, loaded machine a steadier clock than wall time. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function main() {
  const montage = process.argv.includes('--montage');
  await loadOpenCascade();
  const ids = sampleIds();
  const meshes = new Map<string, MeshData>();
  const images = new Map<string, RgbaImage>();
  const rows: (string | number)[][] = [];
  const meshMs: number[] = [],
    renderMs: number[] = [],
    pngMs: number[] = [];
  const meshCpu: number[] = [],
    renderCpu: number[] = [],
    pngCpu: number[] = [];
  const silhouettes: number[] = [],
    edgeScores: number[] = [],
    rawIous: number[] = [];
  for (const id of ids) {
    const shape = loadStep(id);
    let t = performance.now(),
      c = cpuMs();
    const mesh = meshShape(shape);
    const tMesh = performance.now() - t;
    meshCpu.push(cpuMs() - c);
    renderMesh(mesh); // warm-up: the timed render below is the second
    t = performance.now();
    c = cpuMs();
    const ours = renderMesh(mesh);
    const tRender = performance.now() - t;
    renderCpu.push(cpuMs() - c);
    t = performance.now();
    c = cpuMs();
    encodePng(ours);
    const tPng = performance.now() - t;
    pngCpu.push(cpuMs() - c);
    const image = await loadImage(id);
    meshes.set(id, mesh);
    images.set(id, image);
    const s = scoreRenderAgainstImage(ours, image);
    const raw = rawSilhouetteIou(ours, image);
    meshMs.push(tMesh);
    renderMs.push(tRender);
    pngMs.push(tPng);
    if (!IMAGE_STEP_MISMATCH.has(id)) {
      silhouettes.push(s.silhouette);
      edgeScores.push(s.edges);
      rawIous.push(raw);
    }
    rows.push([
      id + (IMAGE_STEP_MISMATCH.has(id) ? '*' : ''),
      mesh.indices.length / 3,
      s.silhouette.toFixed(3),
      raw.toFixed(3),
      s.edges.toFixed(3),
      s.score.toFixed(3),
      tMesh.toFixed(1),
      tRender.toFixed(1),
      tPng.toFixed(1),
    ]);
  }
  printTable(
    'Our render of each gt STEP vs the real image (* = image shows other geometry, excluded from the summary)',
    ['id', 'triangles', 'sil IoU (fitted)', 'sil IoU (raw 448)', 'edge F (2px)', 'score', 'mesh ms', 'render ms', 'png ms'],
    rows,
  );
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  printTable(
    `Summary over ${silhouettes.length} samples`,
    ['metric', 'mean', 'min', 'p10', 'median'],
    [
      [
        'silhouette IoU (fitted)',
        mean(silhouettes).toFixed(4),
        Math.min(...silhouettes).toFixed(4),
        quantile(silhouettes, 0.1).toFixed(4),
        quantile(silhouettes, 0.5).toFixed(4),
      ],
      [
        'silhouette IoU (raw 448)',
        mean(rawIous).toFixed(4),
        Math.min(...rawIous).toFixed(4),
        quantile(rawIous, 0.1).toFixed(4),
        quantile(rawIous, 0.5).toFixed(4),
      ],
      [
        'edge F-score (2 px of 256)',
        mean(edgeScores).toFixed(4),
        Math.min(...edgeScores).toFixed(4),
        quantile(edgeScores, 0.1).toFixed(4),
        quantile(edgeScores, 0.5).toFixed(4),
      ],
    ],
  );
  const timing = (name: string, wall: number[], cpu: number[]) => [
    name,
    mean(wall).toFixed(1),
    quantile(wall, 0.5).toFixed(1),
    quantile(wall, 0.9).toFixed(1),
    Math.max(...wall).toFixed(1),
    mean(cpu).toFixed(1),
    quantile(cpu, 0.9).toFixed(1),
  ];
  printTable(
    `Timings per shape (warm, 448², one thread; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores)`,
    ['stage', 'wall mean ms', 'wall median', 'wall p90', 'wall max', 'CPU mean ms', 'CPU p90'],
    [timing('mesh (OCCT)', meshMs, meshCpu), timing('render (raster + colour)', renderMs, renderCpu), timing('PNG encode', pngMs, pngCpu)],
  );

  // Ranking: the image's own shape should score above each perturbed candidate.
  const kinds = [...MESH_PERTURBATIONS, 'other shape'] as const;
  const wins = Object.fromEntries(kinds.map((k) => [k, 0])) as Record<string, number>;
  const ties = Object.fromEntries(kinds.map((k) => [k, 0])) as Record<string, number>;
  const losses: string[] = [];
  let total = 0;
  const rankIds = ids.filter((id) => !IMAGE_STEP_MISMATCH.has(id));
  for (let i = 0; i < rankIds.length; i++) {
    const id = rankIds[i];
    const image = images.get(id)!;
    const mesh = meshes.get(id)!;
    const own = scoreRenderAgainstImage(renderMesh(mesh), image).score;
    for (const kind of kinds) {
      const candidate = kind === 'other shape' ? meshes.get(rankIds[(i + 1) % rankIds.length])! : perturbMesh(mesh, kind);
      const other = scoreRenderAgainstImage(renderMesh(candidate), image).score;
      total++;
      if (own > other) wins[kind]++;
      else {
        if (own === other) ties[kind]++;
        losses.push(`${id} ${kind}: own ${own.toFixed(4)} ≤ ${other.toFixed(4)}`);
      }
    }
  }
  const winTotal = Object.values(wins).reduce((a, b) => a + b, 0);
  printTable(
    `Ranking: own STEP scores above the candidate (${rankIds.length} images)`,
    ['candidate', 'wins', 'ties (identical render)', 'rate'],
    [
      ...kinds.map((k) => [k, wins[k], ties[k], (wins[k] / rankIds.length).toFixed(3)]),
      ['all', winTotal, Object.values(ties).reduce((a, b) => a + b, 0), (winTotal / total).toFixed(3)],
    ],
  );
  if (losses.length) console.log(`\nNot ranked above:\n${losses.map((l) => `  ${l}`).join('\n')}`);

  if (montage) {
    const picks = ['00442545', '00014960', '00707758', '00141107', '00070015', '00519312', '00241318', '00972984'];
    const tile = 448,
      gap = 8;
    const composites: { input: Buffer; left: number; top: number }[] = [];
    for (let k = 0; k < picks.length; k++) {
      const col = k % 2,
        row = Math.floor(k / 2);
      const left = col * (2 * tile + 3 * gap),
        top = row * (tile + gap);
      composites.push({ input: await sharp(imagePath(picks[k])).png().toBuffer(), left, top });
      composites.push({ input: Buffer.from(encodePng(renderMesh(meshes.get(picks[k])!))), left: left + tile + gap, top });
    }
    const out = path.join(__dirname, '..', 'docs', 'render-montage.png');
    const width = 4 * tile + 5 * gap,
      height = 4 * tile + 3 * gap;
    await sharp({ create: { width, height, channels: 3, background: { r: 200, g: 60, b: 60 } } })
      .composite(composites)
      .png()
      .toFile(out);
    console.log(`\nwrote ${out}: left of each pair the dataset image, right our render of its STEP`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
