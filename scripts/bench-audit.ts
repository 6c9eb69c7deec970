// npm run bench:audit — who-accessed --study over 1,000,000 gateway access records (p50/p99),
// and audit-chain verification speed over 100,000 events, each beside the database's own
// plain indexed count query on the same data in the same run. Ratios only.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { whoAccessed } from '../audit/read/who-accessed.js';
import { eventHash, GENESIS_HASH, verifyAuditChain } from '../db/audit-chain.js';
import { createDb } from '../db/client.js';
import { measure } from './bench/stats.js';
import { provisionDatabase, scratchDir } from './lib/ephemeral-servers.js';
import { step } from './lib/progress.js';

const ACCESS_RECORDS = Number(process.env.BENCH_ACCESS_RECORDS ?? 1_000_000);
const CHAIN_EVENTS = Number(process.env.BENCH_CHAIN_EVENTS ?? 100_000);
const STUDIES = 2_000;
const QUERIES = Number(process.env.BENCH_QUERIES ?? 300);

const database = await provisionDatabase(scratchDir('iar-bench-audit-'));
const sql = new pg.Client({ connectionString: database.url });
await sql.connect();
const db = createDb(database.url, { maxConnections: 4 });

step(`generating ${ACCESS_RECORDS.toLocaleString()} access records over ${STUDIES} studies...`);
await sql.query(
  `INSERT INTO gateway_access_records (id, occurred_at, gateway_id, username, grant_id, jti, study, series, instance, route, method, path,
                                       status, bytes, duration_ms, outcome, reason, client_ip)
   SELECT 'r' || g, now() - (g || ' seconds')::interval, 'bench', 'user' || (g % 5000), 'ar-' || lpad(to_hex(g % 50000), 32, '0'), 'jti-' || g,
          '1.2.826.0.1.3680043.8.498.' || (g % ${STUDIES}), NULL, NULL, 'wado:metadata', 'GET', '/dicom-web/studies', 200, 1024, 3, 'served', NULL, '127.0.0.1'
     FROM generate_series(1, ${ACCESS_RECORDS}) AS g`,
);
await sql.query('ANALYZE gateway_access_records');

step(`building an audit chain of ${CHAIN_EVENTS.toLocaleString()} events...`);
let prevHash = GENESIS_HASH;
const start = Date.now();
for (let base = 0; base < CHAIN_EVENTS; base += 5_000) {
  const rows = [];
  for (let i = base; i < Math.min(base + 5_000, CHAIN_EVENTS); i++) {
    const event = {
      seq: BigInt(i + 1),
      id: randomUUID(),
      type: 'bench.event',
      actor: `user${i % 5000}`,
      accessRequestId: null,
      payload: { i },
      occurredAt: new Date(start + i),
    };
    const hash = eventHash(prevHash, event);
    rows.push({ ...event, dedupeKey: `bench-${i}`, prevHash, hash });
    prevHash = hash;
  }
  await db.auditEvent.createMany({ data: rows });
}
await db.auditChainHead.update({ where: { id: 1 }, data: { headHash: prevHash, headSeq: BigInt(CHAIN_EVENTS) } });
await sql.query('ANALYZE audit_events');

const studyOf = (i: number) => `1.2.826.0.1.3680043.8.498.${(i * 7919) % STUDIES}`;
step('warming up...');
await measure(20, 1, (i) => whoAccessed(db, { study: studyOf(i) }).then(() => undefined));
await measure(20, 1, (i) => sql.query('SELECT count(*) FROM gateway_access_records WHERE study = $1', [studyOf(i)]).then(() => undefined));

step(`measuring ${QUERIES} who-accessed queries and the baseline count...`);
const who = await measure(QUERIES, 1, (i) => whoAccessed(db, { study: studyOf(i + 100) }).then(() => undefined));
const count = await measure(QUERIES, 1, (i) =>
  sql.query('SELECT count(*) FROM gateway_access_records WHERE study = $1', [studyOf(i + 100)]).then(() => undefined),
);
const rowsPerStudy = Math.round(ACCESS_RECORDS / STUDIES);

step('verifying the chain, and the baseline count...');
const verifyStarted = performance.now();
const verification = await verifyAuditChain(db);
const verifySeconds = (performance.now() - verifyStarted) / 1000;
if (!verification.ok || verification.checked !== CHAIN_EVENTS) throw new Error(`chain did not verify: ${JSON.stringify(verification)}`);
const countStarted = performance.now();
await sql.query('SELECT count(*) FROM audit_events WHERE seq BETWEEN 1 AND $1', [CHAIN_EVENTS]);
const countSeconds = (performance.now() - countStarted) / 1000;

const ratios = `ratio p50 ×${(who.p50 / count.p50).toFixed(1)}  p99 ×${(who.p99 / count.p99).toFixed(1)}`;
process.stdout.write(`
bench:audit  (PostgreSQL ${process.env.DATABASE_URL ? 'at DATABASE_URL' : 'private cluster'})
who-accessed --study over ${ACCESS_RECORDS.toLocaleString()} access records (${rowsPerStudy} rows per study), ${QUERIES} queries:
  ${'query'.padEnd(40)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}
  ${'indexed count(*) (baseline)'.padEnd(40)} ${count.p50.toFixed(2).padStart(8)} ${count.p99.toFixed(2).padStart(8)}
  ${'who-accessed (all rows, decoded)'.padEnd(40)} ${who.p50.toFixed(2).padStart(8)} ${who.p99.toFixed(2).padStart(8)}   ${ratios}
audit chain of ${CHAIN_EVENTS.toLocaleString()} events:
  indexed count(*) (baseline)       ${(CHAIN_EVENTS / countSeconds).toFixed(0).padStart(12)} events/s
  verifyAuditChain (hash each link) ${(CHAIN_EVENTS / verifySeconds).toFixed(0).padStart(12)} events/s   ratio ×${(countSeconds / verifySeconds).toFixed(3)}
`);

await sql.end();
await db.$disconnect();
await database.drop();
await database.server?.process.stop();
