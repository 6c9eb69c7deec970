import { DicomTraceError, hex, readPart10, scanGroup, trimValue, type DatasetEncoding, type ElementSpan } from './dicom-part10.js';

// The mark a DICOM instance carries out of the gateway: a private block naming the grant it
// was served under and the serving (the id of the gateway's access record), so a leaked file
// leads back to one access. Inserted in tag order; every other byte of the file, the file
// meta and the pixel data included, stays as it was.

/** Our private creator (LO). The trailing number is the block layout's version. */
export const SERVING_TAG_CREATOR = 'IMAGING ACCESS REVIEW 1';
/** An odd (private) group no major vendor is known to use; a clash is resolved by block slot anyway. */
export const SERVING_TAG_GROUP = 0x0077;
/** Element offsets inside our block: (0077,xx01) grant id LO, (0077,xx02) serving id LO, (0077,xx03) served at DT. */
export const SERVING_TAG_OFFSETS = { grantId: 0x01, servingId: 0x02, servedAt: 0x03 } as const;

export interface ServingMark {
  grantId: string;
  servingId: string;
  servedAt: Date;
}

/** LO: at most 64 characters of the default repertoire, no backslash; ids have no spaces, so none either. */
const LO_ID = /^[\x21-\x5b\x5d-\x7e]{1,64}$/;
const FIRST_SLOT = 0x10;
const LAST_SLOT = 0xff;

/** `part10` with our block in it (see servingTagSplice). */
export function addServingTag(part10: Buffer, mark: ServingMark): Buffer {
  return Buffer.concat(servingTagSplice(part10, mark));
}

/**
 * The marked file as pieces to write in order: slices of `part10` around the new block, so
 * a caller that streams can send it without copying the instance.
 *
 * A file that already carries our creator (served before, then stored again) has that old
 * block removed, creator and elements, and one new block written: the mark names the latest
 * serving only. The block goes in the lowest slot that no other creator and no element
 * holds. A group length element (gggg,0000) in our group, retired but allowed, is rewritten
 * to the group's new length. Throws DicomTraceError for a file it cannot mark.
 */
export function servingTagSplice(part10: Buffer, mark: ServingMark): Buffer[] {
  const values = markValues(mark);
  const layout = readPart10(part10);
  const { elements, groupStart, groupEnd } = scanGroup(part10, layout, SERVING_TAG_GROUP);
  const ours = ourSlots(part10, elements);
  const stale = (e: ElementSpan) => e.element === 0x0000 || (isCreator(e) && ours.has(e.element)) || (e.element >= 0x1000 && ours.has(e.element >> 8));
  const kept = elements.filter((e) => !stale(e));
  const slot = freeSlot(kept);
  const block = (offset: number) => (slot << 8) | offset;
  const added = encodeElements(layout.encoding, SERVING_TAG_GROUP, [
    { element: slot, vr: 'LO', text: SERVING_TAG_CREATOR },
    { element: block(SERVING_TAG_OFFSETS.grantId), vr: 'LO', text: values.grantId },
    { element: block(SERVING_TAG_OFFSETS.servingId), vr: 'LO', text: values.servingId },
    { element: block(SERVING_TAG_OFFSETS.servedAt), vr: 'DT', text: values.servedAt },
  ]);
  const pieces = [...kept.map((e) => ({ element: e.element, bytes: part10.subarray(e.start, e.end) })), ...added].sort((a, b) => a.element - b.element);
  if (elements.some((e) => e.element === 0x0000)) {
    const groupLength = pieces.reduce((sum, p) => sum + p.bytes.length, 0);
    pieces.unshift({ element: 0x0000, bytes: encodeGroupLength(layout.encoding, SERVING_TAG_GROUP, groupLength) });
  }
  return [part10.subarray(0, groupStart), ...pieces.map((p) => p.bytes), part10.subarray(groupEnd)];
}

/**
 * The mark in `file`, or null when it carries none. Throws DicomTraceError for a file that
 * is not DICOM this reader understands, for more than one block of ours (never written by
 * the gateway), and for a block that is incomplete or unreadable: each says the file was
 * changed after it left, which a leak investigation needs to know rather than "no mark".
 */
