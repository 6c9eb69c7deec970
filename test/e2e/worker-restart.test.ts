import path from 'node:path';
import pg from 'pg';
import proto from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { createRecordActivities } from '../../activities/records.js';
import { verifyAuditChain } from '../../db/audit-chain.js';
import type { ManagedProcess } from '../../scripts/lib/processes.js';
import { startApi, submission, type ApiHarness } from '../support/api-harness.js';
import { startWorkerProcess } from '../../scripts/lib/ephemeral-servers.js';

// Its own task queue and worker process, so killing the worker touches no other test.
const taskQueue = `iar-restart-${process.pid}`;
let api: ApiHarness;
let worker: ManagedProcess | undefined;
const logFile = path.join(inject('workDir'), `worker-restart-${process.pid}.log`);

function startWorker() {
  return startWorkerProcess({ databaseUrl: inject('databaseUrl'), temporalAddress: inject('temporalAddress'), taskQueue, logFile });
}

beforeAll(async () => {
  api = await startApi({ TEMPORAL_TASK_QUEUE: taskQueue });
  worker = await startWorker();
});
afterAll(async () => {
  await worker?.stop();
  await api.close();
});

describe('a worker killed in the middle of a review', () => {
  it('completes the request after a restart with exactly one grant and no duplicate records', async () => {
    const alice = await api.login('clin.alice');
    const id = (await api.call('POST', '/api/access-requests', { token: alice, body: submission() })).body.id;
    expect((await api.call('POST', `/api/access-requests/${id}/reviews`, { token: await api.login('sup.carol'), body: { decision: 'approve' } })).status).toBe(
      201,
    );

    worker!.child.kill('SIGKILL');
    await worker!.exited;

    // The second approval is sent while no worker runs: it waits for one.
    const pending = api.call('POST', `/api/access-requests/${id}/reviews`, { token: await api.login('priv.dave'), body: { decision: 'approve' } });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await api.db.accessRequest.findUniqueOrThrow({ where: { id } })).status).toBe('PENDING_REVIEW');

    worker = await startWorker();
    const approved = await pending;
    expect(approved.status).toBe(201);
    expect(approved.body.status).toBe('ACTIVE');

    expect(await api.db.grant.count({ where: { accessRequestId: id } })).toBe(1);
    expect(await api.db.review.count({ where: { accessRequestId: id } })).toBe(2);
    const events = await api.db.auditEvent.findMany({ where: { accessRequestId: id }, orderBy: { seq: 'asc' } });
    expect(events.map((e) => e.type)).toEqual(['access_request.submitted', 'review.recorded', 'review.recorded']);
    expect((await verifyAuditChain(api.db)).ok).toBe(true);

    const token = await api.call('POST', `/api/access-requests/${id}/tokens`, { token: alice });
    expect(token.status).toBe(201);
  });
});

