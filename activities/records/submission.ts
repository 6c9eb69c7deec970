import { ApplicationFailure } from '@temporalio/activity';
import type { SubmittedRequest } from '../../domain/access-request.js';
import { recordConfirmedStudies } from '../../db/confirmed-studies.js';
import type { Db, DbTransaction } from '../../db/client.js';
import { storable } from '../storable-text.js';
import { recordOnce } from './record-once.js';

export interface RecordSubmissionInput {
  request: SubmittedRequest;
  submittedAt: number;
  reviewDeadline: number;
  /** The workflow run that records it; absent in histories from before runs were bound. */
  runId?: string;
}

export async function recordSubmission(db: Db, input: RecordSubmissionInput): Promise<boolean> {
  const { request, submittedAt } = input;
  await refuseAnotherRun(db, request.id, input.runId);
  return recordOnce(
    db,
    {
      dedupeKey: `submitted:${request.id}`,
      type: 'access_request.submitted',
      actor: request.requester,
      accessRequestId: request.id,
      payload: {
        requestHash: request.requestHash,
        studyInstanceUids: request.studyInstanceUids,
        purposeOfUse: request.purposeOfUse,
        durationMinutes: request.durationMinutes,
        departmentId: request.departmentId,
      },
      occurredAt: new Date(submittedAt),
    },
    (tx) => createRequest(tx, input),
  );
}

/**
 * A second run of the same request (its start copied from the first, assertion and all)
 * must not take over the first run's records.
 */
export async function refuseAnotherRun(db: Db, accessRequestId: string, runId: string | undefined): Promise<void> {
  const existing = await db.accessRequest.findUnique({ where: { id: accessRequestId }, select: { workflowRunId: true } });
  if (existing?.workflowRunId && runId && existing.workflowRunId !== runId) {
    throw ApplicationFailure.nonRetryable('The request was recorded by another workflow run.', 'DUPLICATE_RUN');
  }
}

export async function createRequest(tx: DbTransaction, { request, submittedAt, reviewDeadline, runId }: RecordSubmissionInput): Promise<void> {
  await tx.accessRequest.create({
    data: {
      id: request.id,
      requester: request.requester,
      requesterRole: request.requesterRole,
      departmentId: request.departmentId,
      studyInstanceUids: request.studyInstanceUids,
      patientId: request.patientId,
      purposeOfUse: request.purposeOfUse,
      justification: storable(request.justification),
      durationMinutes: request.durationMinutes,
      requestHash: request.requestHash,
      idempotencyKey: request.idempotencyKey ?? null,
      workflowRunId: runId ?? null,
      status: 'PENDING_REVIEW',
      submittedAt: new Date(submittedAt),
      reviewDeadline: new Date(reviewDeadline),
    },
  });
  await recordConfirmedStudies(tx, request.id, request.confirmedStudies ?? []);
}
