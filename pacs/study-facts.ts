import { DicomwebClient, PacsFailedError, PacsUnavailableError } from './dicomweb-client.js';

// What the PACS says a study is: the one place both the API (at submission) and the gateway
// (on every image request) learn which patient a study belongs to.

/** One study as the PACS describes it. `patientId` is null when the PACS names none. */
export interface StudyFacts {
  studyInstanceUid: string;
  patientId: string | null;
  modalities: string[];
  /** ISO date (YYYY-MM-DD) when the PACS gives a DICOM date, else what it gave, else null. */
  studyDate: string | null;
  description: string | null;
}

const TAG = {
  studyInstanceUid: '0020000D',
  patientId: '00100020',
  modalities: '00080061',
  studyDate: '00080020',
  description: '00081030',
  accessionNumber: '00080050',
} as const;

/** The attributes asked for besides the study's UID. */
export const STUDY_FACT_FIELDS = [TAG.patientId, TAG.modalities, TAG.studyDate, TAG.description].join(',');

function values(item: Record<string, unknown>, tag: string): string[] {
  const element = item[tag] as { Value?: unknown[] } | undefined;
  if (!element || !Array.isArray(element.Value)) return [];
  return element.Value.filter((v): v is string => typeof v === 'string')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

/** One QIDO-RS study result (DICOM JSON) as facts; undefined when it names no study UID. */
export function studyFactsOf(item: unknown): StudyFacts | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
  const record = item as Record<string, unknown>;
  const [uid] = values(record, TAG.studyInstanceUid);
  if (!uid) return undefined;
  const [date] = values(record, TAG.studyDate);
  return {
    studyInstanceUid: uid,
    patientId: values(record, TAG.patientId)[0] ?? null,
    modalities: values(record, TAG.modalities),
    studyDate: date ? (/^\d{8}$/.test(date) ? `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}` : date) : null,
    description: values(record, TAG.description)[0] ?? null,
  };
}

/** A QIDO-RS answer's results; PacsFailedError when it is an error or not a QIDO answer. */
async function qidoAnswer(response: Response): Promise<unknown[]> {
  // Orthanc answers an empty match with 200 and [] (older plugins with 204).
  if (response.status === 204) return [];
  if (!response.ok) throw new PacsFailedError(response.status);
  let text: string;
  try {
    text = await response.text();
  } catch {
    throw new PacsUnavailableError('The PACS stopped answering mid-response.');
  }
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : [];
  } catch {
    throw new PacsFailedError(response.status);
  }
  if (!Array.isArray(body)) throw new PacsFailedError(response.status);
  return body;
}

/**
 * Asks the PACS for `uids` in one list-matching QIDO-RS query. Every study the PACS holds
 * under a requested UID is returned, grouped by UID: more than one entry for a UID means the
 * PACS holds it more than once (e.g. under two patients). A UID the PACS does not hold has
 * no entry. Throws PacsUnavailableError when the PACS does not answer and PacsFailedError
 * when it answers with an error or with something that is not a QIDO answer.
 */
export async function findStudies(client: DicomwebClient, uids: readonly string[]): Promise<Map<string, StudyFacts[]>> {
  const found = new Map<string, StudyFacts[]>();
  if (uids.length === 0) return found;
  const query = new URLSearchParams({ StudyInstanceUID: uids.join(','), includefield: STUDY_FACT_FIELDS });
  const body = await qidoAnswer(await client.get('/studies', query, 'application/dicom+json'));
  const wanted = new Set(uids);
  for (const item of body) {
    const facts = studyFactsOf(item);
    // A result the query did not ask for is ignored, never trusted.
    if (!facts || !wanted.has(facts.studyInstanceUid)) continue;
    const list = found.get(facts.studyInstanceUid) ?? [];
    list.push(facts);
    found.set(facts.studyInstanceUid, list);
  }
  return found;
}

/**
 * The studies the PACS files under one accession number, exactly as given. The caller must
 * refuse wildcards (`*`, `?`) and lists (`,`) before asking; an answer for another number is
 * ignored here all the same. Same errors as findStudies.
 */
export async function findStudiesByAccession(client: DicomwebClient, accessionNumber: string): Promise<StudyFacts[]> {
  const query = new URLSearchParams({ AccessionNumber: accessionNumber, includefield: `${STUDY_FACT_FIELDS},${TAG.accessionNumber}` });
  const body = await qidoAnswer(await client.get('/studies', query, 'application/dicom+json'));
  return body.flatMap((item) => {
    const facts = studyFactsOf(item);
    const [number] = typeof item === 'object' && item !== null ? values(item as Record<string, unknown>, TAG.accessionNumber) : [];
    return facts && number === accessionNumber ? [facts] : [];
  });
}

export { DicomwebClient, PacsFailedError, PacsUnavailableError };