describe('a worker killed while a record activity is running', () => {
  it('has the activity retried by Temporal after a restart: one grant, no duplicate rows', async () => {
    const alice = await api.login('clin.alice');
    const id = (await api.call('POST', '/api/access-requests', { token: alice, body: submission() })).body.id;
    expect((await api.call('POST', `/api/access-requests/${id}/reviews`, { token: await api.login('sup.carol'), body: { decision: 'approve' } })).status).toBe(
      201,
    );

    // Every record activity appends to the audit chain last: holding the chain's head row
    // catches the second approval's activity inside its transaction, its rows written and
    // not yet committed.
    const blocker = new pg.Client({ connectionString: inject('databaseUrl') });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM audit_chain_head WHERE id = 1 FOR UPDATE');
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await blocker.query('ROLLBACK');
      await blocker.end();
    };
    try {
      const pending = api.call('POST', `/api/access-requests/${id}/reviews`, { token: await api.login('priv.dave'), body: { decision: 'approve' } });
      const handle = api.temporal.workflow.getHandle(id);
      const started = proto.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
      for (let tries = 0; ; tries++) {
        const pendingActivities = (await handle.describe()).raw.pendingActivities ?? [];
        if (pendingActivities.some((a) => a.activityType?.name === 'recordReview' && a.state === started)) break;
        if (tries > 200) throw new Error('the record activity never started');
        await new Promise((r) => setTimeout(r, 100));
      }
      // And its transaction reaches the lock this test holds (it writes its rows first).
      let waiting = 0;
      for (let tries = 0; tries < 100 && waiting === 0; tries++) {
        const result = await blocker.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        );
        waiting = result.rows[0].n;
        if (waiting === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(waiting).toBeGreaterThan(0);

      worker!.child.kill('SIGKILL');
      await worker!.exited;
      await release();
      // The killed attempt's transaction died with its connection: nothing of it remains.
      expect(await api.db.review.count({ where: { accessRequestId: id } })).toBe(1);
      expect(await api.db.grant.count({ where: { accessRequestId: id } })).toBe(0);

      worker = await startWorker();
      const approved = await pending;
      expect(approved.status).toBe(201);
      expect(approved.body.status).toBe('ACTIVE');
      expect(approved.body.review).toMatchObject({ reviewer: 'priv.dave', decision: 'approve' });
    } finally {
      await release();
    }

    expect(await api.db.grant.count({ where: { accessRequestId: id } })).toBe(1);
    expect(await api.db.review.count({ where: { accessRequestId: id } })).toBe(2);
    const events = await api.db.auditEvent.findMany({ where: { accessRequestId: id }, orderBy: { seq: 'asc' } });
    expect(events.map((e) => e.type)).toEqual(['access_request.submitted', 'review.recorded', 'review.recorded']);
    expect((await verifyAuditChain(api.db)).ok).toBe(true);

    // Temporal retried it: the attempt that completed was not the first.
    const history = await api.temporal.workflow.getHandle(id).fetchHistory();
    const scheduled = new Map<string, string>();
    for (const event of history.events ?? []) {
      const attributes = event.activityTaskScheduledEventAttributes;
      if (attributes) scheduled.set(String(event.eventId), attributes.activityType?.name ?? '');
    }
    const attempts = (history.events ?? [])
      .map((e) => e.activityTaskStartedEventAttributes)
      .filter((a) => a && scheduled.get(String(a.scheduledEventId)) === 'recordReview')
      .map((a) => a!.attempt);
    expect(attempts).toHaveLength(2);
    expect(attempts[1]).toBeGreaterThanOrEqual(2);
  });
});

describe('record activities are idempotent', () => {
  it('writes nothing the second time an activity runs with the same input', async () => {
    const records = createRecordActivities(api.db);
    const id = `ar-${crypto.randomUUID()}`;
    const request = {
      id,
      requester: 'clin.alice',
      requesterRole: 'clinician' as const,
      departmentId: 'radiology',
      studyInstanceUids: ['1.2.3.4'],
      patientId: 'SYN-IDEM',
      purposeOfUse: 'TREAT' as const,
      justification: 'idempotency check of the record activities',
      durationMinutes: 5,
      requestHash: 'a'.repeat(64),
    };
    const now = Date.now();
    expect(await records.recordSubmission({ request, submittedAt: now, reviewDeadline: now + 60_000 })).toBe(true);
    expect(await records.recordSubmission({ request, submittedAt: now, reviewDeadline: now + 60_000 })).toBe(false);
    const review = {
      accessRequestId: id,
      reviewer: 'priv.dave',
      decision: 'approve' as const,
      requestHash: request.requestHash,
      countedToward: 'privacy_officer' as const,
      reviewedAt: now + 1,
      outcome: 'ACTIVE' as const,
      grant: { approvers: ['sup.carol', 'priv.dave'], activatedAt: now + 1, expiresAt: now + 300_001 },
    };
    // Two retries racing, as after a worker crash.
    const results = await Promise.allSettled([records.recordReview(review), records.recordReview(review)]);
    const retried = await records.recordReview(review);
    expect(retried).toBe(false);
    expect(results.filter((r) => r.status === 'fulfilled' && r.value === true)).toHaveLength(1);
    const token = { accessRequestId: id, jti: crypto.randomUUID(), kid: 'k', subject: 'clin.alice', issuedAt: now + 2, expiresAt: now + 60_000 };
    expect(await records.recordTokenIssued(token)).toBe(true);
    expect(await records.recordTokenIssued(token)).toBe(false);
    const end = { accessRequestId: id, status: 'EXPIRED' as const, endedAt: now + 300_001, reason: 'done', actor: 'system' };
    expect(await records.recordEnd(end)).toBe(true);
    expect(await records.recordEnd(end)).toBe(false);

    expect(await api.db.accessRequest.count({ where: { id } })).toBe(1);
    expect(await api.db.review.count({ where: { accessRequestId: id } })).toBe(1);
    expect(await api.db.grant.count({ where: { accessRequestId: id } })).toBe(1);
    expect(await api.db.issuedToken.count({ where: { accessRequestId: id } })).toBe(1);
    expect(await api.db.auditEvent.count({ where: { accessRequestId: id } })).toBe(4);
    expect((await verifyAuditChain(api.db)).ok).toBe(true);
  });
});
