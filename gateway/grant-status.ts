import type { Db } from '../db/client.js';
import { Refusal } from './refusal.js';

interface Entry {
  active: boolean;
  checkedAt: number;
  lastUsed: number;
}

/**
 * Revocation state of the grants the gateway has seen, never older than `maxStalenessMs`.
 * A poller refreshes every grant in use twice per bound, in one query; a grant whose state
 * is older than the bound is looked up before the request goes on, and if the database does
 * not answer in time the request is refused (fail closed).
 */
export class GrantStatus {
  private readonly entries = new Map<string, Entry>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly maxStalenessMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), Math.max(250, this.maxStalenessMs / 2));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async assertActive(grantId: string): Promise<void> {
    const now = Date.now();
    let entry = this.entries.get(grantId);
    if (!entry || now - entry.checkedAt > this.maxStalenessMs) {
      await this.lookup([grantId], Math.max(200, this.maxStalenessMs / 2));
      entry = this.entries.get(grantId)!;
    }
    entry.lastUsed = now;
    if (!entry.active) throw new Refusal(403, 'GRANT_NOT_ACTIVE', 'The grant behind this token is no longer active.');
  }

  private async refresh(): Promise<void> {
    const cutoff = Date.now() - 10 * 60_000;
    for (const [id, entry] of this.entries) if (entry.lastUsed < cutoff) this.entries.delete(id);
    if (this.entries.size) await this.lookup([...this.entries.keys()], this.maxStalenessMs);
  }

  private async lookup(ids: string[], timeoutMs: number): Promise<void> {
    const checkedAt = Date.now();
    let timer: NodeJS.Timeout | undefined;
    let rows: { id: string; status: string }[];
    try {
      rows = await Promise.race([
        this.db.accessRequest.findMany({ where: { id: { in: ids } }, select: { id: true, status: true } }),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), timeoutMs))),
      ]);
    } catch {
      throw new Refusal(503, 'GRANT_STATE_UNKNOWN', 'The gateway cannot confirm that the grant is still active.');
    } finally {
      clearTimeout(timer);
    }
    const active = new Set(rows.filter((r) => r.status === 'ACTIVE').map((r) => r.id));
    for (const id of ids) {
      const previous = this.entries.get(id);
      this.entries.set(id, { active: active.has(id), checkedAt, lastUsed: previous?.lastUsed ?? checkedAt });
    }
  }
}
