import type { Db } from '../../db/client.js';

// What an incident touches, from the records: the patients and studies behind its suspected
// scope. A study's patient is taken only from the access requests that named it, each
// confirmed with the PACS at submission; never from what a caller says.

export interface IncidentScopeInput {
  patients: readonly string[];
  studies: readonly string[];
  users: readonly string[];
  windowFrom: Date;
  windowTo: Date;
}

export interface AffectedRecords {
  patients: string[];
  studies: string[];
  /** Grants of the affected patients (and of the users in scope) whose accesses the report lists. */
  grantIds: string[];
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

export async function affectedRecords(db: Db, scope: IncidentScopeInput): Promise<AffectedRecords> {
  const byUser = scope.users.length
    ? await db.gatewayAccessRecord.findMany({
        where: { username: { in: [...scope.users] }, occurredAt: { gte: scope.windowFrom, lte: scope.windowTo } },
        select: { grantId: true, study: true },
        distinct: ['grantId', 'study'],
      })
    : [];
  const studies = new Set([...scope.studies, ...byUser.flatMap((r) => (r.study ? [r.study] : []))]);
  const grantsOfUsers = new Set(byUser.flatMap((r) => (r.grantId ? [r.grantId] : [])));
  const requests = await db.accessRequest.findMany({
    where: {
      OR: [
        ...(scope.patients.length ? [{ patientId: { in: [...scope.patients] } }] : []),
        ...(studies.size ? [{ studyInstanceUids: { hasSome: [...studies] } }] : []),
        ...(grantsOfUsers.size ? [{ id: { in: [...grantsOfUsers] } }] : []),
      ],
    },
    select: { id: true, patientId: true, studyInstanceUids: true },
  });
  const patients = new Set(scope.patients);
  for (const request of requests) {
    // A request counts for a study only when it named that study (and so the PACS confirmed the patient).
    if (request.studyInstanceUids.some((s) => studies.has(s)) || grantsOfUsers.has(request.id)) patients.add(request.patientId);
  }
  // Every request of every affected patient, those found through a study or a user too: their
  // grants and studies are the patient's, whoever asked.
  const ofPatients = patients.size
    ? await db.accessRequest.findMany({ where: { patientId: { in: [...patients] } }, select: { id: true, patientId: true, studyInstanceUids: true } })
    : [];
  for (const request of ofPatients) request.studyInstanceUids.forEach((s) => studies.add(s));
  return {
    patients: sorted(patients),
    studies: sorted(studies),
    grantIds: sorted([...ofPatients.map((r) => r.id), ...grantsOfUsers]),
  };
}
