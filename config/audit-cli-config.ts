// The auditors' CLI: the database and Temporal it reads, and, for `export` alone, the key
// material the API signs with (an evidence bundle is signed by the same keys).
import { databaseEnv, keyEncryptionKey, keyEncryptionKeyEnv, parseEnv, signingKeyRotationEnv, temporalEnv } from './env-pieces.js';

export interface AuditCliConfig {
  databaseUrl: string;
  temporal: { address: string; namespace: string };
}

export function loadAuditCliConfig(source: NodeJS.ProcessEnv = process.env): AuditCliConfig {
  const env = parseEnv('audit CLI', { ...databaseEnv, ...temporalEnv }, source);
  return { databaseUrl: env.DATABASE_URL, temporal: { address: env.TEMPORAL_ADDRESS, namespace: env.TEMPORAL_NAMESPACE } };
}

export function loadAuditSigningConfig(source: NodeJS.ProcessEnv = process.env): { keyEncryptionKey: Buffer; rotationDays: number } {
  const env = parseEnv('audit CLI (export)', { ...keyEncryptionKeyEnv, ...signingKeyRotationEnv }, source);
  return { keyEncryptionKey: keyEncryptionKey(env), rotationDays: env.SIGNING_KEY_ROTATION_DAYS };
}
