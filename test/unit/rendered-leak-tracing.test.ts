import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { HASH_MAX_DISTANCE } from '../../api/leak-tracer.js';
import { watermark } from '../../gateway/watermark.js';
import { hammingDistance, leakedImageHashes, perceptualHash } from '../../tracing/rendered-hash.js';
import { imageAreaHeight } from '../../tracing/rendered-layout.js';
import { embedServingMark, MARK_AMPLITUDE, servingPattern } from '../../tracing/rendered-mark.js';
import { MATCH_MARGIN, MATCH_MIN_SCORE, pickServing, scoreServings } from '../../tracing/rendered-mark-detector.js';
import { decodeGrey, type GreyImage } from '../../tracing/rendered-pixels.js';
import { parseRenderSource, renderSourceOf } from '../../tracing/rendered-source.js';
import { NOT_SURVIVED, phantomJpeg, SURVIVED } from '../support/leak-degradations.js';

// The serving mark of rendered images, without servers: the gateway's watermark() on a
// phantom, the copy degraded as a leaker would, and the tracer's detector asked to pick the
// serving among 20 servings of the same image.

const BAND = ['clin.alice · grant 0123abcd', '2026-11-29T08:00:00Z'];
const servings = Array.from({ length: 20 }, () => randomUUID());
const leaker = servings[7]!;

let reference: Buffer;
let referenceGrey: GreyImage;
let served: Awaited<ReturnType<typeof watermark>>;

beforeAll(async () => {
  reference = await phantomJpeg(256, 3);
  referenceGrey = await decodeGrey(reference);
  served = await watermark(reference, BAND, leaker);
});

async function trace(leaked: Buffer, candidates: readonly string[] = servings) {
  const result = scoreServings(await decodeGrey(leaked), referenceGrey, candidates)!;
  expect(result).toBeDefined();
  return { ...result, decision: pickServing(result.scores) };
}

async function hashDistance(leaked: Buffer): Promise<number> {
  return Math.min(...leakedImageHashes(await decodeGrey(leaked)).map((hash) => hammingDistance(hash, served.renderHash)));
}

