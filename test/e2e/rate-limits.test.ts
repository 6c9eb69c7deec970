import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureClinician, startApi, submission, type ApiHarness } from '../support/api-harness.js';

// Per-user limits hold under concurrency and across API processes: one counter in
// PostgreSQL, taken atomically. Every user here is this file's own, so no other file's
// traffic counts toward these limits.

let api: ApiHarness;
const opened: ApiHarness[] = [];

beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  for (const other of opened) await other.close();
  await api?.close();
});

async function anotherApi(overrides: Record<string, string>): Promise<ApiHarness> {
  const other = await startApi(overrides);
  opened.push(other);
  return other;
}

type Answer = Awaited<ReturnType<ApiHarness['call']>>;

function expectRateLimited(answer: Answer) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(429);
  expect(answer.headers.get('content-type')).toContain('application/problem+json');
  expect(answer.body.reason).toBe('RATE_LIMITED');
  const retryAfter = Number(answer.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

/** A request of `requester` approved by sup.carol and priv.dave: ACTIVE. */
async function activeRequest(on: ApiHarness, requester: string): Promise<{ id: string; token: string }> {
  await ensureClinician(on, requester, `${requester} (rate-limit tests)`);
  const token = await on.login(requester);
  const submitted = await on.call('POST', '/api/access-requests', { token, body: submission() });
  expect(submitted.status).toBe(201);
  const id = submitted.body.id as string;
  for (const reviewer of ['sup.carol', 'priv.dave']) {
    expect((await on.call('POST', `/api/access-requests/${id}/reviews`, { token: await on.login(reviewer), body: { decision: 'approve' } })).status).toBe(201);
  }
  return { id, token };
}

const statusesOf = (answers: Answer[]) => answers.map((a) => a.status).sort();

describe('token issuance', () => {
  it('lets exactly the limit through when 30 ask at once, and refuses the rest with 429', async () => {
    expect(api.config.tokens.ratePerMinute).toBe(20);
    const { id, token } = await activeRequest(api, 'clin.rl-burst');
    const answers = await Promise.all(Array.from({ length: 30 }, () => api.call('POST', `/api/access-requests/${id}/tokens`, { token })));
    expect(statusesOf(answers), JSON.stringify(answers.filter((a) => a.status !== 201 && a.status !== 429).map((a) => a.body))).toEqual([
      ...Array(20).fill(201),
      ...Array(10).fill(429),
    ]);
    for (const refused of answers.filter((a) => a.status === 429)) expectRateLimited(refused);
    expect(await api.db.issuedToken.count({ where: { accessRequestId: id } })).toBe(20);
  });

  it('shares the limit between API processes', async () => {
    // One issuer, as behind a load balancer: each accepts the other's logins.
    const shared = { TOKEN_RATE_LIMIT_PER_MINUTE: '6', TOKEN_ISSUER: 'http://iar-rate-limit-test.invalid' };
    const first = await anotherApi(shared);
    const second = await anotherApi(shared);
    const { id, token } = await activeRequest(first, 'clin.rl-shared');
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, i) => (i % 2 ? first : second).call('POST', `/api/access-requests/${id}/tokens`, { token })),
    );
    expect(statusesOf(answers)).toEqual([...Array(6).fill(201), ...Array(10).fill(429)]);
    expect(await api.db.issuedToken.count({ where: { accessRequestId: id } })).toBe(6);
  });
});

