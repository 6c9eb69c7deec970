// What "this grant is active" means, once: the engine, the API and the gateway all ask here.
// Pure, and no clock of its own: the caller says what time it is.

export interface GrantState {
  status: string;
  /** Epoch ms; the grant's end, exclusive. Undefined until the request was approved. */
  expiresAt?: number;
}

/**
 * Active means approved and not yet at its end. The end is exclusive, so at `expiresAt` the
 * grant is over even before the workflow has recorded EXPIRED (its timer may fire late), and
 * a revoked or expired grant is not active whatever its end says.
 */
export function isGrantActive(grant: GrantState, now: number): boolean {
  return grant.status === 'ACTIVE' && grant.expiresAt !== undefined && now < grant.expiresAt;
}
