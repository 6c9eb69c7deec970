import { createHash, randomUUID } from 'node:crypto';
import { appendAuditEvent } from '../db/audit-chain.js';
import express from 'express';
import {
  DICOM_LEAK_MEDIA_TYPE,
  LEAK_TRACE_MAX_BYTES,
  LEAKED_DICOM_MAX_BYTES,
  RENDERED_LEAK_MEDIA_TYPES,
  type LeakTrace,
  type LeakTraceMatch,
} from '../contracts/leak-trace.js';
import { traceLeakedDicom } from './dicom-leak-tracer.js';
import { inTransaction, type Db } from '../db/client.js';
import { PacsUnavailableError, type DicomwebClient } from '../pacs/dicomweb-client.js';
import { hammingDistance, leakedImageHashes, renderHashOfImageArea } from '../tracing/rendered-hash.js';
import { imageAreaHeight } from '../tracing/rendered-layout.js';
import { MATCH_MARGIN, MATCH_MIN_SCORE, pickServing, scoreServings, type ServingScore } from '../tracing/rendered-mark-detector.js';
import { decodeGrey, type GreyImage } from '../tracing/rendered-pixels.js';
import { parseRenderSource } from '../tracing/rendered-source.js';
import { Problem } from './problem.js';

// Traces a leaked rendered image back to the serving that produced it: find the servings of a
// similar picture by perceptual hash, render each one's picture again at the PACS as the
// reference, and read which serving's mark the leaked copy carries. Names a serving only on
// strong evidence; otherwise says so, with how many servings it looked at.

/**
 * Hash bits a leaked copy may differ by. The surviving degradations measured stay within 10
 * (scripts/measure-serving-marks.ts); unrelated pictures differ by about 32. A looser bound only
 * costs work: every candidate is still judged by its mark.
 */
export const HASH_MAX_DISTANCE = 14;
/** Servings looked at, nearest hash first, and distinct renderings asked of the PACS: bounds the work of one trace. */
const MAX_CANDIDATES = 500;
const MAX_RENDERINGS = 20;
/** A reference whose hash differs more than this from the one kept is not what was served (the PACS renders it otherwise now). */
const REFERENCE_MAX_DISTANCE = 4;
/** Leaked images are decoded to at most this width (larger ones are area-averaged down first). */
const MAX_DECODE_WIDTH = 2048;

export interface LeakTracerDeps {
  db: Db;
  /** The PACS, asked for each candidate's rendering again; undefined when none is configured. */
  pacs: DicomwebClient | undefined;
}

