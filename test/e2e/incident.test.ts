import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AccessRequestService } from '../../api/access-request-service.js';
import { startCheckpointSigningWorker, type CheckpointSigningWorker } from '../../api/checkpoint-signing-worker.js';
import { FreezeService } from '../../api/freeze-service.js';
import { verifyIncidentBundle, type SignedIncidentBundle } from '../../audit/evidence/incident-bundle.js';
import { createLogger } from '../../config/logger.js';
import { DEFAULT_CLOCK_POLICY, INCIDENT_CLOCKS, type ClockPolicy } from '../../domain/incident.js';
import type { OrthancServer } from '../../scripts/lib/orthanc-server.js';
import { scratchDir } from '../../scripts/lib/ephemeral-servers.js';
import { loadSyntheticStudies, syntheticStudy } from '../../scripts/lib/synthetic-studies.js';
import { startApi, type ApiHarness } from '../support/api-harness.js';
import { auditCli } from '../support/audit-cli.js';
import { pacsEnv, startGateway, startPacs, type GatewayHarness } from '../support/gateway-harness.js';
import { capturedMail } from '../support/smtp-capture.js';
import { leakedCopy } from '../support/leak-degradations.js';

// Incidents (issue 11): declared with a scope, clocks that remind and escalate, containment by
// freezes, notifications through the outbox and a real SMTP server, an investigation report
// that lists exactly the accesses made, a two-person close, and an export that verifies. And
// a break-glass that ends unjustified or unreviewed opens one by itself. The database is
// shared with the test files running alongside: every patient, study and user here is this
// file's own.

const PATIENT = 'SYN-INC1';
const STUDY = '1.2.826.0.1.3680043.8.498.31001';
const OTHER_PATIENT = 'SYN-INC2';
const OTHER_STUDY = '1.2.826.0.1.3680043.8.498.31002';
const BG_PATIENT = 'SYN-INC3';
const BG_STUDY = '1.2.826.0.1.3680043.8.498.31003';
const CLOCK_PATIENT = 'SYN-INC4';
const VIEWER = 'clin.ingrid';
const OTHER_VIEWER = 'clin.ingo';
const BG_VIEWER = 'clin.inez';
const BG_VIEWER_DENIED = 'clin.ines';
const SECOND_OFFICER = 'sec.ivan';
const LATE_VIEWER = 'clin.isla';

/** Long enough that nothing fires while a test acts. */
const SLOW: ClockPolicy = DEFAULT_CLOCK_POLICY;
/** Every reminder and deadline within seconds. */
const FAST: ClockPolicy = {
  dueMs: { team: 3_000, containment: 4_000, regulator: 5_000, individuals: 6_000, individualsOuter: 7_000 },
  reminderFractions: [0.5],
};

let api: ApiHarness;
let orthanc: OrthancServer;
let gateway: GatewayHarness;
let signing: CheckpointSigningWorker;
let grace: string;

beforeAll(async () => {
  ({ orthanc } = await startPacs());
  await loadSyntheticStudies(orthanc, [syntheticStudy(STUDY, PATIENT), syntheticStudy(OTHER_STUDY, OTHER_PATIENT), syntheticStudy(BG_STUDY, BG_PATIENT)]);
  api = await startApi(pacsEnv(orthanc));
  api.config.incidents.clocks = SLOW;
  const { db } = api;
  for (const username of [VIEWER, OTHER_VIEWER, BG_VIEWER, BG_VIEWER_DENIED, LATE_VIEWER]) {
    await db.user.upsert({ where: { username }, create: { username, displayName: username, roles: ['clinician'], departmentId: 'radiology' }, update: {} });
  }
  await db.user.upsert({
    where: { username: SECOND_OFFICER },
    create: { username: SECOND_OFFICER, displayName: 'Ivan', roles: ['security_officer'] },
    update: {},
  });
  // Containment freezes, and a freeze revokes what it matches from the process that holds the key.
  const deps = { config: api.config, db, temporal: api.temporal, keys: api.keys, log: createLogger('incident-test', 'silent') };
  signing = await startCheckpointSigningWorker({
    temporal: api.config.temporal,
    db,
    keys: api.keys,
    freezes: new FreezeService({ ...deps, requests: new AccessRequestService(deps) }),
  });
  gateway = await startGateway(api, orthanc);
  grace = await api.login('sec.grace');
});
afterAll(async () => {
  await gateway?.close();
  await signing?.stop();
  await orthanc?.process.stop();
  await api?.close();
});

