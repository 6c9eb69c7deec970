import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AccessJournal } from './access-journal.js';
import { AccessRecorder } from './access-recorder.js';
import { authorize } from './authorize.js';
import { webCors } from './cors.js';
import { passThrough, sendWatermarked } from './delivery.js';
import { sendTaggedDicom, servesInstances } from './dicom-delivery.js';
import { parseDicomwebPath } from './dicomweb-route.js';
import type { GrantStatus } from './grant-status.js';
import type { PacsClient } from './pacs-client.js';
import { fetchFromPacs, planPacsRequest } from './pacs-request.js';
import { Refusal } from './refusal.js';
import { refuse } from './refusal-response.js';
import type { StudyHierarchy } from './study-hierarchy.js';
import type { TokenVerifier } from './token-verifier.js';

export interface GatewayDeps {
  gatewayId: string;
  tokens: TokenVerifier;
  grants: GrantStatus;
  pacs: PacsClient;
  hierarchy: StudyHierarchy;
  journal: AccessJournal;
  log: Logger;
  /** The web app's origins, whose pages may read answers (CORS); none when absent. */
  webOrigins?: readonly string[];
  /**
   * Only for `npm run bench:dicom-tag`'s baseline: DICOM instances pass through unmarked.
   * Never read from configuration; gateway/main.ts does not set it.
   */
  untaggedDicomForBenchmark?: boolean;
}

/**
 * The DICOMweb reverse proxy, as node:http's request listener. Fails closed: anything it
 * cannot confirm, it refuses.
 *
 * Not an Express app, unlike the API: the gateway has one pipeline and a health check, and
 * catches what its handler rejects itself (`unanswerable`). Express's per-request work (its
 * request and response objects, the router) was a quarter of the gateway's CPU per image
 * (README, `npm run bench:gateway`).
 */
export function createGateway(deps: GatewayDeps): RequestListener {
  const cors = webCors(deps.webOrigins ?? []);
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // First: a preflight carries no token and reads nothing, so it never reaches the pipeline.
    if (cors(req, res) === 'answered') return;
    if (isHealthCheck(req)) {
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.setHeader('Cache-Control', 'no-store');
      res.end('{"status":"ok"}');
      return;
    }
    await serve(deps, req, res);
  };
  return (req, res) => {
    handle(req, res).catch((error: unknown) => unanswerable(error, res, deps.log));
  };
}

/** GET or HEAD of /healthz, with or without a query or a final slash: a probe, never a record. */
function isHealthCheck(req: IncomingMessage): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = (req.url ?? '').split('?', 1)[0];
  return path === '/healthz' || path === '/healthz/';
}

/**
 * What refusing itself could not do, typically the journal failing to take the refusal's
 * record (a full disk, or the process stopping): nothing is served and nothing more can be
 * recorded, so the answer is a bare 500, or the connection cut if an answer was under way.
 * Express used to do this for a rejected handler; without it, Node would end the process and
 * every viewer's answer with it.
 */
function unanswerable(error: unknown, res: ServerResponse, log: Logger): void {
  log.error({ err: error instanceof Error ? error.message : String(error) }, 'gateway could not answer');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // Whatever the PACS's answer had set (its Content-Length, for one) is not what is sent.
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  res.statusCode = 500;
  res.setHeader('Cache-Control', 'no-store');
  res.end();
}

/** verify → authorize → plan → proxy, mark or watermark, recording the access either way. */
async function serve(deps: GatewayDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const [rawPath = '', rawQuery = ''] = (req.url ?? '').split(/\?(.*)/s);
  const access = new AccessRecorder(deps, req, res, rawPath);
  try {
    const token = await deps.tokens.verify(req.headers.authorization);
    access.token = token;
    assertReadOnly(req.method);
    const target = parseDicomwebPath(rawPath);
    access.route = target.route;
    access.path = target.normalisedPath;
    const query = await authorize(deps, token, target.route, rawQuery);
    const plan = planPacsRequest(target, query);
    const upstream = await fetchFromPacs(deps.pacs, plan, req.headers.accept);
    if (plan.watermark) await sendWatermarked(req, res, upstream, token, access, plan);
    else if (servesInstances(target.route) && !deps.untaggedDicomForBenchmark) await sendTaggedDicom(req, res, upstream, token, access);
    else await passThrough(req, res, upstream, access);
  } catch (error) {
    refuse(error, res, access, deps.log);
  }
}

function assertReadOnly(method: string | undefined): void {
  if (method !== 'GET' && method !== 'HEAD') throw new Refusal(405, 'METHOD_NOT_ALLOWED', 'The gateway serves reads only (no STOW-RS, no changes).');
}
