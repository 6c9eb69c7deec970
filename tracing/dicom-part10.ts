// Just enough of a DICOM Part 10 reader to find where a private block goes: the file meta
// (always Explicit VR Little Endian), the dataset's encoding from its transfer syntax, and
// the byte span of each top-level element. Values are never decoded here, so everything
// this reader skips over is passed on byte for byte.

/** Why a file cannot be marked or read; `code` is stable, the message says what was found. */
export class DicomTraceError extends Error {
  constructor(
    readonly code: 'NOT_PART10' | 'UNSUPPORTED_TRANSFER_SYNTAX' | 'MALFORMED' | 'NO_FREE_BLOCK' | 'BAD_MARK' | 'AMBIGUOUS_MARK',
    message: string,
  ) {
    super(message);
    this.name = 'DicomTraceError';
  }
}

export type DatasetEncoding = 'explicit' | 'implicit';

export interface Part10Layout {
  transferSyntax: string;
  encoding: DatasetEncoding;
  /** Offset of the dataset's first element, right after the file meta group. */
  datasetStart: number;
}

/** One element as it lies in the file: [start, end) covers its header and value. */
export interface ElementSpan {
  group: number;
  element: number;
  start: number;
  valueStart: number;
  /** The value's length; for an undefined length, what lies between the header and `end`. */
  valueLength: number;
  end: number;
}

const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const DEFLATED_EXPLICIT_LE = '1.2.840.10008.1.2.1.99';
const EXPLICIT_BE = '1.2.840.10008.1.2.2';
const UNDEFINED_LENGTH = 0xffffffff;
/** Nested sequences deeper than this are refused: a crafted file must not exhaust the stack. */
const MAX_DEPTH = 64;

/** A VR's two characters as one number: compared without making a string per element (the scan's hot path). */
const vrCode = (vr: string) => (vr.charCodeAt(0) << 8) | vr.charCodeAt(1);
/** Explicit VRs with a 16-bit length (PS3.5 7.1.2); the others have two reserved bytes and a 32-bit length. */
const SHORT_VRS = new Set(
  ['AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FL', 'FD', 'IS', 'LO', 'LT', 'PN', 'SH', 'SL', 'SS', 'ST', 'TM', 'UI', 'UL', 'US'].map(vrCode),
);
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'].map(vrCode));
const UN = vrCode('UN');

/**
 * Reads the preamble and file meta group. The dataset's encoding follows from the transfer
 * syntax: Implicit VR LE, or Explicit VR LE (every standard syntax under 1.2.840.10008.1.2.
 * but two, the compressed ones included, whose pixel data is encapsulated). Deflated
 * Explicit VR LE and Explicit VR Big Endian are refused, and so is any non-standard syntax,
 * whose encoding cannot be known.
 */
export function readPart10(file: Buffer): Part10Layout {
  if (file.length < 132 || file.toString('latin1', 128, 132) !== 'DICM') {
    throw new DicomTraceError('NOT_PART10', 'Not a DICOM Part 10 file (no DICM prefix after the preamble).');
  }
  let p = 132;
  let transferSyntax: string | undefined;
  while (p + 4 <= file.length && file.readUInt16LE(p) === 0x0002) {
    const span = readElement(file, p, 'explicit', 0);
    if (span.element === 0x0010) transferSyntax = trimValue(file.toString('latin1', span.valueStart, span.end));
    p = span.end;
  }
  if (!transferSyntax) throw new DicomTraceError('NOT_PART10', 'The file meta group names no transfer syntax.');
  return { transferSyntax, encoding: encodingOf(transferSyntax), datasetStart: p };
}

function encodingOf(transferSyntax: string): DatasetEncoding {
  if (transferSyntax === IMPLICIT_LE) return 'implicit';
  if (transferSyntax === DEFLATED_EXPLICIT_LE) {
    throw new DicomTraceError('UNSUPPORTED_TRANSFER_SYNTAX', 'Deflated Explicit VR Little Endian: the dataset is compressed as a whole.');
  }
  if (transferSyntax === EXPLICIT_BE) throw new DicomTraceError('UNSUPPORTED_TRANSFER_SYNTAX', 'Explicit VR Big Endian (retired).');
  if (transferSyntax === EXPLICIT_LE || transferSyntax.startsWith(`${IMPLICIT_LE}.`)) return 'explicit';
  throw new DicomTraceError('UNSUPPORTED_TRANSFER_SYNTAX', `Transfer syntax ${transferSyntax.slice(0, 64)} is not a standard one.`);
}

