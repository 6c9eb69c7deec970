// Small DICOM Part 10 files built byte by byte, so a test states exactly what a file holds:
// its transfer syntax, its private blocks, sequences and encapsulated pixel data.

export type Encoding = 'explicit' | 'implicit';

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const UNDEFINED = 0xffffffff;

export const TS = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  deflated: '1.2.840.10008.1.2.1.99',
  explicitBE: '1.2.840.10008.1.2.2',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
} as const;

function header(enc: Encoding, group: number, element: number, vr: string, length: number): Buffer {
  if (enc === 'implicit') {
    const h = Buffer.alloc(8);
    h.writeUInt16LE(group, 0);
    h.writeUInt16LE(element, 2);
    h.writeUInt32LE(length, 4);
    return h;
  }
  const long = LONG_VRS.has(vr);
  const h = Buffer.alloc(long ? 12 : 8);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(element, 2);
  h.write(vr, 4, 'latin1');
  if (long) h.writeUInt32LE(length, 8);
  else h.writeUInt16LE(length, 6);
  return h;
}

/** An element with a value already of even length. */
export function element(enc: Encoding, group: number, el: number, vr: string, value: Buffer): Buffer {
  if (value.length % 2) throw new Error('odd value length');
  return Buffer.concat([header(enc, group, el, vr, value.length), value]);
}

/** A text element padded as its VR wants (UI with NUL, the rest with a space). */
export function text(enc: Encoding, group: number, el: number, vr: string, value: string): Buffer {
  const padded = value.length % 2 ? value + (vr === 'UI' ? '\0' : ' ') : value;
  return element(enc, group, el, vr, Buffer.from(padded, 'latin1'));
}

export function us(enc: Encoding, group: number, el: number, n: number): Buffer {
  const value = Buffer.alloc(2);
  value.writeUInt16LE(n);
  return element(enc, group, el, 'US', value);
}

export function ul(enc: Encoding, group: number, el: number, n: number): Buffer {
  const value = Buffer.alloc(4);
  value.writeUInt32LE(n);
  return element(enc, group, el, 'UL', value);
}

function itemTag(element: number, length: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(0xfffe, 0);
  h.writeUInt16LE(element, 2);
  h.writeUInt32LE(length, 4);
  return h;
}

/** A sequence of undefined length whose items are of undefined length too (the hardest form to skip). */
export function sequence(enc: Encoding, group: number, el: number, items: Buffer[][]): Buffer {
  return Buffer.concat([
    header(enc, group, el, 'SQ', UNDEFINED),
    ...items.flatMap((item) => [itemTag(0xe000, UNDEFINED), ...item, itemTag(0xe00d, 0)]),
    itemTag(0xe0dd, 0),
  ]);
}

/** Encapsulated pixel data: an empty basic offset table, then one fragment per frame. */
export function encapsulatedPixelData(fragments: Buffer[]): Buffer {
  return Buffer.concat([
    header('explicit', 0x7fe0, 0x0010, 'OB', UNDEFINED),
    itemTag(0xe000, 0),
    ...fragments.flatMap((f) => [itemTag(0xe000, f.length), f]),
    itemTag(0xe0dd, 0),
  ]);
}

/** Native 16-bit pixel data, rows × columns of a deterministic pattern. */
export function nativePixelData(enc: Encoding, rows: number, columns: number): Buffer {
  const pixels = Buffer.alloc(rows * columns * 2);
  for (let i = 0; i < rows * columns; i++) pixels.writeUInt16LE((i * 37) & 0xffff, i * 2);
  return element(enc, 0x7fe0, 0x0010, 'OW', pixels);
}

/** Preamble, DICM, the file meta group (always Explicit VR LE, with its group length), then the dataset. */
export function part10(transferSyntax: string, dataset: Buffer[], sopInstanceUid = '1.2.826.0.1.3680043.8.498.99.1'): Buffer {
  const meta = Buffer.concat([
    element('explicit', 0x0002, 0x0001, 'OB', Buffer.from([0, 1])),
    text('explicit', 0x0002, 0x0002, 'UI', '1.2.840.10008.5.1.4.1.1.2'),
    text('explicit', 0x0002, 0x0003, 'UI', sopInstanceUid),
    text('explicit', 0x0002, 0x0010, 'UI', transferSyntax),
  ]);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), ul('explicit', 0x0002, 0x0000, meta.length), meta, ...dataset]);
}
