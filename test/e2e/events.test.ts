import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_AUDIENCE } from '../../api/auth/authenticator.js';
import { MAX_STREAMS_PER_USER } from '../../api/routes/events.js';
import { SIGNING_ALG } from '../../tokens/signing-keys.js';
import { startApi, submission, type ApiHarness } from '../support/api-harness.js';
import { openEventStream, type EventStream } from '../support/event-stream.js';

// Two API processes on one database: the stream is read from one, the reviews go through the
// other. The events come from the database, so the process a change went through is irrelevant.
let streaming: ApiHarness;
let writing: ApiHarness;
const streams: EventStream[] = [];

beforeAll(async () => {
  // One issuer for both, as behind a load balancer: a token from one is good at the other.
  const shared = { TOKEN_ISSUER: 'http://iar-events.test' };
  [streaming, writing] = await Promise.all([startApi(shared), startApi(shared)]);
});
afterAll(async () => {
  for (const stream of streams) stream.close();
  await Promise.all([streaming?.close(), writing?.close()]);
});

async function open(token: string | undefined): Promise<EventStream> {
  const stream = await openEventStream(streaming.url, token);
  streams.push(stream);
  return stream;
}

describe('GET /api/events', () => {
  it('holds each user to a few open streams per process, and frees a place when one closes', async () => {
    const token = await streaming.login('aud.frank');
    const held = await Promise.all(Array.from({ length: MAX_STREAMS_PER_USER }, () => open(token)));
    expect(held.map((s) => s.status)).toEqual(held.map(() => 200));
    const refused = await open(token);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('30');
    // Another user is not held to this user's streams.
    expect((await open(await streaming.login('sec.grace'))).status).toBe(200);
    held[0]!.close();
    let again: EventStream | undefined;
    for (let i = 0; i < 40 && again?.status !== 200; i++) {
      again?.close();
      await new Promise((r) => setTimeout(r, 100));
      again = await open(token);
    }
    expect(again!.status).toBe(200);
  });

  it('refuses a caller without a bearer token', async () => {
    const stream = await open(undefined);
    expect(stream.status).toBe(401);
  });

  it('tells a clinician their request turned ACTIVE after two approvals, and tells another clinician nothing of it', async () => {
    // Seeded users, not users made here: creating users mid-run upsets other files' counts.
    const [alice, bob, carol, dave] = await Promise.all(['clin.alice', 'clin.bob', 'sup.carol', 'priv.dave'].map((u) => writing.login(u)));
    const aliceStream = await open(alice);
    const bobStream = await open(bob);
    const carolStream = await open(carol);
    expect(aliceStream.status).toBe(200);
    expect(aliceStream.contentType).toMatch(/^text\/event-stream/);

    const submitted = await writing.call('POST', '/api/access-requests', { token: alice, body: submission() });
    expect(submitted.status).toBe(201);
    const id: string = submitted.body.id;
    await aliceStream.waitFor((e) => e.event === 'access-request' && e.data.id === id && e.data.status === 'PENDING_REVIEW');
    // A reviewer's queue hears of a new request too (the same visibility rule as the list).
    await carolStream.waitFor((e) => e.data.id === id);

    const first = await writing.call('POST', `/api/access-requests/${id}/reviews`, { token: carol, body: { decision: 'approve' } });
    expect(first.status).toBe(201);
    const second = await writing.call('POST', `/api/access-requests/${id}/reviews`, { token: dave, body: { decision: 'approve' } });
    expect(second.body.status).toBe('ACTIVE');

    const active = await aliceStream.waitFor((e) => e.data.id === id && e.data.status === 'ACTIVE');
    expect(active.event).toBe('access-request');
    expect(Object.keys(active.data).sort()).toEqual(['id', 'status', 'updatedAt']);
    expect(Number.isNaN(Date.parse(active.data.updatedAt))).toBe(false);
    // Each change once per connection, though every poll looks back over the last seconds.
    await new Promise((resolve) => setTimeout(resolve, 4_500));
    const activeEvents = aliceStream.events.filter((e) => e.data.id === id && e.data.status === 'ACTIVE');
    expect(activeEvents).toHaveLength(1);

    // Bob (another clinician) has been listening all along: nothing of Alice's.
    expect(bobStream.events.filter((e) => e.data.id === id)).toEqual([]);
    expect(bobStream.comments).toContain('connected');
  });

  it('ends the stream when the bearer token expires', async () => {
    // A dev-login token as the API signs one, but good for three seconds only.
    const key = await streaming.keys.activeKey();
    const shortLived = await new SignJWT({ roles: ['clinician'] })
      .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: 'at+jwt' })
      .setIssuer(streaming.config.tokens.issuer)
      .setAudience(API_AUDIENCE)
      .setSubject('clin.alice')
      .setIssuedAt()
      .setExpirationTime('3s')
      .sign(key.key);
    const started = Date.now();
    const stream = await open(shortLived);
    expect(stream.status).toBe(200);
    await stream.ended;
    expect(Date.now() - started).toBeGreaterThan(1_500);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
