import { randomUUID } from 'node:crypto';
import express, { Router, type Request } from 'express';
import { LEAK_TRACE_MAX_BYTES, RENDERED_LEAK_MEDIA_TYPES, type LeakTrace } from '../../contracts/leak-trace.js';
import { appendAuditEvent } from '../../db/audit-chain.js';
import { inTransaction, type Db } from '../../db/client.js';
import { judgeAccessLogRead } from '../../domain/permissions.js';
import { notAnImage, traceLeakedImage, type LeakTracerDeps } from '../leak-tracer.js';
import { Problem } from '../problem.js';
import { throwIfRejected } from '../rejection-status.js';
import { principalOf } from './access-requests.js';

/** The file as sent, up to the limit (413 beyond, from the body parser); never parsed as anything else. */
const rawFile = express.raw({ type: () => true, limit: LEAK_TRACE_MAX_BYTES });

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
      kindOf(req);
      next();
    },
    rawFile,
    async (req, res) => {
      const principal = principalOf(req);
      const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (bytes.length === 0) throw notAnImage();
      // Rendered images only so far: the DICOM side (a private tag) plugs in here as `kind: 'dicom'`.
      const trace: LeakTrace = await traceLeakedImage(deps, bytes);
      await inTransaction(deps.db, (tx) =>
        appendAuditEvent(tx, {
          dedupeKey: `leak-trace:${randomUUID()}`,
          type: 'leak.traced',
          actor: principal.username,
          ...(trace.matched?.grantId ? { accessRequestId: trace.matched.grantId } : {}),
          payload: {
            kind: trace.kind,
            fileSha256: trace.fileSha256,
            matchedServingId: trace.matched?.servingId ?? null,
            score: trace.matched?.score ?? null,
            candidates: trace.candidates,
          },
          occurredAt: new Date(),
        }),
      );
      res.json(trace);
    },
  );

  return router;
}

/** What kind of leak the body's media type says it is (parameters aside); 415 for any other type. */
function kindOf(req: Request): 'rendered' {
  const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if ((RENDERED_LEAK_MEDIA_TYPES as readonly string[]).includes(type)) return 'rendered';
  throw new Problem(415, 'Unsupported media type', `Send the leaked file as ${RENDERED_LEAK_MEDIA_TYPES.join(' or ')}; nothing was recorded.`, {
    reason: 'UNSUPPORTED_LEAK_TYPE',
  });
}
