import { randomInt } from 'node:crypto';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { verifyAuditChain } from '../../db/audit-chain.js';
import { createDb } from '../../db/client.js';
import { seedDemoDirectory } from '../../db/seed-demo.js';
import { REJECTION_REASONS } from '../../domain/review-rejection.js';
import { scratchDir, startWorkerProcess } from '../../scripts/lib/ephemeral-servers.js';
import { migrate } from '../../scripts/lib/migrate.js';
import { PgliteSessionServer } from '../../scripts/lib/pglite-session-server.js';
import type { ManagedProcess } from '../../scripts/lib/processes.js';
import { ensureClinician, startApi, submission, type ApiHarness } from '../support/api-harness.js';

// Many requests, several reviewers each, conflicting decisions, retries, cancellations,
// revocations and token requests, all fired at once in a seeded random order. Afterwards
// every answer is checked against the database, and every end state against the reviews
// that were recorded. Set IAR_CONCURRENCY_SEED to replay a failing order.

const seed = Number(process.env.IAR_CONCURRENCY_SEED ?? randomInt(2 ** 31));
const REQUESTS = 10;

/** mulberry32: a small seeded generator, so a failing interleaving can be asked for again. */
function generator(start: number) {
  let a = start >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, chance: (p: number) => next() < p, pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]! };
}

type Action =
  | { kind: 'review'; request: number; as: string; decision: 'approve' | 'deny'; key?: string; round: 1 | 2 }
  | { kind: 'cancel'; request: number; as: string; round: 1 | 2 }
  | { kind: 'revoke'; request: number; as: string; round: 1 | 2 }
  | { kind: 'token'; request: number; as: string; round: 1 | 2 };

interface Outcome {
  action: Action;
  id: string;
  status: number;
  body: any;
}

const REVIEWERS = ['sup.carol', 'sup.erin', 'priv.dave', 'priv.conc'] as const;

function plan(rng: ReturnType<typeof generator>, requesters: string[]): Action[] {
  const actions: Action[] = [];
  for (let request = 0; request < REQUESTS; request++) {
    const requester = requesters[request]!;
    for (const as of REVIEWERS) {
      if (!rng.chance(0.8)) continue;
      const decision = rng.chance(0.8) ? 'approve' : 'deny';
      const key = rng.chance(0.5) ? `review-${request}-${as}-${seed}` : undefined;
      const round = rng.chance(0.85) ? 1 : 2;
      actions.push({ kind: 'review', request, as, decision, key, round });
      // A second tab, a double click or a proxy's retry: the same review again…
      if (key && rng.chance(0.4)) actions.push({ kind: 'review', request, as, decision, key, round });
      // …or the other decision from the same person, at the same moment.
      if (rng.chance(0.35))
        actions.push({ kind: 'review', request, as, decision: decision === 'approve' ? 'deny' : 'approve', key: rng.chance(0.5) ? key : undefined, round });
    }
    if (rng.chance(0.1)) actions.push({ kind: 'review', request, as: requester, decision: 'approve', round: 1 });
    if (rng.chance(0.25)) actions.push({ kind: 'cancel', request, as: requester, round: rng.chance(0.5) ? 1 : 2 });
    if (rng.chance(0.5)) actions.push({ kind: 'revoke', request, as: rng.chance(0.5) ? requester : 'sec.grace', round: 2 });
    for (let t = 0; t < 2; t++) if (rng.chance(0.6)) actions.push({ kind: 'token', request, as: requester, round: rng.chance(0.3) ? 1 : 2 });
  }
  return actions;
}

