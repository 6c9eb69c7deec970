import { Router } from 'express';
import type { LeakTrace } from '../../contracts/leak-trace.js';
import type { Db } from '../../db/client.js';
import { judgeAccessLogRead } from '../../domain/permissions.js';
import { leakedFileKind, rawLeakedFile, recordLeakTrace, traceLeakedFile, type LeakTracerDeps } from '../leak-tracer.js';
import { throwIfRejected } from '../rejection-status.js';
import { principalOf } from './access-requests.js';

/**
 * "Whose copy is this?": a security officer or auditor sends a file that leaked, and the API
 * names the serving that produced it, or says it cannot. The same people who may read who
 * accessed what (domain/permissions.ts). Each trace is recorded in the audit chain with the
 * file's SHA-256 and the serving named; the file itself is kept nowhere and logged nowhere.
 */
export function leakTraceRoutes(deps: LeakTracerDeps & { db: Db }): Router {
  const router = Router();

  router.post(
    '/api/leak-traces',
    // Authorized before a byte of the file is read.
    (req, _res, next) => {
      throwIfRejected(judgeAccessLogRead(principalOf(req)));
      leakedFileKind(req.get('content-type'));
      next();
    },
    rawLeakedFile,
    async (req, res) => {
      const principal = principalOf(req);
      const trace: LeakTrace = await traceLeakedFile(deps, req.body, req.get('content-type'));
      await recordLeakTrace(deps.db, principal.username, trace);
      res.json(trace);
    },
  );

  return router;
}
