import type { Principal } from '../domain/access-request.js';

// The API's signed word for who sent a Temporal message: what the API signs, the worker's
// activity checks and the workflow reads. The signing and checking live in tokens/.

export const ASSERTION_ISSUER = 'urn:imaging-access-review:api';
export const ASSERTION_AUDIENCE = 'urn:imaging-access-review:workflow';
export const ASSERTION_TYPE = 'iar-principal+jwt';
/** Long enough for a message that waits on a restarting worker, short enough to be useless later. */
export const ASSERTION_LIFETIME_SECONDS = 300;

export type AssertedAction =
  | 'submit'
  | 'review'
  | 'revoke'
  | 'cancel'
  | 'authorizeToken'
  | 'freeze'
  | 'requestLift'
  | 'decideLift'
  | 'retroReview'
  | 'declareIncident'
  | 'assembleTeam'
  | 'contain'
  | 'notify'
  | 'traceLeak'
  | 'signOff';

/** What an assertion vouches for, besides the principal. */
export interface AssertionSubject {
  accessRequestId: string;
  action: AssertedAction;
  /** The message exactly as sent, without the assertion. */
  body: unknown;
}

export type AssertionRefusal = 'ASSERTION_MISSING' | 'ASSERTION_INVALID' | 'ASSERTION_EXPIRED' | 'ASSERTION_MISMATCH';
export type AssertionCheck = { ok: true; principal: Principal; jti: string } | { ok: false; reason: AssertionRefusal; detail: string };
