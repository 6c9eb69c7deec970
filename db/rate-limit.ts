import type { Db } from './client.js';

// The window (60 s) and the staleness (10 min) are written into the SQL below.
const WINDOW_SECONDS = 60;
const SWEEP_EVERY_MS = 60_000;

/** A caller went over a per-user limit; the API answers 429 with Retry-After. */
export class RateLimited extends Error {
  override name = 'RateLimited';
  constructor(
    readonly scope: string,
    readonly perMinute: number,
    readonly retryAfterSeconds: number,
  ) {
    super(`more than ${perMinute} ${scope} a minute`);
  }
}

let lastSweep = 0;

/** Keys idle for ten minutes hold no hit inside any window: they go, once a minute per process. */
async function sweepStaleKeys(db: Db): Promise<void> {
  if (Date.now() - lastSweep < SWEEP_EVERY_MS) return;
  lastSweep = Date.now();
  // Daily allowances (keys `day:…`) hold their hits for a day.
  await db.$executeRaw`DELETE FROM rate_limits
    WHERE (key NOT LIKE 'day:%' AND updated_at < now() - interval '10 minutes') OR updated_at < now() - interval '24 hours'`;
}

/**
 * Counts one hit for `scope:subject` and throws RateLimited when it would be more than
 * `perMinute` in the last 60 seconds. A sliding window, exact across processes: one
 * statement keeps the key's allowed hit times in its row, and ON CONFLICT DO UPDATE locks
 * that row and judges its newest committed version, so concurrent callers queue on it and
 * no two can both take the last slot. (A fixed per-minute window would let twice the limit
 * through around a minute boundary.) A refused hit is not counted.
 */
export async function takeRateLimit(db: Db, scope: string, subject: string, perMinute: number): Promise<void> {
  const key = `${scope}:${subject}`;
  const allowed = await db.$queryRaw<{ count: number }[]>`
    INSERT INTO rate_limits AS r (key, hits, updated_at)
    VALUES (${key}, ARRAY[now()]::timestamptz(3)[], now())
    ON CONFLICT (key) DO UPDATE
      SET hits = array_append(ARRAY(SELECT h FROM unnest(r.hits) AS h WHERE h > now() - interval '60 seconds'), now()),
          updated_at = now()
      WHERE (SELECT count(*) FROM unnest(r.hits) AS h WHERE h > now() - interval '60 seconds') < ${perMinute}::int
    RETURNING cardinality(r.hits)::int AS count`;
  // The hit is counted either way: a failed sweep is retried a minute later, never the caller's error.
  await sweepStaleKeys(db).catch(() => undefined);
  if (allowed.length > 0) return;
  // The oldest hit in the window frees the next slot.
  const [oldest] = await db.$queryRaw<{ seconds: number | null }[]>`
    SELECT ceil(extract(epoch FROM min(h) + interval '60 seconds' - now()))::int AS seconds
    FROM rate_limits, unnest(hits) AS h
    WHERE key = ${key} AND h > now() - interval '60 seconds'`;
  throw new RateLimited(scope, perMinute, Math.min(WINDOW_SECONDS, Math.max(1, oldest?.seconds ?? 1)));
}

/**
 * The same exact, cross-process count over the last 24 hours, for what a person may do only a
 * few times a day (break-glass). Takes one of `perDay` and returns true, or returns false
 * and counts nothing.
 */
export async function takeDailyAllowance(db: Db, scope: string, subject: string, perDay: number): Promise<boolean> {
  const key = `day:${scope}:${subject}`;
  const allowed = await db.$queryRaw<{ count: number }[]>`
    INSERT INTO rate_limits AS r (key, hits, updated_at)
    VALUES (${key}, ARRAY[now()]::timestamptz(3)[], now())
    ON CONFLICT (key) DO UPDATE
      SET hits = array_append(ARRAY(SELECT h FROM unnest(r.hits) AS h WHERE h > now() - interval '24 hours'), now()),
          updated_at = now()
      WHERE (SELECT count(*) FROM unnest(r.hits) AS h WHERE h > now() - interval '24 hours') < ${perDay}::int
    RETURNING cardinality(r.hits)::int AS count`;
  await sweepStaleKeys(db).catch(() => undefined);
  return allowed.length > 0;
}
