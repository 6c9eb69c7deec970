import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { run } from '../../scripts/lib/processes.js';
import { findOrBuildTemporalCli } from '../../scripts/lib/temporal-cli.js';
import { signPrincipalAssertion } from '../../tokens/principal-assertion.js';
import { reviewUpdate } from '../../workflows/messages.js';
import { DEFAULT_CLOCK_POLICY } from '../../domain/incident.js';
import { startApi, submission, type ApiHarness } from '../support/api-harness.js';

// `npm run histories:record`: runs each path through the workflow on the real servers and
// saves its history beside this file. Commit the files: replay.test.ts replays them against
// the current workflow code, so a change that is not replay-safe fails the suite.
// Re-record only when a change is deliberately incompatible (and version it in the workflow).

const folder = path.dirname(new URL(import.meta.url).pathname);
let api: ApiHarness;
let tokens: Record<string, string>;

beforeAll(async () => {
  api = await startApi({}, (config) => {
    config.policy.reviewWindowMs = 3_000;
    // The team's clock passes (a reminder, then missed); the others wait until the close.
    config.incidents.clocks = { dueMs: { ...DEFAULT_CLOCK_POLICY.dueMs, team: 2_000 }, reminderFractions: [0.5] };
  });
  tokens = {};
  for (const name of ['clin.alice', 'sup.carol', 'sup.erin', 'priv.dave', 'sec.grace']) tokens[name] = await api.login(name);
});
afterAll(() => api.close());

async function submit(overrides: Record<string, unknown> = {}) {
  const response = await api.call('POST', '/api/access-requests', { token: tokens['clin.alice'], body: submission(overrides) });
  expect(response.status).toBe(201);
  return response.body.id as string;
}
const review = (id: string, who: string, body: Record<string, unknown>) => api.call('POST', `/api/access-requests/${id}/reviews`, { token: tokens[who], body });

/**
 * Saved with the Temporal CLI (`workflow show --output json`), the format other Temporal
 * tools read. (The SDK's historyToJSON fails in 1.24.0: @temporalio/common nests its own
 * protobufjs copy, whose `instanceof Type` check rejects the shared one's types.)
 */
async function save(name: string, id: string) {
  await api.temporal.workflow.getHandle(id).result();
  const cli = await findOrBuildTemporalCli();
  const json = await run(cli, ['workflow', 'show', '--workflow-id', id, '--output', 'json', '--address', inject('temporalAddress'), '--namespace', 'default']);
  writeFileSync(path.join(folder, `${name}.json`), json);
}

