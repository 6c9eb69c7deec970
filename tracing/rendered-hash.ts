import { bandGeometry } from './rendered-layout.js';
import { overlaps, resampleArea, resampleColumns, resampleRow, topRows, type GreyImage } from './rendered-pixels.js';

// A perceptual hash of a rendering's image area (DCT pHash, 64 bits). It names the picture,
// not the serving: every serving of one instance hashes alike, so it only finds the servings
// worth checking for their mark. It survives re-encoding and scaling because it reads the
// lowest spatial frequencies only.

const SIDE = 32;
const BITS = 64;

/** 16 lower-case hex digits, as access records keep it. */
export type RenderHash = string;

export const RENDER_HASH_PATTERN = /^[0-9a-f]{16}$/;

/** The 64 lowest-frequency AC coefficients of a 32×32 DCT, in zigzag order (DC left out: it is the brightness). */
const ZIGZAG: [number, number][] = (() => {
  const order: [number, number][] = [];
  for (let sum = 1; order.length < BITS; sum++) {
    for (let u = 0; u <= sum && order.length < BITS; u++) {
      const v = sum - u;
      order.push(sum % 2 === 0 ? [v, u] : [u, v]);
    }
  }
  return order;
})();

const COSINES: Float64Array[] = Array.from({ length: SIDE }, (_, k) => {
  const row = new Float64Array(SIDE);
  for (let n = 0; n < SIDE; n++) row[n] = Math.cos(((2 * n + 1) * k * Math.PI) / (2 * SIDE));
  return row;
});

/** pHash of a grey image: 32×32 area average, 2-D DCT, each of 64 low coefficients above their median or not. */
export function perceptualHash(image: GreyImage): RenderHash {
  return hashOfThumbnail(resampleArea(image, image.height, SIDE, SIDE).data);
}

/** The pHash of a 32×32 area average. */
function hashOfThumbnail(small: Float32Array): RenderHash {
  const coefficients = ZIGZAG.map(([u, v]) => {
    let sum = 0;
    const cu = COSINES[u]!;
    const cv = COSINES[v]!;
    for (let y = 0; y < SIDE; y++) {
      let row = 0;
      for (let x = 0; x < SIDE; x++) row += small[y * SIDE + x]! * cu[x]!;
      sum += row * cv[y]!;
    }
    return sum;
  });
  const median = [...coefficients].sort((a, b) => a - b)[BITS / 2]!;
  let hash = 0n;
  for (const c of coefficients) hash = (hash << 1n) | (c > median ? 1n : 0n);
  return hash.toString(16).padStart(16, '0');
}

/** Bits in which two hashes differ (0 … 64). */
export function hammingDistance(a: RenderHash, b: RenderHash): number {
  let x = BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
  let count = 0;
  for (; x; x &= x - 1n) count++;
  return count;
}

/** The hash of a rendering's image area, the rows above the band: what the gateway keeps with each serving. */
export function renderHashOfImageArea(image: GreyImage, imageAreaRows: number): RenderHash {
  return perceptualHash(topRows(image, imageAreaRows));
}

/**
 * renderHashOfImageArea(greyFromRaw(pixels, …), imageAreaRows), to the bit, straight from
 * interleaved 8-bit pixels: the gateway hashes every rendering it serves, and a grey copy of
 * the whole image is most of that work. One row of grey at a time, converted as greyFromRaw does.
 */
export function renderHashOfPixels(pixels: Uint8Array, width: number, height: number, channels: number, imageAreaRows: number): RenderHash {
  const rows = Math.max(1, Math.min(height, Math.round(imageAreaRows)));
  const xs = overlaps(SIDE, 0, width, width);
  const ys = overlaps(SIDE, 0, rows, rows);
  const grey = new Float32Array(width);
  const columns = new Float32Array(rows * SIDE);
  for (let y = 0; y < rows; y++) {
    let o = y * width * channels;
    if (channels >= 3) for (let x = 0; x < width; x++, o += channels) grey[x] = 0.299 * pixels[o]! + 0.587 * pixels[o + 1]! + 0.114 * pixels[o + 2]!;
    else for (let x = 0; x < width; x++, o += channels) grey[x] = pixels[o]!;
    resampleRow(grey, 0, xs, columns, y * SIDE);
  }
  return hashOfThumbnail(resampleColumns(columns, SIDE, ys));
}

/**
 * Hashes of a leaked image's possible image areas: as it is (the band cropped off), and
 * without the band as it would sit on a rendering of 128 to 1024 rows scaled to this size
 * (the band's share of the height depends on the size it was burnt in at).
 */
export function leakedImageHashes(image: GreyImage): RenderHash[] {
  const fractions = [0];
  for (const rows of [128, 256, 512, 1024]) {
    const columns = Math.round((rows * image.width) / image.height);
    const fraction = bandGeometry(columns, rows).height / rows;
    if (fractions.every((f) => Math.abs(f - fraction) > 0.01)) fractions.push(fraction);
  }
  return [...new Set(fractions.map((f) => perceptualHash(topRows(image, image.height * (1 - f)))))];
}
