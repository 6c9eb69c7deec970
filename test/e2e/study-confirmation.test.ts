import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessRequestId } from '../../api/request-hash.js';
import { freePort } from '../../scripts/lib/processes.js';
import { ensureClinician, startApi, submission, STUDY_A, STUDY_B, STUDY_OF_SYN_0002, type ApiHarness } from '../support/api-harness.js';
import { STUDY_HELD_TWICE, STUDY_UNKNOWN } from '../support/pacs-studies.js';

// Issue 8: the patient is checked against the study. At submission the API asks the PACS
// for every study; a study it does not hold, or holds under another patient, is refused
// before anything is recorded, and so is every submission while the PACS cannot be asked.

const REQUESTER = 'clin.petra';
let api: ApiHarness;
let petra: string;

beforeAll(async () => {
  api = await startApi();
  await ensureClinician(api, REQUESTER, 'Petra (clinician, study confirmation tests)');
  petra = await api.login(REQUESTER);
});
afterAll(async () => {
  await api?.close();
});

/** A keyed submission, so the id it would have had is known and its absence can be proven. */
async function submitKeyed(target: ApiHarness, body: unknown) {
  const key = `confirm-${crypto.randomUUID()}`;
  // Each API signs its own login tokens (its URL is their issuer).
  const token = target === api ? petra : await target.login(REQUESTER);
  const response = await target.call('POST', '/api/access-requests', { token, body, headers: { 'Idempotency-Key': key } });
  return { response, key };
}

