import { z } from 'zod';

const envSchema = z.object({
  GATEWAY_HOST: z.string().default('127.0.0.1'),
  GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).default(3100),
  /** The API that signs tokens: its `iss`, and where its JWKS is published. */
  TOKEN_ISSUER: z.string().url(),
  TOKEN_JWKS_URL: z.string().url().optional(),
  GATEWAY_AUDIENCE: z.string().default('iar-pacs-gateway'),
  PACS_DICOMWEB_URL: z.string().url(),
  PACS_USERNAME: z.string().min(1),
  PACS_PASSWORD: z.string().min(1),
  DATABASE_URL: z.string().url(),
  /** How stale a grant's revocation state may be before the gateway refuses. */
  REVOCATION_MAX_STALENESS_SECONDS: z.coerce.number().min(1).max(300).default(5),
  ACCESS_JOURNAL_DIR: z.string().default('.data/gateway-journal'),
  CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(60).default(5),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface GatewayConfig {
  host: string;
  port: number;
  issuer: string;
  jwksUrl: string;
  audience: string;
  pacs: { dicomwebUrl: string; username: string; password: string };
  databaseUrl: string;
  revocationMaxStalenessMs: number;
  journalDir: string;
  clockToleranceSeconds: number;
  logLevel: string;
}

export function loadGatewayConfig(source: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) throw new Error(`Invalid gateway configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const env = parsed.data;
  return {
    host: env.GATEWAY_HOST,
    port: env.GATEWAY_PORT,
    issuer: env.TOKEN_ISSUER,
    jwksUrl: env.TOKEN_JWKS_URL ?? new URL('/.well-known/jwks.json', env.TOKEN_ISSUER).toString(),
    audience: env.GATEWAY_AUDIENCE,
    pacs: { dicomwebUrl: env.PACS_DICOMWEB_URL.replace(/\/+$/, ''), username: env.PACS_USERNAME, password: env.PACS_PASSWORD },
    databaseUrl: env.DATABASE_URL,
    revocationMaxStalenessMs: env.REVOCATION_MAX_STALENESS_SECONDS * 1000,
    journalDir: env.ACCESS_JOURNAL_DIR,
    clockToleranceSeconds: env.CLOCK_TOLERANCE_SECONDS,
    logLevel: env.LOG_LEVEL,
  };
}
