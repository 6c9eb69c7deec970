import type { Db } from '../../db/client.js';
import { storable } from '../storable-text.js';
import { recordOnce } from './record-once.js';
import { endGrant, endRequest } from './request-end.js';

export interface RecordRevocationInput {
  accessRequestId: string;
  revocationId: string;
  revokedBy: string;
  revokedByRole: string;
  reason: string;
  revokedAt: number;
}

export async function recordRevocation(db: Db, input: RecordRevocationInput): Promise<boolean> {
  const at = new Date(input.revokedAt);
  return recordOnce(
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
      await endRequest(tx, input.accessRequestId, { status: 'REVOKED', at, reason: input.reason });
      await endGrant(tx, input.accessRequestId, at);
    },
  );
}
