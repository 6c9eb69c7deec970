import { Router } from 'express';
import { whoAccessed } from '../../audit/read/who-accessed.js';
import type { Db } from '../../db/client.js';
import { judgeAccessLogRead } from '../../domain/permissions.js';
import { parseOr400 } from '../problem.js';
import { throwIfRejected } from '../rejection-status.js';
import { imageAccessQuerySchema } from '../schemas.js';
import { principalOf } from './access-requests.js';

/** "Who accessed this study, this patient": every gateway request under any grant, served or refused. */
export function imageAccessRoutes(db: Db): Router {
  const router = Router();

  router.get('/api/image-accesses', async (req, res) => {
    throwIfRejected(judgeAccessLogRead(principalOf(req)));
    res.json(await whoAccessed(db, parseOr400(imageAccessQuerySchema, req.query)));
  });

  return router;
}
