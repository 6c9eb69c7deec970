import { Router } from 'express';
import { freezeIdSchema, freezeInputSchema, liftDecisionInputSchema, liftRequestInputSchema } from '../../contracts/freeze.js';
import type { FreezeService } from '../freeze-service.js';
import { parseOr400 } from '../problem.js';
import { principalOf } from './access-requests.js';

/** Freezing access (security officers), and lifting a freeze (two people). */
export function freezeRoutes(freezes: FreezeService): Router {
  const router = Router();

  router.post('/api/freezes', async (req, res) => {
    const view = await freezes.impose(principalOf(req), parseOr400(freezeInputSchema, req.body));
    res.status(201).location(`/api/freezes/${view.id}`).json(view);
  });

  router.get('/api/freezes', async (req, res) => {
    res.json({ items: await freezes.list(principalOf(req)) });
  });

  router.post('/api/freezes/:id/lift-request', async (req, res) => {
    const id = parseOr400(freezeIdSchema, req.params.id);
    const { reason } = parseOr400(liftRequestInputSchema, req.body);
    res.json(await freezes.requestLift(principalOf(req), id, reason));
  });

  router.post('/api/freezes/:id/lift-decision', async (req, res) => {
    const id = parseOr400(freezeIdSchema, req.params.id);
    const { decision, comment } = parseOr400(liftDecisionInputSchema, req.body);
    res.json(await freezes.decideLift(principalOf(req), id, decision, comment));
  });

  return router;
}
