// The gateway process for `npm run bench:dicom-tag`: gateway/main.ts's wiring, with
// `--untagged` giving the benchmark its baseline (instances pass through unmarked). Only the
// benchmark starts this file; the deployed gateway (gateway/main.ts) has no such switch.
import path from 'node:path';
import { loadGatewayConfig } from '../../config/gateway-config.js';
import { createLogger } from '../../config/logger.js';
import { createDb } from '../../db/client.js';
import { AccessJournal } from '../../gateway/access-journal.js';
import { createGateway } from '../../gateway/app.js';
import { GrantStatus } from '../../gateway/grant-status.js';
import { PacsClient } from '../../gateway/pacs-client.js';
import { StudyHierarchy } from '../../gateway/study-hierarchy.js';
import { TokenVerifier } from '../../gateway/token-verifier.js';

const config = loadGatewayConfig();
const log = createLogger('gateway', config.logLevel);
const db = createDb(config.databaseUrl, { maxConnections: 4 });
const pacs = new PacsClient(config.pacs);
const grants = new GrantStatus(db, config.revocationMaxStalenessMs);
const journal = new AccessJournal(db, path.resolve(config.journalDir), log);
grants.start();
journal.start();

const app = createGateway({
  gatewayId: config.gatewayId,
  tokens: new TokenVerifier({ issuer: config.issuer, audience: config.audience, jwksUrl: config.jwksUrl, clockToleranceSeconds: config.clockToleranceSeconds }),
  grants,
  pacs,
  hierarchy: new StudyHierarchy(pacs),
  journal,
  log,
  untaggedDicomForBenchmark: process.argv.includes('--untagged'),
});
const server = app.listen(config.port, config.host);

function shutdown(): void {
  server.close(async () => {
    grants.stop();
    await journal.close();
    await db.$disconnect();
    process.exit(0);
  });
  server.closeAllConnections();
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
