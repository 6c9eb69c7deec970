import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PGlite } from '@electric-sql/pglite';
import { createDb, inTransaction, type Db } from '../../db/client.js';
import { scratchDir } from '../../scripts/lib/ephemeral-servers.js';
import { migrate } from '../../scripts/lib/migrate.js';
import { PgliteSessionServer } from '../../scripts/lib/pglite-session-server.js';

// The embedded default serves one PGlite session to many connections. Each query below is
// sent concurrently with the others and checked against its own parameters, so a
// connection that saw another's statement, parameters or rows fails the test.

let pglite: PGlite;
let server: PgliteSessionServer;
let url: string;
const dbs: Db[] = [];

beforeAll(async () => {
  pglite = await PGlite.create(path.join(scratchDir('iar-pglite-'), 'data'));
  server = new PgliteSessionServer({ db: pglite, host: '127.0.0.1', port: 0, idleInSessionTimeoutMs: 1500 });
  url = `postgresql://postgres@127.0.0.1:${await server.start()}/postgres`;
  await migrate(url);
  // Two pools, as two processes (API and worker) would hold.
  dbs.push(createDb(url, { maxConnections: 8 }), createDb(url, { maxConnections: 8 }));
});

afterAll(async () => {
  await Promise.all(dbs.map((db) => db.$disconnect()));
  await server.stop();
  await pglite.close();
});

type Check = () => Promise<void>;

function shapes(i: number, db: Db): Check[] {
  const name = `shape-${i}`;
  return [
    async () => {
      const rows = await db.$queryRaw<{ n: number; s: string }[]>`SELECT ${i}::int AS n, ${`s${i}`}::text AS s`;
      expect(rows).toEqual([{ n: i, s: `s${i}` }]);
    },
    async () => {
      const rows = await db.$queryRaw<{ a: number; b: number; c: number }[]>`SELECT ${i}::int AS a, ${i * 2}::int AS b, ${i * 3}::int AS c`;
      expect(rows).toEqual([{ a: i, b: i * 2, c: i * 3 }]);
    },
    async () => {
      const count = (i % 40) + 1;
      const rows = await db.$queryRaw<{ g: number }[]>`SELECT generate_series(1, ${count}::int) AS g`;
      expect(rows.map((r) => r.g)).toEqual(Array.from({ length: count }, (_, k) => k + 1));
    },
    async () => {
      await db.department.create({ data: { id: name, name: `Department ${i}` } });
      expect(await db.department.findUnique({ where: { id: name } })).toEqual({ id: name, name: `Department ${i}` });
    },
    async () => {
      // A transaction sees its own write, and nobody else's half-done one.
      const seen = await inTransaction(db, async (tx) => {
        await tx.user.create({ data: { username: `user-${i}`, displayName: `User ${i}`, roles: ['clinician'] } });
        return tx.user.findMany({ where: { username: { startsWith: `user-${i}` } }, select: { username: true } });
      });
      expect(seen.map((u) => u.username).filter((u) => u === `user-${i}`)).toEqual([`user-${i}`]);
    },
    async () => {
      // A failed transaction rolls back alone.
      await expect(
        inTransaction(db, async (tx) => {
          await tx.department.create({ data: { id: `${name}-rolled-back`, name: 'never' } });
          await tx.$queryRaw`SELECT 1 / ${0}::int`;
        }),
      ).rejects.toThrow(/division by zero/);
      expect(await db.department.findUnique({ where: { id: `${name}-rolled-back` } })).toBeNull();
    },
    async () => {
      await expect(db.$queryRaw`SELECT ${i}::int / 0`).rejects.toThrow(/division by zero/);
      const rows = await db.$queryRaw<{ ok: string }[]>`SELECT ${`after-error-${i}`}::text AS ok`;
      expect(rows).toEqual([{ ok: `after-error-${i}` }]);
    },
  ];
}

describe('the embedded PostgreSQL under concurrent connections', () => {
  it('answers each of several hundred concurrent queries of different shapes with its own result', async () => {
    const checks: Check[] = [];
    // Neighbours in time differ in statement, parameter count and row shape.
    for (let i = 0; i < 60; i++) checks.push(...shapes(i, dbs[i % dbs.length]!));
    const results = await Promise.allSettled(checks.map((check) => check()));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String(r.reason));
    expect(failures).toEqual([]);
    expect(await dbs[0]!.department.count({ where: { id: { startsWith: 'shape-' } } })).toBe(60);
  });

  it('rolls back a connection that dies inside a transaction, and the others carry on', async () => {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    await client.connect();
    await client.query('BEGIN');
    await client.query(`INSERT INTO departments (id, name) VALUES ('died-mid-transaction', 'x')`);
    const waiting = dbs[0]!.$queryRaw<{ n: number }[]>`SELECT 42::int AS n`;
    (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    expect(await waiting).toEqual([{ n: 42 }]);
    expect(await dbs[1]!.department.findUnique({ where: { id: 'died-mid-transaction' } })).toBeNull();
  });

  it('closes a connection that holds the session idle inside a transaction, so others are not stopped for good', async () => {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    await client.connect();
    await client.query('BEGIN');
    await client.query(`INSERT INTO departments (id, name) VALUES ('idle-in-transaction', 'x')`);
    const startedAt = Date.now();
    expect(await dbs[0]!.$queryRaw<{ n: number }[]>`SELECT 7::int AS n`).toEqual([{ n: 7 }]);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1000);
    await expect(client.query('COMMIT')).rejects.toThrow();
    expect(await dbs[0]!.department.findUnique({ where: { id: 'idle-in-transaction' } })).toBeNull();
  });
});
