import { createHash } from 'node:crypto';
import type { AccessRequestStatus, ReviewDecision, ReviewerRole, SubmittedRequest } from '../domain/access-request.js';
import { appendAuditEvent } from '../db/audit-chain.js';
import { recordConfirmedStudies } from '../db/confirmed-studies.js';
import { inTransaction, type Db, type DbTransaction } from '../db/client.js';
import { ApplicationFailure } from '@temporalio/activity';
import { storable, storableJson, storableOrNull } from './storable-text.js';

// Every activity writes its rows and its audit event in one transaction keyed by a dedupe
// key, so a retried activity (worker killed after the commit, before reporting) is a no-op.

export interface RecordSubmissionInput {
  request: SubmittedRequest;
  submittedAt: number;
  reviewDeadline: number;
  /** The workflow run that records it; absent in histories from before runs were bound. */
  runId?: string;
}

export interface RecordReviewInput {
  accessRequestId: string;
  reviewer: string;
  decision: ReviewDecision;
  comment?: string;
  requestHash: string;
  countedToward: ReviewerRole;
  reviewedAt: number;
  outcome: 'PENDING_REVIEW' | 'ACTIVE' | 'DENIED';
  grant?: { approvers: string[]; activatedAt: number; expiresAt: number };
  idempotencyKey?: string;
}

export interface RecordRevocationInput {
  accessRequestId: string;
  revocationId: string;
  revokedBy: string;
  revokedByRole: string;
  reason: string;
  revokedAt: number;
}

export interface RecordEndInput {
  accessRequestId: string;
  status: Extract<AccessRequestStatus, 'CANCELLED' | 'TIMED_OUT' | 'EXPIRED'>;
  endedAt: number;
  reason: string;
  actor: string;
}

export interface RecordRefusedMessageInput {
  /** Unique per message: a retried activity records it once. */
  messageId: string;
  accessRequestId: string;
  /** Whether the request exists in the records (a forged submission has none). */
  requestRecorded: boolean;
  action: string;
  claimedBy: string;
  decision?: string;
  reason: string;
  detail: string;
}

export interface RecordFailureInput {
  accessRequestId: string;
  endedAt: number;
  /** The activity whose record was refused. */
  step: string;
}

export interface RecordTokenIssuedInput {
  accessRequestId: string;
  jti: string;
  kid: string;
  subject: string;
  issuedAt: number;
  expiresAt: number;
}

/**
 * Runs `write` once per dedupe key. The rows are written first and the chained audit event
 * last, so the chain head (one lock for the whole system) is held only for the append.
 * The event is dated when it is recorded; the time the workflow decided (`effectiveAt`)
 * goes in its payload, as it does in the rows.
 */
async function once(
  db: Db,
  { occurredAt: effectiveAt, ...event }: Parameters<typeof appendAuditEvent>[1],
  write: (tx: DbTransaction) => Promise<void>,
): Promise<boolean> {
  try {
    return await writeOnce(db, { ...event, actor: storable(event.actor, 200), payload: storableJson(event.payload), occurredAt: effectiveAt }, write);
  } catch (error) {
    // Data the database will never take fails the same way on every retry: say so, and the
    // workflow ends the request as FAILED, instead of retrying for ever.
    if (neverStorable(error)) throw ApplicationFailure.nonRetryable(`${event.type} cannot be stored (${(error as Error).name})`, 'RECORD_REFUSED');
    throw error;
  }
}

/** SQLSTATE class 22 (data exception), or values the client refuses before sending (an invalid date). */
function neverStorable(error: unknown): boolean {
  if (error instanceof RangeError) return true;
  if ((error as Error)?.name === 'PrismaClientValidationError') return true;
  return sqlState(error)?.startsWith('22') ?? false;
}

function sqlState(error: unknown): string | undefined {
  const cause =
    (error as { meta?: { driverAdapterError?: { cause?: { originalCode?: string } } }; cause?: { originalCode?: string } })?.meta?.driverAdapterError?.cause ??
    (error as { cause?: { originalCode?: string } })?.cause;
  return cause?.originalCode;
}

