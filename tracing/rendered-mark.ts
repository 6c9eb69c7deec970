import { createHash } from 'node:crypto';
import { imageAreaHeight } from './rendered-layout.js';

// The serving mark: a faint pseudo-random pattern of square cells over the image area of a
// rendered image, each cell a little lighter or a little darker (±MARK_AMPLITUDE grey levels),
// the signs drawn from the serving id. Every serving gets its own pattern, so two viewers of
// the same instance get images that differ only by it, and a leaked copy can be told apart
// from every other serving by correlating with each one's pattern (rendered-mark-detector.ts).
// Coarse cells carry low spatial frequencies, which JPEG and scaling keep; the band is left
// alone (it is text, and is often cropped).

/** Grey levels (of 255) added to or taken from each pixel of the image area. */
export const MARK_AMPLITUDE = 2;

/** Cells are about this many pixels across at the rendering's own size. */
const CELL_PIXELS = 8;

export interface MarkGrid {
  columns: number;
  rows: number;
  /** In pixels of the rendering; fractional, so the grid spans the image area exactly. */
  cellWidth: number;
  cellHeight: number;
  /** Rows of the image area that the grid covers. */
  areaRows: number;
}

/** The cells over a `width` × `height` rendering's image area. */
export function markGrid(width: number, height: number): MarkGrid {
  const areaRows = imageAreaHeight(width, height);
  const columns = Math.min(64, Math.max(8, Math.round(width / CELL_PIXELS)));
  const cellWidth = width / columns;
  const rows = Math.max(1, Math.round(areaRows / cellWidth));
  return { columns, rows, cellWidth, cellHeight: areaRows / rows, areaRows };
}

/** The cell column of pixel column x (by its centre). */
export function cellColumn(grid: MarkGrid, x: number): number {
  return Math.min(grid.columns - 1, Math.floor((x + 0.5) / grid.cellWidth));
}

/** The cell row of pixel row y (by its centre); -1 below the image area. */
export function cellRow(grid: MarkGrid, y: number): number {
  if (y >= grid.areaRows) return -1;
  return Math.min(grid.rows - 1, Math.floor((y + 0.5) / grid.cellHeight));
}

/**
 * One sign per cell (+1 or −1, row by row), from SHA-256 of the serving id in counter mode:
 * the same serving id always gives the same pattern, and different ids independent ones.
 */
export function servingPattern(servingId: string, cells: number): Int8Array {
  const signs = new Int8Array(cells);
  for (let block = 0; block * 256 < cells; block++) {
    const digest = createHash('sha256').update(`iar-serving-mark:v1:${servingId}:${block}`).digest();
    for (let bit = 0; bit < 256 && block * 256 + bit < cells; bit++) {
      signs[block * 256 + bit] = (digest[bit >> 3]! >> (bit & 7)) & 1 ? 1 : -1;
    }
  }
  return signs;
}

/**
 * Adds the serving's pattern to interleaved 8-bit pixels in place: colour channels alike (so
 * the luminance carries it), alpha untouched, clamped to 0 … 255. Runs on every rendering the
 * gateway serves: the clamp is the typed array's own, and each cell row's deltas are looked up
 * once, not per pixel.
 */
export function embedServingMark(pixels: Uint8Array, width: number, height: number, channels: number, servingId: string): void {
  const grid = markGrid(width, height);
  const pattern = servingPattern(servingId, grid.columns * grid.rows);
  const colourChannels = channels === 2 || channels === 4 ? channels - 1 : channels;
  const clamped = new Uint8ClampedArray(pixels.buffer, pixels.byteOffset, pixels.length);
  const columnCells = Int32Array.from({ length: width }, (_, x) => cellColumn(grid, x));
  const deltas = new Int16Array(width);
  let deltasRow = -1;
  for (let y = 0; y < grid.areaRows; y++) {
    const row = cellRow(grid, y);
    if (row !== deltasRow) {
      for (let x = 0; x < width; x++) deltas[x] = pattern[row * grid.columns + columnCells[x]!]! * MARK_AMPLITUDE;
      deltasRow = row;
    }
    let o = y * width * channels;
    if (channels === 3) {
      // Colour renderings, the common case, without the inner loop.
      for (let x = 0; x < width; x++, o += 3) {
        const delta = deltas[x]!;
        clamped[o] = clamped[o]! + delta;
        clamped[o + 1] = clamped[o + 1]! + delta;
        clamped[o + 2] = clamped[o + 2]! + delta;
      }
      continue;
    }
    for (let x = 0; x < width; x++, o += channels) {
      const delta = deltas[x]!;
      for (let c = 0; c < colourChannels; c++) clamped[o + c] = clamped[o + c]! + delta;
    }
  }
}
