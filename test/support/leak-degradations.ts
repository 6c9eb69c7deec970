import sharp from 'sharp';
import { imageAreaHeight } from '../../tracing/rendered-layout.js';

// What happens to a rendered image on its way out: the degradations the leak tracer must see
// through (re-encoding, scaling, the band cropped off, and their combinations), and some it
// is not expected to (rotation, a heavy crop, re-windowing, a photo of a screen). Shared by
// the unit tests and the measurement in scripts/measure-serving-marks.ts.

/** A 256×256-style CT slice with texture and noise, as 8-bit grey (a stand-in for the PACS's rendering). */
export function texturedPhantom(size: number, seed: number): Buffer {
  const pixels = Buffer.alloc(size * size);
  let state = seed * 7919 + 104729;
  const random = () => (state = (state * 16807) % 2147483647) / 2147483647;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = x / size;
      const v = y / size;
      const body = ((u - 0.5) / 0.44) ** 2 + ((v - 0.47) / 0.36) ** 2 < 1;
      const lung = [0.33, 0.67].some((cx) => ((u - cx) / 0.12) ** 2 + ((v - 0.4) / 0.18) ** 2 < 1);
      const bone = (u - 0.5) ** 2 + (v - 0.67) ** 2 < 0.004 + (seed % 5) * 0.0006;
      let grey = !body ? 4 : bone ? 232 : lung ? 30 + 15 * Math.sin(u * 40 + seed) * Math.sin(v * 35) : 120 + 10 * Math.sin(u * 25 + v * 13 + seed);
      if (v > 0.875) grey = 100; // the table, under the band
      grey += (random() - 0.5) * 12;
      pixels[y * size + x] = Math.max(0, Math.min(255, Math.round(grey)));
    }
  }
  return pixels;
}

/** The phantom as the PACS would send it: a JPEG. */
export function phantomJpeg(size: number, seed: number): Promise<Buffer> {
  return sharp(texturedPhantom(size, seed), { raw: { width: size, height: size, channels: 1 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

type Degradation = (image: Buffer) => Promise<Buffer>;

async function size(image: Buffer): Promise<{ width: number; height: number }> {
  const { width = 0, height = 0 } = await sharp(image).metadata();
  return { width, height };
}

const jpeg =
  (quality: number): Degradation =>
  (image) =>
    sharp(image).jpeg({ quality }).toBuffer();
const scale =
  (factor: number, kernel: 'lanczos3' | 'linear' = 'lanczos3'): Degradation =>
  async (image) =>
    sharp(image)
      .resize({ width: Math.round((await size(image)).width * factor), kernel })
      .png()
      .toBuffer();
/** Crops to the image area: the band, at the bottom, gone. */
const cropBand: Degradation = async (image) => {
  const { width, height } = await size(image);
  return sharp(image)
    .extract({ left: 0, top: 0, width, height: imageAreaHeight(width, height) })
    .png()
    .toBuffer();
};
const then =
  (...steps: Degradation[]): Degradation =>
  async (image) => {
    for (const step of steps) image = await step(image);
    return image;
  };

/** Expected to be traced to the right serving. */
export const SURVIVED: Record<string, Degradation> = {
  'as served': async (image) => image,
  'JPEG q50': jpeg(50),
  'JPEG q30': jpeg(30),
  'scaled to 50%': then(scale(0.5), jpeg(90)),
  'scaled to 33%': then(scale(1 / 3), jpeg(90)),
  'band cropped off': then(cropBand, jpeg(90)),
  'band cropped, JPEG q30': then(cropBand, jpeg(30)),
  'band cropped, 50%, JPEG q50': then(cropBand, scale(0.5), jpeg(50)),
  'band cropped, 33%, JPEG q50': then(cropBand, scale(1 / 3), jpeg(50)),
  'band cropped, 33%, JPEG q30': then(cropBand, scale(1 / 3), jpeg(30)),
  '33% (bilinear), JPEG q30': then(scale(1 / 3, 'linear'), jpeg(30)),
  'PNG screenshot of the band-less image': then(cropBand),
};

/** Not expected to be traced (measured, and reported in the README): the tracer must then name nobody. */
export const NOT_SURVIVED: Record<string, Degradation> = {
  'rotated 3°': then((image) => sharp(image).rotate(3, { background: '#000' }).toBuffer(), jpeg(75)),
  'left 15% cropped off': async (image) => {
    const { width, height } = await size(image);
    const left = Math.round(width * 0.15);
    return sharp(image)
      .extract({ left, top: 0, width: width - left, height })
      .jpeg({ quality: 75 })
      .toBuffer();
  },
  'centre half only': async (image) => {
    const { width, height } = await size(image);
    return sharp(image)
      .extract({ left: Math.round(width / 4), top: Math.round(height / 4), width: Math.round(width / 2), height: Math.round(height / 2) })
      .jpeg({ quality: 75 })
      .toBuffer();
  },
  're-windowed (contrast ×1.5)': then((image) => sharp(image).linear(1.5, -60).toBuffer(), jpeg(75)),
  'photo-like (blur, 2° tilt, noise, q60)': then(
    (image) => sharp(image).blur(1.2).rotate(2, { background: '#000' }).toBuffer(),
    async (image) => {
      const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
      let state = 12345;
      for (let i = 0; i < data.length; i++) {
        state = (state * 16807) % 2147483647;
        data[i] = Math.max(0, Math.min(255, data[i]! + (state / 2147483647 - 0.5) * 24));
      }
      return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
        .jpeg({ quality: 60 })
        .toBuffer();
    },
  ),
  'scaled to 20%, JPEG q30': then(cropBand, scale(0.2), jpeg(30)),
};

/** As a leaker would pass a rendering on: the band cropped off, scaled to 40%, re-encoded at JPEG quality 40. */
export async function leakedCopy(image: Buffer): Promise<Buffer> {
  const { width, height } = await size(image);
  const cropped = await sharp(image)
    .extract({ left: 0, top: 0, width, height: imageAreaHeight(width, height) })
    .png()
    .toBuffer();
  return sharp(cropped)
    .resize({ width: Math.round(width * 0.4) })
    .jpeg({ quality: 40 })
    .toBuffer();
}
