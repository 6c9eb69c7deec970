import dicomParser from 'dicom-parser';
import { describe, expect, it } from 'vitest';
import { DicomTraceError } from '../../tracing/dicom-part10.js';
import { SERVING_TAG_CREATOR, addServingTag, readServingTag, servingTagSplice, type ServingMark } from '../../tracing/dicom-serving-tag.js';
import { TS, element, encapsulatedPixelData, nativePixelData, part10, sequence, text, ul, us, type Encoding } from '../support/dicom-builder.js';

const mark: ServingMark = {
  grantId: 'ar-0f3c2a1b4d5e6f708192a3b4c5d6e7f8',
  servingId: '5b0e8f0c-3a0d-4c55-9d0e-2f1c6a7b8d9e',
  servedAt: new Date('2026-11-29T08:28:40.123Z'),
};
const otherMark: ServingMark = {
  grantId: 'ar-aaaabbbbccccddddeeeeffff00001111',
  servingId: 'e1b3e4a2-0000-4000-8000-000000000001',
  servedAt: new Date('2026-01-02T03:04:05.006Z'),
};

/** Elements a CT instance has before and after group 0077, with a sequence before it and a private block of another vendor. */
function dataset(enc: Encoding, options: { pixels?: 'native' | 'none'; group77?: Buffer[]; endAt77?: boolean } = {}): Buffer[] {
  const below = [
    text(enc, 0x0008, 0x0005, 'CS', 'ISO_IR 100'),
    text(enc, 0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.2'),
    text(enc, 0x0008, 0x0018, 'UI', '1.2.826.0.1.3680043.8.498.99.1'),
    text(enc, 0x0008, 0x0060, 'CS', 'CT'),
    sequence(enc, 0x0008, 0x1140, [[text(enc, 0x0008, 0x1150, 'UI', '1.2.840.10008.5.1.4.1.1.2'), text(enc, 0x0008, 0x1155, 'UI', '1.2.3.4')]]),
    text(enc, 0x0010, 0x0010, 'PN', 'SYNTHETIC^TEST'),
    text(enc, 0x0010, 0x0020, 'LO', 'SYN-0001'),
    us(enc, 0x0028, 0x0010, 16),
    us(enc, 0x0028, 0x0011, 16),
    text(enc, 0x0029, 0x0010, 'LO', 'SIEMENS CSA HEADER'),
    element(enc, 0x0029, 0x1010, 'OB', Buffer.from([1, 2, 3, 4])),
  ];
  if (options.endAt77) return [...below, ...(options.group77 ?? [])];
  return [
    ...below,
    ...(options.group77 ?? []),
    text(enc, 0x0088, 0x0140, 'UI', '1.2.826.0.1.3680043.8.498.7'),
    ...(options.pixels === 'none' ? [] : [nativePixelData(enc, 16, 16)]),
  ];
}

/** Every top-level element of `original` (by dicom-parser) that `kept` says stays, byte for byte the same in `tagged`. */
function expectOriginalElementsUnchanged(original: Buffer, tagged: Buffer, kept: (tag: string) => boolean = () => true): void {
  const before = dicomParser.parseDicom(original);
  const after = dicomParser.parseDicom(tagged);
  const tags = Object.keys(before.elements).filter(kept);
  expect(tags.length).toBeGreaterThan(8);
  for (const tag of tags) {
    const a = before.elements[tag]!;
    const b = after.elements[tag];
    expect(b, tag).toBeDefined();
    expect(b!.length, tag).toBe(a.length);
    expect(Buffer.compare(original.subarray(a.dataOffset, a.dataOffset + a.length), tagged.subarray(b!.dataOffset, b!.dataOffset + b!.length)), tag).toBe(0);
  }
}

/** `tagged` is `original` with bytes inserted at one place, and nothing else changed. */
function insertedAt(original: Buffer, tagged: Buffer): { at: number; inserted: Buffer } {
  let at = 0;
  while (at < original.length && original[at] === tagged[at]) at++;
  const inserted = tagged.subarray(at, at + tagged.length - original.length);
  expect(tagged.subarray(at + inserted.length).equals(original.subarray(at))).toBe(true);
  return { at, inserted };
}

const privateTags = (parsed: dicomParser.DataSet) => Object.keys(parsed.elements).filter((t) => t.startsWith('x0077'));

describe('addServingTag', () => {
  it.each<[string, string, Encoding]>([
    ['Explicit VR Little Endian', TS.explicitLE, 'explicit'],
    ['Implicit VR Little Endian', TS.implicitLE, 'implicit'],
  ])('inserts one block in tag order into %s and changes nothing else', (_name, ts, enc) => {
    const original = part10(ts, dataset(enc));
    const tagged = addServingTag(original, mark);
    expect(readServingTag(tagged)).toEqual(mark);
    expectOriginalElementsUnchanged(original, tagged);
    const parsed = dicomParser.parseDicom(tagged);
    expect(privateTags(parsed)).toEqual(['x00770010', 'x00771001', 'x00771002', 'x00771003']);
    expect(parsed.string('x00770010')).toBe(SERVING_TAG_CREATOR);
    expect(parsed.string('x00771001')).toBe(mark.grantId);
    expect(parsed.string('x00771002')).toBe(mark.servingId);
    expect(parsed.string('x00771003')).toBe('20261129082840.123000+0000');
    // Before the first element of a higher group (0088,0140), after the last of a lower one (0029,1010).
    const keys = Object.keys(parsed.elements);
    expect(keys.indexOf('x00770010')).toBe(keys.indexOf('x00291010') + 1);
    expect(keys.indexOf('x00880140')).toBe(keys.indexOf('x00771003') + 1);
    const { at, inserted } = insertedAt(original, tagged);
    // Both encodings give (0088,0140) an 8-byte header.
    expect(at).toBe(dicomParser.parseDicom(original).elements.x00880140!.dataOffset - 8);
    // Every value even: creator 23 → 24 bytes, ids 36, DT 26; headers 8 bytes each.
    expect(inserted.length).toBe(4 * 8 + 24 + 36 + 36 + 26);
    // The pixel data is the same bytes at a new offset.
    const a = dicomParser.parseDicom(original).elements.x7fe00010!;
    const b = parsed.elements.x7fe00010!;
    expect(tagged.subarray(b.dataOffset, b.dataOffset + b.length).equals(original.subarray(a.dataOffset, a.dataOffset + a.length))).toBe(true);
  });

  it('leaves the file meta group and its length as they were', () => {
    const original = part10(TS.explicitLE, dataset('explicit'));
    const tagged = addServingTag(original, mark);
    const metaEnd = 132 + 12 + original.readUInt32LE(132 + 8);
    expect(tagged.subarray(0, metaEnd).equals(original.subarray(0, metaEnd))).toBe(true);
  });

  it('tags a file with encapsulated (compressed) pixel data; the fragments stay byte-identical', () => {
    const frames = [Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 0xff, 0xd9, 0, 0]), Buffer.from([0xff, 0xd8, 9, 8, 7, 6, 0xff, 0xd9])];
    const original = part10(TS.jpegBaseline, [...dataset('explicit', { pixels: 'none' }), encapsulatedPixelData(frames)]);
    const tagged = addServingTag(original, mark);
    expect(readServingTag(tagged)).toEqual(mark);
    expectOriginalElementsUnchanged(original, tagged);
    const pixels = dicomParser.parseDicom(tagged).elements.x7fe00010!;
    expect(pixels.encapsulatedPixelData).toBe(true);
    expect(pixels.fragments!.map((f) => tagged.subarray(f.position, f.position + f.length))).toEqual(frames);
  });

  it('tags a file with no element past group 0077 at its end', () => {
    const original = part10(TS.explicitLE, dataset('explicit', { endAt77: true }));
    const tagged = addServingTag(original, mark);
    expect(tagged.subarray(0, original.length).equals(original)).toBe(true);
    expect(readServingTag(tagged)).toEqual(mark);
  });

  it('takes the next free slot when another creator holds 0077,0010, and keeps that block', () => {
    const theirs = [
      text('explicit', 0x0077, 0x0010, 'LO', 'OTHER VENDOR'),
      text('explicit', 0x0077, 0x1001, 'LO', 'their value'),
      text('explicit', 0x0077, 0x10ff, 'LO', 'last'),
    ];
    const original = part10(TS.explicitLE, dataset('explicit', { group77: theirs }));
    const tagged = addServingTag(original, mark);
    expectOriginalElementsUnchanged(original, tagged);
    const parsed = dicomParser.parseDicom(tagged);
    expect(privateTags(parsed)).toEqual(['x00770010', 'x00770011', 'x00771001', 'x007710ff', 'x00771101', 'x00771102', 'x00771103']);
    expect(parsed.string('x00770010')).toBe('OTHER VENDOR');
    expect(parsed.string('x00770011')).toBe(SERVING_TAG_CREATOR);
    expect(readServingTag(tagged)).toEqual(mark);
  });

  it('counts an orphan block (elements without a creator) as taken', () => {
    const orphan = [text('explicit', 0x0077, 0x1005, 'LO', 'no creator')];
    const tagged = addServingTag(part10(TS.explicitLE, dataset('explicit', { group77: orphan })), mark);
    expect(privateTags(dicomParser.parseDicom(tagged))).toEqual(['x00770011', 'x00771005', 'x00771101', 'x00771102', 'x00771103']);
  });

  it('replaces its own old block in a file served before and stored again: one mark, the latest', () => {
    const original = part10(TS.explicitLE, dataset('explicit'));
    const servedOnce = addServingTag(original, otherMark);
    const servedTwice = addServingTag(servedOnce, mark);
    expect(readServingTag(servedTwice)).toEqual(mark);
    expect(servedTwice.length).toBe(servedOnce.length);
    expect(privateTags(dicomParser.parseDicom(servedTwice))).toEqual(['x00770010', 'x00771001', 'x00771002', 'x00771003']);
    expectOriginalElementsUnchanged(original, servedTwice);
  });

  it('replaces its own block behind another creator’s and keeps theirs', () => {
    const group77 = [
      text('implicit', 0x0077, 0x0010, 'LO', 'OTHER VENDOR'),
      text('implicit', 0x0077, 0x0012, 'LO', SERVING_TAG_CREATOR),
      text('implicit', 0x0077, 0x1001, 'LO', 'theirs'),
      text('implicit', 0x0077, 0x1201, 'LO', 'ar-old'),
      text('implicit', 0x0077, 0x1202, 'LO', 'old-serving'),
      text('implicit', 0x0077, 0x1203, 'DT', '20200101000000.000000+0000'),
    ];
    const original = part10(TS.implicitLE, dataset('implicit', { group77 }));
    expect(readServingTag(original)).toMatchObject({ grantId: 'ar-old', servingId: 'old-serving' });
    const tagged = addServingTag(original, mark);
    expect(readServingTag(tagged)).toEqual(mark);
    expect(privateTags(dicomParser.parseDicom(tagged))).toEqual(['x00770010', 'x00770011', 'x00771001', 'x00771101', 'x00771102', 'x00771103']);
    expectOriginalElementsUnchanged(original, tagged, (tag) => !tag.startsWith('x0077') || tag === 'x00770010' || tag === 'x00771001');
  });

  it('rewrites a group length element in group 0077 to the new length', () => {
    const body = [text('explicit', 0x0077, 0x0010, 'LO', 'OTHER VENDOR'), text('explicit', 0x0077, 0x1001, 'LO', 'theirs')];
    const group77 = [ul('explicit', 0x0077, 0x0000, Buffer.concat(body).length), ...body];
    const tagged = addServingTag(part10(TS.explicitLE, dataset('explicit', { group77 })), mark);
    const parsed = dicomParser.parseDicom(tagged);
    const first = parsed.elements.x00770000!;
    const next = parsed.elements.x00880140!;
    expect(parsed.uint32('x00770000')).toBe(next.dataOffset - 8 - (first.dataOffset + 4));
  });

  it('returns pieces that concatenate to the tagged file without copying the original', () => {
    const original = part10(TS.explicitLE, dataset('explicit'));
    const pieces = servingTagSplice(original, mark);
    expect(Buffer.concat(pieces).equals(addServingTag(original, mark))).toBe(true);
    expect(pieces[0]!.buffer).toBe(original.buffer);
    expect(pieces.at(-1)!.buffer).toBe(original.buffer);
  });
});

