import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureClinician, startApi, submission, type ApiHarness } from '../support/api-harness.js';
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
  // Clinicians of this file only, in the same department: the rule is "your own requests".
  await ensureClinician(streaming, 'clin.events-ann', 'Ann (clinician, events test)');
  await ensureClinician(streaming, 'clin.events-ben', 'Ben (clinician, events test)');
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
  it('refuses a caller without a bearer token', async () => {
    const stream = await open(undefined);
    expect(stream.status).toBe(401);
  });

  it('tells a clinician their request turned ACTIVE after two approvals, and tells another clinician nothing of it', async () => {
    const [ann, ben, carol, dave] = await Promise.all(['clin.events-ann', 'clin.events-ben', 'sup.carol', 'priv.dave'].map((u) => writing.login(u)));
    const annStream = await open(ann);
    const benStream = await open(ben);
    const carolStream = await open(carol);
    expect(annStream.status).toBe(200);
    expect(annStream.contentType).toMatch(/^text\/event-stream/);

    const submitted = await writing.call('POST', '/api/access-requests', { token: ann, body: submission() });
    expect(submitted.status).toBe(201);
    const id: string = submitted.body.id;
    await annStream.waitFor((e) => e.event === 'access-request' && e.data.id === id && e.data.status === 'PENDING_REVIEW');
    // A reviewer's queue hears of a new request too (the same visibility rule as the list).
    await carolStream.waitFor((e) => e.data.id === id);

    const first = await writing.call('POST', `/api/access-requests/${id}/reviews`, { token: carol, body: { decision: 'approve' } });
    expect(first.status).toBe(201);
    const second = await writing.call('POST', `/api/access-requests/${id}/reviews`, { token: dave, body: { decision: 'approve' } });
    expect(second.body.status).toBe('ACTIVE');

    const active = await annStream.waitFor((e) => e.data.id === id && e.data.status === 'ACTIVE');
    expect(active.event).toBe('access-request');
    expect(Object.keys(active.data).sort()).toEqual(['id', 'status', 'updatedAt']);
    expect(Number.isNaN(Date.parse(active.data.updatedAt))).toBe(false);
    // Each change once per connection, though every poll looks back over the last seconds.
    await new Promise((resolve) => setTimeout(resolve, 4_500));
    const activeEvents = annStream.events.filter((e) => e.data.id === id && e.data.status === 'ACTIVE');
    expect(activeEvents).toHaveLength(1);

    // Ben has been listening all along, on the same department's stream rules: nothing of Ann's.
    expect(benStream.events.filter((e) => e.data.id === id)).toEqual([]);
    expect(benStream.comments).toContain('connected');
  });
});
