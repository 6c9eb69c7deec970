import { DicomwebClient, PacsFailedError, PacsUnavailableError, type PacsSettings } from '../pacs/dicomweb-client.js';
import { findStudies, type StudyFacts } from '../pacs/study-facts.js';
import { Refusal } from './refusal.js';

/** The PACS behind the gateway, spoken to with the gateway's own credentials; its failures as refusals. */
export class PacsClient {
  private readonly client: DicomwebClient;

  constructor(options: PacsSettings) {
    this.client = new DicomwebClient(options);
  }

  /** `path` starts below the DICOMweb root, e.g. /studies/1.2.3/metadata. */
  async get(path: string, query: URLSearchParams | undefined, accept: string | undefined): Promise<Response> {
    try {
      return await this.client.get(path, query, accept);
    } catch (error) {
      if (error instanceof PacsUnavailableError) throw new Refusal(503, 'PACS_UNAVAILABLE', 'The PACS did not answer.');
      throw error;
    }
  }

  async getJson(path: string, query: URLSearchParams): Promise<unknown[]> {
    const response = await this.get(path, query, 'application/dicom+json');
    if (response.status >= 500) throw new Refusal(502, 'PACS_ERROR', 'The PACS failed.');
    if (!response.ok) return [];
    const body = await response.text();
    return body ? (JSON.parse(body) as unknown[]) : [];
  }

  /** What the PACS says each of `uids` is (see findStudies). */
  async studies(uids: readonly string[]): Promise<Map<string, StudyFacts[]>> {
    try {
      return await findStudies(this.client, uids);
    } catch (error) {
      if (error instanceof PacsUnavailableError) throw new Refusal(503, 'PACS_UNAVAILABLE', 'The PACS did not answer.');
      if (error instanceof PacsFailedError) throw new Refusal(502, 'PACS_ERROR', 'The PACS failed.');
      throw error;
    }
  }
}