describe('addServingTag refuses what it cannot mark (fail closed)', () => {
  const refusal = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(DicomTraceError);
      return (error as DicomTraceError).code;
    }
    throw new Error('not refused');
  };

  it.each([
    ['Deflated Explicit VR Little Endian', TS.deflated],
    ['Explicit VR Big Endian', TS.explicitBE],
    ['a non-standard transfer syntax', '1.2.3.4.5.6'],
  ])('refuses %s', (_name, ts) => {
    expect(refusal(() => addServingTag(part10(ts, dataset('explicit')), mark))).toBe('UNSUPPORTED_TRANSFER_SYNTAX');
  });

  it('refuses what is not a Part 10 file', () => {
    expect(refusal(() => addServingTag(Buffer.from('--boundary\r\nnot dicom'), mark))).toBe('NOT_PART10');
    expect(refusal(() => addServingTag(part10(TS.explicitLE, dataset('explicit')).subarray(128), mark))).toBe('NOT_PART10');
  });

  it('refuses a truncated file or one whose element runs past its end', () => {
    // Only what lies before the end of group 0077 is read; everything after is passed on as it is.
    const file = part10(TS.explicitLE, dataset('explicit', { endAt77: true }));
    expect(refusal(() => addServingTag(file.subarray(0, file.length - 3), mark))).toBe('MALFORMED');
    const sq = part10(TS.explicitLE, [sequence('explicit', 0x0008, 0x1140, [[text('explicit', 0x0008, 0x1150, 'UI', '1.2.3')]])]);
    expect(refusal(() => addServingTag(sq.subarray(0, sq.length - 8), mark))).toBe('MALFORMED');
  });

  it('refuses a file whose every block of group 0077 is taken', () => {
    const creators = Array.from({ length: 0xf0 }, (_, i) => text('explicit', 0x0077, 0x10 + i, 'LO', `VENDOR ${i}`));
    expect(refusal(() => addServingTag(part10(TS.explicitLE, dataset('explicit', { group77: creators })), mark))).toBe('NO_FREE_BLOCK');
  });

  it('refuses ids that would not read back exactly', () => {
    const file = part10(TS.explicitLE, dataset('explicit'));
    expect(refusal(() => addServingTag(file, { ...mark, grantId: 'x'.repeat(65) }))).toBe('BAD_MARK');
    expect(refusal(() => addServingTag(file, { ...mark, servingId: 'a\\b' }))).toBe('BAD_MARK');
    expect(refusal(() => addServingTag(file, { ...mark, servingId: '' }))).toBe('BAD_MARK');
    expect(refusal(() => addServingTag(file, { ...mark, servedAt: new Date(Number.NaN) }))).toBe('BAD_MARK');
  });
});

