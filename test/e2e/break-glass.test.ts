import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrthancServer } from '../../scripts/lib/orthanc-server.js';
import type { SyntheticStudy } from '../../scripts/lib/synthetic-studies.js';
import { ensureClinician, startApi, type ApiHarness } from '../support/api-harness.js';
import { pacsEnv, startGateway, startPacs, type GatewayHarness } from '../support/gateway-harness.js';

// Break-glass (issue 11): granted at once without review, tokens that say so, every access
// recorded as break-glass, and a review afterwards by two people. The window's end
// (UNREVIEWED) is proven on the time-skipping test server (access-request-workflow.test.ts).

let api: ApiHarness;
let orthanc: OrthancServer;
let gateway: GatewayHarness;
let study: SyntheticStudy;

beforeAll(async () => {
  let studies: SyntheticStudy[];
  ({ orthanc, studies } = await startPacs());
  study = studies[0]!;
  api = await startApi({ ...pacsEnv(orthanc), BREAK_GLASS_PER_DAY: '2' });
  for (const username of ['clin.bea', 'clin.bruno', 'clin.bianca', 'clin.boris']) await ensureClinician(api, username, username);
  gateway = await startGateway(api, orthanc);
});
afterAll(async () => {
  await gateway?.close();
  await orthanc?.process.stop();
  await api?.close();
});

const emergency = (overrides: Record<string, unknown> = {}) => ({
  studyInstanceUids: [study.studyInstanceUid],
  patientId: study.patientId,
  justification: 'Unconscious patient in the emergency room, prior imaging needed now',
  ...overrides,
});

async function breakGlass(username: string, body: object = emergency()) {
  return api.call('POST', '/api/break-glass', { token: await api.login(username), body });
}

