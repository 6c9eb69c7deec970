import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { renderHashOfImageArea, renderHashOfPixels } from '../../tracing/rendered-hash.js';
import { cellColumn, cellRow, embedServingMark, MARK_AMPLITUDE, markGrid, servingPattern } from '../../tracing/rendered-mark.js';
import { greyFromRaw } from '../../tracing/rendered-pixels.js';

// The gateway marks and hashes every rendering it serves, so both run on its hot path in
// forms written for speed. The tracer reads marks and hashes with the plain forms: the fast
// ones must give the same bytes and the same bits, or a leaked copy would not trace back.

/** Deterministic pixels with edges, flat areas and values at 0 and 255 (the clamp's cases). */
function pixels(width: number, height: number, channels: number, seed: string): Uint8Array {
  const out = new Uint8Array(width * height * channels);
  let block = Buffer.alloc(0);
  for (let i = 0; i < out.length; i++) {
    if (i % 32 === 0) block = createHash('sha256').update(`${seed}:${i}`).digest();
    const x = Math.floor(i / channels) % width;
    const noise = block[i % 32]!;
    out[i] = x < width / 4 ? 0 : x < width / 2 ? 255 : x < (3 * width) / 4 ? noise : (x * 7) & 0xff;
  }
  return out;
}

/** The mark as the tracer's documentation states it, one pixel and one channel at a time. */
function markedPlainly(source: Uint8Array, width: number, height: number, channels: number, servingId: string): Uint8Array {
  const out = Uint8Array.from(source);
  const grid = markGrid(width, height);
  const pattern = servingPattern(servingId, grid.columns * grid.rows);
  const colourChannels = channels === 2 || channels === 4 ? channels - 1 : channels;
  for (let y = 0; y < grid.areaRows; y++) {
    for (let x = 0; x < width; x++) {
      const delta = pattern[cellRow(grid, y) * grid.columns + cellColumn(grid, x)]! * MARK_AMPLITUDE;
      for (let c = 0; c < colourChannels; c++) {
        const o = (y * width + x) * channels + c;
        out[o] = Math.max(0, Math.min(255, out[o]! + delta));
      }
    }
  }
  return out;
}

const SHAPES = [
  { width: 256, height: 256, channels: 3 },
  { width: 512, height: 384, channels: 1 },
  { width: 97, height: 131, channels: 4 },
  { width: 64, height: 40, channels: 2 },
];

describe('the gateway’s fast paths for rendered images', () => {
  it.each(SHAPES)('mark $width×$height×$channels exactly as the plain form does', ({ width, height, channels }) => {
    const source = pixels(width, height, channels, `mark-${width}`);
    const fast = Uint8Array.from(source);
    embedServingMark(fast, width, height, channels, 'serving-1');
    const plain = markedPlainly(source, width, height, channels, 'serving-1');
    expect(Buffer.from(fast).equals(Buffer.from(plain))).toBe(true);
    // Not a no-op: the mark changed the image area.
    expect(Buffer.from(fast).equals(Buffer.from(source))).toBe(false);
  });

  it('marks a pixel that is a view into a larger buffer without touching its neighbours', () => {
    const width = 32;
    const height = 32;
    const backing = new Uint8Array(16 + width * height * 3 + 16).fill(77);
    const view = backing.subarray(16, 16 + width * height * 3);
    const expected = markedPlainly(Uint8Array.from(view), width, height, 3, 'serving-2');
    embedServingMark(view, width, height, 3, 'serving-2');
    expect(Buffer.from(view).equals(Buffer.from(expected))).toBe(true);
    expect([...backing.subarray(0, 16), ...backing.subarray(16 + view.length)].every((v) => v === 77)).toBe(true);
  });

  it.each(SHAPES)('hash $width×$height×$channels to the bit as the tracer does', ({ width, height, channels }) => {
    for (const [seed, areaRows] of [
      ['a', height * 0.9],
      ['b', height],
      ['c', 1],
      ['d', height * 0.5 + 0.4],
    ] as const) {
      const source = pixels(width, height, channels, `hash-${seed}-${width}`);
      expect(renderHashOfPixels(source, width, height, channels, areaRows)).toBe(renderHashOfImageArea(greyFromRaw(source, width, height, channels), areaRows));
    }
  });
});
