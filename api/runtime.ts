import { Client, Connection } from '@temporalio/client';
import type { AppConfig } from '../config/config.js';
import { createDb, type Db } from '../db/client.js';
import { SigningKeyStore } from '../tokens/signing-keys.js';
import { DEV_LOGIN_TOKEN_SECONDS } from './routes/dev-login.js';

export interface ApiRuntime {
  db: Db;
  temporal: Client;
  keys: SigningKeyStore;
  close(): Promise<void>;
}

/** What an API process connects to: the database, Temporal, and the shared signing keys. */
export async function connectApiRuntime(config: AppConfig, options: { maxConnections?: number } = {}): Promise<ApiRuntime> {
  const db = createDb(config.databaseUrl, { maxConnections: options.maxConnections ?? 10 });
  const connection = await Connection.connect({ address: config.temporal.address });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const keys = new SigningKeyStore(db, config.keyEncryptionKey, {
    rotationDays: config.tokens.rotationDays,
    // A retired key stays published for the longest token it can have signed.
    longestTokenSeconds: Math.max(config.tokens.ttlSeconds, DEV_LOGIN_TOKEN_SECONDS),
  });
  return {
    db,
    temporal,
    keys,
    async close() {
      await connection.close();
      await db.$disconnect();
    },
  };
}