async function activeGrant(requester: string, study: string, patientId: string): Promise<{ id: string; token: string }> {
  const submitted = await api.call('POST', '/api/access-requests', {
    token: await api.login(requester),
    body: { studyInstanceUids: [study], patientId, purposeOfUse: 'TREAT', justification: `incident test ${randomUUID().slice(0, 8)}`, durationMinutes: 60 },
  });
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
  const id = submitted.body.id as string;
  for (const reviewer of ['sup.carol', 'priv.dave']) {
    expect((await api.call('POST', `/api/access-requests/${id}/reviews`, { token: await api.login(reviewer), body: { decision: 'approve' } })).status).toBe(
      201,
    );
  }
  const issued = await api.call('POST', `/api/access-requests/${id}/tokens`, { token: await api.login(requester) });
  expect(issued.status).toBe(201);
  return { id, token: issued.body.access_token as string };
}

const declare = (body: object, token = grace) => api.call('POST', '/api/incidents', { token, body });
const act = async (id: string, what: string, username: string, body?: object) =>
  api.call('POST', `/api/incidents/${id}/${what}`, { token: await api.login(username), ...(body ? { body } : {}) });
const detail = async (id: string) => (await api.call('GET', `/api/incidents/${id}`, { token: grace })).body;
const clock = (view: { clocks: { clock: string }[] }, name: string) => view.clocks.find((c) => c.clock === name) as Record<string, unknown>;

