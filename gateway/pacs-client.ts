import { DicomwebClient, PacsFailedError, PacsUnavailableError, readAll, type PacsSettings, type PacsStream } from '../pacs/dicomweb-client.js';
import { findStudies, type StudyFacts } from '../pacs/study-facts.js';
import { Refusal } from './refusal.js';

/** The PACS behind the gateway, spoken to with the gateway's own credentials; its failures as refusals. */
export class PacsClient {
  private readonly client: DicomwebClient;

  constructor(options: PacsSettings) {
    this.client = new DicomwebClient(options);
  }

  /**
   * `path` starts below the DICOMweb root, e.g. /studies/1.2.3/metadata. The body is the
   * caller's to read to the end or destroy.
   */
  async get(path: string, query: URLSearchParams | undefined, accept: string | undefined): Promise<PacsStream> {
    try {
      return await this.client.stream(path, query, accept);
    } catch (error) {
      if (error instanceof PacsUnavailableError) throw unavailable();
      throw error;
    }
  }

  async getJson(path: string, query: URLSearchParams): Promise<unknown[]> {
    const response = await this.get(path, query, 'application/dicom+json');
    if (response.status >= 300) {
      response.body.destroy();
      if (response.status >= 500) throw new Refusal(502, 'PACS_ERROR', 'The PACS failed.');
      return [];
    }
    let body: string;
    try {
      body = (await readAll(response.body)).toString('utf8');
    } catch {
      throw unavailable();
    }
    return body ? (JSON.parse(body) as unknown[]) : [];
  }

  /** What the PACS says each of `uids` is (see findStudies). */
  async studies(uids: readonly string[]): Promise<Map<string, StudyFacts[]>> {
    try {
      return await findStudies(this.client, uids);
    } catch (error) {
      if (error instanceof PacsUnavailableError) throw unavailable();
      if (error instanceof PacsFailedError) throw new Refusal(502, 'PACS_ERROR', 'The PACS failed.');
      throw error;
    }
  }
}

function unavailable(): Refusal {
  return new Refusal(503, 'PACS_UNAVAILABLE', 'The PACS did not answer.');
}
