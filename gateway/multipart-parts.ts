// A streaming reader of multipart bodies (RFC 2046), one part at a time: each part is held
// in memory only until the caller has taken it, so a study of hundreds of instances never
// is. The multipart libraries on npm are written for form uploads; this is what the gateway
// needs of one, for a PACS's WADO-RS answers.

export class MultipartError extends Error {
  override name = 'MultipartError';
}

export interface MultipartPart {
  /** Header names in lower case. */
  headers: ReadonlyMap<string, string>;
  body: Buffer;
}

export interface MultipartLimits {
  /** A part larger than this is refused rather than held. */
  maxPartBytes: number;
  /** Header block of one part, and preamble, each at most this. */
  maxHeaderBytes?: number;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/** The boundary of a multipart Content-Type, quoted or not; undefined when it names none or an invalid one. */
export function boundaryOf(contentType: string): string | undefined {
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))\s*(;|$)/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  // RFC 2046 bchars: no trailing space.
  return boundary && /^[0-9A-Za-z'()+_,\-./:=? ]*[0-9A-Za-z'()+_,\-./:=?]$/.test(boundary) ? boundary : undefined;
}

/**
 * Yields the parts of `body`, in order, each complete. The preamble and epilogue are
 * skipped; a body that ends before its close delimiter throws.
 */
export async function* multipartParts(body: AsyncIterable<Uint8Array>, boundary: string, limits: MultipartLimits): AsyncGenerator<MultipartPart> {
  const maxHeaderBytes = limits.maxHeaderBytes ?? 16 * 1024;
  // Every delimiter is CRLF "--" boundary; the first one may open the body without its CRLF,
  // so the body is read as if it began with one.
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  let pending: Buffer = CRLF;
  let state: 'preamble' | 'delimiter-line' | 'headers' | 'body' | 'done' = 'preamble';
  let headers = new Map<string, string>();
  let bodyChunks: Buffer[] = [];
  let bodyBytes = 0;

  const takeBody = (bytes: Buffer) => {
    bodyBytes += bytes.length;
    if (bodyBytes > limits.maxPartBytes) throw new MultipartError(`A part is larger than ${limits.maxPartBytes} bytes.`);
    bodyChunks.push(bytes);
  };

  for await (const chunk of body) {
    if (state === 'done') continue; // the epilogue
    const next = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (state === 'body' && pending.length > 0 && next.length >= delimiter.length - 1) {
      // Inside a part, what is pending is a short tail that might begin a delimiter. Look at
      // it with just enough of the new chunk to tell, rather than copy the chunk onto it.
      const at = Buffer.concat([pending, next.subarray(0, delimiter.length - 1)]).indexOf(delimiter);
      if (at < 0 || at >= pending.length) {
        takeBody(pending);
        pending = next;
      } else {
        pending = Buffer.concat([pending, next]);
      }
    } else {
      pending = pending.length ? Buffer.concat([pending, next]) : next;
    }
    for (;;) {
      if (state === 'preamble') {
        const at = pending.indexOf(delimiter);
        if (at < 0) {
          if (pending.length > maxHeaderBytes) throw new MultipartError('No opening boundary.');
          break;
        }
        pending = pending.subarray(at + delimiter.length);
        state = 'delimiter-line';
      }
      if (state === 'delimiter-line') {
        if (pending.length < 2) break;
        if (pending[0] === 0x2d && pending[1] === 0x2d) {
          state = 'done';
          break;
        }
        const eol = pending.indexOf(CRLF);
        if (eol < 0) {
          if (pending.length > maxHeaderBytes) throw new MultipartError('A boundary line does not end.');
          break;
        }
        if (!/^[ \t]*$/.test(pending.toString('latin1', 0, eol))) throw new MultipartError('Text after a boundary.');
        // Keep the CRLF: a part without headers is then CRLF CRLF, like any other header end.
        pending = pending.subarray(eol);
        state = 'headers';
      }
      if (state === 'headers') {
        const end = pending.indexOf(HEADER_END);
        if (end < 0) {
          if (pending.length > maxHeaderBytes) throw new MultipartError('A part header is too long.');
          break;
        }
        headers = parseHeaders(pending.toString('latin1', 2, end));
        pending = pending.subarray(end + HEADER_END.length);
        bodyChunks = [];
        bodyBytes = 0;
        state = 'body';
      }
      if (state === 'body') {
        const at = pending.indexOf(delimiter);
        // Up to the delimiter, or all but a tail that could be its beginning.
        const take = at >= 0 ? at : Math.max(0, pending.length - (delimiter.length - 1));
        if (take > 0) takeBody(pending.subarray(0, take));
        if (at < 0) {
          pending = pending.subarray(take);
          break;
        }
        pending = pending.subarray(at + delimiter.length);
        state = 'delimiter-line';
        const part = { headers, body: bodyChunks.length === 1 ? bodyChunks[0]! : Buffer.concat(bodyChunks, bodyBytes) };
        bodyChunks = [];
        yield part;
      }
    }
  }
  if (state !== 'done') throw new MultipartError('The body ended before its close delimiter.');
}

function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  if (!block) return headers;
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0 || /^[ \t]/.test(line)) throw new MultipartError('A part header line does not read as one.');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
  }
  return headers;
}
