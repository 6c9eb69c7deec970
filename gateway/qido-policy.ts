import { dicomUid } from '../contracts/identifiers.js';
import type { DicomwebRoute } from './dicomweb-route.js';
import { Refusal } from './refusal.js';

// How QIDO-RS queries are confined to the granted studies:
// - /studies with no StudyInstanceUID is rewritten to the granted set (one list-matching
//   query, which Orthanc answers); with one it must be a granted study.
// - a UID with a wildcard, a list, a repeated key, an attribute given as a hex tag, any
//   patient-level filter, and any key not listed below are refused (403), never rewritten:
//   each is a way to reach beyond the grant, and a viewer never needs one.
const CONTROL_KEYS = new Set(['limit', 'offset', 'includefield', 'fuzzymatching']);
const STUDY_KEYS = new Set([
  'StudyInstanceUID',
  'StudyDate',
  'StudyTime',
  'AccessionNumber',
  'ModalitiesInStudy',
  'StudyDescription',
  'StudyID',
  'ReferringPhysicianName',
]);
const SERIES_KEYS = new Set(['SeriesInstanceUID', 'Modality', 'SeriesNumber', 'SeriesDescription', 'PerformedProcedureStepStartDate']);
const INSTANCE_KEYS = new Set(['SOPInstanceUID', 'SOPClassUID', 'InstanceNumber']);
const UID_KEYS = new Set(['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID', 'SOPClassUID']);
const PATIENT_KEYS = /^(Patient|IssuerOfPatientID|OtherPatient)/;

function allowedKeys(level: Extract<DicomwebRoute, { kind: 'qido' }>['level']): Set<string> {
  switch (level) {
    case 'studies':
      return STUDY_KEYS;
    case 'series':
      return SERIES_KEYS;
    case 'study-instances':
      return new Set([...SERIES_KEYS, ...INSTANCE_KEYS]);
    case 'series-instances':
      return INSTANCE_KEYS;
  }
}

/** The query to send to the PACS, confined to `granted`; refuses what cannot be confined. */
export function confineQidoQuery(route: Extract<DicomwebRoute, { kind: 'qido' }>, rawQuery: string, granted: ReadonlySet<string>): URLSearchParams {
  const query = new URLSearchParams(rawQuery);
  const seen = new Set<string>();
  const allowed = allowedKeys(route.level);
  for (const [key, value] of query) {
    if (seen.has(key)) throw new Refusal(403, 'QIDO_REPEATED_KEY', `The query repeats ${key}.`);
    seen.add(key);
    if (/^[0-9A-Fa-f]{8}$/.test(key)) throw new Refusal(403, 'QIDO_HEX_TAG', 'Attributes must be named by keyword, not by tag.');
    if (PATIENT_KEYS.test(key)) throw new Refusal(403, 'QIDO_PATIENT_FILTER', 'Patient-level queries are not served; ask for a granted study.');
    if (CONTROL_KEYS.has(key)) continue;
    if (!allowed.has(key)) throw new Refusal(403, 'QIDO_KEY_NOT_ALLOWED', `${key} is not a query key served at this level.`);
    if (UID_KEYS.has(key) && !dicomUid.safeParse(value).success) {
      throw new Refusal(403, 'QIDO_UID_PATTERN', `${key} must be exactly one UID: no wildcard, list or pattern.`);
    }
  }
  if (route.level === 'studies') {
    const asked = query.get('StudyInstanceUID');
    if (asked === null) {
      // An empty StudyInstanceUID matches every study: never send one, whatever let an empty grant this far.
      if (granted.size === 0) throw new Refusal(403, 'STUDY_NOT_GRANTED', 'The token grants no study.');
      query.set('StudyInstanceUID', [...granted].join(','));
    } else if (!granted.has(asked)) throw new Refusal(403, 'STUDY_NOT_GRANTED', 'The token does not grant that study.');
  }
  return query;
}
