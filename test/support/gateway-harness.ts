import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { createLogger } from '../../config/logger.js';
import { openRecordsPool } from '../../db/access-records.js';
import { createDb, type Db } from '../../db/client.js';
import { AccessJournal } from '../../gateway/access-journal.js';
import { createGateway } from '../../gateway/app.js';
import { GrantStatus } from '../../gateway/grant-status.js';
import { PacsClient } from '../../gateway/pacs-client.js';
import { StudyHierarchy } from '../../gateway/study-hierarchy.js';
import { TokenVerifier } from '../../gateway/token-verifier.js';
import { freePort } from '../../scripts/lib/processes.js';
import { scratchDir } from '../../scripts/lib/ephemeral-servers.js';
import { startOrthanc, type OrthancServer } from '../../scripts/lib/orthanc-server.js';
import { loadSyntheticStudies, type SyntheticStudy } from '../../scripts/lib/synthetic-studies.js';
import type { ApiHarness } from './api-harness.js';

export async function startPacs(): Promise<{ orthanc: OrthancServer; studies: SyntheticStudy[] }> {
  const dir = scratchDir('iar-orthanc-');
  const orthanc = await startOrthanc({ dataDir: dir, httpPort: await freePort(), logFile: path.join(dir, 'orthanc.log') });
  return { orthanc, studies: await loadSyntheticStudies(orthanc) };
}

/** An API's settings for `orthanc`, so that it confirms submissions against the PACS a test started. */
export function pacsEnv(orthanc: OrthancServer): Record<string, string> {
  return { PACS_DICOMWEB_URL: orthanc.dicomwebUrl, PACS_USERNAME: orthanc.username, PACS_PASSWORD: orthanc.password };
}

export interface GatewayHarness {
  url: string;
  db: Db;
  journal: AccessJournal;
  grants: GrantStatus;
  close(): Promise<void>;
}

/** The gateway in this process, in front of `pacs`, trusting `api`'s keys. */
export async function startGateway(
  api: ApiHarness,
  pacs: { dicomwebUrl: string; username: string; password: string },
  options: { stalenessMs?: number; databaseUrl?: string; journalDir?: string; webOrigins?: string[]; port?: number } = {},
): Promise<GatewayHarness> {
  const db = createDb(options.databaseUrl ?? api.config.databaseUrl, { maxConnections: 4 });
  const log = createLogger('gateway-test', 'silent');
  const client = new PacsClient({ ...pacs, timeoutMs: 5_000 });
  const grants = new GrantStatus(db, options.stalenessMs ?? 2_000);
  const records = openRecordsPool(options.databaseUrl ?? api.config.databaseUrl, () => undefined);
  const journal = new AccessJournal(records, options.journalDir ?? scratchDir('iar-journal-'), log, 100);
  grants.start();
  await grants.warmUp();
  journal.start();
  const handler = createGateway({
    gatewayId: `test-${randomUUID().slice(0, 8)}`,
    tokens: new TokenVerifier({
      issuer: api.url,
      audience: api.config.tokens.gatewayAudience,
      jwksUrl: `${api.url}/.well-known/jwks.json`,
      clockToleranceSeconds: 5,
    }),
    grants,
    pacs: client,
    hierarchy: new StudyHierarchy(client),
    journal,
    log,
    webOrigins: options.webOrigins ?? [],
  });
  const server: Server = await new Promise((resolve) => {
    const s = createServer(handler).listen(options.port ?? 0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    db,
    journal,
    grants,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      grants.stop();
      await journal.close();
      await Promise.all([records.end(), db.$disconnect()]);
    },
  };
}

/** An active grant for `studies` and a PACS token for it, through the real API. */
export async function grantAndToken(api: ApiHarness, studies: string[], requester = 'clin.alice'): Promise<{ id: string; token: string }> {
  const requesterToken = await api.login(requester);
  const submitted = await api.call('POST', '/api/access-requests', {
    token: requesterToken,
    body: {
      studyInstanceUids: studies,
      patientId: 'SYN-0001',
      purposeOfUse: 'TREAT',
      justification: 'gateway test: review of the synthetic study',
      durationMinutes: 60,
    },
  });
  if (submitted.status !== 201) throw new Error(`submit: ${JSON.stringify(submitted.body)}`);
  const id = submitted.body.id as string;
  await api.call('POST', `/api/access-requests/${id}/reviews`, { token: await api.login('sup.carol'), body: { decision: 'approve' } });
  await api.call('POST', `/api/access-requests/${id}/reviews`, { token: await api.login('priv.dave'), body: { decision: 'approve' } });
  const issued = await api.call('POST', `/api/access-requests/${id}/tokens`, { token: requesterToken });
  if (issued.status !== 201) throw new Error(`token: ${JSON.stringify(issued.body)}`);
  return { id, token: issued.body.access_token };
}
