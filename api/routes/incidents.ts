import { Router } from 'express';
import { z } from 'zod';
import { exportIncidentBundle } from '../../audit/evidence/incident-bundle.js';
import { renderReportHtml } from '../../audit/incident-report/report-html.js';
import { renderReportPdf } from '../../audit/incident-report/report-pdf.js';
import { assembleTeamInputSchema, declareIncidentInputSchema, incidentIdSchema, notifyInputSchema, signOffInputSchema } from '../../contracts/incident.js';
import type { Db } from '../../db/client.js';
import { judgeCaseAccess } from '../../domain/permissions.js';
import { judgeIncidentAct } from '../../domain/incident.js';
import { leakedFileKind, rawLeakedFile, recordLeakTrace, traceLeakedFile, type LeakTracerDeps } from '../leak-tracer.js';
import type { SigningKeyStore } from '../../tokens/signing-keys.js';
import type { Client } from '@temporalio/client';
import type { IncidentService } from '../incident-service.js';
import { parseOr400, Problem } from '../problem.js';
import { throwIfRejected } from '../rejection-status.js';
import { idempotencyKeyOf, principalOf } from './access-requests.js';

const reportQuerySchema = z.object({ format: z.enum(['json', 'html', 'pdf']).default('json'), lang: z.enum(['en', 'zh']).default('en') }).strict();

/** Incidents: declared by security officers, run by security and privacy officers, read by auditors too. */
export function incidentRoutes(incidents: IncidentService, deps: { db: Db; temporal: Client; keys: SigningKeyStore; tracer: LeakTracerDeps }): Router {
  const router = Router();
  const idOf = (raw: unknown) => parseOr400(incidentIdSchema, raw);

  router.post('/api/incidents', async (req, res) => {
    const { view, replayed } = await incidents.declare(principalOf(req), parseOr400(declareIncidentInputSchema, req.body), idempotencyKeyOf(req));
    res
      .status(replayed ? 200 : 201)
      .location(`/api/incidents/${view.id}`)
      .json(view);
  });

  router.get('/api/incidents', async (req, res) => {
    res.json({ items: await incidents.list(principalOf(req)) });
  });

  router.get('/api/incidents/:id', async (req, res) => {
    res.json(await incidents.get(principalOf(req), idOf(req.params.id)));
  });

  router.post('/api/incidents/:id/team', async (req, res) => {
    const { members } = parseOr400(assembleTeamInputSchema, req.body);
    res.json(await incidents.assembleTeam(principalOf(req), idOf(req.params.id), members));
  });

  router.post('/api/incidents/:id/containment', async (req, res) => {
    res.json(await incidents.contain(principalOf(req), idOf(req.params.id)));
  });

  router.post('/api/incidents/:id/notifications', async (req, res) => {
    res.json(await incidents.notify(principalOf(req), idOf(req.params.id), parseOr400(notifyInputSchema, req.body), idempotencyKeyOf(req)));
  });

  router.post('/api/incidents/:id/sign-offs', async (req, res) => {
    const { comment } = parseOr400(signOffInputSchema, req.body);
    res.json(await incidents.signOff(principalOf(req), idOf(req.params.id), comment));
  });

  // A leaked file traced for the incident: what it matched is recorded on it and widens its scope.
  router.post(
    '/api/incidents/:id/leaked-files',
    // Authorized and typed before a byte of the file is read.
    async (req, _res, next) => {
      const id = idOf(req.params.id);
      throwIfRejected(judgeIncidentAct(principalOf(req), { closed: false }));
      leakedFileKind(req.get('content-type'));
      // Before any work on the file (the PACS is asked to render candidates again).
      const incident = await deps.db.incident.findUnique({ where: { id }, select: { closedAt: true } });
      if (!incident) throw new Problem(404, 'Not found', `No incident ${id}.`);
      throwIfRejected(judgeIncidentAct(principalOf(req), { closed: incident.closedAt !== null }));
      next();
    },
    rawLeakedFile,
    async (req, res) => {
      const trace = await traceLeakedFile(deps.tracer, req.body, req.get('content-type'));
      // On the matched grant's case too, as every trace is; the incident records it as its own.
      await recordLeakTrace(deps.db, principalOf(req).username, trace, idOf(req.params.id));
      const m = trace.matched;
      const view = await incidents.recordTrace(principalOf(req), idOf(req.params.id), {
        fileSha256: trace.fileSha256,
        kind: trace.kind,
        matched: m
          ? { servingId: m.servingId, grantId: m.grantId, username: m.username, occurredAt: m.occurredAt, study: m.study, instance: m.instance }
          : null,
        detail: trace.detail,
      });
      res.json({ ...view, trace });
    },
  );

  router.get('/api/incidents/:id/report', async (req, res) => {
    const id = idOf(req.params.id);
    const { format, lang } = parseOr400(reportQuerySchema, req.query);
    const report = await incidents.report(principalOf(req), id);
    if (format === 'json') {
      res.set('Content-Disposition', `attachment; filename="${id}.report.json"`).json(report);
      return;
    }
    if (format === 'html') {
      // Self-contained, no scripts: printable from the browser as it is.
      res.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'").type('html').send(renderReportHtml(report, { lang }));
      return;
    }
    const pdf = await renderReportPdf(report, { lang });
    res.set('Content-Disposition', `attachment; filename="${id}.report.pdf"`).type('application/pdf').send(pdf);
  });

  // The whole incident, signed, as a case's evidence is: for auditors.
  router.get('/api/incidents/:id/evidence', async (req, res) => {
    throwIfRejected(judgeCaseAccess(principalOf(req)));
    const id = idOf(req.params.id);
    if (!(await deps.db.incident.findUnique({ where: { id }, select: { id: true } }))) throw new Problem(404, 'Not found', `No incident ${id}.`);
    res.set('Content-Disposition', `attachment; filename="${id}.evidence.json"`).json(await exportIncidentBundle(deps, id));
  });

  return router;
}