describe('readServingTag', () => {
  it('is null for a file without our creator, even with another vendor’s block in group 0077', () => {
    expect(readServingTag(part10(TS.explicitLE, dataset('explicit')))).toBeNull();
    expect(readServingTag(part10(TS.implicitLE, dataset('implicit', { group77: [text('implicit', 0x0077, 0x0010, 'LO', 'OTHER VENDOR')] })))).toBeNull();
  });

  it('refuses two blocks of ours and an incomplete block rather than pick one', () => {
    const two = [
      text('explicit', 0x0077, 0x0010, 'LO', SERVING_TAG_CREATOR),
      text('explicit', 0x0077, 0x0011, 'LO', SERVING_TAG_CREATOR),
      text('explicit', 0x0077, 0x1001, 'LO', mark.grantId),
      text('explicit', 0x0077, 0x1101, 'LO', otherMark.grantId),
    ];
    expect(() => readServingTag(part10(TS.explicitLE, dataset('explicit', { group77: two })))).toThrow(expect.objectContaining({ code: 'AMBIGUOUS_MARK' }));
    const partial = [text('explicit', 0x0077, 0x0010, 'LO', SERVING_TAG_CREATOR), text('explicit', 0x0077, 0x1001, 'LO', mark.grantId)];
    expect(() => readServingTag(part10(TS.explicitLE, dataset('explicit', { group77: partial })))).toThrow(expect.objectContaining({ code: 'BAD_MARK' }));
  });

  it('reads the mark whatever VR a later tool gave the elements (UN after a private dictionary was lost)', () => {
    const tagged = addServingTag(part10(TS.explicitLE, dataset('explicit')), mark);
    // Rewrite the three values' VR from LO/DT to UN, as a converter without our dictionary would.
    const group77 = [
      text('explicit', 0x0077, 0x0010, 'LO', SERVING_TAG_CREATOR),
      text('explicit', 0x0077, 0x1001, 'UN', mark.grantId),
      text('explicit', 0x0077, 0x1002, 'UN', mark.servingId),
      text('explicit', 0x0077, 0x1003, 'UN', '20261129082840.123000+0000'),
    ];
    expect(readServingTag(part10(TS.explicitLE, dataset('explicit', { group77 })))).toEqual(readServingTag(tagged));
  });
});
