import type { Client } from '@temporalio/client';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { inject } from 'vitest';
import { loadConfig, type AppConfig } from '../../config/config.js';
import { createLogger } from '../../config/logger.js';
import type { Db } from '../../db/client.js';
import { createApi } from '../../api/app.js';
import { connectApiRuntime } from '../../api/runtime.js';
import type { SigningKeyStore } from '../../tokens/signing-keys.js';
import { STUDY_A } from './pacs-studies.js';

export interface ApiHarness {
  url: string;
  config: AppConfig;
  db: Db;
  temporal: Client;
  keys: SigningKeyStore;
  login(username: string): Promise<string>;
  call(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

/** The environment a test API runs with: the shared test servers, plus overrides. */
export function testEnv(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: inject('databaseUrl'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: inject('taskQueue'),
    KEY_ENCRYPTION_KEY: inject('keyEncryptionKey'),
    // The run's PACS: submissions are confirmed against it (test/support/pacs-studies.ts).
    PACS_DICOMWEB_URL: inject('pacsDicomwebUrl'),
    PACS_USERNAME: inject('pacsUsername'),
    PACS_PASSWORD: inject('pacsPassword'),
    DEV_LOGIN: 'true',
    // Test files running side by side sign the same demo users in many times a minute; the
    // dev-login limit itself is tested with its own low value (rate-limits.test.ts).
    DEV_LOGIN_RATE_LIMIT_PER_MINUTE: '10000',
    API_PORT: '0',
    LOG_LEVEL: 'silent',
    ...overrides,
  };
}

/** A real API (Express on a loopback port) wired to the run's real servers. */
export async function startApi(overrides: Record<string, string> = {}, adjust?: (config: AppConfig) => void): Promise<ApiHarness> {
  const config = loadConfig(testEnv(overrides));
  adjust?.(config);
  const runtime = await connectApiRuntime(config, { maxConnections: 5 });
  const { db, temporal, keys } = runtime;
  const app = createApi({ config, db, temporal, keys, log: createLogger('api-test', config.logLevel) });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Tokens name the issuer; the test API's issuer is its own URL unless a test set one.
  if (!overrides.TOKEN_ISSUER) config.tokens.issuer = url;

  const call: ApiHarness['call'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    }
    const response = await fetch(`${url}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: response.status, body: parsed, headers: response.headers };
  };

  return {
    url,
    config,
    db,
    temporal,
    keys,
    call,
    async login(username) {
      const response = await call('POST', '/auth/dev-login', { body: { username } });
      if (response.status !== 200) throw new Error(`dev login for ${username} failed: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body.access_token as string;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await runtime.close();
    },
  };
}

export { STUDY_A, STUDY_B, STUDY_OF_SYN_0002 } from './pacs-studies.js';

export function submission(overrides: Record<string, unknown> = {}) {
  return {
    studyInstanceUids: [STUDY_A],
    patientId: 'SYN-0001',
    purposeOfUse: 'TREAT',
    justification: 'Follow-up of a suspected fracture seen in clinic',
    durationMinutes: 60,
    ...overrides,
  };
}

/** Logs in every demo user once. */
export async function tokensFor(api: ApiHarness) {
  const names = ['clin.alice', 'clin.bob', 'sup.carol', 'sup.erin', 'priv.dave', 'aud.frank', 'sec.grace'] as const;
  const entries = await Promise.all(names.map(async (n) => [n, await api.login(n)] as const));
  return Object.fromEntries(entries) as Record<(typeof names)[number], string>;
}

/**
 * A clinician only one test file uses, so that per-user limits and "nothing was written"
 * counts are not shared with files running alongside.
 */
export async function ensureClinician(api: ApiHarness, username: string, displayName: string, departmentId = 'radiology'): Promise<void> {
  await api.db.user.upsert({ where: { username }, create: { username, displayName, roles: ['clinician'], departmentId }, update: {} });
}
