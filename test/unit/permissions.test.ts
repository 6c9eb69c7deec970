import { describe, expect, it } from 'vitest';
import { visibleRequests } from '../../api/visibility.js';
import type { Principal } from '../../domain/access-request.js';
import { judgeCaseAccess, mayRead, readScope, type ReadableRequest } from '../../domain/permissions.js';
import { Rejection } from '../../domain/review-rejection.js';

// Who may read access requests and cases: role rules in domain/permissions.ts, which the
// API asks (and turns into a database filter for lists).

const person = (username: string, roles: Principal['roles'], reviewsForDepartments: string[] = []): Principal => ({
  username,
  roles,
  reviewsForDepartments,
});
const alice = person('clin.alice', ['clinician']);
const carol = person('sup.carol', ['supervisor'], ['radiology']);
const clinicianSupervisor = person('dr.both', ['clinician', 'supervisor'], ['oncology']);
const nobody = person('no.roles', []);

const alicesRadiology: ReadableRequest = { requester: 'clin.alice', departmentId: 'radiology', reviewers: [] };
const bobsCardiology: ReadableRequest = { requester: 'clin.bob', departmentId: 'cardiology', reviewers: [] };
const bobsCardiologyReviewedByCarol: ReadableRequest = { ...bobsCardiology, reviewers: ['priv.dave', 'sup.carol'] };

describe('reading requests is refused', () => {
  it('to someone with no role: no scope at all, and a 403 reason for lists', () => {
    const scope = readScope(nobody);
    expect(scope).toBeInstanceOf(Rejection);
    expect((scope as Rejection).reason).toBe('NOT_PERMITTED');
    expect(mayRead(nobody, alicesRadiology)).toBe(false);
    expect(visibleRequests(nobody)).toBeInstanceOf(Rejection);
  });

  it('to a clinician, for anyone else’s request, even in their department', () => {
    expect(mayRead(alice, bobsCardiology)).toBe(false);
    expect(mayRead(alice, { requester: 'clin.bob', departmentId: 'radiology', reviewers: [] })).toBe(false);
  });

  it('to a clinician whose name appears only as a reviewer (clinicians do not review)', () => {
    expect(mayRead(alice, { ...bobsCardiology, reviewers: ['clin.alice'] })).toBe(false);
  });

  it('to a supervisor, for another department’s request they did not review', () => {
    expect(mayRead(carol, bobsCardiology)).toBe(false);
    expect(mayRead(carol, { ...bobsCardiology, reviewers: ['sup.erin'] })).toBe(false);
  });

  it('to a supervisor, for their own request as a requester, unless they are also a clinician', () => {
    expect(mayRead(carol, { requester: 'sup.carol', departmentId: 'cardiology', reviewers: [] })).toBe(false);
    expect(mayRead(clinicianSupervisor, { requester: 'dr.both', departmentId: 'cardiology', reviewers: [] })).toBe(true);
  });
});

describe('reading requests is allowed', () => {
  it('to privacy officers, auditors and security officers, for every request', () => {
    for (const role of ['privacy_officer', 'auditor', 'security_officer'] as const) {
      const principal = person(`x.${role}`, [role]);
      expect(readScope(principal), role).toEqual({ all: true });
      expect(mayRead(principal, bobsCardiology), role).toBe(true);
      expect(visibleRequests(principal), role).toEqual({});
    }
  });

  it('to a clinician for their own requests, and to a supervisor for their departments and what they reviewed', () => {
    expect(mayRead(alice, alicesRadiology)).toBe(true);
    expect(mayRead(carol, alicesRadiology)).toBe(true);
    expect(mayRead(carol, bobsCardiologyReviewedByCarol)).toBe(true);
  });

  it('as the same clauses in the database filter', () => {
    expect(visibleRequests(alice)).toEqual({ OR: [{ requester: 'clin.alice' }] });
    expect(visibleRequests(carol)).toEqual({ OR: [{ departmentId: { in: ['radiology'] } }, { reviews: { some: { reviewer: 'sup.carol' } } }] });
    expect(visibleRequests(clinicianSupervisor)).toEqual({
      OR: [{ requester: 'dr.both' }, { departmentId: { in: ['oncology'] } }, { reviews: { some: { reviewer: 'dr.both' } } }],
    });
  });
});

describe('cases are refused', () => {
  it.each([
    ['no role', nobody],
    ['a clinician', alice],
    ['a supervisor', carol],
    ['a privacy officer', person('priv.dave', ['privacy_officer'])],
    ['a security officer', person('sec.grace', ['security_officer'])],
    ['everyone but an auditor at once', person('all.but', ['clinician', 'supervisor', 'privacy_officer', 'security_officer'])],
  ])('to %s', (_name, principal) => {
    const refusal = judgeCaseAccess(principal);
    expect(refusal?.reason).toBe('NOT_PERMITTED');
    expect(refusal?.detail).toBe('Cases are open to auditors only.');
  });
});

describe('cases are allowed', () => {
  it('to auditors, whatever else they are', () => {
    expect(judgeCaseAccess(person('aud.frank', ['auditor']))).toBeUndefined();
    expect(judgeCaseAccess(person('aud.clin', ['clinician', 'auditor']))).toBeUndefined();
  });
});
