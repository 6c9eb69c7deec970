import type { Response } from 'express';
import type { Logger } from 'pino';
import type { AccessRecorder } from './access-recorder.js';
import { describeRoute } from './dicomweb-route.js';
import { Refusal } from './refusal.js';

/**
 * Answers whatever stopped the pipeline. A refusal is sent as RFC 9457 problem JSON; anything
 * else is the gateway's own failure (502), never a reason to serve. A response already under
 * way can only be cut off.
 */
export function refuse(error: unknown, res: Response, access: AccessRecorder, log: Logger): void {
  const refusal = error instanceof Refusal ? error : new Refusal(502, 'GATEWAY_ERROR', 'The gateway could not complete the request.');
  if (!(error instanceof Refusal)) log.error({ err: (error as Error).message, route: describeRoute(access.route) }, 'gateway error');
  if (!res.headersSent) {
    if (refusal.status === 401) res.set('WWW-Authenticate', 'Bearer');
    res.status(refusal.status);
    access.refused(refusal.reason);
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
    access.refused(refusal.reason);
    res.destroy();
  }
  log.info({ jti: access.token?.jti, reason: refusal.reason, route: describeRoute(access.route), status: refusal.status }, 'gateway refused');
}
