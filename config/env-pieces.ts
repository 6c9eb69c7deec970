// The settings more than one process reads, declared once. Each process's configuration
// module (config.ts for the API, worker-config.ts, gateway-config.ts) spreads the pieces it
// needs into its own schema, so a variable means the same and is checked the same everywhere.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const flag = z.enum(['true', 'false', '1', '0', 'on', 'off']).transform((v) => ['true', '1', 'on'].includes(v));

export const databaseEnv = {
  DATABASE_URL: z.string().url(),
};

export const temporalEnv = {
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  // Named in visibility queries between quotes (the history archive lists its own queue's cases).
  TEMPORAL_TASK_QUEUE: z
    .string()
    .max(200)
    .regex(/^[^\s'"\\]+$/, 'no spaces, quotes or backslashes')
    .default('access-requests'),
};

export const logEnv = {
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

/** The PACS's DICOMweb root and the gateway's own account on it (the API asks it too, at submission). */
export const pacsEnv = {
  PACS_DICOMWEB_URL: z.string().url().optional(),
  PACS_USERNAME: z.string().min(1).optional(),
  PACS_PASSWORD: z.string().min(1).optional(),
};

/** Seals the signing keys at rest: the API's, and the auditors' CLI when it signs an export. */
export const keyEncryptionKeyEnv = {
  KEY_ENCRYPTION_KEY: z.string().optional(),
  KEY_ENCRYPTION_KEY_FILE: z.string().optional(),
};

export const signingKeyRotationEnv = {
  SIGNING_KEY_ROTATION_DAYS: z.coerce.number().min(1).max(365).default(30),
};

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
}

export interface PacsSettings {
  dicomwebUrl: string;
  username: string;
  password: string;
}

/** Parses `source` against `shape`; every problem is named in one ConfigError. */
export function parseEnv<Shape extends z.ZodRawShape>(process: string, shape: Shape, source: NodeJS.ProcessEnv): z.infer<z.ZodObject<Shape>> {
  const parsed = z.object(shape).safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(`Invalid ${process} configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

export function temporalSettings(env: { TEMPORAL_ADDRESS: string; TEMPORAL_NAMESPACE: string; TEMPORAL_TASK_QUEUE: string }): TemporalSettings {
  return { address: env.TEMPORAL_ADDRESS, namespace: env.TEMPORAL_NAMESPACE, taskQueue: env.TEMPORAL_TASK_QUEUE };
}

/** Null when no PACS is configured; a URL without its account is refused rather than tried anonymously. */
export function pacsSettings(env: { PACS_DICOMWEB_URL?: string; PACS_USERNAME?: string; PACS_PASSWORD?: string }): PacsSettings | null {
  if (!env.PACS_DICOMWEB_URL) return null;
  if (!env.PACS_USERNAME || !env.PACS_PASSWORD) throw new ConfigError('PACS_DICOMWEB_URL needs PACS_USERNAME and PACS_PASSWORD.');
  return { dicomwebUrl: env.PACS_DICOMWEB_URL.replace(/\/+$/, ''), username: env.PACS_USERNAME, password: env.PACS_PASSWORD };
}

/** The key-encryption key, from the variable or the file it names: exactly 32 bytes (AES-256-GCM). */
export function keyEncryptionKey(env: { KEY_ENCRYPTION_KEY?: string; KEY_ENCRYPTION_KEY_FILE?: string }): Buffer {
  let encoded = env.KEY_ENCRYPTION_KEY;
  if (!encoded && env.KEY_ENCRYPTION_KEY_FILE) {
    try {
      encoded = readFileSync(env.KEY_ENCRYPTION_KEY_FILE, 'utf8').trim();
    } catch (error) {
      throw new ConfigError(`KEY_ENCRYPTION_KEY_FILE cannot be read: ${(error as Error).message}`);
    }
  }
  if (!encoded) throw new ConfigError('Set KEY_ENCRYPTION_KEY (base64, 32 bytes) or KEY_ENCRYPTION_KEY_FILE: signing keys are sealed with it.');
  const key = Buffer.from(encoded, 'base64');
  if (key.length !== 32) throw new ConfigError('The key-encryption key must be 32 bytes, base64-encoded.');
  return key;
}