/** Nothing of the refused submission exists: no row, no confirmed facts, no audit event, no workflow. */
async function expectNothingRecorded(target: ApiHarness, before: Awaited<ReturnType<typeof footprint>>, key: string) {
  expect(await footprint(target)).toEqual(before);
  // A keyed submission's id (and workflow id) is a function of requester and key.
  const id = accessRequestId(REQUESTER, key, () => 'unused');
  expect(await target.db.accessRequest.findUnique({ where: { id } })).toBeNull();
  await expect(target.temporal.workflow.getHandle(id).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
}

async function footprint(target: ApiHarness) {
  const where = { requester: REQUESTER };
  return {
    requests: await target.db.accessRequest.count({ where }),
    studies: await target.db.accessRequestStudy.count({ where: { accessRequest: where } }),
    events: await target.db.auditEvent.count({ where: { actor: REQUESTER } }),
  };
}

function expectProblem(response: { status: number; body: any; headers: Headers }, status: number, reason: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  expect(response.body).toMatchObject({ status, reason, type: expect.stringContaining('urn:imaging-access-review:problem:') });
}

describe('the PACS confirms the patient of every study', () => {
  it('refuses a study the PACS holds under another patient (400), naming the study and not its patient', async () => {
    const before = await footprint(api);
    const { response, key } = await submitKeyed(api, submission({ studyInstanceUids: [STUDY_OF_SYN_0002], patientId: 'SYN-0001' }));
    expectProblem(response, 400, 'PATIENT_MISMATCH');
    expect(response.body.detail).toContain(STUDY_OF_SYN_0002);
    expect(JSON.stringify(response.body)).not.toContain('SYN-0002');
    expect(response.body.errors).toEqual([{ path: 'studyInstanceUids.0', message: expect.any(String) }]);
    await expectNothingRecorded(api, before, key);
  });

  it('refuses the whole request when one study of several is another patient’s', async () => {
    const before = await footprint(api);
    const { response } = await submitKeyed(api, submission({ studyInstanceUids: [STUDY_A, STUDY_OF_SYN_0002], patientId: 'SYN-0001' }));
    expectProblem(response, 400, 'PATIENT_MISMATCH');
    expect(response.body.errors.map((e: { path: string }) => e.path)).toEqual(['studyInstanceUids.1']);
    expect(await footprint(api)).toEqual(before);
  });

  it('refuses a study the PACS holds under two patients', async () => {
    const before = await footprint(api);
    const { response } = await submitKeyed(api, submission({ studyInstanceUids: [STUDY_HELD_TWICE], patientId: 'SYN-0001' }));
    expectProblem(response, 400, 'PATIENT_MISMATCH');
    expect(await footprint(api)).toEqual(before);
  });

  it('refuses a study the PACS does not hold (400), naming it', async () => {
    const before = await footprint(api);
    const { response, key } = await submitKeyed(api, submission({ studyInstanceUids: [STUDY_A, STUDY_UNKNOWN] }));
    expectProblem(response, 400, 'STUDY_NOT_FOUND');
    expect(response.body.detail).toContain(STUDY_UNKNOWN);
    expect(response.body.errors.map((e: { path: string }) => e.path)).toEqual(['studyInstanceUids.1']);
    await expectNothingRecorded(api, before, key);
  });

  it('records what the PACS confirmed, and reviewers see it', async () => {
    const submitted = await api.call('POST', '/api/access-requests', {
      token: petra,
      body: submission({ studyInstanceUids: [STUDY_B, STUDY_A] }),
      headers: { 'Idempotency-Key': `confirm-${crypto.randomUUID()}` },
    });
    expect(submitted.status).toBe(201);
    const confirmed = [
      {
        studyInstanceUid: STUDY_B,
        patientId: 'SYN-0001',
        modalities: ['CR'],
        studyDate: '2024-01-16',
        description: 'Synthetic radiograph wrist',
        confirmedAt: expect.any(String),
      },
      {
        studyInstanceUid: STUDY_A,
        patientId: 'SYN-0001',
        modalities: ['CT'],
        studyDate: '2024-01-15',
        description: 'Synthetic CT wrist',
        confirmedAt: expect.any(String),
      },
    ];
    expect(submitted.body.confirmedStudies).toEqual(confirmed);
    const confirmedAt = Date.parse(submitted.body.confirmedStudies[0].confirmedAt);
    expect(confirmedAt).toBeLessThanOrEqual(Date.parse(submitted.body.submittedAt) + 1000);

    const seen = await api.call('GET', `/api/access-requests/${submitted.body.id}`, { token: await api.login('sup.carol') });
    expect(seen.status).toBe(200);
    expect(seen.body.confirmedStudies).toEqual(submitted.body.confirmedStudies);
    const rows = await api.db.accessRequestStudy.findMany({ where: { accessRequestId: submitted.body.id } });
    expect(rows).toHaveLength(2);
  });

  it('answers a retry from the facts first confirmed', async () => {
    const headers = { 'Idempotency-Key': `confirm-${crypto.randomUUID()}` };
    const first = await api.call('POST', '/api/access-requests', { token: petra, body: submission(), headers });
    const retry = await api.call('POST', '/api/access-requests', { token: petra, body: submission(), headers });
    expect(retry.status).toBe(200);
    expect(retry.body.confirmedStudies).toEqual(first.body.confirmedStudies);
  });
});

describe('when the PACS cannot be asked, nothing is recorded', () => {
  it('answers 503 problem+json while the PACS is unreachable', async () => {
    const down = await startApi({ PACS_DICOMWEB_URL: `http://127.0.0.1:${await freePort()}/dicom-web` });
    try {
      const before = await footprint(down);
      const { response, key } = await submitKeyed(down, submission());
      expectProblem(response, 503, 'PACS_UNAVAILABLE');
      await expectNothingRecorded(down, before, key);
    } finally {
      await down.close();
    }
  });

  it('answers 503 when the PACS refuses the API’s credentials', async () => {
    const refused = await startApi({ PACS_PASSWORD: 'not-the-password' });
    try {
      const before = await footprint(refused);
      const { response, key } = await submitKeyed(refused, submission());
      expectProblem(response, 503, 'PACS_UNAVAILABLE');
      await expectNothingRecorded(refused, before, key);
    } finally {
      await refused.close();
    }
  });

  it('answers 503 when no PACS is configured', async () => {
    const none = await startApi({}, (config) => {
      config.pacs = null;
    });
    try {
      const before = await footprint(none);
      const { response, key } = await submitKeyed(none, submission());
      expectProblem(response, 503, 'PACS_UNAVAILABLE');
      await expectNothingRecorded(none, before, key);
    } finally {
      await none.close();
    }
  });
});

describe('looking a study up by accession number', () => {
  const lookUp = (query: Record<string, string>, token = petra) => api.call('GET', `/api/studies?${new URLSearchParams(query).toString()}`, { token });

  it('finds the study the PACS files under the number for that patient, and a submission with it is confirmed', async () => {
    const found = await lookUp({ accessionNumber: 'ACC10001', patientId: 'SYN-0001' });
    expect(found.status, JSON.stringify(found.body)).toBe(200);
    expect(found.body.items).toEqual([
      { studyInstanceUid: STUDY_A, patientId: 'SYN-0001', modalities: ['CT'], studyDate: '2024-01-15', description: 'Synthetic CT wrist' },
    ]);
    const submitted = await api.call('POST', '/api/access-requests', {
      token: petra,
      body: submission({ studyInstanceUids: found.body.items.map((s: { studyInstanceUid: string }) => s.studyInstanceUid) }),
    });
    expect(submitted.status).toBe(201);
  });

  it('says nothing of a study filed under another patient, or of a number the PACS does not hold', async () => {
    // ACC10003 is SYN-0002's: asked for under SYN-0001, it is not there, and SYN-0002 is not named.
    const other = await lookUp({ accessionNumber: 'ACC10003', patientId: 'SYN-0001' });
    expect(other.status).toBe(200);
    expect(other.body).toEqual({ items: [] });
    expect(
      (await lookUp({ accessionNumber: 'ACC10003', patientId: 'SYN-0002' })).body.items.map((s: { studyInstanceUid: string }) => s.studyInstanceUid),
    ).toEqual([STUDY_OF_SYN_0002]);
    expect((await lookUp({ accessionNumber: 'NO-SUCH', patientId: 'SYN-0001' })).body).toEqual({ items: [] });
  });

  it('refuses wildcards, lists and a missing patient, so a lookup can never fish', async () => {
    for (const accessionNumber of ['ACC*', 'ACC1000?', 'ACC10001,ACC10003', 'A\\B', 'ACC-longer-than-sixteen']) {
      const refused = await lookUp({ accessionNumber, patientId: 'SYN-0001' });
      expect(refused.status, accessionNumber).toBe(400);
      expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
    expect((await lookUp({ accessionNumber: 'ACC10001' })).status).toBe(400);
    // A patient id is compared, never sent as a matcher: `*` finds nobody.
    expect((await lookUp({ accessionNumber: 'ACC10001', patientId: '*' })).body).toEqual({ items: [] });
  });

  it('is for clinicians only', async () => {
    const frank = await api.login('aud.frank');
    expect((await lookUp({ accessionNumber: 'ACC10001', patientId: 'SYN-0001' }, frank)).status).toBe(403);
  });

  it('records every lookup in the audit chain: who, which number, which patient, what was found', async () => {
    const before = await api.db.auditEvent.count({ where: { type: 'study.looked-up', actor: REQUESTER } });
    await lookUp({ accessionNumber: 'ACC10001', patientId: 'SYN-0001' });
    await lookUp({ accessionNumber: 'ACC10003', patientId: 'SYN-0001' });
    const recorded = await api.db.auditEvent.findMany({ where: { type: 'study.looked-up', actor: REQUESTER }, orderBy: { seq: 'asc' }, skip: before });
    expect(recorded.map((e) => e.payload)).toEqual([
      { accessionNumber: 'ACC10001', patientId: 'SYN-0001', found: [STUDY_A] },
      { accessionNumber: 'ACC10003', patientId: 'SYN-0001', found: [] },
    ]);
  });
});