describe('record workflow histories', () => {
  it('active, token issued, then revoked', async () => {
    const id = await submit();
    await review(id, 'sup.carol', { decision: 'approve' });
    await review(id, 'sup.erin', { decision: 'approve' }); // refused: role already approved
    await review(id, 'priv.dave', { decision: 'approve' });
    expect((await api.call('POST', `/api/access-requests/${id}/tokens`, { token: tokens['clin.alice'] })).status).toBe(201);
    await api.call('POST', `/api/access-requests/${id}/revoke`, { token: tokens['sec.grace'], body: { reason: 'recorded scenario' } });
    await save('revoked', id);
  });

  it('break-glass: open at once, a token, justified afterwards by two, revoked', async () => {
    const opened = await api.call('POST', '/api/break-glass', {
      token: tokens['clin.alice'],
      body: { studyInstanceUids: submission().studyInstanceUids, patientId: submission().patientId, justification: 'recorded emergency scenario' },
    });
    expect(opened.status).toBe(201);
    const id = opened.body.id as string;
    expect((await api.call('POST', `/api/access-requests/${id}/tokens`, { token: tokens['clin.alice'] })).status).toBe(201);
    const retro = (who: string) => api.call('POST', `/api/access-requests/${id}/retro-reviews`, { token: tokens[who], body: { decision: 'approve' } });
    expect((await retro('sup.carol')).status).toBe(201);
    expect((await retro('sup.erin')).status).toBe(409); // refused: role already approved
    expect((await retro('priv.dave')).status).toBe(201);
    await api.call('POST', `/api/access-requests/${id}/revoke`, { token: tokens['sec.grace'], body: { reason: 'recorded scenario' } });
    await save('break-glass', id);
  });

  it('denied', async () => {
    const id = await submit();
    await review(id, 'sup.carol', { decision: 'approve' });
    await review(id, 'priv.dave', { decision: 'deny', comment: 'recorded scenario' });
    await save('denied', id);
  });

  it('cancelled', async () => {
    const id = await submit();
    await api.call('POST', `/api/access-requests/${id}/cancel`, { token: tokens['clin.alice'], body: { reason: 'recorded scenario' } });
    await save('cancelled', id);
  });

  it('timed out', async () => {
    const id = await submit();
    await review(id, 'sup.carol', { decision: 'approve' });
    await save('timed-out', id);
  });

  it('reviewed straight on Temporal, a forged review refused, then cancelled', async () => {
    const id = await submit();
    const { requestHash } = await api.db.accessRequest.findUniqueOrThrow({ where: { id } });
    const handle = api.temporal.workflow.getHandle(id);
    const ghost = { username: 'ghost.priv', roles: ['privacy_officer' as const], reviewsForDepartments: [] };
    await expect(handle.executeUpdate(reviewUpdate, { args: [{ reviewer: ghost, decision: 'approve', requestHash }] })).rejects.toMatchObject({
      cause: { type: 'UNVERIFIED_PRINCIPAL' },
    });
    const carol = { username: 'sup.carol', roles: ['supervisor' as const], departmentId: 'radiology', reviewsForDepartments: ['radiology', 'cardiology'] };
    const message = { reviewer: carol, decision: 'approve' as const, requestHash };
    const assertion = await signPrincipalAssertion(await api.keys.activeKey(), carol, { accessRequestId: id, action: 'review', body: message });
    await handle.executeUpdate(reviewUpdate, { args: [{ ...message, assertion }] });
    await api.call('POST', `/api/access-requests/${id}/cancel`, { token: tokens['clin.alice'] });
    await save('reviewed-then-cancelled', id);
  });

  it('expired', async () => {
    const id = await submit({ durationMinutes: 1 });
    await review(id, 'sup.carol', { decision: 'approve' });
    await review(id, 'priv.dave', { decision: 'approve' });
    expect((await api.call('POST', `/api/access-requests/${id}/tokens`, { token: tokens['clin.alice'] })).status).toBe(201);
    await save('expired', id);
  }, 150_000);

  it('break-glass left unreviewed: its window closes and it opens an incident', async () => {
    api.config.breakGlass.reviewWindowMs = 2_000;
    const opened = await api.call('POST', '/api/break-glass', {
      token: tokens['clin.alice'],
      body: { studyInstanceUids: submission().studyInstanceUids, patientId: submission().patientId, justification: 'recorded emergency, never reviewed' },
    });
    api.config.breakGlass.reviewWindowMs = 24 * 3_600_000;
    expect(opened.status).toBe(201);
    const id = opened.body.id as string;
    await expect.poll(() => api.db.incident.findUnique({ where: { id: `inc-bg-${id}` } }), { timeout: 30_000 }).not.toBeNull();
    await api.call('POST', `/api/access-requests/${id}/revoke`, { token: tokens['sec.grace'], body: { reason: 'recorded scenario' } });
    await save('break-glass-unreviewed', id);
  });

  it('incident: declared, its team clock missed, team, containment, regulator and patients notified, closed by two', async () => {
    const act = (id: string, what: string, who: string, body?: object) =>
      api.call('POST', `/api/incidents/${id}/${what}`, { token: tokens[who], ...(body ? { body } : {}) });
    const declared = await api.call('POST', '/api/incidents', {
      token: tokens['sec.grace'],
      body: { title: 'Recorded incident', scope: { patients: [submission().patientId] } },
    });
    expect(declared.status).toBe(201);
    const id = declared.body.id as string;
    await expect
      .poll(async () => (await api.db.incidentClock.findFirstOrThrow({ where: { incidentId: id, clock: 'team' } })).status, { timeout: 20_000 })
      .toBe('MISSED');
    expect((await act(id, 'team', 'priv.dave', { members: ['sec.grace', 'priv.dave'] })).status).toBe(200);
    expect((await act(id, 'containment', 'sec.grace')).status).toBe(200);
    expect((await act(id, 'notifications', 'priv.dave', { audience: 'regulator', subject: 'Recorded notification', body: 'Recorded scenario.' })).status).toBe(
      200,
    );
    expect(
      (await act(id, 'notifications', 'sec.grace', { audience: 'individuals', channel: 'letter', subject: 'About your images', body: 'Recorded scenario.' }))
        .status,
    ).toBe(200);
    expect((await act(id, 'sign-offs', 'sec.grace', { comment: 'Recorded scenario.' })).status).toBe(200);
    expect((await act(id, 'sign-offs', 'priv.dave', { comment: 'Recorded scenario.' })).status).toBe(200);
    await save('incident', id);
    // The freeze the containment imposed stays: lifted by two, so it does not stop later runs.
    const [freezeId] = (await api.db.incident.findUniqueOrThrow({ where: { id } })).freezeIds;
    await api.call('POST', `/api/freezes/${freezeId}/lift-request`, { token: tokens['sec.grace'], body: { reason: 'recorded scenario over' } });
    await api.call('POST', `/api/freezes/${freezeId}/lift-decision`, { token: tokens['priv.dave'], body: { decision: 'approve' } });
  });
});
