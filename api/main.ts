import { CheckpointScheduler } from '../audit/evidence/checkpoints.js';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { createApi } from './app.js';
import { connectApiRuntime } from './runtime.js';

const config = loadConfig();
const log = createLogger('api', config.logLevel);
const runtime = await connectApiRuntime(config);
// Makes the first keys (or rotates due ones) before the first caller needs them.
const { kid } = await runtime.keys.activeKey();
const checkpoints = new CheckpointScheduler(runtime.db, runtime.keys, config.checkpointIntervalMs, (error) =>
  log.warn({ err: error.message }, 'audit checkpoint not signed; will retry'),
);
checkpoints.start();

const server = createApi({ config, log, ...runtime }).listen(config.api.port, config.api.host, () => {
  log.info({ url: `http://${config.api.host}:${config.api.port}`, kid }, 'API listening');
  if (config.auth.kind === 'dev-login') {
    log.warn('DEV LOGIN IS ON: POST /auth/dev-login issues tokens for seeded users without a password. Configure OIDC_ISSUER for real use.');
  } else {
    log.info({ issuer: config.auth.oidc.issuer }, 'callers authenticate with the OIDC issuer; dev login is off');
  }
  if (!config.pacs) log.warn('NO PACS CONFIGURED (PACS_DICOMWEB_URL): every submission is refused, as no study can be confirmed.');
});

function shutdown(): void {
  checkpoints.stop();
  server.close(async () => {
    await runtime.close();
    process.exit(0);
  });
  server.closeAllConnections();
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
