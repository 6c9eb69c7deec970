import { PACS_TOKEN_AUDIENCE } from '../contracts/pacs-token.js';
import { z } from 'zod';
import { DEFAULT_REVIEW_POLICY, type ReviewPolicy } from '../domain/access-request.js';
import { DEFAULT_CLOCK_POLICY, INCIDENT_CLOCKS, type ClockPolicy, type IncidentClock } from '../domain/incident.js';
import {
  ConfigError,
  databaseEnv,
  flag,
  keyEncryptionKey,
  keyEncryptionKeyEnv,
  logEnv,
  pacsEnv,
  pacsSettings,
  parseEnv,
  signingKeyRotationEnv,
  temporalEnv,
  temporalSettings,
  type PacsSettings,
  type TemporalSettings,
} from './env-pieces.js';

export { ConfigError };

/** The API process's environment. */
const apiEnv = {
  ...databaseEnv,
  ...temporalEnv,
  ...logEnv,
  ...pacsEnv,
  ...keyEncryptionKeyEnv,
  ...signingKeyRotationEnv,
  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** `iss` of every token this API signs; also where its JWKS is published. */
  TOKEN_ISSUER: z.string().url().optional(),
  GATEWAY_AUDIENCE: z.string().default(PACS_TOKEN_AUDIENCE),
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
  /** Study lookups are recorded, and could step through accession numbers: a tighter budget than submissions. */
  STUDY_LOOKUP_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(20),
  OIDC_ISSUER: z.string().url().optional(),
  OIDC_JWKS_URL: z.string().url().optional(),
  OIDC_AUDIENCE: z.string().optional(),
  OIDC_ROLES_CLAIM: z.string().default('roles'),
  OIDC_USERNAME_CLAIM: z.string().default('preferred_username'),
  /** The web app's client at the issuer: public, authorization code with PKCE, no secret. Unset: the page cannot sign in. */
  OIDC_WEB_CLIENT_ID: z.string().min(1).optional(),
  OIDC_WEB_SCOPE: z.string().min(1).default('openid profile'),
  DEV_LOGIN: flag.default(false),
  REVIEW_WINDOW_MINUTES: z.coerce
    .number()
    .min(1)
    .max(60 * 24 * 30)
    .default(24 * 60),
  /** Break-glass: the longest grant without review, and the window for the review that follows. */
  BREAK_GLASS_MAX_MINUTES: z.coerce.number().int().min(1).max(240).default(60),
  BREAK_GLASS_REVIEW_WINDOW_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .default(24 * 60),
  /**
   * Incident clocks from the declaration, as clock=duration pairs (s, m, h, d); clocks not
   * named keep their defaults (team 30m, containment 2h, regulator 72h, individuals 72h,
   * individualsOuter 60d).
   */
  INCIDENT_CLOCKS: z.string().default(''),
  /** Reminders before each incident deadline, as fractions of its duration. */
  INCIDENT_REMINDERS: z.string().default('0.5,0.9'),
  /** Break-glass grants one clinician may open in any 24 hours. */
  BREAK_GLASS_PER_DAY: z.coerce.number().int().min(1).max(100).default(3),
  MAX_DURATION_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(60 * 24 * 7)
    .default(8 * 60),
  POLICY_REQUIRE_DISTINCT_ROLES: flag.default(true),
  /** The PACS gateway as the browser reaches it: the web app loads images from it (and the CSP allows it). */
  GATEWAY_PUBLIC_URL: z.string().url().optional(),
  /** The Temporal Web UI, linked from a case for those allowed to see its workflow. */
  TEMPORAL_UI_URL: z.string().url().optional(),
  /** The built web app (vite build); unset: web/dist beside this checkout's sources. */
  WEB_DIST_DIR: z.string().min(1).optional(),
};

export interface OidcConfig {
  issuer: string;
  jwksUrl: string;
  audience: string;
  rolesClaim: string;
  usernameClaim: string;
  /** What the web app signs in as (GET /api/web-config); absent: no browser sign-in. */
  web: { clientId: string; scope: string } | null;
}

