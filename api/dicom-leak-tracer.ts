import dicomParser from 'dicom-parser';
import type { LeakTrace } from '../contracts/leak-trace.js';
import type { Db } from '../db/client.js';
import { DicomTraceError } from '../tracing/dicom-part10.js';
import { readServingTag } from '../tracing/dicom-serving-tag.js';
import { Problem } from './problem.js';

// A leaked DICOM file traced by the private block the gateway wrote into it. The block is not
// signed: anyone can write one. So it names a serving only when the records agree with it: the
// serving exists, served this very study under the grant the block names.

function notDicom(): Problem {
  return new Problem(400, 'File not DICOM', 'The file is not a DICOM Part 10 file; nothing was recorded.', { reason: 'FILE_NOT_DICOM' });
}

/** The file's study, series and instance UIDs, as its dataset says. */
function uidsOf(bytes: Buffer): { study?: string; series?: string; instance?: string } {
  try {
    const dataset = dicomParser.parseDicom(new Uint8Array(bytes), { untilTag: 'x0020000f' });
    const uid = (tag: string) => dataset.string(tag)?.trim() || undefined;
    return { study: uid('x0020000d'), series: uid('x0020000e'), instance: uid('x00080018') };
  } catch {
    return {};
  }
}

export async function traceLeakedDicom(db: Db, bytes: Buffer, fileSha256: string): Promise<LeakTrace> {
  const answer = (detail: string, candidates = 0): LeakTrace => ({ kind: 'dicom', fileSha256, matched: null, candidates, detail });
  let mark: ReturnType<typeof readServingTag>;
  try {
    mark = readServingTag(bytes);
  } catch (error) {
    if (!(error instanceof DicomTraceError)) throw error;
    if (error.code === 'NOT_PART10' || error.code === 'MALFORMED') throw notDicom();
    return answer(`The serving tag cannot be read: ${error.message}`);
  }
  if (!mark) return answer('The file carries no serving tag of ours: it did not leave through the gateway, or the tag was removed.');
  const record = await db.gatewayAccessRecord.findUnique({ where: { id: mark.servingId } });
  const file = uidsOf(bytes);
  // A retrieve cut off after some instances went out is recorded refused, yet what went out
  // was marked and may leak: any retrieve answered 200 with bytes sent counts.
  const answered = record !== null && record.route === 'wado:retrieve' && record.status === 200 && record.bytes > 0n;
  // The record names the study, and the series and instance when it was asked for one: the file must be of them.
  const sameObject =
    record !== null &&
    file.study !== undefined &&
    record.study === file.study &&
    (record.series === null || record.series === file.series) &&
    (record.instance === null || record.instance === file.instance);
  if (!record || !answered || record.grantId !== mark.grantId || !sameObject) {
    return answer(
      'The file names a serving the records do not bear out (no such serving, another grant, or another study, series or instance): ' +
        'the tag may have been forged or copied; nobody is named.',
      record ? 1 : 0,
    );
  }
  return {
    kind: 'dicom',
    fileSha256,
    matched: {
      servingId: record.id,
      grantId: record.grantId,
      username: record.username,
      occurredAt: record.occurredAt.toISOString(),
      study: record.study,
      series: record.series,
      instance: record.instance,
      route: record.route,
      purposeOfUse: record.purposeOfUse,
      score: 1,
    },
    candidates: 1,
    detail: 'The file’s serving tag names this serving, and its record agrees: the same grant, answered, for this study (series, instance).',
  };
}
