// What each message must look like before any rule is asked about it. The API sends only
// well-formed messages; these checks are for anything else that reaches the Temporal port,
// so that a wrongly typed field is refused at the door instead of failing a record later.
// Pure: the workflow sandbox bundles it.
import { REVIEW_DECISIONS } from '../domain/access-request.js';

type Check = (value: unknown) => boolean;

const isString: Check = (v) => typeof v === 'string';
const isNumber: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const optional =
  (check: Check): Check =>
  (v) =>
    v === undefined || v === null || check(v);
const stringArray: Check = (v) => Array.isArray(v) && v.every(isString);
const oneOf =
  (...values: string[]): Check =>
  (v) =>
    typeof v === 'string' && values.includes(v);

function shape(fields: Record<string, Check>): Check {
  return (v) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) && Object.entries(fields).every(([name, check]) => check((v as Record<string, unknown>)[name]));
}

const principal = shape({ username: isString, roles: stringArray, departmentId: optional(isString), reviewsForDepartments: stringArray });
const assertion = optional(isString);

export const wellFormed = {
  review: shape({
    reviewer: principal,
    decision: oneOf(...REVIEW_DECISIONS),
    comment: optional(isString),
    requestHash: isString,
    idempotencyKey: optional(isString),
    assertion,
  }),
  revoke: shape({ by: principal, byRole: isString, reason: isString, revocationId: isString, assertion }),
  cancel: shape({ by: principal, reason: optional(isString), assertion }),
  authorizeToken: shape({ by: principal, jti: isString, kid: isString, issuedAt: isNumber, expiresAt: isNumber, assertion }),
};