export function readServingTag(file: Buffer): ServingMark | null {
  const layout = readPart10(file);
  const { elements } = scanGroup(file, layout, SERVING_TAG_GROUP);
  const ours = [...ourSlots(file, elements)];
  if (ours.length === 0) return null;
  if (ours.length > 1) throw new DicomTraceError('AMBIGUOUS_MARK', `The file carries ${ours.length} blocks of ${SERVING_TAG_CREATOR}.`);
  const slot = ours[0]!;
  const text = (offset: number) => {
    const span = elements.find((e) => e.element === ((slot << 8) | offset));
    if (!span) throw new DicomTraceError('BAD_MARK', `The block of ${SERVING_TAG_CREATOR} lacks (${hex(SERVING_TAG_GROUP)},${hex((slot << 8) | offset)}).`);
    return trimValue(file.toString('latin1', span.valueStart, span.end));
  };
  const grantId = text(SERVING_TAG_OFFSETS.grantId);
  const servingId = text(SERVING_TAG_OFFSETS.servingId);
  const servedAt = parseDateTime(text(SERVING_TAG_OFFSETS.servedAt));
  if (!LO_ID.test(grantId) || !LO_ID.test(servingId) || !servedAt)
    throw new DicomTraceError('BAD_MARK', `The block of ${SERVING_TAG_CREATOR} does not read as a mark.`);
  return { grantId, servingId, servedAt };
}

function markValues(mark: ServingMark): { grantId: string; servingId: string; servedAt: string } {
  // Refused rather than truncated or escaped: a mark that does not read back exactly is worthless.
  if (!LO_ID.test(mark.grantId)) throw new DicomTraceError('BAD_MARK', 'The grant id is not a DICOM LO of at most 64 characters.');
  if (!LO_ID.test(mark.servingId)) throw new DicomTraceError('BAD_MARK', 'The serving id is not a DICOM LO of at most 64 characters.');
  if (Number.isNaN(mark.servedAt.getTime())) throw new DicomTraceError('BAD_MARK', 'The serving time is not a date.');
  return { grantId: mark.grantId, servingId: mark.servingId, servedAt: formatDateTime(mark.servedAt) };
}

const isCreator = (e: ElementSpan) => e.element >= FIRST_SLOT && e.element <= LAST_SLOT;

/** The block slots whose creator is ours. */
function ourSlots(file: Buffer, elements: ElementSpan[]): Set<number> {
  const slots = new Set<number>();
  for (const e of elements) {
    if (isCreator(e) && trimValue(file.toString('latin1', e.valueStart, e.end)) === SERVING_TAG_CREATOR) slots.add(e.element);
  }
  return slots;
}

/** The lowest slot with neither a creator nor any element in its block (an orphan block counts as taken). */
function freeSlot(kept: ElementSpan[]): number {
  const taken = new Set<number>();
  for (const e of kept) {
    if (isCreator(e)) taken.add(e.element);
    else if (e.element >= 0x1000) taken.add(e.element >> 8);
  }
  for (let slot = FIRST_SLOT; slot <= LAST_SLOT; slot++) if (!taken.has(slot)) return slot;
  throw new DicomTraceError('NO_FREE_BLOCK', `Every private block of group ${hex(SERVING_TAG_GROUP)} is taken.`);
}

/**
 * Text elements (LO, DT), each padded with a space to an even length (PS3.5 6.2), written
 * into one allocation: small buffers made one by one cost more than the rest of the mark.
 * Their VRs have the 16-bit length form in Explicit VR; Implicit VR has tag and 32-bit length.
 */
function encodeElements(
  encoding: DatasetEncoding,
  group: number,
  elements: { element: number; vr: 'LO' | 'DT'; text: string }[],
): { element: number; bytes: Buffer }[] {
  const sizes = elements.map((e) => 8 + e.text.length + (e.text.length % 2));
  const out = Buffer.allocUnsafe(sizes.reduce((a, b) => a + b, 0));
  let p = 0;
  return elements.map((e, i) => {
    const start = p;
    const length = sizes[i]! - 8;
    out.writeUInt16LE(group, p);
    out.writeUInt16LE(e.element, p + 2);
    if (encoding === 'explicit') {
      out.write(e.vr, p + 4, 'latin1');
      out.writeUInt16LE(length, p + 6);
    } else {
      out.writeUInt32LE(length, p + 4);
    }
    out.write(e.text, p + 8, 'latin1');
    if (e.text.length % 2) out[p + 8 + e.text.length] = 0x20;
    p += sizes[i]!;
    return { element: e.element, bytes: out.subarray(start, p) };
  });
}

/** (gggg,0000) UL. */
function encodeGroupLength(encoding: DatasetEncoding, group: number, length: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16LE(group, 0);
  if (encoding === 'explicit') {
    out.write('UL', 4, 'latin1');
    out.writeUInt16LE(4, 6);
  } else {
    out.writeUInt32LE(4, 4);
  }
  out.writeUInt32LE(length, 8);
  return out;
}

/** DT in UTC with microseconds and an explicit offset: YYYYMMDDHHMMSS.FFFFFF+0000 (26 characters, the most DT holds). */
function formatDateTime(date: Date): string {
  const iso = date.toISOString(); // 2026-11-29T08:28:40.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}.${iso.slice(20, 23)}000+0000`;
}

function parseDateTime(value: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.(\d{6})\+0000$/.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, us] = m.map(Number) as [number, number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s, Math.floor(us / 1000)));
  return Number.isNaN(date.getTime()) ? null : date;
}
