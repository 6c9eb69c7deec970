import { loadConfig } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { AccessRequestService } from './access-request-service.js';
import { createApi } from './app.js';
import { FreezeService } from './freeze-service.js';
import { installApiTemporalRuntime, startCheckpointSigningWorker } from './checkpoint-signing-worker.js';
import { connectApiRuntime } from './runtime.js';

const config = loadConfig();
const log = createLogger('api', config.logLevel);
// Before anything of Temporal's runtime starts: this process, not the runtime, answers signals.
installApiTemporalRuntime(log);
const runtime = await connectApiRuntime(config);
// Makes the first keys (or rotates due ones) before the first caller needs them.
const { kid } = await runtime.keys.activeKey();
// The worker's audit-checkpoint workflow decides when the chain's head is signed; this
// process signs it, as it alone holds the key.
// It also revokes what a freeze matches: each revocation is a message this process signs.
const requests = new AccessRequestService({ config, log, ...runtime });
const freezes = new FreezeService({ config, log, ...runtime, requests });
const signing = await startCheckpointSigningWorker({ temporal: config.temporal, db: runtime.db, keys: runtime.keys, freezes });

const server = createApi({ config, log, ...runtime }).listen(config.api.port, config.api.host, () => {
  log.info({ url: `http://${config.api.host}:${config.api.port}`, kid }, 'API listening');
  if (config.auth.kind === 'dev-login') {
    log.warn('DEV LOGIN IS ON: POST /auth/dev-login issues tokens for seeded users without a password. Configure OIDC_ISSUER for real use.');
  } else {
    log.info({ issuer: config.auth.oidc.issuer }, 'callers authenticate with the OIDC issuer; dev login is off');
  }
  if (!config.pacs) log.warn('NO PACS CONFIGURED (PACS_DICOMWEB_URL): every submission is refused, as no study can be confirmed.');
});

let stopping = false;
function shutdown(code: number): void {
  if (stopping) return;
  stopping = true;
  server.close(async () => {
    await signing.stop().catch(() => undefined);
    await runtime.close();
    process.exit(code);
  });
  server.closeAllConnections();
}
// Failed, or stopped unasked: an API that cannot sign checkpoints says so by ending.
signing.running.catch((error: Error) => {
  if (stopping) return;
  log.error({ err: error.message }, 'the checkpoint signing worker stopped; stopping');
  shutdown(1);
});
process.once('SIGINT', () => shutdown(0));
process.once('SIGTERM', () => shutdown(0));
