import { Router } from 'express';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.js';
import { isSessionEnded, type SessionRef } from '../auth/sessions.js';
import { Problem } from '../problem.js';
import { throwIfRejected } from '../rejection-status.js';
import { visibleRequests } from '../visibility.js';
import { principalOf } from './access-requests.js';

export interface EventTiming {
  /** How often each connection asks the database what changed. */
  pollMs: number;
  /** A comment line this often keeps proxies and the browser from closing an idle stream. */
  heartbeatMs: number;
}

const DEFAULT_TIMING: EventTiming = { pollMs: 2_000, heartbeatMs: 15_000 };
/**
 * Each poll looks this far behind its previous start: `updatedAt` is stamped when a row is
 * written, and the transaction that wrote it may commit a little later (or in another process,
 * whose clock may differ slightly). Repeats within the window are suppressed per connection.
 */
const LOOKBACK_MS = 10_000;
/** More changes than this in one window: the page is told to reload everything instead. */
const BATCH = 500;
/**
 * Open streams one user may hold on one API process: a page needs one (a few with several
 * tabs); each costs a query every poll, so a script opening hundreds is refused, not served.
 */
export const MAX_STREAMS_PER_USER = 6;
/** However long the token runs, a stream ends after this long; the page reconnects. */
const MAX_STREAM_MS = 60 * 60_000;

/**
 * GET /api/events: the access requests the caller may see (the same rule as the list), as
 * server-sent events when their status changes or a review is recorded. Read with fetch
 * streaming (EventSource cannot send the Authorization header). Each connection polls the
 * database: the state is there and only there, so any number of API processes can serve it.
 * The stream ends when the bearer token does; the page reconnects with a fresh one.
 */
export function eventRoutes(db: Db, log: Logger, timing: EventTiming = DEFAULT_TIMING): Router {
  const router = Router();
  const openStreams = new Map<string, number>();
  router.get('/api/events', async (req, res) => {
    const principal = principalOf(req);
    const visible = throwIfRejected(visibleRequests(principal));
    const held = openStreams.get(principal.username) ?? 0;
    if (held >= MAX_STREAMS_PER_USER) {
      throw new Problem(429, 'Too many requests', `At most ${MAX_STREAMS_PER_USER} open event streams per user; close one first.`, {}, { 'Retry-After': '30' });
    }
    openStreams.set(principal.username, held + 1);
    res.once('close', () => {
      const now = (openStreams.get(principal.username) ?? 1) - 1;
      if (now <= 0) openStreams.delete(principal.username);
      else openStreams.set(principal.username, now);
    });
    // The authenticator verified the token and its expiry, which ends the stream.
    const session = res.locals.session as SessionRef;
    const expiresAt = session.expiresAt.getTime();

    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      // A buffering proxy (nginx) would hold events back until its buffer fills.
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.write(`retry: ${timing.pollMs}\n: connected\n\n`);

    let open = true;
    let wake: (() => void) | undefined;
    let sleeping: NodeJS.Timeout | undefined;
    const close = () => {
      if (!open) return;
      open = false;
      clearTimeout(expiry);
      clearInterval(heartbeat);
      clearTimeout(sleeping);
      wake?.();
      res.end();
    };
    const expiry = setTimeout(close, Math.min(MAX_STREAM_MS, Math.max(0, expiresAt - Date.now())));
    const heartbeat = setInterval(() => open && res.write(': heartbeat\n\n'), timing.heartbeatMs);
    req.on('close', close);
    res.on('close', close);

    /** id → what was last sent for it, with when that change happened (for pruning). */
    const sent = new Map<string, { key: string; at: number }>();
    let since = new Date(Date.now() - LOOKBACK_MS);
    while (open) {
      const started = Date.now();
      try {
        // Signed out (in any tab, on any API process): the stream ends with the session.
        if (await isSessionEnded(db, session)) {
          close();
          break;
        }
        const rows = await db.accessRequest.findMany({
          where: { AND: [visible, { OR: [{ updatedAt: { gte: since } }, { reviews: { some: { reviewedAt: { gte: since } } } }] }] },
          select: { id: true, status: true, updatedAt: true, reviews: { select: { reviewedAt: true } } },
          orderBy: [{ updatedAt: 'asc' }, { id: 'asc' }],
          take: BATCH,
        });
        if (!open) break;
        for (const row of rows) {
          const reviewedAt = row.reviews.reduce((latest, r) => Math.max(latest, r.reviewedAt.getTime()), 0);
          const changedAt = Math.max(row.updatedAt.getTime(), reviewedAt);
          const key = `${row.status}|${row.updatedAt.getTime()}|${row.reviews.length}|${reviewedAt}`;
          if (sent.get(row.id)?.key === key) continue;
          sent.set(row.id, { key, at: changedAt });
          const data = { id: row.id, status: row.status, updatedAt: new Date(changedAt).toISOString() };
          res.write(`event: access-request\ndata: ${JSON.stringify(data)}\n\n`);
        }
        // A full batch may hide changes past it: say so rather than lose them.
        if (rows.length === BATCH) res.write('event: resync\ndata: {}\n\n');
      } catch (error) {
        // The page reconnects (and reloads what it shows); a stream that silently stopped would not.
        log.warn({ err: (error as Error).message }, 'event stream poll failed; closing the stream');
        close();
        break;
      }
      since = new Date(started - LOOKBACK_MS);
      for (const [id, entry] of sent) if (entry.at < since.getTime()) sent.delete(id);
      if (!open) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        sleeping = setTimeout(resolve, Math.max(0, timing.pollMs - (Date.now() - started)));
      });
    }
  });
  return router;
}
