import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { appendAuditEvent, eventHash, verifyAuditChain } from '../../db/audit-chain.js';
import { signCheckpoint, verifyCheckpoints } from '../../audit/evidence/checkpoints.js';
import { SigningKeyStore } from '../../tokens/signing-keys.js';
import { createDb, inTransaction, type Db } from '../../db/client.js';
import { migrate } from '../../scripts/lib/migrate.js';

// Tampering needs a chain of its own: a separate database on the same server.
let db: Db;
let admin: pg.Client;
let url: string;
const name = `iar_chain_${process.pid}_${Date.now()}`;

beforeAll(async () => {
  const server = new URL(inject('databaseUrl'));
  admin = new pg.Client({ connectionString: server.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  server.pathname = `/${name}`;
  url = server.toString();
  await migrate(url);
  db = createDb(url, { maxConnections: 4 });
});
afterAll(async () => {
  await db.$disconnect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
});

/** Runs the statements with the trigger off, checks the chain inside the same transaction, rolls back. */
async function verifyAfter(...statements: string[]) {
  return inTransaction(db, async (tx) => {
    await tx.$executeRawUnsafe('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_or_delete');
    for (const sql of statements) await tx.$executeRawUnsafe(sql);
    const result = await verifyAuditChain(tx);
    throw Object.assign(new Error('rollback'), { result });
  }).catch((error: { result?: Awaited<ReturnType<typeof verifyAuditChain>> }) => {
    if (!error.result) throw error;
    return error.result;
  });
}

describe('the audit hash chain', () => {
  it('chains events appended concurrently from many connections into one intact chain', async () => {
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        inTransaction(db, (tx) => appendAuditEvent(tx, { dedupeKey: `e${i}`, type: 'test.event', actor: 'tester', payload: { i }, occurredAt: new Date() })),
      ),
    );
    const result = await verifyAuditChain(db);
    expect(result).toEqual({ ok: true, checked: 40 });
    const events = await db.auditEvent.findMany({ orderBy: { seq: 'asc' } });
    expect(events.map((e) => Number(e.seq))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('refuses UPDATE and DELETE on audit events', async () => {
    await expect(db.$executeRawUnsafe(`UPDATE audit_events SET actor = 'mallory' WHERE seq = 3`)).rejects.toThrow(/append-only/);
    await expect(db.$executeRawUnsafe(`DELETE FROM audit_events WHERE seq = 3`)).rejects.toThrow(/append-only/);
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });

  it('detects a changed event and names it', async () => {
    const result = await verifyAfter(`UPDATE audit_events SET payload = '{"i": 999}' WHERE seq = 7`);
    expect(result).toMatchObject({ ok: false, firstBadSeq: 7n, problem: 'hash does not match content' });
  });

  it('detects a deleted event', async () => {
    const result = await verifyAfter(`DELETE FROM audit_events WHERE seq = 12`);
    expect(result).toMatchObject({ ok: false, firstBadSeq: 13n });
  });

  it('detects an inserted event', async () => {
    const result = await verifyAfter(
      `INSERT INTO audit_events (seq, id, dedupe_key, type, actor, payload, occurred_at, prev_hash, hash)
       SELECT 1000, 'forged', 'forged', 'test.event', 'mallory', '{}', now(), hash, repeat('f', 64) FROM audit_events WHERE seq = 40`,
    );
    expect(result).toMatchObject({ ok: false, firstBadSeq: 1000n });
  });

  it('detects reordered events', async () => {
    const result = await verifyAfter(
      `UPDATE audit_events SET seq = -1 WHERE seq = 20`,
      `UPDATE audit_events SET seq = 20 WHERE seq = 21`,
      `UPDATE audit_events SET seq = 21 WHERE seq = -1`,
    );
    expect(result).toMatchObject({ ok: false, firstBadSeq: 20n });
  });

  it('detects a rewritten tail whose head no longer matches', async () => {
    const result = await verifyAfter(`DELETE FROM audit_events WHERE seq = 40`);
    expect(result).toMatchObject({ ok: false, problem: 'chain head does not match the last event' });
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });

  it('detects a rewrite of the whole chain through its signed checkpoint', async () => {
    const keys = new SigningKeyStore(db, randomBytes(32), { rotationDays: 30, longestTokenSeconds: 300 });
    const checkpoint = (await signCheckpoint(db, keys))!;
    expect(checkpoint.seq).toBe(40n);
    const published = await keys.auditKeys();
    expect(await verifyCheckpoints(db, published)).toEqual({ ok: true, checked: 1 });

    // The forger changes event 10 and recomputes every hash after it: the links all hold.
    const result = await inTransaction(db, async (tx) => {
      await tx.$executeRawUnsafe('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_or_delete');
      await tx.$executeRawUnsafe(`UPDATE audit_events SET actor = 'mallory' WHERE seq = 10`);
      const events = await tx.auditEvent.findMany({ where: { seq: { gte: 10n } }, orderBy: { seq: 'asc' } });
      let prev = events[0]!.prevHash;
      for (const e of events) {
        const hash = eventHash(prev, e);
        await tx.$executeRawUnsafe(`UPDATE audit_events SET prev_hash = $1, hash = $2 WHERE seq = $3`, prev, hash, e.seq);
        prev = hash;
      }
      await tx.$executeRawUnsafe(`UPDATE audit_chain_head SET head_hash = $1 WHERE id = 1`, prev);
      const outcome = { chain: await verifyAuditChain(tx), checkpoints: await verifyCheckpoints(tx, published) };
      throw Object.assign(new Error('rollback'), { outcome });
    }).catch((error: { outcome?: unknown }) => error.outcome);
    expect(result).toMatchObject({
      chain: { ok: true },
      checkpoints: { ok: false, firstBadSeq: 40n, problem: 'the chain no longer holds the signed hash at this checkpoint' },
    });
  });

  it('verifies while other connections append, in one snapshot, never reporting a break that is not there', async () => {
    // Many connections append while verifications run: none may report a break that is not there.
    const appends = Array.from({ length: 30 }, (_, i) =>
      inTransaction(db, (tx) =>
        appendAuditEvent(tx, { dedupeKey: `during-verify-${i}`, type: 'test.event', actor: 'tester', payload: { i }, occurredAt: new Date() }),
      ),
    );
    const verifications = Array.from({ length: 10 }, () => verifyAuditChain(db));
    const results = await Promise.all(verifications);
    await Promise.all(appends);
    for (const result of results) expect(result.ok, JSON.stringify(result)).toBe(true);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
  });
});
