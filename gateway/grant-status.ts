import type { Db } from '../db/client.js';
import { activeFreezes, type ActiveFreeze } from '../db/freezes.js';
import { firstMatchingFreeze, type FrozenCandidate } from '../domain/freeze.js';
import { isGrantActive, type GrantState } from '../domain/grant.js';
import { Refusal } from './refusal.js';

interface Entry {
  /** The grant as last read; undefined when there is no such request. */
  grant: GrantState | undefined;
  /** What a freeze is matched against: the request's patient, studies, requester, department. */
  scope: FrozenCandidate | undefined;
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
  /** The freezes in force, read with the same bound as the grants: a freeze stops images as fast as a revocation. */
  private freezes: { list: ActiveFreeze[]; checkedAt: number } | undefined;
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

  /**
   * Reads the freezes and a grant once, before the process serves: a fresh process's first
   * queries (a connection, the query compiler's first plans) can take longer than a request's
   * bound on a loaded machine, and would be refused (503) though nothing is wrong. A database
   * that does not answer here is not fatal: requests are refused until it does (fail closed).
   */
  async warmUp(timeoutMs = 30_000): Promise<boolean> {
    const probe = 'ar-warm-up';
    try {
      await Promise.all([this.lookupFreezes(timeoutMs), this.lookup([probe], timeoutMs)]);
      return true;
    } catch {
      return false;
    } finally {
      this.entries.delete(probe);
    }
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
    if (!this.freezes || now - this.freezes.checkedAt > this.maxStalenessMs) await this.lookupFreezes(Math.max(200, this.maxStalenessMs / 2));
    const freeze = entry.scope && firstMatchingFreeze(this.freezes!.list, entry.scope);
    if (freeze) throw new Refusal(403, 'ACCESS_FROZEN', `Access is frozen (${freeze.id}).`);
  }

  private async lookupFreezes(timeoutMs: number): Promise<void> {
    const checkedAt = this.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const list = await Promise.race([
        activeFreezes(this.db),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), timeoutMs))),
      ]);
      this.freezes = { list, checkedAt };
    } catch {
      throw new Refusal(503, 'GRANT_STATE_UNKNOWN', 'The gateway cannot confirm that access is not frozen.');
    } finally {
      clearTimeout(timer);
    }
  }

  private async refresh(): Promise<void> {
    const cutoff = this.now() - 10 * 60_000;
    for (const [id, entry] of this.entries) if (entry.lastUsed < cutoff) this.entries.delete(id);
    if (this.entries.size) await Promise.all([this.lookup([...this.entries.keys()], this.maxStalenessMs), this.lookupFreezes(this.maxStalenessMs)]);
  }

  private async lookup(ids: string[], timeoutMs: number): Promise<void> {
    const checkedAt = this.now();
    let timer: NodeJS.Timeout | undefined;
    let rows: {
      id: string;
      status: string;
      grant: { expiresAt: Date } | null;
      patientId: string;
      studyInstanceUids: string[];
      requester: string;
      departmentId: string;
    }[];
    try {
      rows = await Promise.race([
        this.db.accessRequest.findMany({
          where: { id: { in: ids } },
          select: {
            id: true,
            status: true,
            grant: { select: { expiresAt: true } },
            patientId: true,
            studyInstanceUids: true,
            requester: true,
            departmentId: true,
          },
        }),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), timeoutMs))),
      ]);
    } catch {
      throw new Refusal(503, 'GRANT_STATE_UNKNOWN', 'The gateway cannot confirm that the grant is still active.');
    } finally {
      clearTimeout(timer);
    }
    const found = new Map(rows.map((r) => [r.id, r]));
    for (const id of ids) {
      const previous = this.entries.get(id);
      const row = found.get(id);
      this.entries.set(id, {
        grant: row && { status: row.status, expiresAt: row.grant?.expiresAt.getTime() },
        scope: row && { patientId: row.patientId, studyInstanceUids: row.studyInstanceUids, usernames: [row.requester], departmentId: row.departmentId },
        checkedAt,
        lastUsed: previous?.lastUsed ?? checkedAt,
      });
    }
  }
}
