import { cellColumn, cellRow, markGrid, MARK_AMPLITUDE, servingPattern, type MarkGrid } from './rendered-mark.js';
import { overlaps, resampleArea, type GreyImage } from './rendered-pixels.js';

// Reads serving marks out of a leaked rendered image, given the PACS's clean rendering of the
// same instance as the reference: put the reference on the leaked image's grid, subtract, and
// correlate what is left with each candidate serving's pattern.
//
// The score of a pattern p over the per-cell residual sums c is z = Σ c·p / √(Σ c²). For a
// pattern that was not in the image (independent random signs), Hoeffding's inequality bounds
// P(z ≥ t) by exp(−t²/2) whatever the image: the score is a number of standard deviations
// with a known false-alarm rate, not a tuned similarity.

/** Residuals beyond this many grey levels are content that did not line up, not mark: clipped. */
const RESIDUAL_CLIP = 4 * MARK_AMPLITUDE;

/** How the leaked image sits on the reference. */
export interface Alignment {
  /** Reference rows the leaked image's height spans (fractional: a scaled crop rarely ends on a pixel). */
  coveredRows: number;
  /** Leaked rows wholly inside the reference's image area (above the band): the only ones compared. */
  comparedRows: number;
  /** Root-mean-square difference from the reference over those rows, in grey levels. */
  rmsDifference: number;
}

export interface ServingScore {
  servingId: string;
  /** Standard deviations above what a pattern the image does not carry would score. */
  z: number;
}

/**
 * Places the leaked image on the reference: the full width (so the scale is the ratio of the
 * widths), anchored at the top, covering as many reference rows as its height at that scale,
 * give or take the rounding of a crop; the placement with the smallest difference wins.
 * Undefined when nothing of the image area overlaps.
 */
export function alignToReference(leaked: GreyImage, reference: GreyImage, grid: MarkGrid): (Alignment & { residual: Float32Array }) | undefined {
  const scale = leaked.width / reference.width;
  const nominal = leaked.height / scale;
  // Half a leaked pixel at a time, four either way: the crop's rounding at any scale.
  const step = 0.5 / scale;
  let best: (Alignment & { residual: Float32Array }) | undefined;
  for (let k = -4; k <= 4; k++) {
    const coveredRows = nominal + k * step;
    if (coveredRows <= 0) continue;
    const comparedRows = Math.min(leaked.height, Math.floor((grid.areaRows * leaked.height) / coveredRows));
    if (comparedRows < 4) continue;
    const placed = resampleArea(reference, (comparedRows * coveredRows) / leaked.height, leaked.width, comparedRows);
    const residual = new Float32Array(placed.data.length);
    let mean = 0;
    for (let i = 0; i < residual.length; i++) mean += residual[i] = leaked.data[i]! - placed.data[i]!;
    mean /= residual.length;
    let squares = 0;
    for (let i = 0; i < residual.length; i++) {
      residual[i] = residual[i]! - mean;
      squares += residual[i]! ** 2;
    }
    const rmsDifference = Math.sqrt(squares / residual.length);
    if (!best || rmsDifference < best.rmsDifference) best = { coveredRows, comparedRows, rmsDifference, residual };
  }
  return best;
}

/**
 * The residual summed per mark cell, each leaked pixel shared among the cells its footprint
 * on the reference covers: the transposed sampling of the pattern, so that Σ c·p is the
 * correlation of the residual with the pattern as it would look in the leaked image.
 */
export function cellResiduals(
  leaked: { width: number; height: number },
  reference: { width: number; height: number },
  grid: MarkGrid,
  alignment: Alignment & { residual: Float32Array },
): Float64Array {
  const { comparedRows, coveredRows, residual } = alignment;
  const leakedWidth = leaked.width;
  const cellsOf = (pixels: { index: number; weight: number }[], cell: (i: number) => number) => {
    const shares = new Map<number, number>();
    for (const { index, weight } of pixels) {
      const c = cell(index);
      if (c >= 0) shares.set(c, (shares.get(c) ?? 0) + weight);
    }
    return [...shares];
  };
  const xs = overlaps(leakedWidth, 0, reference.width, reference.width).map((p) => cellsOf(p, (x) => cellColumn(grid, x)));
  const ys = overlaps(comparedRows, 0, (comparedRows * coveredRows) / leaked.height, reference.height).map((p) => cellsOf(p, (y) => cellRow(grid, y)));
  const sums = new Float64Array(grid.columns * grid.rows);
  for (let y = 0; y < comparedRows; y++) {
    for (let x = 0; x < leakedWidth; x++) {
      const r = Math.max(-RESIDUAL_CLIP, Math.min(RESIDUAL_CLIP, residual[y * leakedWidth + x]!));
      for (const [row, wy] of ys[y]!) for (const [column, wx] of xs[x]!) sums[row * grid.columns + column] = sums[row * grid.columns + column]! + r * wx * wy;
    }
  }
  return sums;
}

/** z of one pattern against the per-cell residuals (see the top of this file). */
export function patternScore(sums: Float64Array, pattern: Int8Array): number {
  let dot = 0;
  let norm = 0;
  for (let i = 0; i < sums.length; i++) {
    dot += sums[i]! * pattern[i]!;
    norm += sums[i]! ** 2;
  }
  return norm > 0 ? dot / Math.sqrt(norm) : 0;
}

/**
 * Scores each candidate serving of one rendering against a leaked image: how strongly the
 * leaked image carries that serving's pattern once the reference (the PACS's clean rendering,
 * at its own size) is taken away. Undefined when the leaked image cannot be placed on it.
 */
export function scoreServings(
  leaked: GreyImage,
  reference: GreyImage,
  servingIds: readonly string[],
): { alignment: Alignment; scores: ServingScore[] } | undefined {
  const grid = markGrid(reference.width, reference.height);
  const aligned = alignToReference(leaked, reference, grid);
  if (!aligned) return undefined;
  const sums = cellResiduals(leaked, reference, grid, aligned);
  const { residual: _residual, ...alignment } = aligned;
  return { alignment, scores: servingIds.map((servingId) => ({ servingId, z: patternScore(sums, servingPattern(servingId, sums.length)) })) };
}

/**
 * A serving is named only when its score reaches this many standard deviations: a pattern the
 * image does not carry reaches it with probability below exp(−7²/2) ≈ 2·10⁻¹¹ (Hoeffding).
 */
export const MATCH_MIN_SCORE = 7;
/** …and beats the next best serving by at least this much, so two close servings name neither. */
export const MATCH_MARGIN = 4;

/** The one serving the evidence names, or undefined: below the threshold, or not clear of the runner-up. Fails closed. */
export function pickServing<T extends { z: number }>(
  scores: readonly T[],
): { best: T; runnerUp: number } | { best: T | undefined; runnerUp: number; weak: true } {
  const sorted = [...scores].sort((a, b) => b.z - a.z);
  const [best, next] = sorted;
  const runnerUp = Math.max(0, next?.z ?? 0);
  if (!best || best.z < MATCH_MIN_SCORE || best.z - runnerUp < MATCH_MARGIN) return { best, runnerUp, weak: true };
  return { best, runnerUp };
}