describe('the serving mark', () => {
  it('changes the image area by at most the amplitude, leaves the band to the band, and differs per serving', async () => {
    const { data, info } = await sharp(reference).raw().toBuffer({ resolveWithObject: true });
    const marked = Buffer.from(data);
    embedServingMark(marked, info.width, info.height, info.channels, leaker);
    const area = imageAreaHeight(info.width, info.height);
    let changed = 0;
    for (let i = 0; i < data.length; i++) {
      const difference = Math.abs(marked[i]! - data[i]!);
      expect(difference).toBeLessThanOrEqual(MARK_AMPLITUDE);
      if (i >= area * info.width * info.channels) expect(difference).toBe(0);
      if (difference > 0) changed++;
    }
    expect(changed / (area * info.width * info.channels)).toBeGreaterThan(0.9);
    const a = servingPattern(servings[0]!, 1000);
    const b = servingPattern(servings[1]!, 1000);
    expect(servingPattern(servings[0]!, 1000)).toEqual(a);
    const agreement = a.reduce((sum, sign, i) => sum + (sign === b[i] ? 1 : 0), 0);
    expect(agreement).toBeGreaterThan(400);
    expect(agreement).toBeLessThan(600);
  });

  it.each(Object.keys(SURVIVED))('names the right serving among 20 after: %s', async (name) => {
    const leaked = await SURVIVED[name]!(served.body);
    const { decision, scores } = await trace(leaked);
    expect('weak' in decision, `${name}: ${JSON.stringify(scores.map((s) => s.z.toFixed(1)))}`).toBe(false);
    expect(decision.best?.servingId).toBe(leaker);
    expect(decision.best!.z).toBeGreaterThanOrEqual(MATCH_MIN_SCORE);
    expect(decision.best!.z - decision.runnerUp).toBeGreaterThanOrEqual(MATCH_MARGIN);
  });

  it.each(Object.keys(SURVIVED))('finds the picture by its hash after: %s', async (name) => {
    expect(await hashDistance(await SURVIVED[name]!(served.body))).toBeLessThanOrEqual(HASH_MAX_DISTANCE);
  });

  it.each(['JPEG q30', 'band cropped, 33%, JPEG q30'])('names nobody for an unmarked rendering of the same image after: %s', async (name) => {
    // The band as the gateway burns it, but no mark: an image that did not leave through us.
    const { data, info } = await sharp(reference).raw().toBuffer({ resolveWithObject: true });
    const unmarked = await sharp(data, { raw: info })
      .composite([{ input: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${info.width}" height="${info.height}"/>`) }])
      .jpeg({ quality: 90 })
      .toBuffer();
    const { decision } = await trace(await SURVIVED[name]!(unmarked));
    expect('weak' in decision).toBe(true);
    expect(decision.best!.z).toBeLessThan(MATCH_MIN_SCORE);
  });

  it.each(['as served', 'band cropped, 50%, JPEG q50'])('names nobody for a rendering marked for a serving not among the candidates: %s', async (name) => {
    const elsewhere = await watermark(reference, BAND, randomUUID());
    const { decision } = await trace(await SURVIVED[name]!(elsewhere.body));
    expect('weak' in decision).toBe(true);
  });

  it('names neither of two servings it cannot tell apart, and nobody when there is no candidate', () => {
    expect('weak' in pickServing([{ z: 20 }, { z: 17 }])).toBe(true);
    expect('weak' in pickServing([{ z: 6.9 }])).toBe(true);
    expect(pickServing([]).best).toBeUndefined();
    expect('weak' in pickServing([{ z: 7 }, { z: 2 }])).toBe(false);
  });

  it.each(Object.keys(NOT_SURVIVED))('does not name a wrong serving after what it does not survive: %s', async (name) => {
    // Whether the right one is still found is measured, not promised; a wrong one, never.
    const leaked = await NOT_SURVIVED[name]!(served.body);
    const result = scoreServings(await decodeGrey(leaked), referenceGrey, servings);
    const decision = result && pickServing(result.scores);
    if (decision && !('weak' in decision)) expect(decision.best.servingId).toBe(leaker);
  });
});

describe('the perceptual hash', () => {
  it('tells different pictures apart', async () => {
    const others = await Promise.all([1, 2, 4].map((seed) => phantomJpeg(256, seed).then(decodeGrey)));
    const greys = [referenceGrey, ...others];
    const hashes = greys.map((grey) => perceptualHash({ ...grey, height: imageAreaHeight(grey.width, grey.height) }));
    expect(new Set(hashes).size).toBe(4);
    const flipped = await decodeGrey(await sharp(reference).flop().jpeg().toBuffer());
    expect(hammingDistance(perceptualHash(flipped), perceptualHash(referenceGrey))).toBeGreaterThan(HASH_MAX_DISTANCE);
  });

  it('is kept with each serving as the hash of the image area before the mark', async () => {
    const again = await watermark(reference, BAND, servings[0]!);
    expect(again.renderHash).toBe(served.renderHash);
    expect(again.body.equals(served.body)).toBe(false);
  });
});

describe('the rendering source', () => {
  const path = '/studies/1.2.3/series/1.2.3.1/instances/1.2.3.1.1/rendered';

  it('keeps the path and the parameters that shape pixels, sorted, and drops the encoding', () => {
    const source = renderSourceOf(path, new URLSearchParams('window=-600,1500,linear&viewport=128,128&accept=image/png'));
    expect(source).toBe(`${path}?viewport=128,128&window=-600,1500,linear`);
    expect(parseRenderSource(source!)?.query.get('window')).toBe('-600,1500,linear');
    expect(renderSourceOf(`${path.replace('/rendered', '')}/frames/2/rendered`, new URLSearchParams())).toBe(
      `${path.replace('/rendered', '')}/frames/2/rendered`,
    );
  });

  it('keeps nothing it cannot check: other paths, other values, text', () => {
    expect(renderSourceOf('/studies/1.2.3/metadata', new URLSearchParams())).toBeNull();
    expect(renderSourceOf(path, new URLSearchParams('viewport=SMITH^JOHN'))).toBeNull();
    expect(renderSourceOf(path, new URLSearchParams('quality=90&PatientName=x'))).toBeNull();
    expect(parseRenderSource('/studies/1.2.3/rendered?PatientID=SYN-0001')).toBeUndefined();
    expect(parseRenderSource('/instances/abc/file')).toBeUndefined();
  });
});
