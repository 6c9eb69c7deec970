import { Router, type Request } from 'express';
import type { AppConfig } from '../../config/config.js';
import type { Db } from '../../db/client.js';
import { takeRateLimit } from '../../db/rate-limit.js';
import { whoAccessed } from '../../audit/read/who-accessed.js';
import { REVIEWER_ROLES } from '../../domain/access-request.js';
import { judgeAccessLogRead } from '../../domain/permissions.js';
import { Rejection } from '../../domain/review-rejection.js';
import { rejectionProblem } from '../rejection-status.js';
import type { Principal } from '../../domain/access-request.js';
import type { AccessRequestService } from '../access-request-service.js';
import { parseOr400, Problem } from '../problem.js';
import { accessRequestIdSchema } from '../../contracts/identifiers.js';
import {
  accessRequestInputSchema,
  breakGlassInputSchema,
  cancelInputSchema,
  idempotencyKeySchema,
  listQuerySchema,
  reviewInputSchema,
  revokeInputSchema,
} from '../schemas.js';

export function principalOf(req: Request): Principal {
  const principal = req.res?.locals.principal as Principal | undefined;
  if (!principal) throw new Problem(401, 'Unauthenticated', 'Send a bearer token in the Authorization header.');
  return principal;
}

export function idempotencyKeyOf(req: Request): string | undefined {
  const raw = req.get('Idempotency-Key');
  return raw === undefined ? undefined : parseOr400(idempotencyKeySchema, raw);
}

function idParam(req: Request): string {
  return parseOr400(accessRequestIdSchema, req.params.id);
}

export function accessRequestRoutes(service: AccessRequestService, config: AppConfig, db: Db): Router {
  const router = Router();
  const submission = accessRequestInputSchema(config.policy.maxDurationMinutes);

  router.post('/api/access-requests', async (req, res) => {
    const principal = principalOf(req);
    const body = parseOr400(submission, req.body);
    await takeRateLimit(db, 'submissions', principal.username, config.rateLimits.submissionsPerMinute);
    const { view, replayed } = await service.submit(principal, body, idempotencyKeyOf(req));
    if (replayed) res.set('Idempotent-Replayed', 'true');
    res
      .status(replayed ? 200 : 201)
      .location(`/api/access-requests/${view.id}`)
      .json(view);
  });

  const breakGlass = breakGlassInputSchema(config.breakGlass.maxMinutes);
  router.post('/api/break-glass', async (req, res) => {
    const { view, replayed } = await service.breakGlass(principalOf(req), parseOr400(breakGlass, req.body), idempotencyKeyOf(req));
    if (replayed) res.set('Idempotent-Replayed', 'true');
    res
      .status(replayed ? 200 : 201)
      .location(`/api/access-requests/${view.id}`)
      .json(view);
  });

  router.post('/api/access-requests/:id/retro-reviews', async (req, res) => {
    const principal = principalOf(req);
    const id = idParam(req);
    const body = parseOr400(reviewInputSchema, req.body);
    await takeRateLimit(db, 'reviews', principal.username, config.rateLimits.reviewsPerMinute);
    res.status(201).json(await service.retroReview(principal, id, body));
  });

  router.get('/api/access-requests', async (req, res) => {
    res.json(await service.list(principalOf(req), parseOr400(listQuerySchema, req.query)));
  });

  // What was seen under a grant: for auditors and security officers (as the access log is),
  // and for those who review a break-glass afterwards, who must judge it by what was seen.
  router.get('/api/access-requests/:id/image-accesses', async (req, res) => {
    const principal = principalOf(req);
    const view = await service.get(principal, idParam(req));
    const overseer = !(judgeAccessLogRead(principal) instanceof Rejection);
    const retroReviewer = view.kind === 'break-glass' && REVIEWER_ROLES.some((role) => principal.roles.includes(role));
    if (!overseer && !retroReviewer)
      throw rejectionProblem(
        new Rejection('NOT_PERMITTED', 'What was seen under a grant is for auditors, security officers and those who review a break-glass.'),
      );
    const log = await whoAccessed(db, { grantId: view.id, limit: 1000 });
    // Reviewers judge what was seen, not from where.
    res.json(overseer ? log : { ...log, items: log.items.map((row) => ({ ...row, clientIp: null })) });
  });

  router.get('/api/access-requests/:id', async (req, res) => {
    res.json(await service.get(principalOf(req), idParam(req)));
  });

  router.post('/api/access-requests/:id/reviews', async (req, res) => {
    const principal = principalOf(req);
    const id = idParam(req);
    const body = parseOr400(reviewInputSchema, req.body);
    await takeRateLimit(db, 'reviews', principal.username, config.rateLimits.reviewsPerMinute);
    const { answer, replayed } = await service.review(principal, id, body, idempotencyKeyOf(req));
    if (replayed) res.set('Idempotent-Replayed', 'true');
    res.status(replayed ? 200 : 201).json(answer);
  });

  router.post('/api/access-requests/:id/revoke', async (req, res) => {
    const { reason } = parseOr400(revokeInputSchema, req.body);
    res.json(await service.revoke(principalOf(req), idParam(req), reason));
  });

  router.post('/api/access-requests/:id/cancel', async (req, res) => {
    const { reason } = parseOr400(cancelInputSchema, req.body ?? {});
    res.json(await service.cancel(principalOf(req), idParam(req), reason));
  });

  router.post('/api/access-requests/:id/tokens', async (req, res) => {
    const token = await service.issueToken(principalOf(req), idParam(req));
    // Tokens must not be cached by anything between the API and the clinician.
    res.set('Cache-Control', 'no-store').status(201).json(token);
  });

  return router;
}