async function writeOnce(
  db: Db,
  { occurredAt: effectiveAt, ...event }: Parameters<typeof appendAuditEvent>[1],
  write: (tx: DbTransaction) => Promise<void>,
): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    if (await tx.auditEvent.findUnique({ where: { dedupeKey: event.dedupeKey }, select: { seq: true } })) return false;
    await write(tx);
    const recorded = { ...event, payload: { ...event.payload, effectiveAt: effectiveAt.toISOString() }, occurredAt: new Date() };
    // A concurrent retry appended first: roll this one back; its retry will find the record.
    if (!(await appendAuditEvent(tx, recorded))) throw new Error(`audit event ${event.dedupeKey} was recorded concurrently`);
    return true;
  });
}

export function createRecordActivities(db: Db) {
  return {
    async recordSubmission({ request, submittedAt, reviewDeadline, runId }: RecordSubmissionInput): Promise<boolean> {
      // A second run of the same request (its start copied from the first, assertion and all)
      // must not take over the first run's records.
      const existing = await db.accessRequest.findUnique({ where: { id: request.id }, select: { workflowRunId: true } });
      if (existing?.workflowRunId && runId && existing.workflowRunId !== runId) {
        throw ApplicationFailure.nonRetryable('The request was recorded by another workflow run.', 'DUPLICATE_RUN');
      }
      return once(
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
        async (tx) => {
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
        },
      );
    },

    async recordReview(input: RecordReviewInput): Promise<boolean> {
      const at = new Date(input.reviewedAt);
      return once(
        db,
        {
          dedupeKey: `review:${input.accessRequestId}:${input.reviewer}`,
          type: 'review.recorded',
          actor: input.reviewer,
          accessRequestId: input.accessRequestId,
          payload: {
            decision: input.decision,
            countedToward: input.countedToward,
            requestHash: input.requestHash,
            outcome: input.outcome,
            approvers: input.grant?.approvers ?? null,
            grantExpiresAt: input.grant ? new Date(input.grant.expiresAt).toISOString() : null,
          },
          occurredAt: at,
        },
        async (tx) => {
          await tx.review.create({
            data: {
              id: `${input.accessRequestId}:${input.reviewer}`,
              accessRequestId: input.accessRequestId,
              reviewer: input.reviewer,
              decision: input.decision,
              comment: storableOrNull(input.comment),
              countedToward: input.countedToward,
              requestHash: input.requestHash,
              reviewedAt: at,
              idempotencyKey: input.idempotencyKey ?? null,
            },
          });
          if (input.outcome === 'ACTIVE' && input.grant) {
            const request = await tx.accessRequest.update({ where: { id: input.accessRequestId }, data: { status: 'ACTIVE' } });
            await tx.grant.create({
              data: {
                accessRequestId: input.accessRequestId,
                grantee: request.requester,
                studyInstanceUids: request.studyInstanceUids,
                approvers: input.grant.approvers,
                activatedAt: new Date(input.grant.activatedAt),
                expiresAt: new Date(input.grant.expiresAt),
              },
            });
          } else if (input.outcome === 'DENIED') {
            await tx.accessRequest.update({
              where: { id: input.accessRequestId },
              data: { status: 'DENIED', endedAt: at, endReason: storableOrNull(input.comment) ?? 'denied' },
            });
          }
        },
      );
    },

    async recordRevocation(input: RecordRevocationInput): Promise<boolean> {
      const at = new Date(input.revokedAt);
      return once(
        db,
        {
          dedupeKey: `revoked:${input.accessRequestId}`,
          type: 'grant.revoked',
          actor: input.revokedBy,
          accessRequestId: input.accessRequestId,
          payload: { revocationId: input.revocationId, role: input.revokedByRole, reason: input.reason },
          occurredAt: at,
        },
        async (tx) => {
          await tx.revocation.create({
            data: {
              id: input.revocationId,
              accessRequestId: input.accessRequestId,
              revokedBy: input.revokedBy,
              revokedByRole: input.revokedByRole,
              reason: storable(input.reason),
              revokedAt: at,
            },
          });
          await tx.accessRequest.update({ where: { id: input.accessRequestId }, data: { status: 'REVOKED', endedAt: at, endReason: storable(input.reason) } });
          await tx.grant.update({ where: { accessRequestId: input.accessRequestId }, data: { endedAt: at } });
        },
      );
    },

    async recordEnd(input: RecordEndInput): Promise<boolean> {
      const at = new Date(input.endedAt);
      return once(
        db,
        {
          dedupeKey: `ended:${input.accessRequestId}`,
          type: `access_request.${input.status.toLowerCase()}`,
          actor: input.actor,
          accessRequestId: input.accessRequestId,
          payload: { status: input.status, reason: input.reason },
          occurredAt: at,
        },
        async (tx) => {
          await tx.accessRequest.update({
            where: { id: input.accessRequestId },
            data: { status: input.status, endedAt: at, endReason: storable(input.reason) },
          });
          if (input.status === 'EXPIRED') await tx.grant.update({ where: { accessRequestId: input.accessRequestId }, data: { endedAt: at } });
        },
      );
    },

    /**
     * A message the workflow refused because the API did not vouch for its sender. The API
     * never saw it, so the workflow is the only one that can record it.
     */
    async recordRefusedMessage(input: RecordRefusedMessageInput): Promise<boolean> {
      const at = new Date();
      return once(
        db,
        {
          // The message id is the sender's choice: only its digest goes into the key.
          dedupeKey: `message-refused:${createHash('sha256').update(String(input.messageId)).digest('hex')}`,
          type: 'message.refused',
          actor: input.claimedBy,
          accessRequestId: input.requestRecorded ? input.accessRequestId : undefined,
          payload: { accessRequestId: input.accessRequestId, action: input.action, reason: input.reason, detail: input.detail },
          occurredAt: at,
        },
        async (tx) => {
          if (input.action === 'review' && input.requestRecorded) {
            await tx.rejectedReviewAttempt.create({
              data: {
                accessRequestId: input.accessRequestId,
                reviewer: storable(input.claimedBy, 200),
                decision: storable(input.decision ?? 'unknown', 20),
                reason: input.reason,
                detail: storable(input.detail),
                attemptedAt: at,
              },
            });
          }
        },
      );
    },

    /**
     * The end of a request whose step the database refused: FAILED, its grant (if recorded)
     * ended. It carries nothing from the refused step, so nothing in it can be refused.
     */
    async recordFailure(input: RecordFailureInput): Promise<boolean> {
      const at = new Date(input.endedAt);
      const reason = 'a step of this request could not be recorded';
      return once(
        db,
        {
          dedupeKey: `failed:${input.accessRequestId}`,
          type: 'access_request.failed',
          actor: 'system',
          accessRequestId: input.accessRequestId,
          payload: { step: storable(input.step, 100), reason },
          occurredAt: at,
        },
        async (tx) => {
          await tx.accessRequest.updateMany({ where: { id: input.accessRequestId }, data: { status: 'FAILED', endedAt: at, endReason: reason } });
          await tx.grant.updateMany({ where: { accessRequestId: input.accessRequestId, endedAt: null }, data: { endedAt: at } });
        },
      );
    },

    async recordTokenIssued(input: RecordTokenIssuedInput): Promise<boolean> {
      return once(
        db,
        {
          dedupeKey: `token:${input.jti}`,
          type: 'token.issued',
          actor: input.subject,
          accessRequestId: input.accessRequestId,
          payload: { jti: input.jti, kid: input.kid, expiresAt: new Date(input.expiresAt).toISOString() },
          occurredAt: new Date(input.issuedAt),
        },
        async (tx) => {
          await tx.issuedToken.create({
            data: {
              jti: input.jti,
              accessRequestId: input.accessRequestId,
              subject: input.subject,
              kid: input.kid,
              issuedAt: new Date(input.issuedAt),
              expiresAt: new Date(input.expiresAt),
            },
          });
        },
      );
    },
  };
}
