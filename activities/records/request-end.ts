import type { AccessRequestStatus } from '../../domain/access-request.js';
import type { DbTransaction } from '../../db/client.js';
import { storable } from '../storable-text.js';

// How a request's row and its grant are closed, shared by every transition that ends one.

export async function endRequest(tx: DbTransaction, accessRequestId: string, end: { status: AccessRequestStatus; at: Date; reason: string }): Promise<void> {
  await tx.accessRequest.update({ where: { id: accessRequestId }, data: { status: end.status, endedAt: end.at, endReason: storable(end.reason) } });
}

export async function endGrant(tx: DbTransaction, accessRequestId: string, at: Date): Promise<void> {
  await tx.grant.update({ where: { accessRequestId }, data: { endedAt: at } });
}