interface Candidate {
  id: string;
  occurred_at: Date;
  username: string | null;
  grant_id: string | null;
  study: string | null;
  series: string | null;
  instance: string | null;
  route: string;
  purpose_of_use: string | null;
  render_hash: string;
  render_source: string | null;
  distance: number;
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The file could not be decoded as an image. */
export function notAnImage(): Problem {
  return new Problem(400, 'File not an image', 'The file could not be decoded as a JPEG or PNG image; nothing was recorded.', { reason: 'FILE_NOT_AN_IMAGE' });
}

/** The file as sent, up to the limit (413 beyond, from the body parser); never parsed as anything else. */
export const rawLeakedFile = express.raw({ type: () => true, limit: LEAKED_DICOM_MAX_BYTES });

/** What kind of leak the body's media type says it is (parameters aside); 415 for any other type. */
export function leakedFileKind(contentType: string | undefined): 'rendered' | 'dicom' {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if ((RENDERED_LEAK_MEDIA_TYPES as readonly string[]).includes(type)) return 'rendered';
  if (type === DICOM_LEAK_MEDIA_TYPE) return 'dicom';
  const types = [...RENDERED_LEAK_MEDIA_TYPES, DICOM_LEAK_MEDIA_TYPE].join(', ');
  throw new Problem(415, 'Unsupported media type', `Send the leaked file as ${types}; nothing was recorded.`, {
    reason: 'UNSUPPORTED_LEAK_TYPE',
  });
}

/** A leaked file, as the raw body parser left it, traced by its kind. */
export async function traceLeakedFile(deps: LeakTracerDeps, body: unknown, contentType: string | undefined): Promise<LeakTrace> {
  const kind = leakedFileKind(contentType);
  const bytes = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
  if (kind === 'dicom') return traceLeakedDicom(deps.db, bytes, sha256Hex(bytes));
  if (bytes.length === 0) throw notAnImage();
  // Images have a smaller limit than DICOM files, which share the body parser.
  if (bytes.length > LEAK_TRACE_MAX_BYTES)
    throw new Problem(413, 'Payload too large', `A leaked image is at most ${LEAK_TRACE_MAX_BYTES / 1024 / 1024} MiB; nothing was recorded.`);
  return traceLeakedImage(deps, bytes);
}

/** Traces a leaked rendered image (JPEG or PNG bytes). Throws FILE_NOT_AN_IMAGE (400) or PACS_UNAVAILABLE (503). */
export async function traceLeakedImage(deps: LeakTracerDeps, bytes: Buffer): Promise<LeakTrace> {
  const fileSha256 = sha256Hex(bytes);
  let leaked: GreyImage;
  try {
    leaked = await decodeGrey(bytes, { maxWidth: MAX_DECODE_WIDTH });
  } catch {
    throw notAnImage();
  }
  const candidates = await servingsOfSimilarPictures(deps.db, leakedImageHashes(leaked));
  const answer = (matched: LeakTraceMatch | null, detail: string): LeakTrace => ({
    kind: 'rendered',
    fileSha256,
    matched,
    candidates: candidates.length,
    detail,
  });
  if (candidates.length === 0) {
    return answer(
      null,
      `No confident match: no served rendering has a perceptual hash within ${HASH_MAX_DISTANCE} bits of this image, so there is no serving to compare.`,
    );
  }

  const bySource = new Map<string, Candidate[]>();
  let unsourced = 0;
  for (const candidate of candidates) {
    if (candidate.render_source === null) unsourced++;
    else bySource.set(candidate.render_source, [...(bySource.get(candidate.render_source) ?? []), candidate]);
  }
  const sources = [...bySource].slice(0, MAX_RENDERINGS);
  const scored: { candidate: Candidate; z: number }[] = [];
  let unmatchedReferences = 0;
  for (const [source, servings] of sources) {
    const reference = await referenceRendering(deps.pacs, source);
    if (!reference) {
      unmatchedReferences += servings.length;
      continue;
    }
    const refHash = renderHashOfImageArea(reference, imageAreaHeight(reference.width, reference.height));
    const comparable = servings.filter((s) => hammingDistance(s.render_hash, refHash) <= REFERENCE_MAX_DISTANCE);
    unmatchedReferences += servings.length - comparable.length;
    const result = scoreServings(
      leaked,
      reference,
      comparable.map((s) => s.id),
    );
    if (!result) continue;
    const zOf = new Map(result.scores.map((s: ServingScore) => [s.servingId, s.z]));
    for (const candidate of comparable) scored.push({ candidate, z: zOf.get(candidate.id) ?? 0 });
  }
  const decision = pickServing(scored);
  const considered =
    `${scored.length} of ${candidates.length} candidate servings scored across ${sources.length} rendering(s)` +
    (unsourced ? `; ${unsourced} without a recorded rendering` : '') +
    (unmatchedReferences ? `; ${unmatchedReferences} whose rendering the PACS no longer gives as served` : '') +
    (bySource.size > sources.length ? `; ${bySource.size - sources.length} rendering(s) beyond the first ${MAX_RENDERINGS} not checked` : '');
  const { best, runnerUp } = decision;
  if (!best) return answer(null, `No confident match: ${considered}.`);
  const scores = `best score ${best.z.toFixed(1)} (threshold ${MATCH_MIN_SCORE}), next ${runnerUp.toFixed(1)} (margin ${MATCH_MARGIN})`;
  if ('weak' in decision) return answer(null, `No confident match: ${scores}; ${considered}.`);
  return answer(matchOf(best.candidate, best.z), `Serving mark read: ${scores}; ${considered}.`);
}

/** Served renderings whose hash is within HASH_MAX_DISTANCE of any of `hashes`, nearest first. */
async function servingsOfSimilarPictures(db: Db, hashes: string[]): Promise<Candidate[]> {
  // bit_count over the XOR of the two hashes read as bit strings (PostgreSQL 14+).
  return db.$queryRaw<Candidate[]>`
    SELECT * FROM (
      SELECT r.id, r.occurred_at, r.username, r.grant_id, r.study, r.series, r.instance, r.route, r.purpose_of_use,
             r.render_hash, r.render_source,
             (SELECT min(bit_count(('x' || r.render_hash)::bit(64) # ('x' || h)::bit(64)))::int FROM unnest(${hashes}::text[]) AS h) AS distance
        FROM gateway_access_records r
       WHERE r.render_hash IS NOT NULL AND r.outcome = 'served'
    ) c
    WHERE c.distance <= ${HASH_MAX_DISTANCE}
    ORDER BY c.distance, c.occurred_at DESC
    LIMIT ${MAX_CANDIDATES}`;
}

/** The PACS's rendering for a recorded source, unmarked; undefined when the PACS no longer has it. */
async function referenceRendering(pacs: DicomwebClient | undefined, source: string): Promise<GreyImage | undefined> {
  const request = parseRenderSource(source);
  if (!request) return undefined;
  if (!pacs) throw pacsUnavailable();
  let response: Response;
  try {
    response = await pacs.get(request.path, request.query, undefined);
  } catch (error) {
    if (error instanceof PacsUnavailableError) throw pacsUnavailable();
    throw error;
  }
  if (response.status === 404) return undefined;
  if (!response.ok) throw pacsUnavailable();
  try {
    return await decodeGrey(Buffer.from(await response.arrayBuffer()));
  } catch {
    return undefined;
  }
}

function pacsUnavailable(): Problem {
  return new Problem(
    503,
    'PACS unavailable',
    'The PACS could not render the candidate servings again, so nothing can be decided; nothing was recorded. Retry later.',
    {
      reason: 'PACS_UNAVAILABLE',
    },
  );
}

function matchOf(c: Candidate, score: number): LeakTraceMatch {
  return {
    servingId: c.id,
    grantId: c.grant_id,
    username: c.username,
    occurredAt: c.occurred_at.toISOString(),
    study: c.study,
    series: c.series,
    instance: c.instance,
    route: c.route,
    purposeOfUse: c.purpose_of_use,
    score: Math.round(score * 10) / 10,
  };
}

/**
 * A trace on the audit chain, under the matched grant's case (so it shows in that case's
 * timeline and evidence): who traced, the file's SHA-256 and the serving named. Never the file.
 */
export async function recordLeakTrace(db: Db, actor: string, trace: LeakTrace, incidentId?: string): Promise<void> {
  await inTransaction(db, (tx) =>
    appendAuditEvent(tx, {
      dedupeKey: `leak-trace:${randomUUID()}`,
      type: 'leak.traced',
      actor,
      ...(trace.matched?.grantId ? { accessRequestId: trace.matched.grantId } : {}),
      payload: {
        kind: trace.kind,
        fileSha256: trace.fileSha256,
        matchedServingId: trace.matched?.servingId ?? null,
        score: trace.matched?.score ?? null,
        candidates: trace.candidates,
        ...(incidentId ? { incidentId } : {}),
      },
      occurredAt: new Date(),
    }),
  );
}
