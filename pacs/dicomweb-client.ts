// The PACS's DICOMweb interface, spoken to with this side's own credentials. Shared by the
// API (which asks the PACS what a study is before a request is recorded) and the gateway
// (which proxies viewers to it); neither imports the other.
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';

/** The PACS did not answer (refused, timed out, unreachable). */
export class PacsUnavailableError extends Error {
  override name = 'PacsUnavailableError';
}

/** The PACS answered with an error where an answer was needed. */
export class PacsFailedError extends Error {
  override name = 'PacsFailedError';
  constructor(readonly status: number) {
    super(`The PACS answered ${status}.`);
  }
}

export interface PacsSettings {
  /** DICOMweb root, e.g. http://127.0.0.1:8042/dicom-web (no trailing slash needed). */
  dicomwebUrl: string;
  username: string;
  password: string;
  timeoutMs?: number;
}

/**
 * Orthanc does not decode %2C, and commas separate values in DICOMweb parameters (a list of
 * UIDs, a viewport's width and height): every other reserved character stays encoded.
 */
export function serialiseQuery(query: URLSearchParams): string {
  const encode = (text: string) => encodeURIComponent(text).replace(/%2C/gi, ',');
  return [...query].map(([key, value]) => `${encode(key)}=${encode(value)}`).join('&');
}

/** An answer of the PACS as it arrives: status and headers, and the body still to be read. */
export interface PacsStream {
  status: number;
  /** As node:http gives them: names in lower case. */
  headers: IncomingHttpHeaders;
  /**
   * Read it to the end, or destroy it: an answer left unread holds its connection. An error
   * while reading (the PACS went away, or stalled past the timeout) is emitted here.
   */
  body: Readable;
}

/** Free connections are closed before the PACS would close them, so a reused one is never half-closed. */
const IDLE_CONNECTION_MS = 500;

/**
 * Keeps connections to the PACS alive between requests. Node's own agent (20.x) closes every
 * connection whose answer says `Keep-Alive: timeout=1`, as Orthanc's all do, so each request
 * would open a new one. This agent keeps them, closing a free one after half the PACS's idle
 * timeout (at most IDLE_CONNECTION_MS): long before the PACS would drop it.
 */
function keepAliveAgent(transport: typeof http | typeof https): http.Agent {
  const Agent = transport.Agent as typeof http.Agent;
  return new (class extends Agent {
    override keepSocketAlive(socket: Socket): boolean {
      const hint = (socket as Socket & { _httpMessage?: { res?: http.IncomingMessage } })._httpMessage?.res?.headers['keep-alive'];
      const seconds = typeof hint !== 'string' ? undefined : Number(/^timeout=(\d+)/.exec(hint)?.[1]);
      const idleMs = seconds === undefined || Number.isNaN(seconds) ? IDLE_CONNECTION_MS : Math.min(IDLE_CONNECTION_MS, (seconds * 1000) / 2);
      if (idleMs < 100) return false;
      socket.setKeepAlive(true, 1000);
      socket.unref();
      socket.setTimeout(idleMs);
      return true;
    }
  })({ keepAlive: true, scheduling: 'lifo' });
}

export class DicomwebClient {
  private readonly authorization: string;
  private readonly root: string;
  private readonly transport: typeof http | typeof https;
  private readonly agent: http.Agent;

  constructor(private readonly options: PacsSettings) {
    this.authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
    this.root = options.dicomwebUrl.replace(/\/+$/, '');
    this.transport = new URL(this.root).protocol === 'https:' ? https : http;
    this.agent = keepAliveAgent(this.transport);
  }

  private urlOf(path: string, query: URLSearchParams | undefined): string {
    return `${this.root}${path}${query && [...query].length ? `?${serialiseQuery(query)}` : ''}`;
  }

  /** `path` starts below the DICOMweb root, e.g. /studies/1.2.3/metadata. Throws PacsUnavailableError. */
  async get(path: string, query: URLSearchParams | undefined, accept: string | undefined): Promise<Response> {
    try {
      return await fetch(this.urlOf(path, query), {
        // Identity: the body is streamed on as it comes, and its length is counted as served.
        headers: { authorization: this.authorization, 'accept-encoding': 'identity', ...(accept ? { accept } : {}) },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
        redirect: 'error',
      });
    } catch {
      throw new PacsUnavailableError('The PACS did not answer.');
    }
  }

  /**
   * The same GET over node:http with kept-alive connections: the gateway's image path, where
   * fetch's web streams and fresh connections cost more than the proxying itself. Redirects
   * are not followed (a 3xx is the caller's to refuse). The timeout is the longest the PACS
   * may stay silent, before its answer or between two pieces of its body. Throws
   * PacsUnavailableError when no answer arrives.
   */
  stream(path: string, query: URLSearchParams | undefined, accept: string | undefined): Promise<PacsStream> {
    return new Promise((resolve, reject) => {
      const request = this.transport.get(
        this.urlOf(path, query),
        {
          agent: this.agent,
          headers: { authorization: this.authorization, 'accept-encoding': 'identity', ...(accept ? { accept } : {}) },
          timeout: this.options.timeoutMs ?? 30_000,
        },
        (response) => {
          // Whoever reads the body sees its errors; none may go unheard and end the process.
          response.on('error', () => undefined);
          resolve({ status: response.statusCode ?? 502, headers: response.headers, body: response });
        },
      );
      request.once('timeout', () => request.destroy(new PacsUnavailableError('The PACS went silent.')));
      // After the answer has begun, the error reaches its body instead (reject is then a no-op).
      request.on('error', () => reject(new PacsUnavailableError('The PACS did not answer.')));
    });
  }
}

/** Reads an answer's body whole. Throws PacsUnavailableError when the PACS stops mid-answer. */
export async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of body) chunks.push(chunk as Buffer);
  } catch {
    throw new PacsUnavailableError('The PACS stopped answering mid-response.');
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
