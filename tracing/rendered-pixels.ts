import sharp from 'sharp';

// Grey-level images as the tracing code computes on them: one float per pixel, row by row.
// Luminance is what survives a leak (a re-encoded JPEG keeps it best; colour is subsampled).

export interface GreyImage {
  width: number;
  height: number;
  data: Float32Array;
}

/** Luminance (BT.601, as JPEG's Y) of interleaved 8-bit samples; alpha is ignored. */
export function greyFromRaw(raw: Uint8Array, width: number, height: number, channels: number): GreyImage {
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) {
    const o = i * channels;
    data[i] = channels >= 3 ? 0.299 * raw[o]! + 0.587 * raw[o + 1]! + 0.114 * raw[o + 2]! : raw[o]!;
  }
  return { width, height, data };
}

/** Larger inputs are refused undecoded: a few kilobytes of PNG can claim gigapixels. */
const MAX_INPUT_PIXELS = 40_000_000;

/**
 * Decodes any image sharp reads to grey levels; throws on bytes that are not an image. With
 * `maxWidth`, a wider image is area-averaged down to it first (bounds the work on a copy that
 * was scaled up).
 */
export async function decodeGrey(bytes: Buffer, options: { maxWidth?: number } = {}): Promise<GreyImage> {
  let input = sharp(bytes, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS });
  if (options.maxWidth !== undefined) input = input.resize({ width: options.maxWidth, withoutEnlargement: true, kernel: 'linear' });
  const { data, info } = await input.raw().toBuffer({ resolveWithObject: true });
  return greyFromRaw(data, info.width, info.height, info.channels);
}

/** The top `rows` rows (the image area of a rendering). */
export function topRows(image: GreyImage, rows: number): GreyImage {
  const height = Math.max(1, Math.min(image.height, Math.round(rows)));
  return { width: image.width, height, data: image.data.subarray(0, height * image.width) };
}

/** One output cell's share of each source cell it covers, along one axis. */
export interface Overlap {
  index: number;
  weight: number;
}

/**
 * Along one axis: output cell i covers the source interval [from + i·step, from + (i+1)·step),
 * step = (to − from) / count, on a grid of unit source cells 0 … limit−1. Each output cell gets
 * the source cells it overlaps, weighted by the share of its interval each one covers (parts
 * beyond the grid are dropped, so the weights then sum to less than 1).
 */
export function overlaps(count: number, from: number, to: number, limit: number): Overlap[][] {
  const step = (to - from) / count;
  const result: Overlap[][] = [];
  for (let i = 0; i < count; i++) {
    const start = from + i * step;
    const end = start + step;
    const cells: Overlap[] = [];
    for (let s = Math.max(0, Math.floor(start)); s < Math.min(limit, Math.ceil(end)); s++) {
      const covered = Math.min(end, s + 1) - Math.max(start, s);
      if (covered > 1e-9) cells.push({ index: s, weight: covered / step });
    }
    result.push(cells);
  }
  return result;
}

/**
 * Area-average resampling of the source window [0, width) × [0, rows) (rows may be
 * fractional: a crop that fell between pixels once scaled) to `width` × `height`. Exact for
 * any scale, so the tracer can put a reference on a leaked image's grid to a fraction of a pixel.
 */
export function resampleArea(source: GreyImage, rows: number, width: number, height: number): GreyImage {
  const xs = overlaps(width, 0, source.width, source.width);
  const ys = overlaps(height, 0, rows, source.height);
  // Columns first, into an intermediate of the source's rows and the output's columns.
  const usedRows = Math.min(source.height, Math.ceil(rows));
  const columns = new Float32Array(usedRows * width);
  for (let y = 0; y < usedRows; y++) resampleRow(source.data, y * source.width, xs, columns, y * width);
  return { width, height, data: resampleColumns(columns, width, ys) };
}

/** The first pass of resampleArea: one source row, from `offset`, area-averaged into `xs.length` columns of `out` at `outOffset`. */
export function resampleRow(source: ArrayLike<number>, offset: number, xs: Overlap[][], out: Float32Array, outOffset: number): void {
  for (let x = 0; x < xs.length; x++) {
    let sum = 0;
    let weights = 0;
    for (const { index, weight } of xs[x]!) {
      sum += source[offset + index]! * weight;
      weights += weight;
    }
    out[outOffset + x] = weights > 0 ? sum / weights : 0;
  }
}

/** The second pass of resampleArea: the intermediate's rows (each `width` wide) area-averaged into `ys.length` rows. */
export function resampleColumns(columns: Float32Array, width: number, ys: Overlap[][]): Float32Array {
  const data = new Float32Array(width * ys.length);
  for (let y = 0; y < ys.length; y++) {
    const cells = ys[y]!;
    for (let x = 0; x < width; x++) {
      let sum = 0;
      let weights = 0;
      for (const { index, weight } of cells) {
        sum += columns[index * width + x]! * weight;
        weights += weight;
      }
      data[y * width + x] = weights > 0 ? sum / weights : 0;
    }
  }
  return data;
}
