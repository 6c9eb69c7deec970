import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessOutcome } from '../contracts/access-record.js';
import type { AccessJournal } from './access-journal.js';
import { describeRoute, instanceOf, seriesOf, studyOf, type DicomwebRoute } from './dicomweb-route.js';
import type { VerifiedToken } from './token-verifier.js';

/**
 * The access record of one request, filled in as the pipeline learns who asked for what.
 * Written once, before the viewer has the last byte, so that no access is ever seen
 * unrecorded; a second call (a stream that ends, then closes) changes nothing.
 */
export class AccessRecorder {
  token?: VerifiedToken;
  route?: DicomwebRoute;
  /** Until the path is understood, as it came, cut short. */
  path: string;
  bytes = 0;
  /** A rendered image's hash and source, for the leak tracer (contracts/access-record.ts). */
  rendering?: { hash: string; source: string | null };
  /** The access record's id, known before anything is served: marks in what is served name it. */
  readonly servingId = randomUUID();
  private readonly started = performance.now();
  private recorded = false;

  constructor(
    private readonly deps: { journal: AccessJournal; gatewayId: string },
    private readonly req: Pick<IncomingMessage, 'method' | 'socket'>,
    private readonly res: Pick<ServerResponse, 'statusCode'>,
    rawPath: string,
  ) {
    this.path = rawPath.slice(0, 512);
  }

  served(): void {
    this.write('served', null);
  }

  /** After the refusal's status is set: the record holds what the viewer was answered. */
  refused(reason: string): void {
    this.write('refused', reason);
  }

  private write(outcome: AccessOutcome, reason: string | null): void {
    if (this.recorded) return;
    this.recorded = true;
    const { token, route } = this;
    this.deps.journal.record({
      id: this.servingId,
      occurredAt: new Date().toISOString(),
      gatewayId: this.deps.gatewayId,
      username: token?.subject ?? null,
      grantId: token?.grantId ?? null,
      jti: token?.jti ?? null,
      purposeOfUse: token?.purposeOfUse ?? null,
      study: (route && studyOf(route)) ?? null,
      series: (route && seriesOf(route)) ?? null,
      instance: (route && instanceOf(route)) ?? null,
      route: describeRoute(route),
      method: this.req.method ?? '',
      path: this.path,
      status: this.res.statusCode,
      bytes: this.bytes,
      durationMs: Math.round(performance.now() - this.started),
      outcome,
      reason,
      clientIp: this.req.socket.remoteAddress ?? null,
      renderHash: this.rendering?.hash ?? null,
      renderSource: this.rendering?.source ?? null,
    });
  }
}