describe('an incident', () => {
  it('reports exactly the accesses to its patient, is contained by freezes, notifies by SMTP and the outbox, closes on two sign-offs, exports', async () => {
    const mine = await activeGrant(VIEWER, STUDY, PATIENT);
    const theirs = await activeGrant(OTHER_VIEWER, OTHER_STUDY, OTHER_PATIENT);
    const get = (study: string, token: string, what = 'metadata') =>
      fetch(`${gateway.url}/dicom-web/studies/${study}/${what}`, { headers: { authorization: `Bearer ${token}` } }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      });
    expect(await get(STUDY, mine.token)).toBe(200);
    expect(await get(STUDY, mine.token, 'series')).toBe(200);
    // Refused (another patient's study), and recorded under this patient's grant all the same.
    expect(await get(OTHER_STUDY, mine.token)).toBe(403);
    // Another patient, another grant: not this incident's.
    expect(await get(OTHER_STUDY, theirs.token)).toBe(200);
    await gateway.journal.flush();

    const declared = await declare({ title: 'Images of SYN-INC1 posted online', description: 'Found on a forum.', scope: { patients: [PATIENT] } });
    expect(declared.status, JSON.stringify(declared.body)).toBe(201);
    const id = declared.body.id as string;
    expect(declared.body).toMatchObject({ status: 'OPEN', declaredBy: 'sec.grace', origin: { kind: 'declared' }, scope: { patients: [PATIENT] } });
    expect(declared.body.clocks.map((c: { clock: string; status: string }) => [c.clock, c.status])).toEqual(INCIDENT_CLOCKS.map((c) => [c, 'RUNNING']));
    const due = (name: string) => Date.parse(clock(declared.body, name).dueAt as string) - Date.parse(declared.body.declaredAt);
    expect([due('team'), due('containment'), due('regulator'), due('individualsOuter')]).toEqual([30 * 60_000, 2 * 3_600_000, 72 * 3_600_000, 60 * 86_400_000]);
    expect((await detail(id)).affectedPatients).toEqual([PATIENT]);

    // The report: exactly the gateway's records under this patient's grant, no other.
    const recorded = await api.db.gatewayAccessRecord.findMany({ where: { grantId: mine.id }, orderBy: [{ occurredAt: 'asc' }, { id: 'asc' }] });
    expect(recorded).toHaveLength(3);
    const report = await api.call('GET', `/api/incidents/${id}/report`, { token: await api.login('aud.frank') });
    expect(report.status).toBe(200);
    expect(report.body.accesses.map((a: { servingId: string }) => a.servingId)).toEqual(recorded.map((r) => r.id));
    expect(report.body.accesses[0]).toMatchObject({
      username: VIEWER,
      grantId: mine.id,
      approvers: ['sup.carol', 'priv.dave'],
      purposeOfUse: 'TREAT',
      patientId: PATIENT,
      outcome: 'served',
    });
    expect(report.body.accesses.filter((a: { outcome: string }) => a.outcome === 'refused')).toHaveLength(1);
    expect(report.body.grants.map((g: { grantId: string }) => g.grantId)).toEqual([mine.id]);
    const html = await fetch(`${api.url}/api/incidents/${id}/report?format=html&lang=zh`, { headers: { authorization: `Bearer ${grace}` } });
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    const page = await html.text();
    for (const r of recorded) expect(page).toContain(r.id);
    const pdf = await fetch(`${api.url}/api/incidents/${id}/report?format=pdf`, { headers: { authorization: `Bearer ${grace}` } });
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
    expect((await api.call('GET', `/api/incidents/${id}/report`, { token: await api.login(VIEWER) })).status).toBe(403);

    // The team, then containment: the patient frozen, the viewer's grant stops at the gateway.
    expect((await act(id, 'team', VIEWER, { members: ['sec.grace', 'priv.dave'] })).status).toBe(403);
    const team = await act(id, 'team', 'priv.dave', { members: ['sec.grace', 'priv.dave', SECOND_OFFICER] });
    expect(team.status, JSON.stringify(team.body)).toBe(200);
    expect(clock(team.body, 'team')).toMatchObject({ status: 'MET' });
    expect((await act(id, 'containment', 'priv.dave')).status).toBe(403);
    const contained = await act(id, 'containment', 'sec.grace');
    expect(contained.status, JSON.stringify(contained.body)).toBe(200);
    expect(clock(contained.body, 'containment')).toMatchObject({ status: 'MET' });
    const freezeId = contained.body.containment.freezeIds[0] as string;
    expect(await api.db.accessFreeze.findUniqueOrThrow({ where: { id: freezeId } })).toMatchObject({ scope: 'patient', value: PATIENT, liftedAt: null });
    await expect.poll(() => get(STUDY, mine.token), { timeout: 10_000 }).toBe(403);

    // The regulator by e-mail through the SMTP server; the patients by letter through the outbox.
    const regulator = await act(id, 'notifications', 'priv.dave', {
      audience: 'regulator',
      subject: `Breach notification ${id}`,
      body: 'Article 33 notification: imaging of one patient.',
    });
    expect(regulator.status, JSON.stringify(regulator.body)).toBe(200);
    await expect.poll(async () => clock(await detail(id), 'regulator').status, { timeout: 20_000 }).toBe('MET');
    const mail = capturedMail(inject('mailDir')).filter((m) => m.subject.includes(`Breach notification ${id}`));
    expect(mail).toHaveLength(1);
    expect(mail[0]!.to).toBe('regulator@dpa.test');
    expect(mail[0]!.raw).toContain('Article 33 notification');
    const letters = await act(id, 'notifications', 'sec.grace', {
      audience: 'individuals',
      channel: 'letter',
      subject: 'About your images',
      body: 'We must tell you that images of yours were seen.',
    });
    expect(letters.status, JSON.stringify(letters.body)).toBe(200);
    const outbox = letters.body.notifications.filter((n: { audience: string }) => n.audience === 'individuals');
    expect(outbox).toEqual([
      expect.objectContaining({
        recipient: `patient:${PATIENT}`,
        channel: 'letter',
        transport: 'outbox',
        status: 'QUEUED',
        body: 'We must tell you that images of yours were seen.',
      }),
    ]);
    expect(clock(letters.body, 'individuals')).toMatchObject({ status: 'MET' });
    expect(clock(letters.body, 'individualsOuter')).toMatchObject({ status: 'MET' });

    // Two people close it; the same person twice does not, and two second sign-offs at once close it once.
    expect((await act(id, 'sign-offs', 'sec.grace', { comment: 'Contained and notified.' })).status).toBe(200);
    const again = await act(id, 'sign-offs', 'sec.grace', { comment: 'Again.' });
    expect(again.status).toBe(403);
    expect(again.body.reason).toBe('SELF_REVIEW');
    const [a, b] = await Promise.all([
      act(id, 'sign-offs', 'priv.dave', { comment: 'Agreed.' }),
      act(id, 'sign-offs', SECOND_OFFICER, { comment: 'Agreed too.' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const closed = await detail(id);
    expect(closed.status).toBe('CLOSED');
    expect(closed.closedBy[0]).toBe('sec.grace');
    expect(await api.db.auditEvent.count({ where: { accessRequestId: id, type: 'incident.closed' } })).toBe(1);
    // The report downloaded after the close says so: closed, by the two people who signed it off.
    const closedReport = await api.call('GET', `/api/incidents/${id}/report`, { token: await api.login('aud.frank') });
    expect(closedReport.status).toBe(200);
    expect(closedReport.body.status).toBe('CLOSED');
    expect(closedReport.body.incident.closedBy).toEqual(closed.closedBy);
    expect(closedReport.body.incident.closedBy).toHaveLength(2);
    expect(['priv.dave', SECOND_OFFICER]).toContain(closedReport.body.incident.closedBy[1]);
    expect(closedReport.body.incident.signOff).toMatchObject({ by: 'sec.grace', comment: 'Contained and notified.' });
    expect((await act(id, 'team', 'sec.grace', { members: ['a.b', 'c.d'] })).status).toBe(409);

    // The whole incident exports and verifies like a case; a changed byte does not.
    const exported = await api.call('GET', `/api/incidents/${id}/evidence`, { token: await api.login('aud.frank') });
    expect(exported.status).toBe(200);
    const keys = (await api.call('GET', '/.well-known/audit-keys.json')).body;
    const bundle = exported.body as SignedIncidentBundle;
    // Everything up to the export: the three above, the polls while the freeze took hold, and its refusal.
    await gateway.journal.flush();
    const now = await api.db.gatewayAccessRecord.findMany({ where: { grantId: mine.id }, orderBy: [{ occurredAt: 'asc' }, { id: 'asc' }] });
    expect(now.length).toBeGreaterThan(3);
    expect(now.at(-1)!.outcome).toBe('refused');
    expect(bundle.bundle.report.accesses.map((a) => a.servingId)).toEqual(now.map((r) => r.id));
    expect(await verifyIncidentBundle(bundle, keys)).toEqual({ ok: true, problems: [] });
    const tampered = structuredClone(bundle);
    tampered.bundle.report.accesses.pop();
    expect((await verifyIncidentBundle(tampered, keys)).ok).toBe(false);
    // And with the auditors' CLI: exported from the records, verified against the published keys.
    const file = path.join(scratchDir('iar-incident-'), 'incident.json');
    const exportedByCli = await auditCli(['export', id, '--out', file]);
    expect(exportedByCli.code, exportedByCli.stderr).toBe(0);
    const verified = await auditCli(['verify', file, '--keys', `${api.url}/.well-known/audit-keys.json`]);
    expect(verified.stdout).toContain('bundle verified');
    expect(verified.code).toBe(0);
  });

  it('reminds before each deadline and escalates each one missed, by e-mail, and records them as missed', async () => {
    api.config.incidents.clocks = FAST;
    const declared = await declare({ title: 'Clocks left to run', scope: { patients: [CLOCK_PATIENT] } });
    api.config.incidents.clocks = SLOW;
    expect(declared.status, JSON.stringify(declared.body)).toBe(201);
    const id = declared.body.id as string;
    await expect
      .poll(async () => (await detail(id)).clocks.map((c: { status: string }) => c.status), { timeout: 30_000, interval: 500 })
      .toEqual(INCIDENT_CLOCKS.map(() => 'MISSED'));
    const view = await detail(id);
    for (const c of view.clocks) {
      expect(c.remindersSent).toBe(1);
      expect(Date.parse(c.escalatedAt)).toBeGreaterThanOrEqual(Date.parse(c.dueAt));
    }
    const mail = () => capturedMail(inject('mailDir')).filter((m) => m.subject.includes(id));
    await expect.poll(() => mail().length, { timeout: 20_000 }).toBe(2 * INCIDENT_CLOCKS.length);
    expect(
      mail()
        .filter((m) => m.subject.startsWith('Reminder'))
        .map((m) => m.to),
    ).toEqual(INCIDENT_CLOCKS.map(() => 'security-office@hospital.test'));
    expect(
      mail()
        .filter((m) => m.subject.startsWith('Escalation'))
        .map((m) => m.to),
    ).toEqual(INCIDENT_CLOCKS.map(() => 'ciso@hospital.test'));
    // The patient's identity stays out of the e-mail.
    for (const m of mail()) expect(m.raw).not.toContain(CLOCK_PATIENT);
    expect(await api.db.auditEvent.count({ where: { accessRequestId: id, type: 'incident.clock-missed' } })).toBe(INCIDENT_CLOCKS.length);
    // Done late, the act is recorded, and the clock stays missed.
    const team = await act(id, 'team', 'sec.grace', { members: ['sec.grace', 'priv.dave'] });
    expect(clock(team.body, 'team')).toMatchObject({ status: 'MISSED' });
    expect(clock(team.body, 'team').doneAt).not.toBeNull();
  });

  it('traces a leaked rendered image to its viewer and grant, widens its scope, and a leak traced after containment must be contained too', async () => {
    const grant = await activeGrant(OTHER_VIEWER, OTHER_STUDY, OTHER_PATIENT);
    const laterGrant = await activeGrant(LATE_VIEWER, OTHER_STUDY, OTHER_PATIENT);
    const render = async (token: string) => {
      const rendered = await fetch(`${gateway.url}/dicom-web/studies/${OTHER_STUDY}/series/${OTHER_STUDY}.1/instances/${OTHER_STUDY}.1.1/rendered`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(rendered.status).toBe(200);
      return leakedCopy(Buffer.from(await rendered.arrayBuffer()));
    };
    const leaked = await render(grant.token);
    const leakedLater = await render(laterGrant.token);
    await gateway.journal.flush();
    const serving = await api.db.gatewayAccessRecord.findFirstOrThrow({ where: { grantId: grant.id, route: 'wado:rendered' } });

    // Declared with nothing but the file: the trace says whose copy it is.
    const declared = await declare({ title: 'A screenshot without its band', scope: {} });
    expect(declared.status, JSON.stringify(declared.body)).toBe(201);
    const id = declared.body.id as string;
    const upload = (body: Buffer, type: string, token = grace) =>
      fetch(`${api.url}/api/incidents/${id}/leaked-files`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': type },
        body: new Uint8Array(body),
      });
    expect((await upload(leaked, 'image/jpeg', await api.login(OTHER_VIEWER))).status).toBe(403);
    expect((await upload(Buffer.from('not an image'), 'image/png')).status).toBe(400);
    const traced = await upload(leaked, 'image/jpeg');
    const body = (await traced.json()) as Record<string, any>;
    expect(traced.status, JSON.stringify(body)).toBe(200);
    expect(body.trace.matched).toMatchObject({ servingId: serving.id, grantId: grant.id, username: OTHER_VIEWER });
    expect(body.traces).toEqual([
      expect.objectContaining({ kind: 'rendered', tracedBy: 'sec.grace', matched: expect.objectContaining({ servingId: serving.id }) }),
    ]);
    expect(body.scope).toEqual({ patients: [OTHER_PATIENT], studies: [OTHER_STUDY], users: [OTHER_VIEWER] });
    expect(await api.db.auditEvent.count({ where: { accessRequestId: id, type: 'incident.leak-traced' } })).toBe(1);
    // And on the grant's own case, as every trace is.
    expect(await api.db.auditEvent.count({ where: { accessRequestId: grant.id, type: 'leak.traced' } })).toBe(1);

    // Contained (two tabs at once: one set of freezes), then a second copy is traced to a viewer no freeze stops.
    const [first, second] = await Promise.all([act(id, 'containment', 'sec.grace'), act(id, 'containment', SECOND_OFFICER)]);
    expect([first.status, second.status].sort()).toEqual([200, 409]);
    expect(await api.db.accessFreeze.count({ where: { reason: { startsWith: `Incident ${id}` } } })).toBe(3);
    const again = await upload(leakedLater, 'image/jpeg');
    const widened = (await again.json()) as Record<string, any>;
    expect(widened.trace.matched).toMatchObject({ grantId: laterGrant.id, username: LATE_VIEWER });
    expect(widened.containment).toBeNull();
    expect((await act(id, 'sign-offs', 'sec.grace', { comment: 'Too early.' })).status).toBe(409);
    const recontained = await act(id, 'containment', 'sec.grace');
    expect(recontained.status, JSON.stringify(recontained.body)).toBe(200);
    expect(await api.db.accessFreeze.findFirst({ where: { scope: 'user', value: LATE_VIEWER, liftedAt: null } })).not.toBeNull();
    expect((await act(id, 'sign-offs', 'sec.grace', { comment: 'Both copies contained.' })).status).toBe(200);
  });

  it('is declared once and notifies once when a double click or a retry sends the same Idempotency-Key', async () => {
    const key = { 'Idempotency-Key': `declare-${randomUUID()}` };
    const body = { title: 'Declared from a flaky network', scope: { users: [OTHER_VIEWER] } };
    const [a, b] = await Promise.all([
      api.call('POST', '/api/incidents', { token: grace, body, headers: key }),
      api.call('POST', '/api/incidents', { token: grace, body, headers: key }),
    ]);
    expect(a.body.id).toBe(b.body.id);
    expect([a.status, b.status].sort()).toEqual(expect.arrayContaining([201]));
    expect(await api.db.incident.count({ where: { id: a.body.id } })).toBe(1);
    const notify = { audience: 'regulator', subject: `Once only ${a.body.id}`, body: 'Sent once.' };
    const headers = { 'Idempotency-Key': `notify-${randomUUID()}` };
    const sent = await Promise.all(
      [1, 2].map(async () => api.call('POST', `/api/incidents/${a.body.id}/notifications`, { token: grace, body: notify, headers })),
    );
    expect(sent.map((r) => r.status)).toEqual([200, 200]);
    expect(await api.db.incidentNotification.count({ where: { incidentId: a.body.id, audience: 'regulator' } })).toBe(1);
    await expect.poll(() => capturedMail(inject('mailDir')).filter((m) => m.subject.includes(`Once only ${a.body.id}`)).length, { timeout: 20_000 }).toBe(1);
  });

  it('is refused to anyone but a security officer, and on bad input changes nothing', async () => {
    const before = await api.db.incident.count();
    expect((await declare({ title: 'Not mine to declare', scope: { patients: [PATIENT] } }, await api.login('priv.dave'))).status).toBe(403);
    const bad = await declare({ title: 'x', scope: { patients: ['a\\b'] }, extra: true });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await api.db.incident.count()).toBe(before);
  });

  it('refuses a declaration sent straight to Temporal without the API’s word, and a break-glass incident started from outside', async () => {
    const forged = async (origin: object, by: object | null) => {
      const id = `inc-${randomUUID()}`;
      const handle = await api.temporal.workflow.start('incidentWorkflow', {
        workflowId: id,
        taskQueue: api.config.temporal.taskQueue,
        args: [
          {
            incident: { id, title: 'forged', description: '', scope: { patients: [PATIENT], studies: [], users: [] }, windowFrom: 0 },
            by,
            origin,
            declaredAt: Date.now(),
            policy: FAST,
          },
        ],
      });
      await expect(handle.result()).rejects.toThrow();
      expect(await api.db.incident.findUnique({ where: { id } })).toBeNull();
    };
    await forged({ kind: 'declared' }, { username: 'sec.grace', roles: ['security_officer'], reviewsForDepartments: [] });
    const someBreakGlass = await api.db.accessRequest.findFirst({ where: { kind: 'break-glass' }, select: { id: true } });
    await forged({ kind: 'break-glass', accessRequestId: someBreakGlass?.id ?? 'ar-00000000-0000-0000-0000-000000000000' }, null);
  });
});

describe('a break-glass', () => {
  const emergency = (patientId: string, study: string) => ({
    studyInstanceUids: [study],
    patientId,
    justification: 'Trauma bay, prior imaging needed at once',
  });

  it('left unreviewed past its window opens an incident by itself, scoped to its patient, studies and clinician', async () => {
    api.config.breakGlass.reviewWindowMs = 3_000;
    const opened = await api.call('POST', '/api/break-glass', { token: await api.login(BG_VIEWER), body: emergency(BG_PATIENT, BG_STUDY) });
    api.config.breakGlass.reviewWindowMs = 24 * 3_600_000;
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    const incidentId = `inc-bg-${opened.body.id}`;
    await expect.poll(() => api.db.incident.findUnique({ where: { id: incidentId } }), { timeout: 30_000 }).not.toBeNull();
    const view = await detail(incidentId);
    expect(view).toMatchObject({
      origin: { kind: 'break-glass', accessRequestId: opened.body.id, outcome: 'UNREVIEWED' },
      declaredBy: 'system',
      status: 'OPEN',
      // The clinician only: containing it must not freeze the patient for everyone else.
      scope: { patients: [], studies: [], users: [BG_VIEWER] },
    });
    expect(view.clocks).toHaveLength(INCIDENT_CLOCKS.length);
  });

  it('judged not justified opens an incident by itself', async () => {
    const opened = await api.call('POST', '/api/break-glass', { token: await api.login(BG_VIEWER_DENIED), body: emergency(BG_PATIENT, BG_STUDY) });
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    const denied = await api.call('POST', `/api/access-requests/${opened.body.id}/retro-reviews`, {
      token: await api.login('sup.carol'),
      body: { decision: 'deny', comment: 'No emergency on record' },
    });
    expect(denied.status, JSON.stringify(denied.body)).toBe(201);
    const incidentId = `inc-bg-${opened.body.id}`;
    await expect.poll(() => api.db.incident.findUnique({ where: { id: incidentId } }), { timeout: 30_000 }).not.toBeNull();
    expect(await detail(incidentId)).toMatchObject({ origin: { kind: 'break-glass', outcome: 'UNJUSTIFIED' }, scope: { users: [BG_VIEWER_DENIED] } });
  });
});
