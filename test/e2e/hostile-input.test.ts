import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureClinician, startApi, submission, tokensFor, type ApiHarness } from '../support/api-harness.js';

// Text that cannot be stored or shown safely, sent into every text field of every route:
// each is refused with a 400 naming the field, writes nothing, and leaves no workflow with
// a failing activity behind.

const REQUESTER = 'clin.hostile';
/** A cardiology clinician: sees none of clin.hostile's radiology requests. */
const OUTSIDER = 'clin.outsider';

let api: ApiHarness;
let users: Awaited<ReturnType<typeof tokensFor>>;
let hostile: string;
let outsider: string;
/** Pending, and active: the requests the hostile reviews, cancellations and revocations aim at. */
let pending: string;
let active: string;

beforeAll(async () => {
  api = await startApi();
  users = await tokensFor(api);
  await ensureClinician(api, REQUESTER, 'Hostile (clinician, hostile-input tests)');
  await ensureClinician(api, OUTSIDER, 'Outsider (clinician, hostile-input tests)', 'cardiology');
  hostile = await api.login(REQUESTER);
  outsider = await api.login(OUTSIDER);
  const submit = async () => {
    const response = await api.call('POST', '/api/access-requests', { token: hostile, body: submission() });
    expect(response.status).toBe(201);
    return response.body.id as string;
  };
  pending = await submit();
  active = await submit();
  expect((await api.call('POST', `/api/access-requests/${active}/reviews`, { token: users['sup.carol'], body: { decision: 'approve' } })).status).toBe(201);
  expect((await api.call('POST', `/api/access-requests/${active}/reviews`, { token: users['priv.dave'], body: { decision: 'approve' } })).status).toBe(201);
});
afterAll(() => api?.close());

/** Everything clin.hostile's requests could have written. */
async function footprint() {
  const ids = [pending, active];
  const byRequest = { accessRequestId: { in: ids } };
  return {
    requests: await api.db.accessRequest.count({ where: { requester: REQUESTER } }),
    statuses: (await api.db.accessRequest.findMany({ where: { id: { in: ids } }, orderBy: { id: 'asc' } })).map((r) => r.status),
    reviews: await api.db.review.count({ where: byRequest }),
    revocations: await api.db.revocation.count({ where: byRequest }),
    rejectedReviewAttempts: await api.db.rejectedReviewAttempt.count({ where: byRequest }),
    auditEvents: await api.db.auditEvent.count({ where: { OR: [byRequest, { actor: REQUESTER }] } }),
    tokens: await api.db.issuedToken.count({ where: byRequest }),
  };
}

function expectFieldRefused(response: { status: number; body: any; headers: Headers }, field: string) {
  expect(response.status, JSON.stringify(response.body)).toBe(400);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: field, message: expect.any(String) })]));
}

