import sharp from 'sharp';
import { escapeXml } from '../contracts/xml.js';
import { renderHashOfPixels, type RenderHash } from '../tracing/rendered-hash.js';
import { bandGeometry, imageAreaHeight } from '../tracing/rendered-layout.js';
import { embedServingMark } from '../tracing/rendered-mark.js';

// Every rendering is a different image: libvips' operation cache would only hold memory.
sharp.cache(false);

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
 * Returns the image in its own format, with the hash of the unmarked image area. One decode
 * and one encode: the band is blended into the decoded pixels here, from a rendering of its
 * text kept while the text and the size stay the same (a second, for one viewer's grant).
 */
export async function watermark(image: Buffer, lines: string[], servingId: string): Promise<WatermarkedImage> {
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const renderHash = renderHashOfPixels(data, width, height, channels, imageAreaHeight(width, height));
  embedServingMark(data, width, height, channels, servingId);
  const band = await bandOverlay(width, height, lines);
  const { pixels, channels: outChannels } = withBand(data, width, height, channels, band);
  const composed = sharp(pixels, { raw: { width, height, channels: outChannels as 3 | 4 } });
  if (isPng(image)) return { body: await composed.png().toBuffer(), contentType: 'image/png', renderHash };
  return { body: await composed.jpeg({ quality: 90 }).toBuffer(), contentType: 'image/jpeg', renderHash };
}

function isPng(image: Buffer): boolean {
  return image.length > 8 && image.readUInt32BE(0) === 0x89504e47;
}

/** The band's pixels, RGBA (not premultiplied), `rows` rows of the image's width, for the bottom of the image. */
interface BandOverlay {
  rgba: Buffer;
  rows: number;
}

const MAX_BANDS = 128;
const bands = new Map<string, Promise<BandOverlay>>();

/** The band as the SVG draws it: a translucent black strip with two lines of yellow text. */
function bandOverlay(width: number, height: number, lines: string[]): Promise<BandOverlay> {
  const key = `${width}x${height}\n${lines.join('\n')}`;
  let band = bands.get(key);
  if (!band) {
    // The band's place is the tracer's too (tracing/rendered-layout.ts): two lines, as sent.
    const { fontSize, height: rows } = bandGeometry(width, height);
    const text = lines.map((line, i) => `<text x="${Math.round(fontSize / 2)}" y="${Math.round(fontSize * 1.3 * (i + 1))}">${escapeXml(line)}</text>`).join('');
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${rows}">
    <rect x="0" y="0" width="${width}" height="${rows}" fill="black" fill-opacity="0.55"/>
    <g font-family="DejaVu Sans, sans-serif" font-size="${fontSize}" fill="#ffef00">${text}</g></svg>`;
    band = sharp(Buffer.from(svg))
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true })
      .then(({ data, info }) => {
        if (info.width !== width || info.height !== rows || info.channels !== 4) throw new Error('the band did not render at its size');
        return { rgba: data, rows };
      });
    // Oldest first out; a failed rendering is not kept.
    if (bands.size >= MAX_BANDS) bands.delete(bands.keys().next().value!);
    bands.set(key, band);
    band.catch(() => bands.delete(key));
  }
  return band;
}

/**
 * The band blended over the bottom rows ("over", as sharp's composite does). Grey images
 * become RGB (grey with alpha, RGBA) so the text keeps its colour; every other pixel keeps
 * its value in each channel.
 */
function withBand(data: Buffer, width: number, height: number, channels: number, band: BandOverlay): { pixels: Buffer; channels: number } {
  const grey = channels < 3;
  const out = grey ? channels + 2 : channels;
  let pixels = data;
  if (grey) {
    pixels = Buffer.allocUnsafe(width * height * out);
    for (let i = 0, o = 0; i < data.length; i += channels, o += out) {
      const v = data[i]!;
      pixels[o] = v;
      pixels[o + 1] = v;
      pixels[o + 2] = v;
      if (channels === 2) pixels[o + 3] = data[i + 1]!;
    }
  }
  const first = (height - band.rows) * width;
  const { rgba } = band;
  for (let p = 0; p < band.rows * width; p++) {
    const b = p * 4;
    const alpha = rgba[b + 3]!;
    if (alpha === 0) continue;
    const o = (first + p) * out;
    for (let c = 0; c < 3; c++) pixels[o + c] = Math.round((pixels[o + c]! * (255 - alpha) + rgba[b + c]! * alpha) / 255);
    if (out === 4) pixels[o + 3] = alpha + Math.round((pixels[o + 3]! * (255 - alpha)) / 255);
  }
  return { pixels, channels: out };
}
