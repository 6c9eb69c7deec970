import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Db } from '../../db/client.js';
import type { SigningKeyStore } from '../../tokens/signing-keys.js';
import { buildOpenApiDocument } from '../openapi.js';

async function check(probe: () => Promise<unknown>, timeoutMs = 3000): Promise<'ok' | 'failing'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([probe(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), timeoutMs)))]);
    return 'ok';
  } catch {
    return 'failing';
  } finally {
    clearTimeout(timer);
  }
}

export function systemRoutes(
  db: Db,
  temporal: Client,
  keys: SigningKeyStore,
  namespace: string,
  limits: { maxDurationMinutes: number; breakGlassMaxMinutes: number },
): Router {
  const router = Router();
  const openapi = buildOpenApiDocument(limits.maxDurationMinutes, limits.breakGlassMaxMinutes);

  router.get('/healthz', async (_req, res) => {
    const checks = {
      database: await check(() => db.$queryRaw`SELECT 1`),
      temporal: await check(() => temporal.workflowService.describeNamespace({ namespace })),
    };
    const ok = Object.values(checks).every((c) => c === 'ok');
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', checks });
  });

  router.get('/.well-known/jwks.json', async (_req, res) => {
    // Short caching: a new key must reach verifiers well before it signs anything they see.
    res.set('Cache-Control', 'public, max-age=60').json(await keys.jwks());
  });

  router.get('/.well-known/audit-keys.json', async (_req, res) => {
    res.set('Cache-Control', 'public, max-age=60').json(await keys.auditKeys());
  });

  router.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  return router;
}
