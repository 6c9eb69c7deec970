import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import express, { type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { AccessJournal, AccessRecord } from './access-journal.js';
import { parseDicomwebPath, type DicomwebRoute } from './dicomweb-route.js';
import type { GrantStatus } from './grant-status.js';
import type { PacsClient } from './pacs-client.js';
import { confineQidoQuery } from './qido-policy.js';
import { Refusal } from './refusal.js';
import type { StudyHierarchy } from './study-hierarchy.js';
import type { TokenVerifier, VerifiedToken } from './token-verifier.js';
import { watermark } from './watermark.js';

export interface GatewayDeps {
  gatewayId: string;
  tokens: TokenVerifier;
  grants: GrantStatus;
  pacs: PacsClient;
  hierarchy: StudyHierarchy;
  journal: AccessJournal;
  log: Logger;
}

/** Headers from the PACS that may reach the viewer; everything else (Server, auth, ...) stays behind. */
const PASSED_HEADERS = ['content-type', 'content-length'];

const WADO_QUERY_KEYS = new Set(['quality', 'viewport', 'window', 'accept']);

function studyOf(route: DicomwebRoute): string | undefined {
  return 'study' in route ? route.study : undefined;
}

function describeRoute(route: DicomwebRoute | undefined): string {
  if (!route) return 'unparsed';
  return route.kind === 'qido' ? `qido:${route.level}` : `wado:${route.resource}`;
}

/** The DICOMweb reverse proxy. Fails closed: anything it cannot confirm, it refuses. */
export function createGateway(deps: GatewayDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.use(async (req: Request, res: Response) => {
    const started = performance.now();
    const [rawPath = '', rawQuery = ''] = req.originalUrl.split(/\?(.*)/s);
    let token: VerifiedToken | undefined;
    let route: DicomwebRoute | undefined;
    let normalisedPath = rawPath.slice(0, 512);
    let bytes = 0;
    let recorded = false;
    // Called before the viewer has the last byte, so no access is ever seen unrecorded;
    // at most once per request.
    const record = (outcome: AccessRecord['outcome'], reason: string | null) => {
      if (recorded) return;
      recorded = true;
      deps.journal.record({
        id: randomUUID(),
        occurredAt: new Date().toISOString(),
        gatewayId: deps.gatewayId,
        username: token?.subject ?? null,
        grantId: token?.grantId ?? null,
        jti: token?.jti ?? null,
        study: (route && studyOf(route)) ?? null,
        series: route && 'series' in route ? (route.series ?? null) : null,
        instance: route && 'instance' in route ? (route.instance ?? null) : null,
        route: describeRoute(route),
        method: req.method,
        path: normalisedPath,
        status: res.statusCode,
        bytes,
        durationMs: Math.round(performance.now() - started),
        outcome,
        reason,
        clientIp: req.socket.remoteAddress ?? null,
      });
    };

    try {
      token = await deps.tokens.verify(req.get('authorization'));
      if (req.method !== 'GET' && req.method !== 'HEAD')
        throw new Refusal(405, 'METHOD_NOT_ALLOWED', 'The gateway serves reads only (no STOW-RS, no changes).');
      ({ route, normalisedPath } = parseDicomwebPath(rawPath));
      const study = studyOf(route);
      if (study !== undefined && !token.studies.has(study)) throw new Refusal(403, 'STUDY_NOT_GRANTED', 'The token does not grant that study.');
      await deps.grants.assertActive(token.grantId);

      let query: URLSearchParams;
      if (route.kind === 'qido') {
        query = confineQidoQuery(route, rawQuery, token.studies);
      } else {
        query = new URLSearchParams(rawQuery);
        for (const key of query.keys())
          if (!WADO_QUERY_KEYS.has(key)) throw new Refusal(403, 'QUERY_NOT_ALLOWED', `${key} is not a retrieve parameter served here.`);
      }
      // Whatever is served belongs to the token's patient, as the PACS says: the study in the
      // path, or every granted study for a study-level QIDO (confined to them above).
      await deps.hierarchy.assertPatient(study !== undefined ? [study] : token.studies, token.patientId);
      if (study) await deps.hierarchy.assertContained(study, 'series' in route ? route.series : undefined, 'instance' in route ? route.instance : undefined);

      // The DICOMweb plugin has no /thumbnail: a small rendering stands in for it.
      let pacsPath = normalisedPath.replace(/^\/dicom-web/, '');
      if (route.kind === 'wado' && route.resource === 'thumbnail') {
        pacsPath = pacsPath.replace(/\/thumbnail$/, '/rendered');
        if (!query.has('viewport')) query.set('viewport', '128,128');
      }
      const upstream = await deps.pacs.get(pacsPath, query, req.get('accept'));
      if (upstream.status >= 500) throw new Refusal(502, 'PACS_ERROR', 'The PACS failed to answer this request.');
      if (upstream.status === 404) throw new Refusal(404, 'NOT_FOUND', 'The PACS has no such object.');
      if (!upstream.ok) throw new Refusal(400, 'PACS_REFUSED', `The PACS refused the request (${upstream.status}).`);

      res.status(upstream.status).set('Cache-Control', 'no-store');
      const rendered = route.kind === 'wado' && (route.resource === 'rendered' || route.resource === 'thumbnail' || route.resource === 'frames-rendered');
      if (rendered) {
        const marked = await watermark(Buffer.from(await upstream.arrayBuffer()), [
          `${token.subject} · grant ${token.grantId.slice(3, 11)}`,
          new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        ]);
        bytes = marked.body.length;
        record('served', null);
        res.type(marked.contentType).send(req.method === 'HEAD' ? undefined : marked.body);
      } else {
        for (const header of PASSED_HEADERS) {
          const value = upstream.headers.get(header);
          if (value) res.set(header, value);
        }
        if (req.method === 'HEAD' || !upstream.body) {
          record('served', null);
          res.end();
        } else {
          const body = Readable.fromWeb(upstream.body as import('node:stream/web').ReadableStream);
          body.on('data', (chunk: Buffer) => (bytes += chunk.length));
          // In the same tick as pipe() ends the response: before the viewer has the last byte.
          body.once('end', () => record('served', null));
          await new Promise<void>((resolve, reject) => {
            body.once('error', reject);
            res.once('close', resolve);
            body.pipe(res);
          });
          // A viewer that went away mid-stream was still served what it got.
          record('served', null);
        }
      }
    } catch (error) {
      const refusal = error instanceof Refusal ? error : new Refusal(502, 'GATEWAY_ERROR', 'The gateway could not complete the request.');
      if (!(error instanceof Refusal)) deps.log.error({ err: (error as Error).message, route: describeRoute(route) }, 'gateway error');
      if (!res.headersSent) {
        if (refusal.status === 401) res.set('WWW-Authenticate', 'Bearer');
        res.status(refusal.status);
        record('refused', refusal.reason);
        res
          .type('application/problem+json')
          .set('Cache-Control', 'no-store')
          .json({
            type: `urn:imaging-access-review:gateway:${refusal.reason.toLowerCase()}`,
            title: refusal.reason,
            status: refusal.status,
            detail: refusal.message,
          });
      } else {
        record('refused', refusal.reason);
        res.destroy();
      }
      deps.log.info({ jti: token?.jti, reason: refusal.reason, route: describeRoute(route), status: refusal.status }, 'gateway refused');
    }
  });
  return app;
}
