import { PACS_TOKEN_AUDIENCE } from '../contracts/pacs-token.js';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, databaseEnv, logEnv, pacsEnv, pacsSettings, parseEnv, type PacsSettings } from './env-pieces.js';

/** The PACS gateway process's environment. */
const gatewayEnv = {
  ...databaseEnv,
  ...logEnv,
  ...pacsEnv,
  GATEWAY_HOST: z.string().default('127.0.0.1'),
  GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).default(3100),
  /** Names this process in its access records; a fresh one per start when unset. */
  GATEWAY_ID: z.string().min(1).optional(),
  /** The API that signs tokens: its `iss`, and where its JWKS is published. */
  TOKEN_ISSUER: z.string().url(),
  TOKEN_JWKS_URL: z.string().url().optional(),
  GATEWAY_AUDIENCE: z.string().default(PACS_TOKEN_AUDIENCE),
  /** How stale a grant's revocation state may be before the gateway refuses. */
  REVOCATION_MAX_STALENESS_SECONDS: z.coerce.number().min(1).max(300).default(5),
  ACCESS_JOURNAL_DIR: z.string().default('.data/gateway-journal'),
  CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(60).default(5),
  /**
   * The web app's origins (comma-separated, e.g. http://127.0.0.1:3000): the only pages whose
   * scripts may read the gateway's answers (CORS). Unset: none, as before.
   */
  WEB_ORIGINS: z.string().default(''),
};

export interface GatewayConfig {
  gatewayId: string;
  host: string;
  port: number;
  issuer: string;
  jwksUrl: string;
  audience: string;
  pacs: PacsSettings;
  databaseUrl: string;
  revocationMaxStalenessMs: number;
  journalDir: string;
  clockToleranceSeconds: number;
  /** Exact origins (scheme://host:port) allowed to read answers from a browser. */
  webOrigins: string[];
  logLevel: string;
}

/** Each entry must be an origin and nothing more: a path, a wildcard or `null` is a mistake, refused. */
function webOrigins(raw: string): string[] {
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      let origin: string;
      try {
        origin = new URL(entry).origin;
      } catch {
        throw new ConfigError(`WEB_ORIGINS: ${JSON.stringify(entry)} is not an origin (scheme://host[:port]).`);
      }
      if (origin === 'null' || origin !== entry.replace(/\/$/, '')) {
        throw new ConfigError(`WEB_ORIGINS: ${JSON.stringify(entry)} is not an origin (scheme://host[:port], nothing after).`);
      }
      return origin;
    });
}

/** Reads and checks the gateway's environment; fails closed on anything missing. */
export function loadGatewayConfig(source: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const env = parseEnv('gateway', gatewayEnv, source);
  const pacs = pacsSettings(env);
  // The API may run without a PACS (and refuse submissions); the gateway is nothing without one.
  if (!pacs) throw new ConfigError('The gateway needs PACS_DICOMWEB_URL, PACS_USERNAME and PACS_PASSWORD: the PACS it stands in front of.');
  return {
    gatewayId: env.GATEWAY_ID ?? randomUUID(),
    host: env.GATEWAY_HOST,
    port: env.GATEWAY_PORT,
    issuer: env.TOKEN_ISSUER,
    jwksUrl: env.TOKEN_JWKS_URL ?? new URL('/.well-known/jwks.json', env.TOKEN_ISSUER).toString(),
    audience: env.GATEWAY_AUDIENCE,
    pacs,
    databaseUrl: env.DATABASE_URL,
    revocationMaxStalenessMs: env.REVOCATION_MAX_STALENESS_SECONDS * 1000,
    journalDir: env.ACCESS_JOURNAL_DIR,
    clockToleranceSeconds: env.CLOCK_TOLERANCE_SECONDS,
    webOrigins: webOrigins(env.WEB_ORIGINS),
    logLevel: env.LOG_LEVEL,
  };
}
