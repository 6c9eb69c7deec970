import sharp from 'sharp';
import { escapeXml } from '../contracts/xml.js';
import { renderHashOfImageArea, type RenderHash } from '../tracing/rendered-hash.js';
import { bandGeometry, imageAreaHeight } from '../tracing/rendered-layout.js';
import { embedServingMark } from '../tracing/rendered-mark.js';
import { greyFromRaw } from '../tracing/rendered-pixels.js';

export interface WatermarkedImage {
  body: Buffer;
  contentType: string;
  /** Perceptual hash of the image area as the PACS rendered it, before any mark: kept with the access record. */
  renderHash: RenderHash;
}

/**
 * Marks a rendered image twice, so that a copy that leaks names its source:
 * - a visible band naming the viewer, the grant and the time, for anyone who looks;
 * - the serving mark in the image area above it (tracing/rendered-mark.ts), which survives
 *   the band being cropped off, re-encoding and scaling, and names this serving alone.
 * Returns the image in its own format, with the hash of the unmarked image area.
 */
export async function watermark(image: Buffer, lines: string[], servingId: string): Promise<WatermarkedImage> {
  const input = sharp(image);
  const { format } = await input.metadata();
  const { data, info } = await input.raw().toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const renderHash = renderHashOfImageArea(greyFromRaw(data, width, height, channels), imageAreaHeight(width, height));
  embedServingMark(data, width, height, channels, servingId);

  // The band's place is the tracer's too (tracing/rendered-layout.ts): two lines, as sent.
  const { fontSize, height: band } = bandGeometry(width, height);
  const text = lines
    .map((line, i) => `<text x="${Math.round(fontSize / 2)}" y="${height - band + Math.round(fontSize * 1.3 * (i + 1))}">${escapeXml(line)}</text>`)
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect x="0" y="${height - band}" width="${width}" height="${band}" fill="black" fill-opacity="0.55"/>
    <g font-family="DejaVu Sans, sans-serif" font-size="${fontSize}" fill="#ffef00">${text}</g></svg>`;
  const composed = sharp(data, { raw: { width, height, channels } }).composite([{ input: Buffer.from(svg), top: 0, left: 0 }]);
  if (format === 'png') return { body: await composed.png().toBuffer(), contentType: 'image/png', renderHash };
  return { body: await composed.jpeg({ quality: 90 }).toBuffer(), contentType: 'image/jpeg', renderHash };
}