export interface AppConfig {
  databaseUrl: string;
  temporal: TemporalSettings;
  api: { host: string; port: number };
  tokens: { issuer: string; gatewayAudience: string; ttlSeconds: number; ratePerMinute: number; rotationDays: number };
  keyEncryptionKey: Buffer;
  /** Exactly one way of authenticating API callers. */
  auth: { kind: 'oidc'; oidc: OidcConfig } | { kind: 'dev-login' };
  policy: ReviewPolicy & { reviewWindowMs: number; maxDurationMinutes: number };
  breakGlass: { maxMinutes: number; reviewWindowMs: number; perDay: number };
  /** Every incident's clocks: its workflow gets them at the start, so a later change alters no running incident. */
  incidents: { clocks: ClockPolicy };
  /** The PACS submissions are confirmed against; null: none configured, and every submission is refused (503). */
  pacs: PacsSettings | null;
  /** Per user, in any 60 seconds (tokens: `tokens.ratePerMinute`). */
  rateLimits: {
    devLoginPerMinute: number;
    submissionsPerMinute: number;
    reviewsPerMinute: number;
    refusedReviewsPerMinute: number;
    studyLookupsPerMinute: number;
  };
  /** What the web app is told (GET /api/web-config) and where its built files are. */
  web: { gatewayUrl: string | null; temporalUiUrl: string | null; distDir: string | null };
  logLevel: string;
}

/** Reads and checks the environment; fails closed on anything missing or contradictory. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): AppConfig {
  const env = parseEnv('API', apiEnv, source);
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
        web: env.OIDC_WEB_CLIENT_ID ? { clientId: env.OIDC_WEB_CLIENT_ID, scope: env.OIDC_WEB_SCOPE } : null,
      },
    };
  } else if (env.DEV_LOGIN) {
    auth = { kind: 'dev-login' };
  } else {
    throw new ConfigError('No way to authenticate callers: configure OIDC_ISSUER (with OIDC_JWKS_URL, OIDC_AUDIENCE), or set DEV_LOGIN=true for a local demo.');
  }
  return {
    databaseUrl: env.DATABASE_URL,
    temporal: temporalSettings(env),
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
    breakGlass: {
      maxMinutes: env.BREAK_GLASS_MAX_MINUTES,
      reviewWindowMs: env.BREAK_GLASS_REVIEW_WINDOW_MINUTES * 60_000,
      perDay: env.BREAK_GLASS_PER_DAY,
    },
    incidents: { clocks: incidentClocks(env.INCIDENT_CLOCKS, env.INCIDENT_REMINDERS) },
    pacs: pacsSettings(env),
    rateLimits: {
      devLoginPerMinute: env.DEV_LOGIN_RATE_LIMIT_PER_MINUTE,
      submissionsPerMinute: env.SUBMISSION_RATE_LIMIT_PER_MINUTE,
      reviewsPerMinute: env.REVIEW_RATE_LIMIT_PER_MINUTE,
      refusedReviewsPerMinute: env.REFUSED_REVIEW_RATE_LIMIT_PER_MINUTE,
      studyLookupsPerMinute: env.STUDY_LOOKUP_RATE_LIMIT_PER_MINUTE,
    },
    web: {
      // Origins only: the CSP's connect-src names an origin, and the page adds the paths.
      gatewayUrl: env.GATEWAY_PUBLIC_URL ? new URL(env.GATEWAY_PUBLIC_URL).origin : null,
      temporalUiUrl: env.TEMPORAL_UI_URL ? env.TEMPORAL_UI_URL.replace(/\/+$/, '') : null,
      distDir: env.WEB_DIST_DIR ?? null,
    },
    logLevel: env.LOG_LEVEL,
  };
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** INCIDENT_CLOCKS and INCIDENT_REMINDERS, over the defaults; anything unknown or out of range fails closed. */
export function incidentClocks(clocks: string, reminders: string): ClockPolicy {
  const dueMs = { ...DEFAULT_CLOCK_POLICY.dueMs };
  for (const pair of clocks
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^([A-Za-z]+)=(\d+)([smhd])$/.exec(pair);
    const clock = match?.[1] as IncidentClock | undefined;
    if (!match || !clock || !INCIDENT_CLOCKS.includes(clock)) {
      throw new ConfigError(
        `INCIDENT_CLOCKS: "${pair}" is not clock=duration with a clock of ${INCIDENT_CLOCKS.join(', ')} and a duration like 30m, 2h or 60d.`,
      );
    }
    const ms = Number(match[2]) * UNIT_MS[match[3] as keyof typeof UNIT_MS];
    if (ms < 1_000 || ms > 366 * UNIT_MS.d) throw new ConfigError(`INCIDENT_CLOCKS: ${clock} must be between 1 second and a year.`);
    dueMs[clock] = ms;
  }
  if (dueMs.individualsOuter < dueMs.individuals) throw new ConfigError('INCIDENT_CLOCKS: individualsOuter cannot end before individuals.');
  const fractions = reminders
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean)
    .map(Number);
  if (fractions.some((f) => !(f > 0 && f < 1)) || fractions.some((f, i) => i > 0 && f <= fractions[i - 1]!)) {
    throw new ConfigError('INCIDENT_REMINDERS: ascending fractions between 0 and 1, such as 0.5,0.9 (or empty for none).');
  }
  return { dueMs, reminderFractions: fractions };
}
