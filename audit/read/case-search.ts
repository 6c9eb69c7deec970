import type { Prisma } from '../../generated/prisma/client.js';

/** What an auditor may search by, already validated by whoever asks (the API, the CLI). */
export interface CaseSearch {
  requester?: string;
  reviewer?: string;
  study?: string;
  patient?: string;
  status?: string;
  purpose?: string;
  from?: string;
  to?: string;
}

/** Auditors' case filter: every criterion narrows; none widens. */
export function caseFilter(search: CaseSearch): Prisma.AccessRequestWhereInput {
  return {
    AND: [
      search.requester ? { requester: search.requester } : {},
      search.reviewer ? { reviews: { some: { reviewer: search.reviewer } } } : {},
      search.study ? { studyInstanceUids: { has: search.study } } : {},
      search.patient ? { patientId: search.patient } : {},
      search.status ? { status: search.status } : {},
      search.purpose ? { purposeOfUse: search.purpose } : {},
      search.from ? { submittedAt: { gte: new Date(search.from) } } : {},
      search.to ? { submittedAt: { lte: new Date(search.to) } } : {},
    ],
  };
}
