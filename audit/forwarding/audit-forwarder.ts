import type { Db } from '../../db/client.js';
import { inTransaction } from '../../db/client.js';
import { accessFacts, isLifecycleEvent, lifecycleFacts, type AccessRecordFacts } from '../formats/audit-facts.js';
import { dicomAuditMessage, AUDIT_SOURCE_ID } from '../formats/dicom-audit-message.js';
import { rfc5424, type SyslogSender } from './syslog-sender.js';

const BATCH = 200;

/**
 * Sends DICOM audit messages for image accesses, refusals, grants and revocations to the
 * syslog collector, from the database, so nothing is lost while the collector is down:
 * access records are marked sent only after their batch went out, and the audit chain is
 * followed by a cursor advanced the same way. Each batch holds a row lock, so several
 * processes forward each event once. A pass that fails has marked nothing it did not send;
 * the caller runs it again (the audit-forwarding workflow's activity retries).
 */
export class AuditForwarder {
  private running?: Promise<{ accessRecords: number; chainEvents: number }>;

  constructor(
    private readonly db: Db,
    private readonly sender: SyslogSender,
  ) {}

  /**
   * One pass over both sources, until nothing is pending. Resolves with how many access
   * records were sent and how many chain events the cursor moved past (only grants and
   * revocations among them make messages). `onBatch` is called after each batch went out.
   */
  forward(onBatch?: () => void): Promise<{ accessRecords: number; chainEvents: number }> {
    this.running ??= (async () => {
      const sent = { accessRecords: 0, chainEvents: 0 };
      for (;;) {
        const accessRecords = await this.forwardAccessRecords();
        const chainEvents = await this.forwardChainEvents();
        if (accessRecords + chainEvents === 0) return sent;
        sent.accessRecords += accessRecords;
        sent.chainEvents += chainEvents;
        onBatch?.();
      }
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Waits for a pass under way, then closes the connection to the collector. */
  async close(): Promise<void> {
    await this.running?.catch(() => undefined);
    this.sender.close();
  }

  private async forwardAccessRecords(): Promise<number> {
    return inTransaction(this.db, async (tx) => {
      // Columns aliased to the access-record contract's names, so a row is the facts as they are.
      const rows = await tx.$queryRaw<(AccessRecordFacts & { patientId: string | null; purposeOfUse: string | null })[]>`
        SELECT r.id, r.occurred_at AS "occurredAt", r.username, r.grant_id AS "grantId", r.jti, r.study, r.route, r.status, r.outcome,
               r.reason, r.client_ip AS "clientIp", a.patient_id AS "patientId", a.purpose_of_use AS "purposeOfUse"
          FROM gateway_access_records r LEFT JOIN access_requests a ON a.id = r.grant_id
         WHERE r.forwarded_at IS NULL ORDER BY r.occurred_at LIMIT ${BATCH} FOR UPDATE OF r SKIP LOCKED`;
      if (rows.length === 0) return 0;
      const messages = rows.map((r) => {
        const { patientId, purposeOfUse, ...record } = r;
        const facts = accessFacts(record, patientId ? { patientId, purposeOfUse: purposeOfUse ?? '' } : null);
        return rfc5424(dicomAuditMessage(facts), r.occurredAt, `${AUDIT_SOURCE_ID}-gateway`);
      });
      await this.sender.send(messages);
      await tx.gatewayAccessRecord.updateMany({ where: { id: { in: rows.map((r) => r.id) } }, data: { forwardedAt: new Date() } });
      return rows.length;
    });
  }

  private async forwardChainEvents(): Promise<number> {
    return inTransaction(this.db, async (tx) => {
      const [cursor] = await tx.$queryRaw<{ position: string }[]>`SELECT position FROM audit_forwarder_cursors WHERE name = 'audit_events' FOR UPDATE`;
      const after = BigInt(cursor?.position ?? '0');
      const events = await tx.auditEvent.findMany({ where: { seq: { gt: after } }, orderBy: { seq: 'asc' }, take: BATCH });
      if (events.length === 0) return 0;
      const relevant = events.filter(isLifecycleEvent);
      const cases = await tx.accessRequest.findMany({ where: { id: { in: relevant.map((e) => e.accessRequestId!) } } });
      const byId = new Map(cases.map((c) => [c.id, c]));
      const messages = relevant.map((e) =>
        rfc5424(dicomAuditMessage(lifecycleFacts(e, byId.get(e.accessRequestId!) ?? null)), e.occurredAt, `${AUDIT_SOURCE_ID}-api`),
      );
      await this.sender.send(messages);
      await tx.auditForwarderCursor.update({ where: { name: 'audit_events' }, data: { position: events[events.length - 1]!.seq.toString() } });
      return events.length;
    });
  }
}
