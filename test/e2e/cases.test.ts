import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryArchiver } from '../../audit/evidence/history-archiver.js';
import { whoAccessed, type AccessRow } from '../../audit/read/who-accessed.js';
import type { TimelineEntry } from '../../contracts/case-timeline.js';
import type { OrthancServer } from '../../scripts/lib/orthanc-server.js';
import { ensureClinician, startApi, type ApiHarness } from '../support/api-harness.js';
import { pacsEnv, startGateway, startPacs, type GatewayHarness } from '../support/gateway-harness.js';

const STUDY = '1.2.826.0.1.3680043.8.498.1';
const REQUESTER = 'clin.hana';
let api: ApiHarness;
let orthanc: OrthancServer;
let gateway: GatewayHarness;
let caseId: string;
let frank: string;

beforeAll(async () => {
  ({ orthanc } = await startPacs());
  api = await startApi(pacsEnv(orthanc));
  await ensureClinician(api, REQUESTER, 'Hana (clinician, case tests)');
  gateway = await startGateway(api, orthanc);
  frank = await api.login('aud.frank');

  // One whole case: a refused review, two approvals, a token, images seen and refused, a revocation.
  const hana = await api.login(REQUESTER);
  const submitted = await api.call('POST', '/api/access-requests', {
    token: hana,
    body: {
      studyInstanceUids: [STUDY],
      patientId: 'SYN-0001',
      purposeOfUse: 'HQUALIMP',
      justification: 'quality review of a synthetic chest CT',
      durationMinutes: 30,
    },
  });
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
  caseId = submitted.body.id;
  // clin.bob may not see hana's request: not found, and his attempt is recorded all the same.
  expect((await api.call('POST', `/api/access-requests/${caseId}/reviews`, { token: await api.login('clin.bob'), body: { decision: 'approve' } })).status).toBe(
    404,
  );
  await api.call('POST', `/api/access-requests/${caseId}/reviews`, { token: await api.login('sup.carol'), body: { decision: 'approve' } });
  await api.call('POST', `/api/access-requests/${caseId}/reviews`, {
    token: await api.login('priv.dave'),
    body: { decision: 'approve', comment: 'audit in progress' },
  });
  const token = (await api.call('POST', `/api/access-requests/${caseId}/tokens`, { token: hana })).body.access_token;
  const headers = { authorization: `Bearer ${token}` };
  expect((await fetch(`${gateway.url}/dicom-web/studies/${STUDY}/metadata`, { headers })).status).toBe(200);
  expect((await fetch(`${gateway.url}/dicom-web/studies/1.2.826.0.1.3680043.8.498.3/metadata`, { headers })).status).toBe(403);
  await gateway.journal.flush();
  await api.call('POST', `/api/access-requests/${caseId}/revoke`, { token: await api.login('sec.grace'), body: { reason: 'review finished' } });
  await api.temporal.workflow.getHandle(caseId).result();
});
afterAll(async () => {
  await gateway?.close();
  await orthanc?.process.stop();
  await api?.close();
});

function indexOf(entries: TimelineEntry[], predicate: (e: TimelineEntry) => boolean, what: string): number {
  const i = entries.findIndex(predicate);
  expect(i, what).toBeGreaterThanOrEqual(0);
  return i;
}

