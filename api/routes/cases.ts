import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { caseFilter } from '../../audit/read/case-search.js';
import { caseTimeline } from '../../audit/read/case-timeline.js';
import { accessFacts, isLifecycleEvent, lifecycleFacts } from '../../audit/formats/audit-facts.js';
import { exportEvidenceBundle } from '../../audit/evidence/evidence-bundle.js';
import { fhirAuditEvent } from '../../audit/formats/fhir-audit-event.js';
import type { SigningKeyStore } from '../../tokens/signing-keys.js';
import type { Db } from '../../db/client.js';
import { toView } from '../../audit/read/access-request-view.js';
import { withReviewsAndGrant } from '../../db/access-request-record.js';
import { judgeCaseAccess } from '../../domain/permissions.js';
import { parseOr400, Problem } from '../problem.js';
import { throwIfRejected } from '../rejection-status.js';
import { accessRequestIdSchema } from '../../contracts/identifiers.js';
import { caseSearchSchema } from '../schemas.js';
import { principalOf } from './access-requests.js';
import { CaseReplayer } from '../case-replayer.js';
import { takeRateLimit } from '../../db/rate-limit.js';

/** Replays one auditor may start per minute, across all API processes. */
const REPLAYS_PER_MINUTE = 10;

function requireAuditor(req: Parameters<typeof principalOf>[0]): void {
  throwIfRejected(judgeCaseAccess(principalOf(req)));
}

/** Auditors' read-only view of cases (access requests and everything that followed from them). */
export function caseRoutes(db: Db, temporal: Client, keys: SigningKeyStore): Router {
  const router = Router();
  const replayer = new CaseReplayer({ db, temporal });

  router.get('/api/cases', async (req, res) => {
    requireAuditor(req);
    const search = parseOr400(caseSearchSchema, req.query);
    const rows = await db.accessRequest.findMany({
      where: caseFilter(search),
      include: withReviewsAndGrant,
      orderBy: [{ submittedAt: 'desc' }, { id: 'desc' }],
      take: search.limit + 1,
      ...(search.cursor ? { cursor: { id: search.cursor }, skip: 1 } : {}),
    });
    const page = rows.slice(0, search.limit);
    res.json({ items: page.map(toView), nextCursor: rows.length > search.limit ? page[page.length - 1]!.id : null });
  });

  router.get('/api/cases/:id/timeline', async (req, res) => {
    requireAuditor(req);
    const id = parseOr400(accessRequestIdSchema, req.params.id);
    if (!(await db.accessRequest.findUnique({ where: { id }, select: { id: true } }))) throw new Problem(404, 'Not found', `No case ${id}.`);
    res.json(await caseTimeline({ db, temporal }, id));
  });

  router.get('/api/cases/:id/audit-events', async (req, res) => {
    requireAuditor(req);
    const id = parseOr400(accessRequestIdSchema, req.params.id);
    const request = await db.accessRequest.findUnique({ where: { id } });
    if (!request) throw new Problem(404, 'Not found', `No case ${id}.`);
    const [events, accesses] = await Promise.all([
      db.auditEvent.findMany({ where: { accessRequestId: id }, orderBy: { seq: 'asc' } }),
      db.gatewayAccessRecord.findMany({ where: { grantId: id }, orderBy: { occurredAt: 'asc' } }),
    ]);
    const facts = [...events.filter(isLifecycleEvent).map((e) => lifecycleFacts(e, request)), ...accesses.map((a) => accessFacts(a, request))].sort(
      (a, b) => a.at.getTime() - b.at.getTime(),
    );
    res.type('application/fhir+json').json({
      resourceType: 'Bundle',
      type: 'searchset',
      total: facts.length,
      entry: facts.map((f) => ({ resource: fhirAuditEvent(f) })),
    });
  });

  // Read-only (replay runs the workflow code over a copy of the history): a GET, never cached.
  router.get('/api/cases/:id/replay', async (req, res) => {
    requireAuditor(req);
    const id = parseOr400(accessRequestIdSchema, req.params.id);
    if (!(await db.accessRequest.findUnique({ where: { id }, select: { id: true } }))) throw new Problem(404, 'Not found', `No case ${id}.`);
    // Each replay costs seconds of CPU: a per-auditor budget, shared by every API process.
    await takeRateLimit(db, 'replays', principalOf(req).username, REPLAYS_PER_MINUTE);
    res.json(await replayer.replay(id, () => !req.socket.destroyed));
  });

  router.get('/api/cases/:id/evidence', async (req, res) => {
    requireAuditor(req);
    const id = parseOr400(accessRequestIdSchema, req.params.id);
    if (!(await db.accessRequest.findUnique({ where: { id }, select: { id: true } }))) throw new Problem(404, 'Not found', `No case ${id}.`);
    res.set('Content-Disposition', `attachment; filename="${id}.evidence.json"`).json(await exportEvidenceBundle({ db, temporal, keys }, id));
  });
  return router;
}