/** What cannot be stored or shown safely, each inside otherwise ordinary text. */
const HOSTILE_CHARACTERS: [string, string][] = [
  ['a NUL', '\u0000'],
  ['a lone surrogate', '\ud800'],
  ['a lone low surrogate', '\udc00'],
  ['a C0 control (BEL)', '\u0007'],
  ['an escape sequence', '\u001b[31m'],
  ['DEL', '\u007f'],
  ['a C1 control (NEL)', '\u0085'],
  ['a C1 control (CSI)', '\u009b'],
  ['a right-to-left override', '\u202Eevil'],
  ['a left-to-right embedding', '\u202A'],
  ['a first-strong isolate', '\u2068x\u2069'],
  ['a left-to-right mark', '\u200E'],
  ['a right-to-left mark', '\u200F'],
  ['an Arabic letter mark', '\u061C'],
  ['a line separator', '\u2028'],
  ['an invisible tag character', '\u{E0041}'],
  ['a replacement character', '\uFFFD'],
  ['stacked combining marks', 'a' + '\u0301'.repeat(12)],
];
const INVISIBLE_ONLY: [string, string][] = [
  ['ten zero-width spaces', '\u200B'.repeat(10)],
  ['only invisible characters', '\u200B\u200C\u200D\u2060\uFEFF\u3164\u2800'.repeat(3)],
  ['whitespace and format characters', ' \u00A0\u200B\u2003\u180E '.repeat(3)],
];
/** Free text (justification, comment, reasons): hostile characters amid a sentence. */
const HOSTILE: [string, string][] = [
  ...HOSTILE_CHARACTERS.map(([name, c]): [string, string] => [name, `Follow-up of a fracture ${c} seen in clinic`]),
  ...INVISIBLE_ONLY,
  ['very long text', 'x'.repeat(2001)],
];
/** One-line identifiers (patient ids): also no tab or line break. */
const HOSTILE_ONE_LINE: [string, string][] = [
  ...HOSTILE_CHARACTERS.map(([name, c]): [string, string] => [name, `SYN-${c}-0001`]),
  ...INVISIBLE_ONLY,
  ['a line feed', 'SYN\n0001'],
  ['a tab', 'SYN\t0001'],
  ['very long text', 'P'.repeat(65)],
];
/** Usernames: the same, and nothing outside A–Z a–z 0–9 . _ @ -. */
const HOSTILE_USERNAMES: [string, string][] = [
  ...HOSTILE_CHARACTERS.map(([name, c]): [string, string] => [name, `clin.${c}alice`]),
  ...INVISIBLE_ONLY,
  ['a line feed', 'clin.alice\n'],
  ['very long text', 'u'.repeat(129)],
  ['a space', 'clin alice'],
  ['a quote', "clin.alice'--"],
];

const wellFormed = (text: string) => (text as string & { isWellFormed(): boolean }).isWellFormed();

async function expectNothingWritten(send: () => Promise<{ status: number; body: any; headers: Headers }>, field: string) {
  const before = await footprint();
  expectFieldRefused(await send(), field);
  expect(await footprint()).toEqual(before);
}

