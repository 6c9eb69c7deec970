import type { SubmittedRequest } from '../../domain/access-request.js';

/** One radiology request by clin.alice, as the engine's unit tests judge it. */
export const radiologyRequest: SubmittedRequest = {
  id: 'ar-1',
  requester: 'clin.alice',
  requesterRole: 'clinician',
  departmentId: 'radiology',
  studyInstanceUids: ['1.2.3'],
  patientId: 'P1',
  purposeOfUse: 'TREAT',
  justification: 'follow-up imaging review',
  durationMinutes: 60,
  requestHash: 'h'.repeat(64),
};
