import { createServer } from 'node:http';
import path from 'node:path';
import { loadGatewayConfig } from '../config/gateway-config.js';
import { createLogger } from '../config/logger.js';
import { openRecordsPool } from '../db/access-records.js';
import { createDb } from '../db/client.js';
import { AccessJournal } from './access-journal.js';
import { createGateway, type GatewayDeps } from './app.js';
import { GrantStatus } from './grant-status.js';
import { PacsClient } from './pacs-client.js';
import { StudyHierarchy } from './study-hierarchy.js';
import { TokenVerifier } from './token-verifier.js';

/** What a gateway process is made of, opened from the environment: the journal already flushed of a previous run. */
export async function openGatewayParts() {
  const config = loadGatewayConfig();
  const log = createLogger('gateway', config.logLevel);
  const db = createDb(config.databaseUrl, { maxConnections: 4 });
  const pacs = new PacsClient(config.pacs);
  const grants = new GrantStatus(db, config.revocationMaxStalenessMs);
  const records = openRecordsPool(config.databaseUrl, (error) => log.warn({ err: error.message }, 'access records connection lost'));
  const journal = new AccessJournal(records, path.resolve(config.journalDir), log);
  // Not background work for a workflow: each gateway process keeps its own view of grant
  // states and its own local journal, so these two timers must run in every process.
  grants.start();
  journal.start();
  // Flush what a previous run left in the journal before serving, and read grant state once.
  await journal.flush();
  if (!(await grants.warmUp())) log.warn('grant state could not be read at start; requests are refused until it can');
  const tokens = new TokenVerifier({
    issuer: config.issuer,
    audience: config.audience,
    jwksUrl: config.jwksUrl,
    clockToleranceSeconds: config.clockToleranceSeconds,
  });
  return {
    config,
    log,
    db,
    pacs,
    grants,
    journal,
    tokens,
    hierarchy: new StudyHierarchy(pacs),
    async close(): Promise<void> {
      grants.stop();
      await journal.close();
      await Promise.all([records.end(), db.$disconnect()]);
    },
  };
}

/**
 * One gateway process, as deployed: configuration from the environment, the journal flushed
 * before serving, and a clean stop on SIGINT/SIGTERM. `benchmark` is for the benchmarks' own
 * entry points only (scripts/bench/); gateway/main.ts passes nothing.
 */
export async function serveGateway(benchmark: Pick<GatewayDeps, 'untaggedDicomForBenchmark'> = {}): Promise<void> {
  const parts = await openGatewayParts();
  const { config, log } = parts;
  const server = createServer(
    createGateway({
      gatewayId: config.gatewayId,
      tokens: parts.tokens,
      grants: parts.grants,
      pacs: parts.pacs,
      hierarchy: parts.hierarchy,
      journal: parts.journal,
      log,
      webOrigins: config.webOrigins,
      ...benchmark,
    }),
  );
  server.listen(config.port, config.host, () => {
    log.info({ url: `http://${config.host}:${config.port}/dicom-web`, revocationMaxStalenessMs: config.revocationMaxStalenessMs }, 'PACS gateway listening');
  });

  function shutdown(): void {
    server.close(async () => {
      await parts.close();
      process.exit(0);
    });
    server.closeAllConnections();
  }
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
