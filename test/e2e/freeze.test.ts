import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessRequestService } from '../../api/access-request-service.js';
import { startCheckpointSigningWorker, type CheckpointSigningWorker } from '../../api/checkpoint-signing-worker.js';
import { FreezeService } from '../../api/freeze-service.js';
import { createLogger } from '../../config/logger.js';
import type { OrthancServer } from '../../scripts/lib/orthanc-server.js';
import { loadSyntheticStudies, syntheticStudy } from '../../scripts/lib/synthetic-studies.js';
import { startApi, type ApiHarness } from '../support/api-harness.js';
import { pacsEnv, startGateway, startPacs, type GatewayHarness } from '../support/gateway-harness.js';

// Freezes (issue 11). The test database is shared with every other test file running
// alongside, so each freeze here names a patient, study, user or department only this file
// uses; "freeze everything" is left to the domain's unit tests and the benchmark.

const PATIENT = 'SYN-FRZ1';
const STUDY_OF_PATIENT = '1.2.826.0.1.3680043.8.498.30001';
const STUDY_ALONE = '1.2.826.0.1.3680043.8.498.30002';
const STUDY_OF_DEPT = '1.2.826.0.1.3680043.8.498.30003';
const DEPARTMENT = 'frz-ward';
const USER_FROZEN = 'clin.frost';
const USER_PATIENT = 'clin.frida';
const USER_DEPT = 'clin.fenna';
const SUPERVISOR_DEPT = 'sup.fritz';
/** The gateway's revocation bound in this harness (startGateway's default). */
const BOUND_MS = 2_000;

let api: ApiHarness;
let orthanc: OrthancServer;
let gateway: GatewayHarness;
let signing: CheckpointSigningWorker;
let grace: string;

beforeAll(async () => {
  ({ orthanc } = await startPacs());
  await loadSyntheticStudies(orthanc, [
    syntheticStudy(STUDY_OF_PATIENT, PATIENT),
    syntheticStudy(STUDY_ALONE, 'SYN-FRZ2'),
    syntheticStudy(STUDY_OF_DEPT, 'SYN-FRZ3'),
  ]);
  api = await startApi(pacsEnv(orthanc));
  const db = api.db;
  await db.department.upsert({ where: { id: DEPARTMENT }, create: { id: DEPARTMENT, name: 'Freeze test ward' }, update: {} });
  for (const [username, departmentId] of [
    [USER_FROZEN, 'radiology'],
    [USER_PATIENT, 'radiology'],
    [USER_DEPT, DEPARTMENT],
  ] as const) {
    await db.user.upsert({ where: { username }, create: { username, displayName: username, roles: ['clinician'], departmentId }, update: {} });
  }
  await db.user.upsert({
    where: { username: SUPERVISOR_DEPT },
    create: { username: SUPERVISOR_DEPT, displayName: 'Fritz', roles: ['supervisor'] },
    update: {},
  });
  for (const username of ['clin.lifted', 'clin.copied']) {
    await db.user.upsert({ where: { username }, create: { username, displayName: username, roles: ['clinician'], departmentId: 'radiology' }, update: {} });
  }
  await db.user.upsert({ where: { username: 'sec.sam' }, create: { username: 'sec.sam', displayName: 'Sam', roles: ['security_officer'] }, update: {} });
  await db.reviewerDepartment.upsert({
    where: { username_departmentId: { username: SUPERVISOR_DEPT, departmentId: DEPARTMENT } },
    create: { username: SUPERVISOR_DEPT, departmentId: DEPARTMENT },
    update: {},
  });
  // The process that holds the key revokes what a freeze matches, as the API process does in production.
  const deps = { config: api.config, db, temporal: api.temporal, keys: api.keys, log: createLogger('freeze-test', 'silent') };
  const freezes = new FreezeService({ ...deps, requests: new AccessRequestService(deps) });
  signing = await startCheckpointSigningWorker({ temporal: api.config.temporal, db, keys: api.keys, freezes });
  gateway = await startGateway(api, orthanc, { stalenessMs: BOUND_MS });
  grace = await api.login('sec.grace');
});
afterAll(async () => {
  await gateway?.close();
  await signing?.stop();
  await orthanc?.process.stop();
  await api?.close();
});

