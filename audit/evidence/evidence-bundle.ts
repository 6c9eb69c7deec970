import { createHash } from 'node:crypto';
import { CompactSign, compactVerify, createLocalJWKSet, type JWK } from 'jose';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { eventHash } from '../../db/audit-chain.js';
import { canonicalJson } from '../../contracts/canonical-json.js';
import { chainEventFromJson, chainEventJson, type ChainEventJson, type ChainLinks } from '../../contracts/chain-event.js';
import type { Db } from '../../db/client.js';
import { withReviewsAndGrant } from '../../db/access-request-record.js';
import { toView } from '../read/access-request-view.js';
import { SIGNING_ALG, type SigningKeyStore } from '../../tokens/signing-keys.js';
import { loadHistory } from '../read/case-timeline.js';
import { signCheckpoint, verifyCheckpointJws } from './checkpoints.js';

export const BUNDLE_FORMAT = 'imaging-access-review/evidence-bundle@1';
const BUNDLE_TYP = 'iar-evidence-bundle+jws';

export interface EvidenceBundle {
  format: typeof BUNDLE_FORMAT;
  caseId: string;
  exportedAt: string;
  case: ReturnType<typeof toView>;
  records: { rejectedReviewAttempts: unknown[]; revocations: unknown[]; issuedTokens: unknown[] };
  accessRecords: unknown[];
  history: { source: string; sha256: string | null; json: string | null };
  /** The chain from the case's first event to a signed checkpoint: every link in between. */
  chain: { events: (ChainEventJson & ChainLinks)[]; checkpoint: { seq: string; headHash: string; signedAt: string; jws: string } };
}

export interface SignedEvidenceBundle {
  bundle: EvidenceBundle;
  /** Compact JWS over the SHA-256 of the bundle's RFC 8785 canonical JSON. */
  signature: string;
}

function digest(bundle: object): string {
  return createHash('sha256').update(canonicalJson(bundle)).digest('hex');
}

/** A compact JWS of `typ` over the SHA-256 of the bundle's RFC 8785 canonical JSON. */
export async function signBundle(keys: SigningKeyStore, typ: string, bundle: object): Promise<string> {
  const key = await keys.activeKey();
  return new CompactSign(new TextEncoder().encode(digest(bundle))).setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ }).sign(key.key);
}

