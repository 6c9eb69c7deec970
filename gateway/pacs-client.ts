import { Refusal } from './refusal.js';

/**
 * Orthanc does not decode %2C, and commas separate values in DICOMweb parameters (a list of
 * UIDs, a viewport's width and height): every other reserved character stays encoded.
 */
function serialise(query: URLSearchParams): string {
  const encode = (text: string) => encodeURIComponent(text).replace(/%2C/gi, ',');
  return [...query].map(([key, value]) => `${encode(key)}=${encode(value)}`).join('&');
}

/** The PACS behind the gateway, spoken to with the gateway's own credentials. */
export class PacsClient {
  private readonly authorization: string;

  constructor(private readonly options: { dicomwebUrl: string; username: string; password: string; timeoutMs?: number }) {
    this.authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  }

  /** `path` starts below the DICOMweb root, e.g. /studies/1.2.3/metadata. */
  async get(path: string, query: URLSearchParams | undefined, accept: string | undefined): Promise<Response> {
    const url = `${this.options.dicomwebUrl}${path}${query && [...query].length ? `?${serialise(query)}` : ''}`;
    try {
      return await fetch(url, {
        // Identity: the body is streamed on as it comes, and its length is counted as served.
        headers: { authorization: this.authorization, 'accept-encoding': 'identity', ...(accept ? { accept } : {}) },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
        redirect: 'error',
      });
    } catch {
      throw new Refusal(503, 'PACS_UNAVAILABLE', 'The PACS did not answer.');
    }
  }

  async getJson(path: string, query: URLSearchParams): Promise<unknown[]> {
    const response = await this.get(path, query, 'application/dicom+json');
    if (response.status >= 500) throw new Refusal(502, 'PACS_ERROR', 'The PACS failed.');
    if (!response.ok) return [];
    const body = await response.text();
    return body ? (JSON.parse(body) as unknown[]) : [];
  }
}
