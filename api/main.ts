import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { createDb } from '../db/client.js';
import { DEV_LOGIN_TOKEN_SECONDS } from './routes/dev-login.js';
import { SigningKeyStore } from '../tokens/signing-keys.js';
import { createApi } from './app.js';

const config = loadConfig();
const log = createLogger('api', config.logLevel);
const db = createDb(config.databaseUrl);
const connection = await Connection.connect({ address: config.temporal.address });
const temporal = new Client({ connection, namespace: config.temporal.namespace });
const keys = new SigningKeyStore(db, config.keyEncryptionKey, {
  rotationDays: config.tokens.rotationDays,
  longestTokenSeconds: Math.max(config.tokens.ttlSeconds, DEV_LOGIN_TOKEN_SECONDS),
});
// Makes the first key (or rotates a due one) before the first caller needs it.
const { kid } = await keys.activeKey();

const server = createApi({ config, db, temporal, keys, log }).listen(config.api.port, config.api.host, () => {
  log.info({ url: `http://${config.api.host}:${config.api.port}`, kid }, 'API listening');
  if (config.auth.kind === 'dev-login') {
    log.warn('DEV LOGIN IS ON: POST /auth/dev-login issues tokens for seeded users without a password. Configure OIDC_ISSUER for real use.');
  } else {
    log.info({ issuer: config.auth.oidc.issuer }, 'callers authenticate with the OIDC issuer; dev login is off');
  }
});

function shutdown(): void {
  server.close(async () => {
    await connection.close();
    await db.$disconnect();
    process.exit(0);
  });
  server.closeAllConnections();
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
