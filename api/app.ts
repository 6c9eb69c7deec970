import express, { type RequestHandler } from 'express';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/config.js';
import type { Db } from '../db/client.js';
import { DicomwebClient } from '../pacs/dicomweb-client.js';
import type { SigningKeyStore } from '../tokens/signing-keys.js';
import { AccessRequestService } from './access-request-service.js';
import { createAuthenticator } from './auth/authenticator.js';
import { notFound, Problem, problemHandler } from './problem.js';
import { accessRequestRoutes } from './routes/access-requests.js';
import { caseRoutes } from './routes/cases.js';
import { devLoginRoutes } from './routes/dev-login.js';
import { eventRoutes } from './routes/events.js';
import { freezeRoutes } from './routes/freezes.js';
import { incidentRoutes } from './routes/incidents.js';
import { IncidentService } from './incident-service.js';
import { FreezeService } from './freeze-service.js';
import { imageAccessRoutes } from './routes/image-accesses.js';
import { leakTraceRoutes } from './routes/leak-traces.js';
import { sessionRoutes } from './routes/session.js';
import { studyRoutes } from './routes/studies.js';
import { systemRoutes } from './routes/system.js';
import { securityHeaders, webAppFiles, webConfigRoutes } from './web-app.js';

export interface ApiDeps {
  config: AppConfig;
  db: Db;
  temporal: Client;
  keys: SigningKeyStore;
  log: Logger;
}

/** Bodies are small JSON documents; anything larger is refused before it is parsed. */
const BODY_LIMIT = '16kb';

/** Routes that take a file as their body and check its media type themselves. */
const FILE_BODY_ROUTE = /^\/api\/(leak-traces|incidents\/[^/]+\/leaked-files)$/;

const requireJson: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  if (req.method === 'POST' && hasBody && !FILE_BODY_ROUTE.test(req.path) && !req.is('application/json')) {
    next(new Problem(415, 'Unsupported media type', 'Send the body as application/json.'));
    return;
  }
  next();
};

export function createApi(deps: ApiDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  const authenticate = createAuthenticator(deps.config, deps.db, deps.keys);
  const service = new AccessRequestService(deps);
  const freezes = new FreezeService({ ...deps, requests: service });
  const incidents = new IncidentService({ ...deps, freezes });

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      // Paths and status only: bodies and Authorization headers never reach the log.
      deps.log.info({ method: req.method, path: req.path, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    });
    next();
  });
  app.use(securityHeaders(deps.config));
  // Answers here can name patients, and dev login hands out tokens: nothing may keep a copy.
  app.use(['/api', '/auth'], (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  app.use(requireJson);
  app.use(express.json({ limit: BODY_LIMIT, strict: true }));

  app.use(
    systemRoutes(deps.db, deps.temporal, deps.keys, deps.config.temporal.namespace, {
      maxDurationMinutes: deps.config.policy.maxDurationMinutes,
      breakGlassMaxMinutes: deps.config.breakGlass.maxMinutes,
    }),
  );
  app.use(devLoginRoutes(deps.config, deps.db, deps.keys));
  // Public, before the bearer check below: the page reads it before anyone has signed in.
  app.use(webConfigRoutes(deps.config));
  app.use('/api', async (req, res, next) => {
    try {
      const { principal, session } = await authenticate(req.get('authorization'));
      res.locals.principal = principal;
      res.locals.session = session;
      next();
    } catch (error) {
      next(error);
    }
  });
  app.use(accessRequestRoutes(service, deps.config, deps.db));
  app.use(studyRoutes(service.studies, deps.config, deps.db));
  app.use(caseRoutes(deps.db, deps.temporal, deps.keys));
  app.use(imageAccessRoutes(deps.db));
  const tracer = { db: deps.db, pacs: deps.config.pacs ? new DicomwebClient({ ...deps.config.pacs, timeoutMs: 10_000 }) : undefined };
  app.use(leakTraceRoutes(tracer));
  app.use(freezeRoutes(freezes));
  app.use(incidentRoutes(incidents, { ...deps, tracer }));
  app.use(sessionRoutes(deps.db));
  app.use(eventRoutes(deps.db, deps.log));
  // Last before 404: the web app never shadows an API route.
  app.use(webAppFiles(deps.config));
  app.use(notFound);
  app.use(problemHandler(deps.log));
  return app;
}
