import type { PacsClient } from './pacs-client.js';
import { Refusal } from './refusal.js';

const TTL_MS = 10 * 60_000;
const MAX_CACHED = 100_000;

/**
 * What the PACS says about the studies in a request: whether a series or instance named in
 * a path really belongs to the study in that path, and which patient a study belongs to.
 * Confirmed facts are cached for a while (they do not change in normal use); denials and
 * doubts are not.
 */
export class StudyHierarchy {
  private readonly confirmed = new Map<string, number>();
  /** Study UID → the one patient the PACS holds it under, and until when that is trusted. */
  private readonly patients = new Map<string, { patientId: string; until: number }>();

  constructor(private readonly pacs: PacsClient) {}

  async assertContained(study: string, series: string | undefined, instance: string | undefined): Promise<void> {
    if (!series) return;
    const key = `${study}/${series}/${instance ?? ''}`;
    const until = this.confirmed.get(key);
    if (until && until > Date.now()) return;
    const found = instance
      ? await this.pacs.getJson(`/studies/${study}/series/${series}/instances`, new URLSearchParams({ SOPInstanceUID: instance }))
      : await this.pacs.getJson(`/studies/${study}/series`, new URLSearchParams({ SeriesInstanceUID: series }));
    if (found.length === 0) throw new Refusal(403, 'NOT_IN_STUDY', `The ${instance ? 'instance' : 'series'} is not part of the study in the path.`);
    if (this.confirmed.size > MAX_CACHED) this.confirmed.clear();
    this.confirmed.set(key, Date.now() + TTL_MS);
  }

  /**
   * Every one of `studies` belongs to `patientId`, as the PACS says: it holds each study
   * exactly once, under that patient. A study the PACS does not hold is refused as not
   * found; one it holds under another patient, under none, or more than once, as
   * PATIENT_MISMATCH. Patient identifiers never appear in a refusal's detail.
   */
  async assertPatient(studies: Iterable<string>, patientId: string): Promise<void> {
    const now = Date.now();
    const unknown: string[] = [];
    for (const study of studies) {
      const known = this.patients.get(study);
      if (known && known.until > now) {
        if (known.patientId !== patientId) throw mismatch();
      } else {
        unknown.push(study);
      }
    }
    if (unknown.length === 0) return;
    const found = await this.pacs.studies(unknown);
    for (const study of unknown) {
      const entries = found.get(study) ?? [];
      if (entries.length === 0) throw new Refusal(404, 'NOT_FOUND', 'The PACS has no such study.');
      const owners = new Set(entries.map((e) => e.patientId));
      if (owners.size !== 1 || entries.length !== 1) throw mismatch();
      const [owner] = owners;
      if (!owner) throw mismatch();
      if (this.patients.size > MAX_CACHED) this.patients.clear();
      this.patients.set(study, { patientId: owner, until: now + TTL_MS });
      if (owner !== patientId) throw mismatch();
    }
  }
}

function mismatch(): Refusal {
  return new Refusal(403, 'PATIENT_MISMATCH', "The PACS does not hold the study under the token's patient.");
}
