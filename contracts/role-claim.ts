import { ROLES, type Role } from '../domain/access-request.js';

/**
 * The roles a token's claim names, as the API reads them and the web page shows them: a list,
 * or one string of names split by spaces or commas (issuers differ); names it does not know
 * are dropped.
 */
export function knownRoles(claimed: unknown): Role[] {
  const list = Array.isArray(claimed) ? claimed : typeof claimed === 'string' ? claimed.split(/[\s,]+/) : [];
  return list.filter((r): r is Role => typeof r === 'string' && (ROLES as readonly string[]).includes(r));
}
