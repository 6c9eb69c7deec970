import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_REVIEW_POLICY, type ReviewPolicy } from '../domain/access-request.js';

const flag = z.enum(['true', 'false', '1', '0', 'on', 'off']).transform((v) => ['true', '1', 'on'].includes(v));

const envSchema = z.object({
  DATABASE_URL: z.string().url(),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('access-requests'),
  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** `iss` of every token this API signs; also where its JWKS is published. */
  TOKEN_ISSUER: z.string().url().optional(),
  GATEWAY_AUDIENCE: z.string().default('iar-pacs-gateway'),
  TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(900).default(300),
  TOKEN_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(600).default(20),
  /**
   * Per user (per username for dev login), in any 60 seconds. Far above what a person does
   * by hand, so they only stop scripts and floods; benchmarks raise them.
   */
  DEV_LOGIN_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(60),
  SUBMISSION_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(60),
  REVIEW_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(120),
  /** Refused reviews are appended to the audit chain: this bounds how fast a caller can grow it. */
  REFUSED_REVIEW_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(30),
  SIGNING_KEY_ROTATION_DAYS: z.coerce.number().min(1).max(365).default(30),
  KEY_ENCRYPTION_KEY: z.string().optional(),
  KEY_ENCRYPTION_KEY_FILE: z.string().optional(),
  OIDC_ISSUER: z.string().url().optional(),
  OIDC_JWKS_URL: z.string().url().optional(),
  OIDC_AUDIENCE: z.string().optional(),
  OIDC_ROLES_CLAIM: z.string().default('roles'),
  OIDC_USERNAME_CLAIM: z.string().default('preferred_username'),
  DEV_LOGIN: flag.default(false),
  REVIEW_WINDOW_MINUTES: z.coerce
    .number()
    .min(1)
    .max(60 * 24 * 30)
    .default(24 * 60),
  MAX_DURATION_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(60 * 24 * 7)
    .default(8 * 60),
  POLICY_REQUIRE_DISTINCT_ROLES: flag.default(true),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** The longest the audit chain's head goes unsigned while events arrive (cases closing sign sooner). */
  CHECKPOINT_INTERVAL_SECONDS: z.coerce.number().int().min(5).max(86_400).default(900),
  /** The PACS the API asks, at submission, which patient each study belongs to (the gateway's own settings). */
  PACS_DICOMWEB_URL: z.string().url().optional(),
  PACS_USERNAME: z.string().min(1).optional(),
  PACS_PASSWORD: z.string().min(1).optional(),
});

export interface OidcConfig {
  issuer: string;
  jwksUrl: string;
  audience: string;
  rolesClaim: string;
  usernameClaim: string;
}