function submission(studies: string[], patientId: string) {
  return { studyInstanceUids: studies, patientId, purposeOfUse: 'TREAT', justification: `freeze test ${randomUUID().slice(0, 8)}`, durationMinutes: 60 };
}

async function submit(requester: string, studies: string[], patientId: string): Promise<string> {
  const answer = await api.call('POST', '/api/access-requests', { token: await api.login(requester), body: submission(studies, patientId) });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body.id as string;
}

async function activeGrant(requester: string, studies: string[], patientId: string, supervisor = 'sup.carol'): Promise<{ id: string; token: string }> {
  const id = await submit(requester, studies, patientId);
  for (const reviewer of [supervisor, 'priv.dave']) {
    const review = await api.call('POST', `/api/access-requests/${id}/reviews`, { token: await api.login(reviewer), body: { decision: 'approve' } });
    expect(review.status, JSON.stringify(review.body)).toBe(201);
  }
  const issued = await api.call('POST', `/api/access-requests/${id}/tokens`, { token: await api.login(requester) });
  expect(issued.status, JSON.stringify(issued.body)).toBe(201);
  return { id, token: issued.body.access_token as string };
}

const metadata = (study: string, token: string) =>
  fetch(`${gateway.url}/dicom-web/studies/${study}/metadata`, { headers: { authorization: `Bearer ${token}` } });

