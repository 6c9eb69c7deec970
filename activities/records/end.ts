import type { AccessRequestStatus } from '../../domain/access-request.js';
import type { Db } from '../../db/client.js';
import { recordOnce } from './record-once.js';
import { endGrant, endRequest } from './request-end.js';

export interface RecordEndInput {
  accessRequestId: string;
  status: Extract<AccessRequestStatus, 'CANCELLED' | 'TIMED_OUT' | 'EXPIRED'>;
  endedAt: number;
  reason: string;
  actor: string;
}

/** A request withdrawn, left unreviewed, or whose grant ran its course. */
export async function recordEnd(db: Db, input: RecordEndInput): Promise<boolean> {
  const at = new Date(input.endedAt);
  return recordOnce(
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
      await endRequest(tx, input.accessRequestId, { status: input.status, at, reason: input.reason });
      // Only an expiry has a grant to end: a cancelled or timed-out request never had one.
      if (input.status === 'EXPIRED') await endGrant(tx, input.accessRequestId, at);
    },
  );
}