function shuffle<T>(rng: ReturnType<typeof generator>, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

async function fire(api: ApiHarness, tokens: Map<string, string>, ids: string[], rng: ReturnType<typeof generator>, actions: Action[]): Promise<Outcome[]> {
  return Promise.all(
    shuffle(rng, actions).map(async (action) => {
      // A jitter of a few milliseconds varies which call reaches the workflow first.
      await new Promise((r) => setTimeout(r, Math.floor(rng.next() * 40)));
      const id = ids[action.request]!;
      const token = tokens.get(action.as)!;
      const path = `/api/access-requests/${id}`;
      let response;
      if (action.kind === 'review') {
        const body = action.decision === 'deny' ? { decision: 'deny', comment: 'not justified for this patient' } : { decision: 'approve' };
        response = await api.call('POST', `${path}/reviews`, { token, body, headers: action.key ? { 'idempotency-key': action.key } : {} });
      } else if (action.kind === 'cancel') {
        response = await api.call('POST', `${path}/cancel`, { token, body: { reason: 'no longer needed' } });
      } else if (action.kind === 'revoke') {
        response = await api.call('POST', `${path}/revoke`, { token, body: { reason: 'concurrency test' } });
      } else {
        response = await api.call('POST', `${path}/tokens`, { token });
      }
      return { action, id, status: response.status, body: response.body };
    }),
  );
}

interface Backend {
  name: string;
  api: ApiHarness;
  close(): Promise<void>;
}

/** The embedded default: PGlite behind its session server, a worker and an API on it. */
async function embeddedBackend(): Promise<Backend> {
  const dir = scratchDir('iar-embedded-');
  const pglite = await PGlite.create(path.join(dir, 'pglite'));
  const server = new PgliteSessionServer({ db: pglite, host: '127.0.0.1', port: 0 });
  const url = `postgresql://postgres@127.0.0.1:${await server.start()}/postgres`;
  await migrate(url);
  const seedDb = createDb(url, { maxConnections: 1 });
  await seedDemoDirectory(seedDb);
  await seedDb.$disconnect();
  const taskQueue = `iar-embedded-${process.pid}`;
  const worker: ManagedProcess = await startWorkerProcess({
    databaseUrl: url,
    temporalAddress: inject('temporalAddress'),
    taskQueue,
    logFile: path.join(dir, 'worker.log'),
  });
  const api = await startApi({ DATABASE_URL: url, TEMPORAL_TASK_QUEUE: taskQueue });
  return {
    name: 'the embedded default (PGlite)',
    api,
    async close() {
      await api.close();
      await worker.stop();
      await server.stop();
      await pglite.close();
    },
  };
}

async function realBackend(): Promise<Backend> {
  const api = await startApi();
  return { name: 'real PostgreSQL', api, close: () => api.close() };
}

describe.each([
  ['real PostgreSQL', realBackend],
  ['the embedded default (PGlite)', embeddedBackend],
])('reviews, revocations, cancellations and tokens at the same moment on %s', (label, start) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await start();
  });
  afterAll(async () => {
    await backend?.close();
  });

  it(`loses no decision, answers no 5xx, and every answer agrees with the records (seed ${seed})`, async () => {
    onTestFailed(() => console.error(`[concurrency] ${label}: replay with IAR_CONCURRENCY_SEED=${seed}`));
    const { api } = backend;
    const rng = generator(seed);
    const suffix = label.startsWith('real') ? 'pg' : 'lite';
    // Clinicians of this file alone, so that per-user token limits are not shared.
    const requesters = [`clin.conc-rad-${suffix}`, `clin.conc-card-${suffix}`];
    await ensureClinician(api, requesters[0]!, 'Concurrency (radiology)', 'radiology');
    await ensureClinician(api, requesters[1]!, 'Concurrency (cardiology)', 'cardiology');
    await api.db.user.upsert({
      where: { username: 'priv.conc' },
      create: { username: 'priv.conc', displayName: 'Second privacy officer', roles: ['privacy_officer'] },
      update: {},
    });

    const tokens = new Map<string, string>();
    for (const user of [...requesters, ...REVIEWERS, 'sec.grace']) tokens.set(user, await api.login(user));
    const requesterOf = Array.from({ length: REQUESTS }, (_, i) => requesters[i % 2]!);
    const ids = await Promise.all(
      requesterOf.map(async (requester) => {
        const response = await api.call('POST', '/api/access-requests', { token: tokens.get(requester)!, body: submission({ durationMinutes: 30 }) });
        expect(response.status).toBe(201);
        return response.body.id as string;
      }),
    );

    const actions = plan(rng, requesterOf);
    const outcomes = [
      ...(await fire(
        api,
        tokens,
        ids,
        rng,
        actions.filter((a) => a.round === 1),
      )),
      ...(await fire(
        api,
        tokens,
        ids,
        rng,
        actions.filter((a) => a.round === 2),
      )),
    ];
    const counts = new Map<string, number>();
    for (const o of outcomes) {
      const key = `${o.action.kind} ${o.status}${o.body?.reason ? ` ${o.body.reason}` : ''}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    console.info(
      `[concurrency] ${label}, seed ${seed}: ${[...counts]
        .sort()
        .map(([k, n]) => `${k} ×${n}`)
        .join(', ')}`,
    );
    const describeOutcome = (o: Outcome) =>
      `${o.action.kind} by ${o.action.as} (${JSON.stringify(o.action)}) → ${o.status} ${JSON.stringify(o.body)?.slice(0, 300)}`;

    // No 5xx, whatever the interleaving.
    expect(outcomes.filter((o) => o.status >= 500).map(describeOutcome)).toEqual([]);

    for (const [index, id] of ids.entries()) {
      const requester = requesterOf[index]!;
      const mine = outcomes.filter((o) => o.id === id);
      const row = await api.db.accessRequest.findUniqueOrThrow({ where: { id }, include: { reviews: true, grant: true, revocations: true } });
      const context = `${id} (${row.status}): ${mine.map(describeOutcome).join('\n')}`;

      // Reviews: each success names the caller's own review, as recorded; each recorded
      // review was answered as a success; every refusal is recorded with its reason.
      const reviewOutcomes = mine.filter((o) => o.action.kind === 'review');
      const accepted = reviewOutcomes.filter((o) => o.status === 201 || o.status === 200);
      for (const o of accepted) {
        expect(o.body.review, context).toMatchObject({ reviewer: o.action.as, decision: (o.action as { decision: string }).decision });
        expect(row.reviews.find((r) => r.reviewer === o.action.as)?.decision, context).toBe((o.action as { decision: string }).decision);
      }
      expect(new Set(row.reviews.map((r) => `${r.reviewer}:${r.decision}`)), context).toEqual(
        new Set(accepted.map((o) => `${o.action.as}:${(o.action as { decision: string }).decision}`)),
      );
      // Only a keyed retry of the very same review is ever answered 200.
      for (const o of reviewOutcomes.filter((x) => x.status === 200)) expect(o.body.review.decision, context).toBe((o.action as { decision: string }).decision);

      const refused = reviewOutcomes.filter((o) => o.status !== 201 && o.status !== 200);
      // A reviewer who may not see the request is told only that it was not found; the
      // attempt is recorded all the same, with the rule's real reason.
      const unseen = new Set(refused.filter((o) => o.status === 404).map((o) => o.action.as));
      for (const o of refused) {
        if (o.status === 404) expect(o.body.reason, context).toBeUndefined();
        else expect(Object.keys(REJECTION_REASONS), context).toContain(o.body.reason);
      }
      const attempts = await api.db.rejectedReviewAttempt.findMany({ where: { accessRequestId: id } });
      const tally = (items: string[]) => items.sort().join('\n');
      const decisionOf = (o: Outcome) => (o.action as { decision: string }).decision;
      expect(tally(attempts.map((a) => `${a.reviewer}:${a.decision}`)), context).toBe(tally(refused.map((o) => `${o.action.as}:${decisionOf(o)}`)));
      expect(tally(attempts.filter((a) => !unseen.has(a.reviewer)).map((a) => `${a.reviewer}:${a.decision}:${a.reason}`)), context).toBe(
        tally(refused.filter((o) => o.status !== 404).map((o) => `${o.action.as}:${decisionOf(o)}:${o.body.reason}`)),
      );
      expect(await api.db.auditEvent.count({ where: { accessRequestId: id, type: 'review.rejected' } }), context).toBe(attempts.length);

      // One reviewer, one decision.
      expect(new Set(row.reviews.map((r) => r.reviewer)).size, context).toBe(row.reviews.length);
      // The end state follows from the recorded reviews and the accepted cancel and revoke.
      const approvals = row.reviews.filter((r) => r.decision === 'approve');
      const denied = row.reviews.some((r) => r.decision === 'deny');
      const cancelled = mine.some((o) => o.action.kind === 'cancel' && o.status === 200);
      const revoked = mine.some((o) => o.action.kind === 'revoke' && o.status === 200);
      const approved = approvals.length >= 2 && new Set(approvals.map((r) => r.countedToward)).size === 2;
      if (denied) {
        expect(row.status, context).toBe('DENIED');
        expect(
          row.reviews.filter((r) => r.decision === 'deny'),
          context,
        ).toHaveLength(1);
      } else if (approved) {
        expect(row.status, context).toBe(revoked ? 'REVOKED' : 'ACTIVE');
      } else {
        expect(row.status, context).toBe(cancelled ? 'CANCELLED' : 'PENDING_REVIEW');
      }
      expect(denied && approved, context).toBe(false);
      expect(cancelled && (denied || approved), context).toBe(false);
      expect(row.revocations, context).toHaveLength(revoked ? 1 : 0);
      expect(mine.filter((o) => o.action.kind === 'revoke' && o.status === 200).length, context).toBeLessThanOrEqual(1);

      // Exactly one grant per approved request, approved by two others.
      expect(await api.db.grant.count({ where: { accessRequestId: id } }), context).toBe(approved ? 1 : 0);
      if (approved) {
        expect(new Set(row.grant!.approvers), context).toEqual(new Set(approvals.map((r) => r.reviewer)));
        expect(row.grant!.approvers, context).not.toContain(requester);
      }

      // Tokens: each one handed out was recorded, and nothing refused left a record.
      const issued = mine.filter((o) => o.action.kind === 'token' && o.status === 201);
      const recorded = await api.db.issuedToken.findMany({ where: { accessRequestId: id } });
      expect(recorded.map((t) => t.jti).sort(), context).toEqual(issued.map((o) => decodeJwt(o.body.access_token).jti).sort());
      for (const o of mine.filter((x) => x.action.kind === 'token' && x.status !== 201)) {
        expect([409, 429], context).toContain(o.status);
      }
      // Accepted cancels and revokes answered with the state they left.
      for (const o of mine.filter((x) => (x.action.kind === 'cancel' || x.action.kind === 'revoke') && x.status === 200)) {
        expect(o.body.status, context).toBe(o.action.kind === 'cancel' ? 'CANCELLED' : 'REVOKED');
      }
    }

    const chain = await verifyAuditChain(api.db);
    expect(chain.ok, JSON.stringify(chain)).toBe(true);
  });
});
