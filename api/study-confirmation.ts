import type { Logger } from 'pino';
import type { AppConfig } from '../config/config.js';
import type { SubmittedRequest } from '../domain/access-request.js';
import { DicomwebClient, PacsFailedError, PacsUnavailableError } from '../pacs/dicomweb-client.js';
import { findStudies, findStudiesByAccession, type StudyFacts } from '../pacs/study-facts.js';
import { Problem } from './problem.js';

export type ConfirmedStudy = NonNullable<SubmittedRequest['confirmedStudies']>[number];

/** Why a submission's studies were not confirmed: stable codes. */
export const STUDY_CONFIRMATION_REASONS = {
  /** The PACS holds no study with that UID. */
  STUDY_NOT_FOUND: 400,
  /** The PACS holds the study under another patient, under none, or more than once. */
  PATIENT_MISMATCH: 400,
  /** The PACS did not answer, or failed: nothing can be confirmed, so nothing is recorded. */
  PACS_UNAVAILABLE: 503,
} as const;

const TIMEOUT_MS = 10_000;

/**
 * Before a request is recorded, the API asks the PACS what each requested study is. A study
 * counts only once the PACS confirms it exists, exactly once, under the submitted patient;
 * anything else, including no answer, refuses the submission before anything is written.
 * Patient identifiers never reach a log or a refusal's detail.
 */
export class StudyConfirmation {
  private readonly client: DicomwebClient | undefined;

  constructor(
    settings: AppConfig['pacs'],
    private readonly log: Logger,
  ) {
    this.client = settings ? new DicomwebClient({ ...settings, timeoutMs: TIMEOUT_MS }) : undefined;
  }

  async confirm(uids: readonly string[], patientId: string): Promise<ConfirmedStudy[]> {
    if (!this.client) throw unavailable('No PACS is configured (PACS_DICOMWEB_URL), so no study can be confirmed; nothing was recorded.');
    let found;
    try {
      found = await findStudies(this.client, uids);
    } catch (error) {
      if (!(error instanceof PacsUnavailableError || error instanceof PacsFailedError)) throw error;
      this.log.warn(
        { err: error.message, pacsStatus: error instanceof PacsFailedError ? error.status : undefined, studies: uids.length },
        'PACS could not confirm the studies of a submission',
      );
      throw unavailable('The PACS could not be asked about the studies; nothing was recorded. Retry later.');
    }
    const confirmedAt = Date.now();
    const missing: number[] = [];
    const mismatched: number[] = [];
    const confirmed: ConfirmedStudy[] = [];
    uids.forEach((uid, index) => {
      const entries = found.get(uid) ?? [];
      const [facts] = entries;
      if (!facts) missing.push(index);
      else if (entries.length !== 1 || facts.patientId === null || facts.patientId !== patientId) mismatched.push(index);
      else confirmed.push({ ...facts, patientId: facts.patientId, confirmedAt });
    });
    if (missing.length > 0) {
      throw refused(
        'STUDY_NOT_FOUND',
        `The PACS holds no study ${missing.map((i) => uids[i]).join(', ')}; nothing was recorded.`,
        missing,
        'the PACS holds no such study',
      );
    }
    if (mismatched.length > 0) {
      throw refused(
        'PATIENT_MISMATCH',
        `The PACS does not hold study ${mismatched.map((i) => uids[i]).join(', ')} under the patient given; nothing was recorded.`,
        mismatched,
        'the PACS does not hold this study under the patient given',
      );
    }
    return confirmed;
  }

  /**
   * The studies the PACS files under an accession number for this patient, to fill in a
   * request's UIDs. The patient id is compared here, never sent as a QIDO matcher (where `*`
   * would match anyone), and studies of other patients are left out unsaid: the lookup tells
   * no more than a submission's PATIENT_MISMATCH would. The submission confirms them again.
   */
  async findByAccession(accessionNumber: string, patientId: string): Promise<StudyFacts[]> {
    if (!this.client) throw unavailable('No PACS is configured (PACS_DICOMWEB_URL), so no study can be looked up.');
    let found: StudyFacts[];
    try {
      found = await findStudiesByAccession(this.client, accessionNumber);
    } catch (error) {
      if (!(error instanceof PacsUnavailableError || error instanceof PacsFailedError)) throw error;
      this.log.warn(
        { err: error.message, pacsStatus: error instanceof PacsFailedError ? error.status : undefined },
        'PACS could not look up an accession number',
      );
      throw unavailable('The PACS could not be asked; retry later.');
    }
    return found.filter((study) => study.patientId === patientId);
  }
}

function unavailable(detail: string): Problem {
  return new Problem(STUDY_CONFIRMATION_REASONS.PACS_UNAVAILABLE, 'PACS unavailable', detail, { reason: 'PACS_UNAVAILABLE' });
}

function refused(reason: 'STUDY_NOT_FOUND' | 'PATIENT_MISMATCH', detail: string, indexes: number[], message: string): Problem {
  return new Problem(STUDY_CONFIRMATION_REASONS[reason], 'Study not confirmed', detail, {
    reason,
    errors: indexes.map((i) => ({ path: `studyInstanceUids.${i}`, message })),
  });
}
