import type { Db } from '../../db/client.js';
import { storable } from '../storable-text.js';
import { recordOnce } from './record-once.js';

export interface RecordFailureInput {
  accessRequestId: string;
  endedAt: number;
  /** The activity whose record was refused. */
  step: string;
}

const REASON = 'a step of this request could not be recorded';

/**
 * The end of a request whose step the database refused: FAILED, its grant (if recorded)
 * ended. It carries nothing from the refused step, so nothing in it can be refused.
 */
export async function recordFailure(db: Db, input: RecordFailureInput): Promise<boolean> {
  const at = new Date(input.endedAt);
  return recordOnce(
    db,
    {
      dedupeKey: `failed:${input.accessRequestId}`,
      type: 'access_request.failed',
      actor: 'system',
      accessRequestId: input.accessRequestId,
      payload: { step: storable(input.step, 100), reason: REASON },
      occurredAt: at,
    },
    async (tx) => {
      // updateMany, not endRequest/endGrant: the refused step may have been the submission
      // itself, or the approval that would have made the grant, so either row may be missing.
      await tx.accessRequest.updateMany({ where: { id: input.accessRequestId }, data: { status: 'FAILED', endedAt: at, endReason: REASON } });
      await tx.grant.updateMany({ where: { accessRequestId: input.accessRequestId, endedAt: null }, data: { endedAt: at } });
    },
  );
}
