import type { StoredAccessRecord } from '../../contracts/access-record.js';
import type { ChainEvent } from '../../contracts/chain-event.js';
import type { AuditFacts } from './dicom-audit-message.js';

/** The part of a stored gateway access record that the audit formats report. */
export type AccessRecordFacts = Pick<
  StoredAccessRecord,
  'id' | 'occurredAt' | 'username' | 'grantId' | 'jti' | 'study' | 'route' | 'status' | 'outcome' | 'reason' | 'clientIp'
>;

export interface CaseFacts {
  id: string;
  requester: string;
  studyInstanceUids: string[];
  patientId: string;
  purposeOfUse: string;
}

/** An audit chain event as the audit formats report it: everything but its id. */
export type ChainEventFacts = Omit<ChainEvent, 'id'>;

/** What one gateway access says, for any audit format. */
export function accessFacts(record: AccessRecordFacts, request: Pick<CaseFacts, 'patientId' | 'purposeOfUse'> | null): AuditFacts {
  const served = record.outcome === 'served';
  return {
    kind: served ? 'instances-accessed' : 'security-alert',
    at: record.occurredAt,
    user: record.username,
    userAddress: record.clientIp,
    study: record.study,
    patientId: request?.patientId ?? null,
    purposeOfUse: request?.purposeOfUse ?? null,
    outcome: served ? 'success' : 'minor-failure',
    details: {
      AccessRecordId: record.id,
      GrantId: record.grantId,
      TokenJti: record.jti,
      Route: record.route,
      Status: String(record.status),
      Reason: record.reason,
    },
  };
}

/** Whether an audit chain event is one the standard formats report: a grant made (a second approval, or a break-glass) or revoked. */
export function isLifecycleEvent(event: Pick<ChainEventFacts, 'type' | 'payload'>): boolean {
  return (
    event.type === 'grant.revoked' ||
    event.type === 'break-glass.opened' ||
    (event.type === 'review.recorded' && (event.payload as { outcome?: string }).outcome === 'ACTIVE')
  );
}

/** What a grant being made (the second approval) or revoked says, for any audit format. */
export function lifecycleFacts(event: ChainEventFacts, request: CaseFacts | null): AuditFacts {
  const payload = event.payload as { approvers?: string[]; reason?: string };
  const revoked = event.type === 'grant.revoked';
  return {
    kind: revoked ? 'access-revoked' : 'access-granted',
    at: event.occurredAt,
    user: event.actor,
    otherUsers: revoked ? [] : (payload.approvers ?? []).filter((a) => a !== event.actor),
    studies: request?.studyInstanceUids ?? [],
    patientId: request?.patientId ?? null,
    purposeOfUse: request?.purposeOfUse ?? null,
    outcome: 'success',
    details: {
      AuditEventSeq: event.seq.toString(),
      GrantId: event.accessRequestId,
      Grantee: request?.requester,
      Reason: payload.reason,
      PurposeOfUse: request?.purposeOfUse,
    },
  };
}
