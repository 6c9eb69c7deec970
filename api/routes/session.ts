import { Router } from 'express';
import type { Db } from '../../db/client.js';
import { endSession, type SessionRef } from '../auth/sessions.js';
import { Problem } from '../problem.js';

/** POST /api/sign-out: the caller's token is refused by every API process from now on. */
export function sessionRoutes(db: Db): Router {
  const router = Router();

  router.post('/api/sign-out', async (_req, res) => {
    const session = res.locals.session as SessionRef | undefined;
    if (!session) throw new Problem(401, 'Unauthenticated', 'Send a bearer token in the Authorization header.');
    await endSession(db, session);
    res.status(204).end();
  });

  return router;
}
