// The PACS's DICOMweb interface, spoken to with this side's own credentials. Shared by the
// API (which asks the PACS what a study is before a request is recorded) and the gateway
// (which proxies viewers to it); neither imports the other.

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

export class DicomwebClient {
  private readonly authorization: string;
  private readonly root: string;

  constructor(private readonly options: PacsSettings) {
    this.authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
    this.root = options.dicomwebUrl.replace(/\/+$/, '');
  }

  /** `path` starts below the DICOMweb root, e.g. /studies/1.2.3/metadata. Throws PacsUnavailableError. */
  async get(path: string, query: URLSearchParams | undefined, accept: string | undefined): Promise<Response> {
    const url = `${this.root}${path}${query && [...query].length ? `?${serialiseQuery(query)}` : ''}`;
    try {
      return await fetch(url, {
        // Identity: the body is streamed on as it comes, and its length is counted as served.
        headers: { authorization: this.authorization, 'accept-encoding': 'identity', ...(accept ? { accept } : {}) },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
        redirect: 'error',
      });
    } catch {
      throw new PacsUnavailableError('The PACS did not answer.');
    }
  }
}
