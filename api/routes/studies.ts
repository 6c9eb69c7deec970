import { Router } from 'express';
import type { AppConfig } from '../../config/config.js';
import type { Db } from '../../db/client.js';
import { takeRateLimit } from '../../db/rate-limit.js';
import { judgeStudyLookup } from '../../domain/permissions.js';
import { parseOr400 } from '../problem.js';
import { throwIfRejected } from '../rejection-status.js';
import { studyLookupQuerySchema } from '../schemas.js';
import type { StudyConfirmation } from '../study-confirmation.js';
import { principalOf } from './access-requests.js';

/** Clinicians find a study's UID from the accession number on the order they hold. */
export function studyRoutes(studies: StudyConfirmation, config: AppConfig, db: Db): Router {
  const router = Router();

  router.get('/api/studies', async (req, res) => {
    const principal = principalOf(req);
    throwIfRejected(judgeStudyLookup(principal));
    const { accessionNumber, patientId } = parseOr400(studyLookupQuerySchema, req.query);
    // Each lookup is a question to the PACS: the same budget as submissions, in its own bucket.
    await takeRateLimit(db, 'study-lookups', principal.username, config.rateLimits.submissionsPerMinute);
    res.json({ items: await studies.findByAccession(accessionNumber, patientId) });
  });

  return router;
}
