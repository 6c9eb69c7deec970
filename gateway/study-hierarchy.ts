import type { PacsClient } from './pacs-client.js';
import { Refusal } from './refusal.js';

const TTL_MS = 10 * 60_000;

/**
 * Whether a series or instance named in a path really belongs to the study in that path,
 * as the PACS says. Confirmed memberships are cached (they never change); denials are not.
 */
export class StudyHierarchy {
  private readonly confirmed = new Map<string, number>();

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
    if (this.confirmed.size > 100_000) this.confirmed.clear();
    this.confirmed.set(key, Date.now() + TTL_MS);
  }
}
