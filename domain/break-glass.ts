import type { ReviewVerdict } from './review-engine.js';

// Break-glass: a clinician in an emergency is granted access at once, without review, for a
// short time; two people review it afterwards, within a window. The grant itself follows
// every rule of an approved one (tokens, revocation, expiry, freezes); the retrospective
// review follows every rule of a review (not the requester, distinct reviewers and roles, a
// denial says why), judged by a second AccessRequestState of the same request.

/** HL7 v3 ActReason "break the glass": the purpose every break-glass token carries. */
export const BREAK_GLASS_PURPOSE = 'BTG';

export const RETRO_STATUSES = ['PENDING', 'JUSTIFIED', 'UNJUSTIFIED', 'UNREVIEWED'] as const;
export type RetroStatus = (typeof RETRO_STATUSES)[number];

/** What a retrospective review's verdict makes of the break-glass. */
export function retroStatusOf(outcome: ReviewVerdict['outcome']): RetroStatus {
  if (outcome === 'ACTIVE') return 'JUSTIFIED';
  if (outcome === 'DENIED') return 'UNJUSTIFIED';
  return 'PENDING';
}

/** Whether a break-glass's end calls for an incident: judged unjustified, or never reviewed in time. */
export function needsIncident(status: RetroStatus): boolean {
  return status === 'UNJUSTIFIED' || status === 'UNREVIEWED';
}