/** What is wrong with a bundle's signature, if anything. */
export async function bundleSignatureProblems(signature: string, typ: string, bundle: object, keys: { keys: JWK[] }): Promise<string[]> {
  try {
    const { payload, protectedHeader } = await compactVerify(signature, createLocalJWKSet(keys), { algorithms: [SIGNING_ALG] });
    if (protectedHeader.typ !== typ) return ['the signature is not a signature of this kind of bundle'];
    if (new TextDecoder().decode(payload) !== digest(bundle)) return ['the bundle does not match its signature (it was changed after export)'];
    return [];
  } catch {
    return ['the bundle signature does not verify with the given keys'];
  }
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** Everything about one case, signed with the API's key, for a regulator or a court. */
export async function exportEvidenceBundle(deps: { db: Db; temporal: Client; keys: SigningKeyStore }, caseId: string): Promise<SignedEvidenceBundle> {
  const { db } = deps;
  const row = await db.accessRequest.findUniqueOrThrow({ where: { id: caseId }, include: withReviewsAndGrant });
  const [rejected, revocations, tokens, accesses, firstEvent] = await Promise.all([
    db.rejectedReviewAttempt.findMany({ where: { accessRequestId: caseId }, orderBy: { attemptedAt: 'asc' } }),
    db.revocation.findMany({ where: { accessRequestId: caseId } }),
    db.issuedToken.findMany({ where: { accessRequestId: caseId }, orderBy: { issuedAt: 'asc' } }),
    db.gatewayAccessRecord.findMany({ where: { grantId: caseId }, orderBy: { occurredAt: 'asc' } }),
    db.auditEvent.findFirst({ where: { accessRequestId: caseId }, orderBy: { seq: 'asc' } }),
  ]);
  if (!firstEvent) throw new Error(`case ${caseId} has no audit events`);
  // A checkpoint at (or after) the case's last event closes the segment.
  const chain = await chainSegmentFrom(db, deps.keys, firstEvent.seq);
  const { history, source } = await loadHistory(deps.temporal, db, caseId);
  const historyJson = history ? historyToJSON(history) : null;

  const bundle: EvidenceBundle = {
    format: BUNDLE_FORMAT,
    caseId,
    exportedAt: new Date().toISOString(),
    case: toView(row),
    records: {
      rejectedReviewAttempts: rejected.map((r) => ({ ...r, attemptedAt: iso(r.attemptedAt) })),
      revocations: revocations.map((r) => ({ ...r, revokedAt: iso(r.revokedAt) })),
      issuedTokens: tokens.map((t) => ({ ...t, issuedAt: iso(t.issuedAt), expiresAt: iso(t.expiresAt) })),
    },
    accessRecords: accesses.map((a) => ({ ...a, occurredAt: iso(a.occurredAt), bytes: a.bytes.toString() })),
    history: { source, sha256: historyJson ? createHash('sha256').update(historyJson).digest('hex') : null, json: historyJson },
    chain,
  };
  return { bundle, signature: await signBundle(deps.keys, BUNDLE_TYP, bundle) };
}

export interface BundleVerification {
  ok: boolean;
  problems: string[];
}

/** Checks a bundle offline, with nothing but the published public keys. */
export async function verifyEvidenceBundle(signed: SignedEvidenceBundle, keys: { keys: JWK[] }): Promise<BundleVerification> {
  const { bundle } = signed;
  const problems = await bundleSignatureProblems(signed.signature, BUNDLE_TYP, bundle, keys);
  if (bundle?.format !== BUNDLE_FORMAT) problems.push(`unknown bundle format ${String(bundle?.format)}`);
  problems.push(...(await verifyChainSegment(bundle?.chain, keys)));
  const events = bundle?.chain?.events ?? [];
  if (!events.some((e) => e.accessRequestId === bundle.caseId && e.type === 'access_request.submitted'))
    problems.push('the chain segment lacks the case’s submission');
  if (bundle.history?.json && createHash('sha256').update(bundle.history.json).digest('hex') !== bundle.history.sha256)
    problems.push('the workflow history does not match its digest');
  return { ok: problems.length === 0, problems };
}

export type ChainSegment = EvidenceBundle['chain'];

/** The chain from `firstSeq` to a checkpoint signed now (at or after the chain's head): every link in between. */
export async function chainSegmentFrom(db: Db, keys: SigningKeyStore, firstSeq: bigint): Promise<ChainSegment> {
  const checkpoint = (await signCheckpoint(db, keys))!;
  const events = await db.auditEvent.findMany({ where: { seq: { gte: firstSeq, lte: checkpoint.seq } }, orderBy: { seq: 'asc' } });
  return {
    events: events.map((e) => ({ ...chainEventJson(e), prevHash: e.prevHash, hash: e.hash })),
    checkpoint: { seq: checkpoint.seq.toString(), headHash: checkpoint.headHash, signedAt: checkpoint.signedAt.toISOString(), jws: checkpoint.jws },
  };
}

/** Every link of a segment recomputed, and its signed checkpoint closing it; the problems found. */
export async function verifyChainSegment(chain: ChainSegment | undefined, keys: { keys: JWK[] }): Promise<string[]> {
  const problems: string[] = [];
  const events = chain?.events ?? [];
  for (const [i, e] of events.entries()) {
    const previous = events[i - 1];
    if (previous && BigInt(e.seq) !== BigInt(previous.seq) + 1n) problems.push(`chain: event ${e.seq} does not follow ${previous.seq}`);
    if (previous && e.prevHash !== previous.hash) problems.push(`chain: event ${e.seq} does not link to ${previous.seq}`);
    const recomputed = eventHash(e.prevHash, chainEventFromJson(e));
    if (recomputed !== e.hash) problems.push(`chain: event ${e.seq} does not match its hash`);
  }
  const last = events[events.length - 1];
  try {
    const claims = await verifyCheckpointJws(chain!.checkpoint.jws, keys);
    if (!last || claims.seq !== last.seq || claims.headHash !== last.hash) problems.push('the signed checkpoint does not close the chain segment');
  } catch {
    problems.push('the checkpoint signature does not verify with the given keys');
  }
  return problems;
}
