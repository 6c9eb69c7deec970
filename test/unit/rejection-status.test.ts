import { describe, expect, it } from 'vitest';
import { Problem } from '../../api/problem.js';
import { REJECTION_STATUS, rejectionProblem, throwIfRejected } from '../../api/rejection-status.js';
import { REJECTION_REASONS, Rejection, isRejectionReason, type RejectionReason } from '../../domain/review-rejection.js';

// The domain names why something was refused; the API alone says what HTTP makes of it.

describe('every refusal reason', () => {
  it('has an HTTP status, and the API lists no reason the domain does not know', () => {
    expect(Object.keys(REJECTION_STATUS).sort()).toEqual(Object.keys(REJECTION_REASONS).sort());
  });

  it.each(Object.keys(REJECTION_REASONS) as RejectionReason[])('%s becomes a problem with its status, title, detail and reason', (reason) => {
    const problem = rejectionProblem(new Rejection(reason, `why ${reason}`));
    const title = { 403: 'Forbidden', 409: 'Conflict', 422: 'Unprocessable request', 423: 'Frozen' }[REJECTION_STATUS[reason]];
    expect(problem).toBeInstanceOf(Problem);
    expect(problem).toMatchObject({ status: REJECTION_STATUS[reason], title, detail: `why ${reason}`, extensions: { reason } });
  });

  it('keeps the statuses clients have seen', () => {
    expect(REJECTION_STATUS).toMatchObject({
      NOT_A_REVIEWER: 403,
      SELF_REVIEW: 403,
      OUT_OF_DEPARTMENT: 403,
      NOT_PERMITTED: 403,
      UNVERIFIED_PRINCIPAL: 403,
      ALREADY_REVIEWED: 409,
      ROLE_ALREADY_APPROVED: 409,
      NOT_PENDING: 409,
      NOT_ACTIVE: 409,
      REQUEST_CHANGED: 409,
      COMMENT_REQUIRED: 422,
      RECORD_REFUSED: 422,
    });
  });
});

describe('isRejectionReason refuses', () => {
  it.each([
    ['a failure type the workflow uses that is not a rule', 'MALFORMED_MESSAGE'],
    ['another', 'NOT_RECORDED'],
    ['a lower-case spelling', 'not_active'],
    ['an inherited property name', 'toString'],
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
    ['the empty string', ''],
    ['undefined', undefined],
    ['null', null],
    ['a number', 403],
  ])('%s', (_name, value) => expect(isRejectionReason(value)).toBe(false));
});

describe('isRejectionReason accepts', () => {
  it('every reason the domain names', () => {
    for (const reason of Object.keys(REJECTION_REASONS)) expect(isRejectionReason(reason), reason).toBe(true);
  });
});

describe('throwIfRejected', () => {
  it('throws a refusal as its problem', () => {
    expect(() => throwIfRejected(new Rejection('COMMENT_REQUIRED', 'A denial needs a comment that says why.'))).toThrow(
      expect.objectContaining({ status: 422, extensions: { reason: 'COMMENT_REQUIRED' } }),
    );
    expect(() => throwIfRejected<{ byRole: string } | undefined>(new Rejection('NOT_PERMITTED', 'no'))).toThrow(Problem);
  });

  it('passes a verdict (or no refusal) through', () => {
    expect(throwIfRejected({ byRole: 'requester' })).toEqual({ byRole: 'requester' });
    expect(throwIfRejected(undefined)).toBeUndefined();
  });
});