describe('hostile text is refused in every field, with a 400 naming it, and writes nothing', () => {
  it.each(HOSTILE)('justification: %s', (_name, text) =>
    expectNothingWritten(() => api.call('POST', '/api/access-requests', { token: hostile, body: submission({ justification: text }) }), 'justification'),
  );

  it.each(HOSTILE_ONE_LINE)('patientId: %s', (_name, text) =>
    expectNothingWritten(() => api.call('POST', '/api/access-requests', { token: hostile, body: submission({ patientId: text }) }), 'patientId'),
  );

  it.each(HOSTILE)('review comment: %s', (_name, text) =>
    expectNothingWritten(
      () => api.call('POST', `/api/access-requests/${pending}/reviews`, { token: users['sup.carol'], body: { decision: 'deny', comment: text } }),
      'comment',
    ),
  );

  it.each(HOSTILE)('cancel reason: %s', (_name, text) =>
    expectNothingWritten(() => api.call('POST', `/api/access-requests/${pending}/cancel`, { token: hostile, body: { reason: text } }), 'reason'),
  );

  it.each(HOSTILE)('revoke reason: %s', (_name, text) =>
    expectNothingWritten(() => api.call('POST', `/api/access-requests/${active}/revoke`, { token: hostile, body: { reason: text } }), 'reason'),
  );

  it.each(HOSTILE_USERNAMES)('dev-login username: %s', async (_name, text) => {
    const before = await api.db.user.count();
    const response = await api.call('POST', '/auth/dev-login', { body: { username: text } });
    expectFieldRefused(response, 'username');
    expect(response.body.access_token).toBeUndefined();
    expect(await api.db.user.count()).toBe(before);
  });

  /** A lone surrogate cannot be percent-encoded as UTF-8: send the bytes a careless client would. */
  const queryValue = (text: string) =>
    wellFormed(text)
      ? encodeURIComponent(text)
      : text
          .split(/[\ud800-\udfff]/)
          .map(encodeURIComponent)
          .join('%ED%A0%80');
  const queryCases = [
    ...HOSTILE_USERNAMES.flatMap(([name, text]) => (['requester', 'reviewer'] as const).map((field) => [`${field}: ${name}`, field, text] as const)),
    ...HOSTILE_ONE_LINE.map(([name, text]) => [`patient: ${name}`, 'patient', text] as const),
  ];
  it.each(queryCases)('case search %s', async (_name, field, text) => {
    const response = await api.call('GET', `/api/cases?${field}=${queryValue(text)}`, { token: users['aud.frank'] });
    expectFieldRefused(response, field);
  });

  it('answers dev login with a NUL in the username with 400, not 500', async () => {
    expectFieldRefused(await api.call('POST', '/auth/dev-login', { body: { username: 'clin.alice\u0000' } }), 'username');
  });

  it('still takes ordinary text in every field: other scripts, emoji, accents, line breaks', async () => {
    const text = 'Контроль перелома — 骨折の経過観察 👩‍⚕️ café\nsecond line';
    const response = await api.call('POST', '/api/access-requests', { token: hostile, body: submission({ justification: text }) });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect(response.body.justification).toBe(text);
    const cancelled = await api.call('POST', `/api/access-requests/${response.body.id}/cancel`, { token: hostile, body: { reason: 'مراجعة — withdrawn' } });
    expect(cancelled.status).toBe(200);
    const found = await api.call('GET', `/api/cases?patient=SYN-0001&requester=${REQUESTER}&status=CANCELLED`, { token: users['aud.frank'] });
    expect(found.body.items.map((c: { id: string }) => c.id)).toEqual([response.body.id]);
    // Patient ids outside ASCII are DICOM-valid: the search takes them.
    expect((await api.call('GET', `/api/cases?patient=${encodeURIComponent('SYN-ÄÖ-0001')}`, { token: users['aud.frank'] })).status).toBe(200);
  });

  it('leaves no workflow of these requests with a failing activity', async () => {
    const ids = (await api.db.accessRequest.findMany({ where: { requester: REQUESTER }, select: { id: true } })).map((r) => r.id);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    for (const id of ids) {
      const described = await api.temporal.workflow.getHandle(id).describe();
      for (const activity of described.raw.pendingActivities ?? []) {
        expect(activity.attempt ?? 1, `${id}: ${activity.activityType?.name}`).toBeLessThanOrEqual(1);
        expect(activity.lastFailure ?? null, `${id}: ${activity.activityType?.name}`).toBeNull();
      }
    }
    expect((await api.db.accessRequest.findUniqueOrThrow({ where: { id: pending } })).status).toBe('PENDING_REVIEW');
    expect((await api.db.accessRequest.findUniqueOrThrow({ where: { id: active } })).status).toBe('ACTIVE');
  });
});