describe('a case timeline', () => {
  it('joins the workflow history, the records and the gateway’s accesses in time order', async () => {
    const response = await api.call('GET', `/api/cases/${caseId}/timeline`, { token: frank });
    expect(response.status).toBe(200);
    const { entries, historySource } = response.body as { entries: TimelineEntry[]; historySource: string };
    expect(historySource).toBe('live');
    const at = entries.map((e) => e.at);
    expect([...at].sort()).toEqual(at);

    const started = indexOf(entries, (e) => e.kind === 'workflow.started', 'workflow started');
    const submitted = indexOf(entries, (e) => e.kind === 'access_request.submitted' && e.actor === REQUESTER, 'submission record');
    const refused = indexOf(entries, (e) => e.kind === 'review.rejected' && e.actor === 'clin.bob' && e.detail.reason === 'NOT_A_REVIEWER', 'refused review');
    const carol = indexOf(
      entries,
      (e) => e.kind === 'update.review' && e.actor === 'sup.carol' && e.detail.decision === 'approve',
      'carol’s review, with her principal',
    );
    const dave = indexOf(entries, (e) => e.kind === 'update.review' && e.actor === 'priv.dave', 'dave’s review');
    const activated = indexOf(entries, (e) => e.kind === 'review.recorded' && e.detail.outcome === 'ACTIVE', 'activation record');
    const tokenIssued = indexOf(entries, (e) => e.kind === 'token.issued', 'token record');
    const seen = indexOf(entries, (e) => e.source === 'gateway' && e.kind === 'access.served' && e.detail.study === STUDY, 'image access');
    const denied = indexOf(entries, (e) => e.source === 'gateway' && e.kind === 'access.refused' && e.detail.reason === 'STUDY_NOT_GRANTED', 'refused access');
    const revoke = indexOf(entries, (e) => e.kind === 'update.revoke' && e.actor === 'sec.grace', 'revocation update');
    const revoked = indexOf(entries, (e) => e.kind === 'grant.revoked', 'revocation record');
    const closed = indexOf(entries, (e) => e.kind === 'workflow.completed' && e.detail.status === 'REVOKED', 'workflow closed');
    expect(started).toBeLessThan(submitted);
    expect(submitted).toBeLessThan(refused);
    expect(refused).toBeLessThan(carol);
    expect(carol).toBeLessThan(dave);
    expect(dave).toBeLessThan(activated);
    expect(activated).toBeLessThan(tokenIssued);
    expect(tokenIssued).toBeLessThan(seen);
    expect(seen).toBeLessThan(denied);
    expect(denied).toBeLessThan(revoke);
    expect(revoke).toBeLessThanOrEqual(revoked);
    expect(revoked).toBeLessThan(closed);
    expect(entries.some((e) => e.kind === 'timer.started')).toBe(true);
    // Tokens appear only by jti.
    const token = entries.find((e) => e.kind === 'token.issued')!;
    expect(JSON.stringify(entries)).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
    expect(token.detail.jti).toEqual(expect.any(String));
  });

  it('is rebuilt from the archive once Temporal has deleted the history', async () => {
    const live = (await api.call('GET', `/api/cases/${caseId}/timeline`, { token: frank })).body as { entries: TimelineEntry[] };
    const description = await api.temporal.workflow.getHandle(caseId).describe();
    const archiver = new HistoryArchiver(api.temporal, api.db, api.config.temporal.taskQueue);
    // The worker's own archiver may have been first; either way the case is archived once.
    await archiver.archiveCase(caseId, description.runId, description.closeTime!);
    expect(await archiver.archiveCase(caseId, description.runId, description.closeTime!)).toBe(false);
    const archive = await api.db.caseHistoryArchive.findUniqueOrThrow({ where: { accessRequestId: caseId } });
    expect(archive.eventCount).toBeGreaterThan(10);

    // Retention, by hand. The server deletes in the background: tens of seconds under load.
    await api.temporal.workflowService.deleteWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId: caseId } });
    const deadline = Date.now() + 100_000;
    let gone = false;
    while (!gone && Date.now() < deadline) {
      gone = await api.temporal.workflow
        .getHandle(caseId)
        .fetchHistory()
        .then(() => false)
        .catch(() => true);
      if (!gone) await new Promise((r) => setTimeout(r, 500));
    }
    expect(gone, 'Temporal did not delete the history within 100 s').toBe(true);
    const rebuilt = (await api.call('GET', `/api/cases/${caseId}/timeline`, { token: frank })).body as { entries: TimelineEntry[]; historySource: string };
    expect(rebuilt.historySource).toBe('archive');
    expect(rebuilt.entries).toEqual(live.entries);
  }, 150_000);
});