describe('dev login, submissions and reviews', () => {
  it('limits dev logins per username', async () => {
    const limited = await anotherApi({ DEV_LOGIN_RATE_LIMIT_PER_MINUTE: '3' });
    await ensureClinician(limited, 'clin.rl-login', 'rl-login (rate-limit tests)');
    const answers = await Promise.all(Array.from({ length: 5 }, () => limited.call('POST', '/auth/dev-login', { body: { username: 'clin.rl-login' } })));
    expect(statusesOf(answers)).toEqual([200, 200, 200, 429, 429]);
    for (const refused of answers.filter((a) => a.status === 429)) {
      expectRateLimited(refused);
      expect(refused.body.access_token).toBeUndefined();
    }
    // Another user is not held back by it (one of this file's own: limits are shared by every API process and test file).
    await ensureClinician(limited, 'clin.rl-login-other', 'rl-login-other (rate-limit tests)');
    expect((await limited.call('POST', '/auth/dev-login', { body: { username: 'clin.rl-login-other' } })).status).toBe(200);
  });

  it('limits submissions per user, and a refused one starts nothing', async () => {
    const limited = await anotherApi({ SUBMISSION_RATE_LIMIT_PER_MINUTE: '2' });
    await ensureClinician(limited, 'clin.rl-submit', 'rl-submit (rate-limit tests)');
    const token = await limited.login('clin.rl-submit');
    const answers = await Promise.all(Array.from({ length: 4 }, () => limited.call('POST', '/api/access-requests', { token, body: submission() })));
    expect(statusesOf(answers)).toEqual([201, 201, 429, 429]);
    expect(await limited.db.accessRequest.count({ where: { requester: 'clin.rl-submit' } })).toBe(2);
    expect((await limited.temporal.workflow.count(`AccessRequestRequester = 'clin.rl-submit'`)).count).toBe(2);
  });

  it('limits reviews per reviewer', async () => {
    const limited = await anotherApi({ REVIEW_RATE_LIMIT_PER_MINUTE: '2' });
    await limited.db.user.upsert({
      where: { username: 'sup.rl-review' },
      create: {
        username: 'sup.rl-review',
        displayName: 'rl-review (supervisor, rate-limit tests)',
        roles: ['supervisor'],
        reviewsFor: { create: [{ departmentId: 'radiology' }] },
      },
      update: {},
    });
    await ensureClinician(limited, 'clin.rl-review', 'rl-review (rate-limit tests)');
    const requester = await limited.login('clin.rl-review');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await limited.call('POST', '/api/access-requests', { token: requester, body: submission() })).body.id);
    const reviewer = await limited.login('sup.rl-review');
    const answers: Answer[] = [];
    for (const id of ids) answers.push(await limited.call('POST', `/api/access-requests/${id}/reviews`, { token: reviewer, body: { decision: 'approve' } }));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 429]);
    expectRateLimited(answers[2]!);
    expect(await limited.db.review.count({ where: { accessRequestId: ids[2]! } })).toBe(0);
  });
});

describe('refused review attempts', () => {
  it('records them up to the limit, then answers 429 and records nothing more', async () => {
    const limited = await anotherApi({ REFUSED_REVIEW_RATE_LIMIT_PER_MINUTE: '3' });
    await ensureClinician(limited, 'clin.rl-target', 'rl-target (rate-limit tests)');
    await ensureClinician(limited, 'clin.rl-prober', 'rl-prober (rate-limit tests)', 'cardiology');
    const target = (await limited.call('POST', '/api/access-requests', { token: await limited.login('clin.rl-target'), body: submission() })).body.id as string;
    const prober = await limited.login('clin.rl-prober');
    const events = () => limited.db.auditEvent.count({ where: { actor: 'clin.rl-prober' } });
    const attempts = () => limited.db.rejectedReviewAttempt.count({ where: { reviewer: 'clin.rl-prober' } });

    const answers: Answer[] = [];
    for (let i = 0; i < 3; i++)
      answers.push(await limited.call('POST', `/api/access-requests/${target}/reviews`, { token: prober, body: { decision: 'approve' } }));
    expect(answers.map((a) => a.status)).toEqual([404, 404, 404]);
    expect(await attempts()).toBe(3);
    expect(await events()).toBe(3);

    for (let i = 0; i < 5; i++)
      expectRateLimited(await limited.call('POST', `/api/access-requests/${target}/reviews`, { token: prober, body: { decision: 'approve' } }));
    // An unknown id answers alike, so the limit tells nothing about which requests exist.
    expectRateLimited(
      await limited.call('POST', '/api/access-requests/ar-00000000-0000-4000-8000-000000000000/reviews', { token: prober, body: { decision: 'approve' } }),
    );
    expect(await attempts()).toBe(3);
    expect(await events()).toBe(3);
  });

  it('counts reviews of unknown requests toward the same limit', async () => {
    const limited = await anotherApi({ REFUSED_REVIEW_RATE_LIMIT_PER_MINUTE: '2' });
    await ensureClinician(limited, 'clin.rl-guesser', 'rl-guesser (rate-limit tests)', 'cardiology');
    const guesser = await limited.login('clin.rl-guesser');
    const unknown = (n: number) => `ar-00000000-0000-4000-8000-00000000000${n}`;
    const statuses: number[] = [];
    for (let n = 0; n < 4; n++)
      statuses.push((await limited.call('POST', `/api/access-requests/${unknown(n)}/reviews`, { token: guesser, body: { decision: 'approve' } })).status);
    expect(statuses).toEqual([404, 404, 429, 429]);
  });
});
