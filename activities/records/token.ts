import type { Db } from '../../db/client.js';
import { recordOnce } from './record-once.js';

export interface RecordTokenIssuedInput {
  accessRequestId: string;
  jti: string;
  kid: string;
  subject: string;
  issuedAt: number;
  expiresAt: number;
}

/** A PACS token the workflow authorized, by its `jti`: the token itself is never stored. */
export async function recordTokenIssued(db: Db, input: RecordTokenIssuedInput): Promise<boolean> {
  return recordOnce(
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
}
