import type { SubmittedRequest } from '../domain/access-request.js';
import type { Db, DbTransaction } from './client.js';

type ConfirmedStudy = NonNullable<SubmittedRequest['confirmedStudies']>[number];

/**
 * Records what the PACS confirmed about a request's studies, once per (request, study):
 * a retry, or a second writer, changes nothing. The request must already be recorded.
 * Returns how many rows were new. Takes a transaction too, so the request's own record can
 * write them with it.
 */
export async function recordConfirmedStudies(db: Db | DbTransaction, accessRequestId: string, studies: readonly ConfirmedStudy[]): Promise<number> {
  if (studies.length === 0) return 0;
  const { count } = await db.accessRequestStudy.createMany({
    data: studies.map((s) => ({
      accessRequestId,
      studyInstanceUid: s.studyInstanceUid,
      patientId: s.patientId,
      modalities: s.modalities,
      studyDate: s.studyDate,
      description: s.description,
      confirmedAt: new Date(s.confirmedAt),
    })),
    skipDuplicates: true,
  });
  return count;
}