/**
 * The top-level elements of `group`, and where the group ends: the offset of the first
 * element of a higher group (or the end of the file). Elements past that are not read at
 * all, so whatever follows (pixel data, encapsulated or not) only has to be copied.
 */
export function scanGroup(file: Buffer, layout: Part10Layout, group: number): { elements: ElementSpan[]; groupStart: number; groupEnd: number } {
  const elements: ElementSpan[] = [];
  let p = layout.datasetStart;
  let groupStart: number | undefined;
  while (p < file.length) {
    if (p + 4 > file.length) throw new DicomTraceError('MALFORMED', `Truncated element header at ${p}.`);
    const g = file.readUInt16LE(p);
    if (g > group) break;
    const span = readElement(file, p, layout.encoding, 0);
    if (g === group) {
      groupStart ??= p;
      elements.push(span);
    } else if (groupStart !== undefined) {
      throw new DicomTraceError('MALFORMED', `Element (${hex(g)},${hex(span.element)}) out of order after group ${hex(group)}.`);
    }
    p = span.end;
  }
  return { elements, groupStart: groupStart ?? p, groupEnd: p };
}

function readElement(file: Buffer, p: number, encoding: DatasetEncoding, depth: number): ElementSpan {
  if (p + 8 > file.length) throw new DicomTraceError('MALFORMED', `Truncated element header at ${p}.`);
  const group = file.readUInt16LE(p);
  const element = file.readUInt16LE(p + 2);
  let valueStart: number;
  let length: number;
  // Undefined-length UN holds a sequence encoded in Implicit VR LE (PS3.5 6.2.2).
  let inner = encoding;
  if (encoding === 'explicit' && group !== 0xfffe) {
    const vr = (file[p + 4]! << 8) | file[p + 5]!;
    if (SHORT_VRS.has(vr)) {
      length = file.readUInt16LE(p + 6);
      valueStart = p + 8;
    } else if (LONG_VRS.has(vr)) {
      if (p + 12 > file.length) throw new DicomTraceError('MALFORMED', `Truncated element header at ${p}.`);
      length = file.readUInt32LE(p + 8);
      valueStart = p + 12;
      if (vr === UN) inner = 'implicit';
    } else {
      throw new DicomTraceError('MALFORMED', `Element (${hex(group)},${hex(element)}) has an unknown VR.`);
    }
  } else {
    length = file.readUInt32LE(p + 4);
    valueStart = p + 8;
  }
  const end = length === UNDEFINED_LENGTH ? skipItems(file, valueStart, inner, depth + 1) : valueStart + length;
  if (end > file.length) throw new DicomTraceError('MALFORMED', `Element (${hex(group)},${hex(element)}) runs past the end of the file.`);
  return { group, element, start: p, valueStart, valueLength: end - valueStart, end };
}

/** Past an undefined-length value: items (sequence items or pixel data fragments) up to the sequence delimiter. */
function skipItems(file: Buffer, p: number, encoding: DatasetEncoding, depth: number): number {
  if (depth > MAX_DEPTH) throw new DicomTraceError('MALFORMED', 'Sequences nested too deep.');
  for (;;) {
    if (p + 8 > file.length) throw new DicomTraceError('MALFORMED', 'Undefined-length value without its sequence delimiter.');
    const tag = file.readUInt32LE(p);
    const length = file.readUInt32LE(p + 4);
    if (tag === 0xe0ddfffe) return p + 8; // (FFFE,E0DD) sequence delimitation item
    if (tag !== 0xe000fffe) throw new DicomTraceError('MALFORMED', `Expected an item at ${p}.`);
    p = length === UNDEFINED_LENGTH ? skipItemElements(file, p + 8, encoding, depth + 1) : p + 8 + length;
  }
}

/** Past the elements of an undefined-length item, up to its delimiter. */
function skipItemElements(file: Buffer, p: number, encoding: DatasetEncoding, depth: number): number {
  if (depth > MAX_DEPTH) throw new DicomTraceError('MALFORMED', 'Sequences nested too deep.');
  for (;;) {
    if (p + 8 > file.length) throw new DicomTraceError('MALFORMED', 'Undefined-length item without its delimiter.');
    if (file.readUInt32LE(p) === 0xe00dfffe) return p + 8; // (FFFE,E00D) item delimitation item
    p = readElement(file, p, encoding, depth).end;
  }
}

/** A string value without its padding (trailing spaces or NULs) and leading spaces. */
export function trimValue(value: string): string {
  return value.replace(/[\0 ]+$/, '').replace(/^ +/, '');
}

export function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}
