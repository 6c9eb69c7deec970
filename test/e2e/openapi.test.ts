import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../api/app.js';
import { createLogger } from '../../config/logger.js';
import { startApi, type ApiHarness } from '../support/api-harness.js';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.close());

/** Every method + path the Express app routes, in OpenAPI's path syntax. */
function expressRoutes(app: Express): string[] {
  const routes: string[] = [];
  const walk = (stack: any[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) routes.push(`${method} ${String(layer.route.path).replace(/:(\w+)/g, '{$1}')}`);
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as any).router.stack);
  return routes.sort();
}

describe('OpenAPI', () => {
  it('documents every route the API serves, and no route it does not', async () => {
    const document = (await api.call('GET', '/openapi.json')).body;
    const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`))
      .sort();
    const app = createApi({ config: api.config, db: api.db, temporal: api.temporal, keys: api.keys, log: createLogger('t', 'silent') });
    expect(documented).toEqual(expressRoutes(app));
    expect(documented.length).toBeGreaterThanOrEqual(10);
  });

  it('describes request bodies with the schemas the API validates against', async () => {
    const document = (await api.call('GET', '/openapi.json')).body;
    const body = document.paths['/api/access-requests'].post.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(expect.arrayContaining(['studyInstanceUids', 'patientId', 'purposeOfUse', 'justification', 'durationMinutes']));
    expect(body.additionalProperties).toBe(false);
    expect(body.properties.durationMinutes.maximum).toBe(480);
    expect(body.properties.purposeOfUse.enum).toEqual(['TREAT', 'COC', 'HRESCH', 'TRAIN', 'HQUALIMP']);
  });

  it('documents 429 with Retry-After exactly on the rate-limited routes', async () => {
    const document = (await api.call('GET', '/openapi.json')).body;
    const limited = Object.entries(document.paths as Record<string, Record<string, { responses: Record<string, any> }>>)
      .flatMap(([path, methods]) => Object.entries(methods).map(([m, op]) => [`${m} ${path}`, op.responses['429']] as const))
      .filter(([, response]) => response)
      .map(([route, response]) => {
        expect(response.headers['Retry-After'].schema.type).toBe('integer');
        return route;
      });
    expect(limited.sort()).toEqual(
      [
        'get /api/cases/{id}/replay',
        'get /api/events',
        'get /api/studies',
        'post /api/access-requests',
        'post /api/access-requests/{id}/retro-reviews',
        'post /api/break-glass',
        'post /api/access-requests/{id}/reviews',
        'post /api/access-requests/{id}/tokens',
        'post /auth/dev-login',
      ].sort(),
    );
  });
});