describe('break-glass', () => {
  it('is active at once, its token says break-glass, and the gateway records each access as break-glass for the reviewers to see', async () => {
    const opened = await breakGlass('clin.bea');
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    expect(opened.body).toMatchObject({ status: 'ACTIVE', kind: 'break-glass', purposeOfUse: 'BTG', reviews: [], retroReview: { status: 'PENDING' } });
    expect(Date.parse(opened.body.grant.expiresAt) - Date.parse(opened.body.grant.activatedAt)).toBe(60 * 60_000);
    expect(Date.parse(opened.body.retroReview.deadline) - Date.parse(opened.body.submittedAt)).toBe(24 * 60 * 60_000);

    const bea = await api.login('clin.bea');
    const issued = await api.call('POST', `/api/access-requests/${opened.body.id}/tokens`, { token: bea });
    expect(issued.status).toBe(201);
    expect(decodeJwt(issued.body.access_token)).toMatchObject({ purpose_of_use: 'BTG', grant_id: opened.body.id });
    const seen = await fetch(`${gateway.url}/dicom-web/studies/${study.studyInstanceUid}/series`, {
      headers: { authorization: `Bearer ${issued.body.access_token}` },
    });
    expect(seen.status).toBe(200);
    await gateway.journal.flush();

    const accesses = await api.call('GET', `/api/access-requests/${opened.body.id}/image-accesses`, { token: await api.login('priv.dave') });
    expect(accesses.status).toBe(200);
    expect(accesses.body.items).toEqual([
      expect.objectContaining({ username: 'clin.bea', outcome: 'served', purposeOfUse: 'BTG', route: 'qido:series', clientIp: null }),
    ]);
    // Auditors see from where too; the requester does not read the access log of her own grant.
    const audited = await api.call('GET', `/api/access-requests/${opened.body.id}/image-accesses`, { token: await api.login('aud.frank') });
    expect(audited.body.items[0].clientIp).toBeTruthy();
    expect((await api.call('GET', `/api/access-requests/${opened.body.id}/image-accesses`, { token: bea })).status).toBe(403);
    const event = await api.db.auditEvent.findFirstOrThrow({ where: { accessRequestId: opened.body.id, type: 'break-glass.opened' } });
    expect(event.actor).toBe('clin.bea');
  });

  it('is justified by two reviewers afterwards, under every review rule, and unjustified by one denial that says why', async () => {
    const justified = (await breakGlass('clin.bruno')).body;
    const retro = async (id: string, username: string, body: object) =>
      api.call('POST', `/api/access-requests/${id}/retro-reviews`, { token: await api.login(username), body });
    expect((await retro(justified.id, 'clin.bruno', { decision: 'approve' })).status).toBe(403);
    expect((await retro(justified.id, 'sup.carol', { decision: 'approve' })).body.retroReview.status).toBe('PENDING');
    const second = await retro(justified.id, 'sup.erin', { decision: 'approve' });
    expect(second.status).toBe(409);
    expect(second.body.reason).toBe('ROLE_ALREADY_APPROVED');
    const done = await retro(justified.id, 'priv.dave', { decision: 'approve' });
    expect(done.status).toBe(201);
    expect(done.body).toMatchObject({ retroReview: { status: 'JUSTIFIED' }, status: 'ACTIVE' });
    expect(done.body.reviews.map((r: { reviewer: string }) => r.reviewer)).toEqual(['sup.carol', 'priv.dave']);
    // The ordinary review route is for requests awaiting approval.
    expect(
      (await api.call('POST', `/api/access-requests/${justified.id}/reviews`, { token: await api.login('sup.erin'), body: { decision: 'approve' } })).status,
    ).toBe(409);

    const btgCases = await api.call('GET', '/api/cases?purpose=BTG&requester=clin.bruno', { token: await api.login('aud.frank') });
    expect(btgCases.body.items.map((r: { id: string }) => r.id)).toEqual([justified.id]);

    const unjustified = (await breakGlass('clin.bianca')).body;
    // The reviewers' list of what is still to be reviewed afterwards, asked of the API.
    const pendingList = await api.call('GET', '/api/access-requests?kind=break-glass&retroStatus=PENDING&limit=100', { token: await api.login('priv.dave') });
    const listed = pendingList.body.items.map((r: { id: string }) => r.id);
    expect(listed).toContain(unjustified.id);
    expect(listed).not.toContain(justified.id);
    const pendingOnly = (r: { kind: string; retroReview: { status: string } }) => r.kind === 'break-glass' && r.retroReview.status === 'PENDING';
    expect(pendingList.body.items.every(pendingOnly)).toBe(true);
    const bare = await retro(unjustified.id, 'priv.dave', { decision: 'deny' });
    expect(bare.status).toBe(422);
    expect(bare.body.reason).toBe('COMMENT_REQUIRED');
    const denied = await retro(unjustified.id, 'priv.dave', { decision: 'deny', comment: 'No emergency on record for this patient' });
    // Not justified while it runs: the grant ends there, revoked by the reviewer who judged it.
    expect(denied.body).toMatchObject({ retroReview: { status: 'UNJUSTIFIED' }, status: 'REVOKED' });
    const revocation = await api.db.revocation.findFirstOrThrow({ where: { accessRequestId: unjustified.id } });
    expect(revocation).toMatchObject({ revokedBy: 'priv.dave', revokedByRole: 'reviewer' });
    const events = await api.db.auditEvent.findMany({ where: { accessRequestId: unjustified.id }, orderBy: { seq: 'asc' } });
    expect(events.map((e) => e.type)).toEqual(['break-glass.opened', 'break-glass.reviewed', 'grant.revoked']);
  });

  it('refuses an ordinary request a review afterwards, a purpose of use, a long duration, and a frozen target', async () => {
    const ordinary = await api.call('POST', '/api/access-requests', {
      token: await api.login('clin.boris'),
      body: { ...emergency(), purposeOfUse: 'TREAT', durationMinutes: 30 },
    });
    expect(ordinary.status).toBe(201);
    const retro = await api.call('POST', `/api/access-requests/${ordinary.body.id}/retro-reviews`, {
      token: await api.login('priv.dave'),
      body: { decision: 'approve' },
    });
    expect(retro.status).toBe(403);
    expect((await breakGlass('clin.boris', emergency({ purposeOfUse: 'TREAT' }))).status).toBe(400);
    expect((await breakGlass('clin.boris', emergency({ durationMinutes: 61 }))).status).toBe(400);
    expect((await breakGlass('sup.carol')).status).toBe(403);
    await api.db.accessFreeze.create({
      data: {
        id: `fz-${crypto.randomUUID()}`,
        scope: 'user',
        value: 'clin.boris',
        reason: 'break-glass test',
        frozenBy: 'sec.grace',
        frozenAt: new Date(),
        workflowRunId: 'none',
      },
    });
    const frozen = await breakGlass('clin.boris');
    expect(frozen.status).toBe(423);
    expect(frozen.body.reason).toBe('ACCESS_FROZEN');
    expect(await api.db.accessRequest.count({ where: { requester: 'clin.boris', kind: 'break-glass' } })).toBe(0);
  });

  it('answers a retry with the same Idempotency-Key from the record, using no allowance', async () => {
    // clin.bianca opened one above; BREAK_GLASS_PER_DAY is 2.
    const token = await api.login('clin.bianca');
    const send = (key: string, body: object = emergency()) => api.call('POST', '/api/break-glass', { token, body, headers: { 'Idempotency-Key': key } });
    const first = await send('bg-retry-0001');
    expect(first.status).toBe(201);
    const retry = await send('bg-retry-0001');
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body.id).toBe(first.body.id);
    expect((await send('bg-retry-0001', emergency({ justification: 'Another emergency altogether, same key' }))).body.reason).toBe('IDEMPOTENCY_KEY_REUSED');
    // Two opened, the retry counted nothing: a new one is over the allowance.
    expect((await send('bg-retry-0002')).status).toBe(429);
    expect(await api.db.accessRequest.count({ where: { requester: 'clin.bianca', kind: 'break-glass' } })).toBe(2);
  });

  it('allows a clinician only a few in a day, however many tabs ask at once', async () => {
    // BREAK_GLASS_PER_DAY is 2 for this API; clin.bea opened one above, so three at once get one more.
    const answers = await Promise.all([breakGlass('clin.bea'), breakGlass('clin.bea'), breakGlass('clin.bea')]);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 429, 429]);
    const refused = answers.find((a) => a.status === 429)!;
    expect(refused.body.reason).toBe('BREAK_GLASS_LIMIT');
    expect(refused.headers.get('retry-after')).toBeTruthy();
    expect(await api.db.accessRequest.count({ where: { requester: 'clin.bea', kind: 'break-glass' } })).toBe(2);
  });
});
