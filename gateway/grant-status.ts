import type { Db } from '../db/client.js';
import { isGrantActive, type GrantState } from '../domain/grant.js';
import { Refusal } from './refusal.js';

interface Entry {
  /** The grant as last read; undefined when there is no such request. */
  grant: GrantState | undefined;
  checkedAt: number;
  lastUsed: number;
}

/**
 * Whether the grant behind a token is active, by the domain's definition (domain/grant.ts):
 * status and end come from the database, the time from this clock on every request, so a
 * grant past its end is refused at once, before the workflow records EXPIRED. Revocation
 * cannot be foreseen: a poller refreshes every grant in use twice per `maxStalenessMs`, in
 * one query; a grant whose state is older than that is looked up before the request goes
 * on, and if the database does not answer in time the request is refused (fail closed).
 */
export class GrantStatus {
  private readonly entries = new Map<string, Entry>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly maxStalenessMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), Math.max(250, this.maxStalenessMs / 2));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async assertActive(grantId: string): Promise<void> {
    const now = this.now();
    let entry = this.entries.get(grantId);
    if (!entry || now - entry.checkedAt > this.maxStalenessMs) {
      await this.lookup([grantId], Math.max(200, this.maxStalenessMs / 2));
      entry = this.entries.get(grantId)!;
    }
    entry.lastUsed = now;
    if (!entry.grant || !isGrantActive(entry.grant, this.now())) {
      throw new Refusal(403, 'GRANT_NOT_ACTIVE', 'The grant behind this token is no longer active.');
    }
  }

  private async refresh(): Promise<void> {
    const cutoff = this.now() - 10 * 60_000;
    for (const [id, entry] of this.entries) if (entry.lastUsed < cutoff) this.entries.delete(id);
    if (this.entries.size) await this.lookup([...this.entries.keys()], this.maxStalenessMs);
  }

  private async lookup(ids: string[], timeoutMs: number): Promise<void> {
    const checkedAt = this.now();
    let timer: NodeJS.Timeout | undefined;
    let rows: { id: string; status: string; grant: { expiresAt: Date } | null }[];
    try {
      rows = await Promise.race([
        this.db.accessRequest.findMany({ where: { id: { in: ids } }, select: { id: true, status: true, grant: { select: { expiresAt: true } } } }),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), timeoutMs))),
      ]);
    } catch {
      throw new Refusal(503, 'GRANT_STATE_UNKNOWN', 'The gateway cannot confirm that the grant is still active.');
    } finally {
      clearTimeout(timer);
    }
    const found = new Map(rows.map((r): [string, GrantState] => [r.id, { status: r.status, expiresAt: r.grant?.expiresAt.getTime() }]));
    for (const id of ids) {
      const previous = this.entries.get(id);
      this.entries.set(id, { grant: found.get(id), checkedAt, lastUsed: previous?.lastUsed ?? checkedAt });
    }
  }
}
