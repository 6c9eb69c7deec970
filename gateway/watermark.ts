import sharp from 'sharp';
import { escapeXml } from '../contracts/xml.js';

/**
 * Burns a visible band into a rendered image naming the viewer, the grant and the time, so a
 * screenshot that leaks names its source. Returns the image in its own format.
 */
export async function watermark(image: Buffer, lines: string[]): Promise<{ body: Buffer; contentType: string }> {
  const input = sharp(image);
  const { width = 256, height = 256, format } = await input.metadata();
  const fontSize = Math.max(8, Math.round(Math.min(width, height) / 22));
  const band = Math.round(fontSize * 1.35 * lines.length + fontSize * 0.6);
  const text = lines
    .map((line, i) => `<text x="${Math.round(fontSize / 2)}" y="${height - band + Math.round(fontSize * 1.3 * (i + 1))}">${escapeXml(line)}</text>`)
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect x="0" y="${height - band}" width="${width}" height="${band}" fill="black" fill-opacity="0.55"/>
    <g font-family="DejaVu Sans, sans-serif" font-size="${fontSize}" fill="#ffef00">${text}</g></svg>`;
  const composed = input.composite([{ input: Buffer.from(svg), top: 0, left: 0 }]);
  if (format === 'png') return { body: await composed.png().toBuffer(), contentType: 'image/png' };
  return { body: await composed.jpeg({ quality: 90 }).toBuffer(), contentType: 'image/jpeg' };
}
