import { describe, expect, it } from 'vitest';
import { boundaryOf, multipartParts, MultipartError, type MultipartPart } from '../../gateway/multipart-parts.js';

const boundary = '2dcdbabc-5123-4fd3-b52e-a1ebe1c8a437';

/** A body as Orthanc frames it, cut into chunks of the given sizes (cycled). */
function body(parts: Buffer[], options: { preamble?: string; epilogue?: string } = {}): Buffer {
  return Buffer.concat([
    Buffer.from(options.preamble ?? ''),
    ...parts.flatMap((p, i) => [
      Buffer.from(`${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: application/dicom\r\nContent-Length: ${p.length}\r\nMIME-Version: 1.0\r\n\r\n`),
      p,
    ]),
    Buffer.from(`\r\n--${boundary}--\r\n${options.epilogue ?? ''}`),
  ]);
}

async function* chunked(data: Buffer, sizes: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const size = sizes[i % sizes.length]!;
    yield new Uint8Array(data.subarray(at, at + size));
    at += size;
  }
}

async function collect(data: Buffer, sizes: number[], maxPartBytes = 1 << 20): Promise<MultipartPart[]> {
  const parts: MultipartPart[] = [];
  for await (const part of multipartParts(chunked(data, sizes), boundary, { maxPartBytes })) parts.push(part);
  return parts;
}

// Parts whose bytes come close to the delimiter: CR LF and dashes, and the boundary without its leading CRLF.
const tricky = [
  Buffer.from(`\r\n-\r\n--${boundary.slice(0, -1)}X\r\n--`),
  Buffer.alloc(0),
  Buffer.from(`--${boundary}`),
  Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff)),
];

describe('multipartParts', () => {
  it.each([[[1]], [[2, 3, 5]], [[7, 64]], [[39, 40, 41, 100, 13]], [[4096]], [[100_000]]])(
    'yields every part whole, whatever the chunking (%j)',
    async (sizes) => {
      const parts = await collect(body(tricky, { preamble: 'ignored preamble\r\n', epilogue: 'ignored epilogue' }), sizes);
      expect(parts.map((p) => p.body)).toEqual(tricky);
      expect(parts[0]!.headers.get('content-type')).toBe('application/dicom');
    },
  );

  it('yields the same parts for many random chunkings', async () => {
    const whole = body(tricky, { preamble: 'p\r\n', epilogue: 'e' });
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 90;
    for (let run = 0; run < 200; run++) {
      const sizes = Array.from({ length: 16 }, () => 1 + random());
      expect((await collect(whole, sizes)).map((p) => p.body)).toEqual(tricky);
    }
  });

  it('refuses a body that ends before its close delimiter', async () => {
    const whole = body(tricky);
    await expect(collect(whole.subarray(0, whole.length - 10), [512])).rejects.toBeInstanceOf(MultipartError);
  });

  it('refuses a part larger than the limit', async () => {
    await expect(collect(body(tricky), [512], 2999)).rejects.toThrow(/larger than 2999/);
  });

  it('reads boundaries quoted or not, and refuses a missing one', () => {
    expect(boundaryOf(`multipart/related; type="application/dicom"; boundary=${boundary}`)).toBe(boundary);
    expect(boundaryOf(`multipart/related; boundary="${boundary}"; type="application/dicom"`)).toBe(boundary);
    expect(boundaryOf('multipart/related; type="application/dicom"')).toBeUndefined();
    expect(boundaryOf('multipart/related; boundary=')).toBeUndefined();
  });
});