describe('a request the caller cannot see is not found, on every route', () => {
  it('answers 404 alike for an unseen request and a missing one, saying nothing of its state or department', async () => {
    const missing = 'ar-00000000-0000-4000-8000-000000000000';
    for (const id of [pending, active, missing]) {
      const answers = [
        await api.call('GET', `/api/access-requests/${id}`, { token: outsider }),
        await api.call('POST', `/api/access-requests/${id}/reviews`, { token: outsider, body: { decision: 'approve' } }),
        await api.call('POST', `/api/access-requests/${id}/cancel`, { token: outsider, body: {} }),
        await api.call('POST', `/api/access-requests/${id}/revoke`, { token: outsider, body: { reason: 'not mine' } }),
        await api.call('POST', `/api/access-requests/${id}/tokens`, { token: outsider }),
        // A supervisor of cardiology only sees none of radiology's requests either.
        await api.call('POST', `/api/access-requests/${id}/reviews`, { token: await supervisorOf('cardiology'), body: { decision: 'approve' } }),
      ];
      for (const answer of answers) {
        expect(answer.status, JSON.stringify(answer.body)).toBe(404);
        expect(answer.body.reason).toBeUndefined();
        expect(JSON.stringify(answer.body)).not.toMatch(/radiology|ACTIVE|PENDING|NOT_A_REVIEWER|OUT_OF_DEPARTMENT/);
      }
    }
  });

  it('still records the refused review, with the rules’ reason, for auditors', async () => {
    const attempts = await api.db.rejectedReviewAttempt.findMany({ where: { accessRequestId: pending, reviewer: { in: [OUTSIDER, 'sup.cardio'] } } });
    expect(attempts.map((a) => `${a.reviewer}:${a.reason}`).sort()).toEqual([`${OUTSIDER}:NOT_A_REVIEWER`, 'sup.cardio:OUT_OF_DEPARTMENT']);
  });

  it('lets supervisors of the department and privacy officers review, and others who may see it hear why not', async () => {
    const id = (await api.call('POST', '/api/access-requests', { token: hostile, body: submission() })).body.id;
    const grace = await api.call('POST', `/api/access-requests/${id}/reviews`, { token: users['sec.grace'], body: { decision: 'approve' } });
    expect(grace.status).toBe(403);
    expect(grace.body.reason).toBe('NOT_A_REVIEWER');
    expect((await api.call('POST', `/api/access-requests/${id}/reviews`, { token: users['sup.erin'], body: { decision: 'approve' } })).status).toBe(201);
    expect((await api.call('POST', `/api/access-requests/${id}/reviews`, { token: users['priv.dave'], body: { decision: 'approve' } })).body.status).toBe(
      'ACTIVE',
    );
  });
});

let cardioToken: string | undefined;
/** sup.cardio: a supervisor who reviews for cardiology only. */
async function supervisorOf(department: 'cardiology'): Promise<string> {
  if (cardioToken) return cardioToken;
  await api.db.user.upsert({
    where: { username: 'sup.cardio' },
    create: {
      username: 'sup.cardio',
      displayName: 'Cardio (supervisor, hostile-input tests)',
      roles: ['supervisor'],
      reviewsFor: { create: [{ departmentId: department }] },
    },
    update: {},
  });
  cardioToken = await api.login('sup.cardio');
  return cardioToken;
}

describe('response headers', () => {
  it('marks every API answer and dev login no-store', async () => {
    const answers = [
      await api.call('GET', '/api/access-requests', { token: hostile }),
      await api.call('GET', `/api/access-requests/${pending}`, { token: hostile }),
      await api.call('GET', '/api/cases?limit=1', { token: users['aud.frank'] }),
      await api.call('GET', '/api/access-requests'),
      await api.call('GET', '/api/nothing-here', { token: hostile }),
      await api.call('POST', '/api/access-requests', { token: hostile, body: submission({ justification: 'short' }) }),
      await api.call('POST', '/auth/dev-login', { body: { username: REQUESTER } }),
      await api.call('POST', '/auth/dev-login', { body: { username: 'nobody.here' } }),
    ];
    for (const answer of answers) expect(answer.headers.get('cache-control'), `${answer.status} ${JSON.stringify(answer.body)}`).toBe('no-store');
  });

  it('challenges with WWW-Authenticate: Bearer on every 401, invalid_token when a token was refused', async () => {
    const none = await api.call('GET', '/api/access-requests');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const basic = await api.call('GET', '/api/access-requests', { headers: { authorization: 'Basic YWxpY2U6cGFzcw==' } });
    expect(basic.status).toBe(401);
    expect(basic.headers.get('www-authenticate')).toBe('Bearer');
    for (const token of ['not.a.jwt', `${hostile.slice(0, -4)}AAAA`, 'garbage!']) {
      const refused = await api.call('GET', '/api/access-requests', { token });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    }
  });
});
