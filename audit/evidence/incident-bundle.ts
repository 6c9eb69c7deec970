import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { JWK } from 'jose';
import type { IncidentReport, IncidentView } from '../../contracts/incident.js';
import type { Db } from '../../db/client.js';
import { incidentView, loadIncident } from '../../db/incidents.js';
import type { SigningKeyStore } from '../../tokens/signing-keys.js';
import { incidentReport } from '../read/incident-report.js';
import { loadHistory } from '../read/case-timeline.js';
import { bundleSignatureProblems, chainSegmentFrom, signBundle, verifyChainSegment, type BundleVerification, type ChainSegment } from './evidence-bundle.js';

export const INCIDENT_BUNDLE_FORMAT = 'imaging-access-review/incident-bundle@1';
const INCIDENT_BUNDLE_TYP = 'iar-incident-bundle+jws';

/** An incident exported as a case is: its rows, its report, its workflow history and its chain segment, signed. */
export interface IncidentBundle {
  format: typeof INCIDENT_BUNDLE_FORMAT;
  incidentId: string;
  exportedAt: string;
  /** Notifications with their content, clocks, traces, sign-offs. */
  incident: IncidentView;
  report: IncidentReport;
  history: { source: string; sha256: string | null; json: string | null };
  chain: ChainSegment;
}

export interface SignedIncidentBundle {
  bundle: IncidentBundle;
  signature: string;
}

export async function exportIncidentBundle(deps: { db: Db; temporal: Client; keys: SigningKeyStore }, incidentId: string): Promise<SignedIncidentBundle> {
  const { db } = deps;
  const row = await loadIncident(db, incidentId);
  if (!row) throw new Error(`no incident ${incidentId}`);
  const firstEvent = await db.auditEvent.findFirst({ where: { accessRequestId: incidentId }, orderBy: { seq: 'asc' } });
  if (!firstEvent) throw new Error(`incident ${incidentId} has no audit events`);
  const [report, chain, { history, source }] = await Promise.all([
    incidentReport(db, row),
    chainSegmentFrom(db, deps.keys, firstEvent.seq),
    loadHistory(deps.temporal, db, incidentId),
  ]);
  const historyJson = history ? historyToJSON(history) : null;
  const bundle: IncidentBundle = {
    format: INCIDENT_BUNDLE_FORMAT,
    incidentId,
    exportedAt: new Date().toISOString(),
    incident: incidentView(row),
    report,
    history: { source, sha256: historyJson ? createHash('sha256').update(historyJson).digest('hex') : null, json: historyJson },
    chain,
  };
  return { bundle, signature: await signBundle(deps.keys, INCIDENT_BUNDLE_TYP, bundle) };
}

/** Checks an incident bundle offline, with nothing but the published public keys. */
export async function verifyIncidentBundle(signed: SignedIncidentBundle, keys: { keys: JWK[] }): Promise<BundleVerification> {
  const { bundle } = signed;
  const problems = await bundleSignatureProblems(signed.signature, INCIDENT_BUNDLE_TYP, bundle, keys);
  if (bundle?.format !== INCIDENT_BUNDLE_FORMAT) problems.push(`unknown bundle format ${String(bundle?.format)}`);
  problems.push(...(await verifyChainSegment(bundle?.chain, keys)));
  const events = bundle?.chain?.events ?? [];
  if (!events.some((e) => e.accessRequestId === bundle.incidentId && e.type === 'incident.declared'))
    problems.push('the chain segment lacks the incident’s declaration');
  // What the rows say happened must be on the chain too: each trace and each notification queued.
  for (const trace of bundle?.incident?.traces ?? []) {
    if (!events.some((e) => e.type === 'incident.leak-traced' && (e.payload as { traceId?: string }).traceId === trace.id))
      problems.push(`trace ${trace.id} is not on the chain`);
  }
  if (bundle?.incident?.closedAt && !events.some((e) => e.accessRequestId === bundle.incidentId && e.type === 'incident.closed'))
    problems.push('the incident is closed, but its close is not on the chain');
  if (bundle.history?.json && createHash('sha256').update(bundle.history.json).digest('hex') !== bundle.history.sha256)
    problems.push('the workflow history does not match its digest');
  return { ok: problems.length === 0, problems };
}
