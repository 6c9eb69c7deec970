// Measures the serving mark of rendered images (README, "Leak tracing"): the score of the
// right serving and the best of 20 others after each degradation, the perceptual hash's
// distance, and the gateway's added cost per rendered image (band alone vs band + mark + hash),
// median over many images, in this process. `npx tsx scripts/measure-serving-marks.ts`.
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { watermark } from '../gateway/watermark.js';
import { hammingDistance, leakedImageHashes } from '../tracing/rendered-hash.js';
import { bandGeometry } from '../tracing/rendered-layout.js';
import { MATCH_MARGIN, MATCH_MIN_SCORE, pickServing, scoreServings } from '../tracing/rendered-mark-detector.js';
import { decodeGrey } from '../tracing/rendered-pixels.js';
import { NOT_SURVIVED, phantomJpeg, SURVIVED } from '../test/support/leak-degradations.js';

const SIZES = [256, 512];
const SEEDS = [1, 2, 3, 4, 5];
const BAND = ['clin.alice · grant 0123abcd', '2026-11-29T08:00:00Z'];

/** The band alone, as the gateway burnt it before the serving mark (for the cost comparison). */
async function bandOnly(image: Buffer): Promise<Buffer> {
  const input = sharp(image);
  const { width = 256, height = 256 } = await input.metadata();
  const { fontSize, height: band } = bandGeometry(width, height);
  const text = BAND.map((line, i) => `<text x="${Math.round(fontSize / 2)}" y="${height - band + Math.round(fontSize * 1.3 * (i + 1))}">${line}</text>`).join(
    '',
  );
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect x="0" y="${height - band}" width="${width}" height="${band}" fill="black" fill-opacity="0.55"/><g font-family="DejaVu Sans, sans-serif" font-size="${fontSize}" fill="#ffef00">${text}</g></svg>`;
  return input
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .jpeg({ quality: 90 })
    .toBuffer();
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function survival(): Promise<void> {
  console.log('| degradation | size | right serving z (min … max) | best other of 20 (max) | named right | hash distance (max) |');
  console.log('|---|---|---|---|---|---|');
  for (const [group, catalogue] of [
    ['survives', SURVIVED],
    ['does not', NOT_SURVIVED],
  ] as const) {
    for (const [name, degrade] of Object.entries(catalogue)) {
      for (const size of SIZES) {
        const zs: number[] = [];
        const others: number[] = [];
        const distances: number[] = [];
        let named = 0;
        let wrong = 0;
        for (const seed of SEEDS) {
          const reference = await phantomJpeg(size, seed);
          const servings = Array.from({ length: 20 }, () => randomUUID());
          const served = await watermark(reference, BAND, servings[0]!);
          const leaked = await decodeGrey(await degrade(served.body));
          distances.push(Math.min(...leakedImageHashes(leaked).map((h) => hammingDistance(h, served.renderHash))));
          const result = scoreServings(leaked, await decodeGrey(reference), servings);
          if (!result) continue;
          zs.push(result.scores[0]!.z);
          others.push(Math.max(...result.scores.slice(1).map((s) => s.z)));
          const decision = pickServing(result.scores);
          if (!('weak' in decision)) {
            if (decision.best.servingId === servings[0]) named++;
            else wrong++;
          }
        }
        const range = zs.length ? `${Math.min(...zs).toFixed(1)} … ${Math.max(...zs).toFixed(1)}` : 'not placed';
        const other = others.length ? Math.max(...others).toFixed(1) : '–';
        const verdict = `${named}/${SEEDS.length}${wrong ? ` (WRONG ${wrong})` : ''}`;
        console.log(`| ${group}: ${name} | ${size} | ${range} | ${other} | ${verdict} | ${Math.max(...distances)} |`);
      }
    }
  }
  console.log(`threshold z ≥ ${MATCH_MIN_SCORE}, margin ≥ ${MATCH_MARGIN}`);
}

async function cost(): Promise<void> {
  const rounds = 200;
  for (const size of SIZES) {
    const images = await Promise.all(Array.from({ length: 20 }, (_, i) => phantomJpeg(size, i)));
    const time = async (work: (image: Buffer) => Promise<unknown>) => {
      const samples: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const image = images[i % images.length]!;
        const started = performance.now();
        await work(image);
        samples.push(performance.now() - started);
      }
      return median(samples);
    };
    // Warm up sharp and the JIT on both paths first.
    await time(bandOnly);
    await time((image) => watermark(image, BAND, randomUUID()));
    const band = await time(bandOnly);
    const marked = await time((image) => watermark(image, BAND, randomUUID()));
    const added = `added ${(marked - band).toFixed(2)} ms (×${(marked / band).toFixed(2)})`;
    console.log(`${size}×${size}: band alone ${band.toFixed(2)} ms, band + mark + hash ${marked.toFixed(2)} ms, ${added}, median of ${rounds}`);
  }
}

await survival();
await cost();