/** How long until the gateway refuses `token`, and what it said then. */
async function refusedWithin(study: string, token: string, since: number): Promise<{ elapsed: number; title: string }> {
  for (;;) {
    const response = await metadata(study, token);
    if (response.status !== 200) {
      expect(response.status).toBe(403);
      return { elapsed: Date.now() - since, title: ((await response.json()) as { title: string }).title };
    }
    await response.arrayBuffer();
    if (Date.now() - since > 10_000) throw new Error('the gateway went on serving');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function freeze(body: object, token = grace) {
  return api.call('POST', '/api/freezes', { token, body });
}

async function revokedByFreeze(requestId: string, freezeId: string): Promise<void> {
  await expect.poll(async () => (await api.db.accessRequest.findUniqueOrThrow({ where: { id: requestId } })).status, { timeout: 20_000 }).toBe('REVOKED');
  const revocation = await api.db.revocation.findFirstOrThrow({ where: { accessRequestId: requestId } });
  expect(revocation).toMatchObject({ revokedBy: 'sec.grace', revokedByRole: 'security_officer' });
  expect(revocation.reason).toContain(freezeId);
}

describe('freezing access', () => {
  it('by user: the gateway refuses within its bound, the grant is revoked and recorded, and new requests and tokens are refused', async () => {
    const grant = await activeGrant(USER_FROZEN, [STUDY_ALONE], 'SYN-FRZ2');
    expect((await metadata(STUDY_ALONE, grant.token)).status).toBe(200);

    const frozen = await freeze({ scope: 'user', value: USER_FROZEN, reason: 'Suspected leak by this account' });
    expect(frozen.status, JSON.stringify(frozen.body)).toBe(201);
    const since = Date.now();
    expect(frozen.body).toMatchObject({ scope: 'user', value: USER_FROZEN, status: 'ACTIVE', frozenBy: 'sec.grace', liftRequest: null });
    const refusal = await refusedWithin(STUDY_ALONE, grant.token, since);
    expect(refusal.elapsed).toBeLessThanOrEqual(BOUND_MS + 500);
    expect(['ACCESS_FROZEN', 'GRANT_NOT_ACTIVE']).toContain(refusal.title);
    await revokedByFreeze(grant.id, frozen.body.id);
    const event = await api.db.auditEvent.findFirstOrThrow({
      where: { type: 'freeze.imposed', actor: 'sec.grace', payload: { path: ['freezeId'], equals: frozen.body.id } },
    });
    expect(event.payload).toMatchObject({ scope: 'user', value: USER_FROZEN, reason: 'Suspected leak by this account' });
    await expect
      .poll(
        async () => (await api.call('GET', '/api/freezes', { token: grace })).body.items.find((f: { id: string }) => f.id === frozen.body.id)?.revokedGrants,
      )
      .toBe(1);

    const before = await api.db.accessRequest.count({ where: { requester: USER_FROZEN } });
    const refused = await api.call('POST', '/api/access-requests', { token: await api.login(USER_FROZEN), body: submission([STUDY_ALONE], 'SYN-FRZ2') });
    expect(refused.status).toBe(423);
    expect(refused.body).toMatchObject({ reason: 'ACCESS_FROZEN' });
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await api.db.accessRequest.count({ where: { requester: USER_FROZEN } })).toBe(before);
  });

  it('stops images at the gateway on the freeze alone, before any revocation', async () => {
    const grant = await activeGrant(USER_PATIENT, [STUDY_OF_PATIENT], PATIENT);
    expect((await metadata(STUDY_OF_PATIENT, grant.token)).status).toBe(200);
    // A freeze row as the workflow records it, with no workflow to revoke anything.
    const id = `fz-${randomUUID()}`;
    await api.db.accessFreeze.create({
      data: { id, scope: 'patient', value: PATIENT, reason: 'gateway-only check', frozenBy: 'sec.grace', frozenAt: new Date(), workflowRunId: 'none' },
    });
    try {
      const refusal = await refusedWithin(STUDY_OF_PATIENT, grant.token, Date.now());
      expect(refusal).toMatchObject({ title: 'ACCESS_FROZEN' });
      expect(refusal.elapsed).toBeLessThanOrEqual(BOUND_MS + 500);
      expect((await api.db.accessRequest.findUniqueOrThrow({ where: { id: grant.id } })).status).toBe('ACTIVE');
    } finally {
      await api.db.accessFreeze.delete({ where: { id } });
    }
    // Lifted (here by hand), the grant serves again within the bound.
    await expect.poll(async () => (await metadata(STUDY_OF_PATIENT, grant.token)).status, { timeout: BOUND_MS + 2_000 }).toBe(200);
    await api.call('POST', `/api/access-requests/${grant.id}/revoke`, { token: grace, body: { reason: 'freeze test cleanup' } });
  });

  it('by patient and by study: matching grants stop and are revoked; others go on', async () => {
    const ofPatient = await activeGrant(USER_PATIENT, [STUDY_OF_PATIENT], PATIENT);
    const other = await activeGrant(USER_PATIENT, [STUDY_ALONE], 'SYN-FRZ2');
    const byPatient = await freeze({ scope: 'patient', value: PATIENT, reason: 'Images of this patient found online' });
    expect(byPatient.status).toBe(201);
    expect((await refusedWithin(STUDY_OF_PATIENT, ofPatient.token, Date.now())).elapsed).toBeLessThanOrEqual(BOUND_MS + 500);
    await revokedByFreeze(ofPatient.id, byPatient.body.id);
    expect((await metadata(STUDY_ALONE, other.token)).status).toBe(200);

    const byStudy = await freeze({ scope: 'study', value: STUDY_ALONE, reason: 'This study was leaked' });
    expect(byStudy.status).toBe(201);
    expect((await refusedWithin(STUDY_ALONE, other.token, Date.now())).elapsed).toBeLessThanOrEqual(BOUND_MS + 500);
    await revokedByFreeze(other.id, byStudy.body.id);
    const refused = await api.call('POST', '/api/access-requests', { token: await api.login(USER_PATIENT), body: submission([STUDY_OF_PATIENT], PATIENT) });
    expect(refused.body.reason).toBe('ACCESS_FROZEN');
  });

  it('by department: a pending request of that department can no longer be reviewed, and nothing is recorded', async () => {
    const id = await submit(USER_DEPT, [STUDY_OF_DEPT], 'SYN-FRZ3');
    const frozen = await freeze({ scope: 'department', value: DEPARTMENT, reason: 'Ward account compromised' });
    expect(frozen.status).toBe(201);
    const review = await api.call('POST', `/api/access-requests/${id}/reviews`, { token: await api.login(SUPERVISOR_DEPT), body: { decision: 'approve' } });
    expect(review.status).toBe(423);
    expect(review.body.reason).toBe('ACCESS_FROZEN');
    expect((await api.db.accessRequest.findUniqueOrThrow({ where: { id }, include: { reviews: true } })).reviews).toEqual([]);
  });

  it('is for security officers only, and refuses a target that does not fit its scope', async () => {
    for (const user of ['priv.dave', 'aud.frank', 'clin.alice', 'sup.carol']) {
      const refused = await freeze({ scope: 'user', value: 'clin.nobody', reason: 'not theirs to freeze' }, await api.login(user));
      expect(refused.status, user).toBe(403);
    }
    for (const body of [
      { scope: 'user', reason: 'no user named' },
      { scope: 'all', value: 'x', reason: 'everything has no value' },
      { scope: 'study', value: 'not-a-uid', reason: 'bad uid' },
      { scope: 'planet', value: 'earth', reason: 'no such scope' },
      { scope: 'user', value: 'clin.nobody', reason: '' },
    ]) {
      const refused = await freeze(body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
    }
    expect(await api.db.accessFreeze.count({ where: { value: 'clin.nobody' } })).toBe(0);
  });
});

describe('lifting a freeze', () => {
  it('needs two people: one asks, a second confirms; the asker cannot confirm, and a denial leaves it frozen', async () => {
    const frozen = await freeze({ scope: 'user', value: 'clin.lifted', reason: 'To be lifted by two people' });
    expect(frozen.status).toBe(201);
    const id = frozen.body.id as string;
    const dave = await api.login('priv.dave');

    expect((await api.call('POST', `/api/freezes/${id}/lift-decision`, { token: dave, body: { decision: 'approve' } })).body.reason).toBe('NOT_PENDING');
    const asked = await api.call('POST', `/api/freezes/${id}/lift-request`, { token: grace, body: { reason: 'Investigation closed' } });
    expect(asked.status, JSON.stringify(asked.body)).toBe(200);
    expect(asked.body.liftRequest).toMatchObject({ by: 'sec.grace', reason: 'Investigation closed' });

    const self = await api.call('POST', `/api/freezes/${id}/lift-decision`, { token: grace, body: { decision: 'approve' } });
    expect(self.status).toBe(403);
    expect(self.body.reason).toBe('SELF_REVIEW');
    for (const user of ['clin.alice', 'aud.frank', 'sup.carol']) {
      const refused = await api.call('POST', `/api/freezes/${id}/lift-decision`, { token: await api.login(user), body: { decision: 'approve' } });
      expect(refused.status, user).toBe(403);
    }

    const denied = await api.call('POST', `/api/freezes/${id}/lift-decision`, { token: dave, body: { decision: 'deny', comment: 'Not yet' } });
    expect(denied.status).toBe(200);
    expect(denied.body).toMatchObject({ status: 'ACTIVE', liftRequest: null });

    // While frozen, the user's requests are refused.
    const lifterToken = await api.login('clin.lifted');
    expect((await api.call('POST', '/api/access-requests', { token: lifterToken, body: submission([STUDY_OF_DEPT], 'SYN-FRZ3') })).status).toBe(423);

    await api.call('POST', `/api/freezes/${id}/lift-request`, { token: grace, body: { reason: 'Now it is closed' } });
    // Two different people confirming at the same moment: the freeze is lifted once, by the asker and one of them.
    const sam = await api.login('sec.sam');
    const both = await Promise.all([
      api.call('POST', `/api/freezes/${id}/lift-decision`, { token: dave, body: { decision: 'approve' } }),
      api.call('POST', `/api/freezes/${id}/lift-decision`, { token: sam, body: { decision: 'approve' } }),
    ]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
    const confirmer = both[0]!.status === 200 ? 'priv.dave' : 'sec.sam';
    const lifted = (await api.call('GET', '/api/freezes', { token: grace })).body.items.find((f: { id: string }) => f.id === id);
    expect(lifted).toMatchObject({ status: 'LIFTED', liftedBy: ['sec.grace', confirmer] });
    // Lifted: the user may ask for access again.
    expect((await api.call('POST', '/api/access-requests', { token: lifterToken, body: submission([STUDY_OF_DEPT], 'SYN-FRZ3') })).status).toBe(201);
    expect(await api.temporal.workflow.getHandle(id).result()).toBe('LIFTED');
    const events = await api.db.auditEvent.findMany({ where: { payload: { path: ['freezeId'], equals: id } }, orderBy: { seq: 'asc' } });
    expect(events.map((e) => e.type)).toEqual(['freeze.imposed', 'freeze.lift-requested', 'freeze.lift-denied', 'freeze.lift-requested', 'freeze.lifted']);
  });

  it('refuses a second run started with the first run’s input copied from its history, assertion and all', async () => {
    const grant = await activeGrant('clin.copied', [STUDY_OF_DEPT], 'SYN-FRZ3');
    const frozen = await freeze({ scope: 'user', value: 'clin.copied', reason: 'To be copied' });
    const id = frozen.body.id as string;
    await revokedByFreeze(grant.id, id);
    await api.call('POST', `/api/freezes/${id}/lift-request`, { token: grace, body: { reason: 'done' } });
    await api.call('POST', `/api/freezes/${id}/lift-decision`, { token: await api.login('priv.dave'), body: { decision: 'approve' } });
    await api.temporal.workflow.getHandle(id).result();
    const history = await api.temporal.workflow.getHandle(id).fetchHistory();
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!;
    const { defaultPayloadConverter } = await import('@temporalio/common');
    const originalRun = (await api.db.accessFreeze.findUniqueOrThrow({ where: { id } })).workflowRunId;
    // A grant of the same user, active again, that a replayed freeze would revoke.
    const again = await activeGrant('clin.copied', [STUDY_OF_DEPT], 'SYN-FRZ3');
    const copy = await api.temporal.workflow.start('freezeWorkflow', {
      workflowId: id,
      taskQueue: api.config.temporal.taskQueue,
      args: input.map((p) => defaultPayloadConverter.fromPayload(p)) as never,
    });
    await expect(copy.result()).rejects.toThrow();
    expect((await api.db.accessRequest.findUniqueOrThrow({ where: { id: again.id } })).status).toBe('ACTIVE');
    const row = await api.db.accessFreeze.findUniqueOrThrow({ where: { id } });
    expect(row.liftedAt).not.toBeNull();
    expect(row.workflowRunId).toBe(originalRun);
    await api.call('POST', `/api/access-requests/${again.id}/revoke`, { token: grace, body: { reason: 'freeze test cleanup' } });
  });

  it('does nothing when started straight on Temporal without the API’s word', async () => {
    const id = `fz-${randomUUID()}`;
    const forged = await api.temporal.workflow.start('freezeWorkflow', {
      workflowId: id,
      taskQueue: api.config.temporal.taskQueue,
      args: [
        {
          freeze: { id, scope: 'all', value: null, reason: 'forged' },
          by: { username: 'sec.grace', roles: ['security_officer'], reviewsForDepartments: [] },
          frozenAt: Date.now(),
        },
      ],
    });
    await expect(forged.result()).rejects.toThrow();
    expect(await api.db.accessFreeze.findUnique({ where: { id } })).toBeNull();
  });
});
