import { createHash } from 'node:crypto';
import { canonicalJson } from '../contracts/canonical-json.js';
import type { SubmittedRequest } from '../domain/access-request.js';

type HashedFields = Omit<SubmittedRequest, 'id' | 'requestHash' | 'idempotencyKey'>;

/** SHA-256 of the RFC 8785 canonical JSON of what was asked: what every review is bound to. */
export function requestHash(fields: HashedFields): string {
  const canonical = canonicalJson({
    requester: fields.requester,
    requesterRole: fields.requesterRole,
    departmentId: fields.departmentId,
    studyInstanceUids: fields.studyInstanceUids,
    patientId: fields.patientId,
    purposeOfUse: fields.purposeOfUse,
    justification: fields.justification,
    durationMinutes: fields.durationMinutes,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

/** A retried submission with the same key maps to the same request (and workflow) id. */
export function accessRequestId(requester: string, idempotencyKey: string | undefined, random: () => string): string {
  if (!idempotencyKey) return `ar-${random()}`;
  return `ar-${createHash('sha256').update(`${requester}\u0000${idempotencyKey}`).digest('hex').slice(0, 32)}`;
}

/** A UUID-shaped id that the same parts always give: a retry, a double click or a second tab lands on the same workflow. */
export function derivedUuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
