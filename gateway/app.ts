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
 * Express's per-request work (its request and response objects, the router) was a quarter of
 * the gateway's CPU per image (README, `npm run bench:gateway`).
 */
export function createGateway(deps: GatewayDeps): RequestListener {
  const cors = webCors(deps.webOrigins ?? []);
  return (req, res) => {
    // First: a preflight carries no token and reads nothing, so it never reaches the pipeline.
    if (cors(req, res) === 'answered') return;
    if (req.url === '/healthz') {
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end('{"status":"ok"}');
      return;
    }
    void serve(deps, req, res);
  };
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