describe('case search', () => {
  const search = async (query: string) => {
    const response = await api.call('GET', `/api/cases?${query}`, { token: frank });
    expect(response.status, query).toBe(200);
    return (response.body.items as { id: string }[]).map((i) => i.id);
  };

  it('finds the case by each criterion, and not by a wrong one', async () => {
    const today = new Date().toISOString().slice(0, 10);
    for (const query of [
      `requester=${REQUESTER}`,
      'reviewer=priv.dave',
      `study=${STUDY}`,
      'patient=SYN-0001',
      'status=REVOKED',
      'purpose=HQUALIMP',
      `from=${today}T00:00:00Z&to=${today}T23:59:59Z`,
      `requester=${REQUESTER}&purpose=HQUALIMP&status=REVOKED`,
    ]) {
      expect(await search(query), query).toContain(caseId);
    }
    for (const query of [
      `requester=${REQUESTER}&status=ACTIVE`,
      'reviewer=sup.erin',
      `requester=${REQUESTER}&patient=SYN-0002`,
      `requester=${REQUESTER}&to=2000-01-01T00:00:00Z`,
    ]) {
      expect(await search(query), query).not.toContain(caseId);
    }
  });

  it('refuses everyone but auditors, and bad queries', async () => {
    for (const name of [REQUESTER, 'sup.carol', 'priv.dave', 'sec.grace']) {
      const token = await api.login(name);
      expect((await api.call('GET', '/api/cases', { token })).status, name).toBe(403);
      expect((await api.call('GET', `/api/cases/${caseId}/timeline`, { token })).status, name).toBe(403);
    }
    expect((await api.call('GET', '/api/cases?study=not-a-uid', { token: frank })).status).toBe(400);
    expect((await api.call('GET', '/api/cases?from=yesterday', { token: frank })).status).toBe(400);
    expect((await api.call('GET', '/api/cases/ar-00000000-0000-4000-8000-000000000000/timeline', { token: frank })).status).toBe(404);
  });

  it('answers who accessed a patient’s images, and a study’s, in a time window, to auditors and security officers', async () => {
    const accesses = (query: Record<string, string>, token = frank) =>
      api.call('GET', `/api/image-accesses?${new URLSearchParams(query).toString()}`, { token });
    const byPatient = await accesses({ patient: 'SYN-0001' });
    expect(byPatient.status).toBe(200);
    const hanas = (byPatient.body.items as AccessRow[]).filter((r) => r.username === REQUESTER);
    expect(hanas.map((r) => r.outcome).sort()).toEqual(['refused', 'served']);
    expect(hanas.every((r) => r.grantId === caseId && r.jti)).toBe(true);
    const byStudy = await accesses({ study: STUDY }, await api.login('sec.grace'));
    expect(byStudy.status).toBe(200);
    expect((byStudy.body.items as AccessRow[]).some((r) => r.username === REQUESTER && r.outcome === 'served')).toBe(true);
    expect((byStudy.body.items as AccessRow[]).every((r) => r.study === STUDY)).toBe(true);
    expect((await accesses({ study: STUDY, to: '2000-01-01T00:00:00Z' })).body).toEqual({ items: [], truncated: false });
    const window = { from: hanas[0]!.at, to: hanas[0]!.at };
    expect((await accesses({ patient: 'SYN-0001', ...window })).body.items.map((r: AccessRow) => r.at)).toContain(hanas[0]!.at);
    // The same rows the auditors' CLI reads.
    expect((await whoAccessed(api.db, { study: STUDY })).items).toEqual(byStudy.body.items);
  });

  it('pages the access log: at most `limit` rows, and says when more matched', async () => {
    const one = await api.call('GET', `/api/image-accesses?patient=SYN-0001&limit=1`, { token: frank });
    expect(one.body.items).toHaveLength(1);
    expect(one.body.truncated).toBe(true);
  });

  it('refuses the access log to clinicians and reviewers, and a query naming both, neither, or a window backwards', async () => {
    for (const user of [REQUESTER, 'sup.carol', 'priv.dave']) {
      const refused = await api.call('GET', `/api/image-accesses?study=${STUDY}`, { token: await api.login(user) });
      expect(refused.status, user).toBe(403);
    }
    for (const query of [`study=${STUDY}&patient=SYN-0001`, '', 'patient=SYN-0001&from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z', 'study=x']) {
      expect((await api.call('GET', `/api/image-accesses?${query}`, { token: frank })).status, query).toBe(400);
    }
  });

  it('replays the case from the API, from the archive once Temporal deleted it: today’s code reproduces the recorded decisions', async () => {
    const replay = await api.call('GET', `/api/cases/${caseId}/replay`, { token: frank });
    expect(replay.status, JSON.stringify(replay.body)).toBe(200);
    // The archive test above deleted the live history: the replay reads the archived copy.
    expect(replay.body).toMatchObject({ caseId, result: 'reproduced', recordedOutcome: 'REVOKED', source: 'archive' });
    expect(replay.body.events).toBeGreaterThan(5);
    expect((await api.call('GET', `/api/cases/${caseId}/replay`, { token: await api.login('sec.grace') })).status).toBe(403);
    expect((await api.call('GET', '/api/cases/ar-00000000-0000-4000-8000-000000000000/replay', { token: frank })).status).toBe(404);
  });
});
