import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { AppConfig } from '../../config/config.js';
import { appendAuditEvent } from '../../db/audit-chain.js';
import { inTransaction, type Db } from '../../db/client.js';
import { takeRateLimit } from '../../db/rate-limit.js';
import { judgeStudyLookup } from '../../domain/permissions.js';
import { parseOr400 } from '../problem.js';
import { throwIfRejected } from '../rejection-status.js';
import { studyLookupQuerySchema } from '../schemas.js';
import type { StudyConfirmation } from '../study-confirmation.js';
import { principalOf } from './access-requests.js';

/**
 * Clinicians find a study's UID from the accession number on the order they hold. A lookup
 * tells something about a patient before any review, so each one is recorded in the audit
 * chain (who, which number, which patient, what was found) and held to its own budget.
 */
export function studyRoutes(studies: StudyConfirmation, config: AppConfig, db: Db): Router {
  const router = Router();

  router.get('/api/studies', async (req, res) => {
    const principal = principalOf(req);
    throwIfRejected(judgeStudyLookup(principal));
    const { accessionNumber, patientId } = parseOr400(studyLookupQuerySchema, req.query);
    await takeRateLimit(db, 'study-lookups', principal.username, config.rateLimits.studyLookupsPerMinute);
    const items = await studies.findByAccession(accessionNumber, patientId);
    await inTransaction(db, (tx) =>
      appendAuditEvent(tx, {
        dedupeKey: `study-lookup:${randomUUID()}`,
        type: 'study.looked-up',
        actor: principal.username,
        payload: { accessionNumber, patientId, found: items.map((study) => study.studyInstanceUid) },
        occurredAt: new Date(),
      }),
    );
    res.json({ items });
  });

  return router;
}
