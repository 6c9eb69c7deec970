import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AccessRecorder } from './access-recorder.js';
import { describeRoute } from './dicomweb-route.js';
import { Refusal } from './refusal.js';

/**
 * Answers whatever stopped the pipeline. A refusal is sent as RFC 9457 problem JSON; anything
 * else is the gateway's own failure (502), never a reason to serve. A response already under
 * way can only be cut off.
 */
export function refuse(error: unknown, res: ServerResponse, access: AccessRecorder, log: Logger): void {
  const refusal = error instanceof Refusal ? error : new Refusal(502, 'GATEWAY_ERROR', 'The gateway could not complete the request.');
  if (!(error instanceof Refusal))
    log.error({ err: error instanceof Error ? error.message : String(error), route: describeRoute(access.route) }, 'gateway error');
  if (!res.headersSent) {
    const body = JSON.stringify({
      type: `urn:imaging-access-review:gateway:${refusal.reason.toLowerCase()}`,
      title: refusal.reason,
      status: refusal.status,
      detail: refusal.message,
    });
    res.statusCode = refusal.status;
    if (refusal.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    access.refused(refusal.reason);
    res.setHeader('Content-Type', 'application/problem+json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.setHeader('Cache-Control', 'no-store');
    res.end(body);
  } else {
    access.refused(refusal.reason);
    res.destroy();
  }
  log.info({ jti: access.token?.jti, reason: refusal.reason, route: describeRoute(access.route), status: refusal.status }, 'gateway refused');
}