export interface AppConfig {
  databaseUrl: string;
  temporal: { address: string; namespace: string; taskQueue: string };
  api: { host: string; port: number };
  tokens: { issuer: string; gatewayAudience: string; ttlSeconds: number; ratePerMinute: number; rotationDays: number };
  keyEncryptionKey: Buffer;
  /** Exactly one way of authenticating API callers. */
  auth: { kind: 'oidc'; oidc: OidcConfig } | { kind: 'dev-login' };
  policy: ReviewPolicy & { reviewWindowMs: number; maxDurationMinutes: number };
  checkpointIntervalMs: number;
  /** The PACS submissions are confirmed against; null: none configured, and every submission is refused (503). */
  pacs: { dicomwebUrl: string; username: string; password: string } | null;
  /** Per user, in any 60 seconds (tokens: `tokens.ratePerMinute`). */
  rateLimits: { devLoginPerMinute: number; submissionsPerMinute: number; reviewsPerMinute: number; refusedReviewsPerMinute: number };
  logLevel: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function keyEncryptionKey(env: z.infer<typeof envSchema>): Buffer {
  const encoded = env.KEY_ENCRYPTION_KEY ?? (env.KEY_ENCRYPTION_KEY_FILE ? readFileSync(env.KEY_ENCRYPTION_KEY_FILE, 'utf8').trim() : undefined);
  if (!encoded) throw new ConfigError('Set KEY_ENCRYPTION_KEY (base64, 32 bytes) or KEY_ENCRYPTION_KEY_FILE: signing keys are sealed with it.');
  const key = Buffer.from(encoded, 'base64');
  if (key.length !== 32) throw new ConfigError('The key-encryption key must be 32 bytes, base64-encoded.');
  return key;
}

function pacsSettings(env: z.infer<typeof envSchema>): AppConfig['pacs'] {
  if (!env.PACS_DICOMWEB_URL) return null;
  if (!env.PACS_USERNAME || !env.PACS_PASSWORD) throw new ConfigError('PACS_DICOMWEB_URL needs PACS_USERNAME and PACS_PASSWORD.');
  return { dicomwebUrl: env.PACS_DICOMWEB_URL.replace(/\/+$/, ''), username: env.PACS_USERNAME, password: env.PACS_PASSWORD };
}

/** Reads and checks the environment; fails closed on anything missing or contradictory. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(`Invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const env = parsed.data;
  let auth: AppConfig['auth'];
  if (env.OIDC_ISSUER) {
    if (!env.OIDC_JWKS_URL || !env.OIDC_AUDIENCE) throw new ConfigError('OIDC_ISSUER needs OIDC_JWKS_URL and OIDC_AUDIENCE.');
    auth = {
      kind: 'oidc',
      oidc: {
        issuer: env.OIDC_ISSUER,
        jwksUrl: env.OIDC_JWKS_URL,
        audience: env.OIDC_AUDIENCE,
        rolesClaim: env.OIDC_ROLES_CLAIM,
        usernameClaim: env.OIDC_USERNAME_CLAIM,
      },
    };
  } else if (env.DEV_LOGIN) {
    auth = { kind: 'dev-login' };
  } else {
    throw new ConfigError('No way to authenticate callers: configure OIDC_ISSUER (with OIDC_JWKS_URL, OIDC_AUDIENCE), or set DEV_LOGIN=true for a local demo.');
  }
  return {
    databaseUrl: env.DATABASE_URL,
    temporal: { address: env.TEMPORAL_ADDRESS, namespace: env.TEMPORAL_NAMESPACE, taskQueue: env.TEMPORAL_TASK_QUEUE },
    api: { host: env.API_HOST, port: env.API_PORT },
    tokens: {
      issuer: env.TOKEN_ISSUER ?? `http://${env.API_HOST}:${env.API_PORT}`,
      gatewayAudience: env.GATEWAY_AUDIENCE,
      ttlSeconds: env.TOKEN_TTL_SECONDS,
      ratePerMinute: env.TOKEN_RATE_LIMIT_PER_MINUTE,
      rotationDays: env.SIGNING_KEY_ROTATION_DAYS,
    },
    keyEncryptionKey: keyEncryptionKey(env),
    auth,
    policy: {
      ...DEFAULT_REVIEW_POLICY,
      requireDistinctRoles: env.POLICY_REQUIRE_DISTINCT_ROLES,
      reviewWindowMs: env.REVIEW_WINDOW_MINUTES * 60_000,
      maxDurationMinutes: env.MAX_DURATION_MINUTES,
    },
    checkpointIntervalMs: env.CHECKPOINT_INTERVAL_SECONDS * 1000,
    pacs: pacsSettings(env),
    rateLimits: {
      devLoginPerMinute: env.DEV_LOGIN_RATE_LIMIT_PER_MINUTE,
      submissionsPerMinute: env.SUBMISSION_RATE_LIMIT_PER_MINUTE,
      reviewsPerMinute: env.REVIEW_RATE_LIMIT_PER_MINUTE,
      refusedReviewsPerMinute: env.REFUSED_REVIEW_RATE_LIMIT_PER_MINUTE,
    },
    logLevel: env.LOG_LEVEL,
  };
}
