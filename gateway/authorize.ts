import { instanceOf, seriesOf, studyOf, type DicomwebRoute } from './dicomweb-route.js';
import type { GrantStatus } from './grant-status.js';
import { confineQidoQuery } from './qido-policy.js';
import { Refusal } from './refusal.js';
import type { StudyHierarchy } from './study-hierarchy.js';
import type { VerifiedToken } from './token-verifier.js';
import { assertWindowQuery } from './window-parameter.js';

/** Retrieve parameters a viewer needs; any other could ask the PACS for more than the route names. */
const WADO_QUERY_KEYS = new Set(['quality', 'viewport', 'window', 'accept']);

/**
 * Whether the token may have what the route names; the query, confined to its grant. Keep
 * the order: it decides which reason a request with several faults is refused and recorded for.
 */
export async function authorize(
  deps: { grants: GrantStatus; hierarchy: StudyHierarchy },
  token: VerifiedToken,
  route: DicomwebRoute,
  rawQuery: string,
): Promise<URLSearchParams> {
  const study = studyOf(route);
  if (study !== undefined && !token.studies.has(study)) throw new Refusal(403, 'STUDY_NOT_GRANTED', 'The token does not grant that study.');
  await deps.grants.assertActive(token.grantId);
  const query = confineQuery(route, rawQuery, token.studies);
  // Whatever is served belongs to the token's patient, as the PACS says: the study in the
  // path, or every granted study for a study-level QIDO (confined to them above).
  await deps.hierarchy.assertPatient(study !== undefined ? [study] : token.studies, token.patientId);
  if (study) await deps.hierarchy.assertContained(study, seriesOf(route), instanceOf(route));
  return query;
}

function confineQuery(route: DicomwebRoute, rawQuery: string, granted: ReadonlySet<string>): URLSearchParams {
  if (route.kind === 'qido') return confineQidoQuery(route, rawQuery, granted);
  const query = new URLSearchParams(rawQuery);
  for (const key of query.keys()) if (!WADO_QUERY_KEYS.has(key)) throw new Refusal(403, 'QUERY_NOT_ALLOWED', `${key} is not a retrieve parameter served here.`);
  // Checked here, before the PACS is asked anything (the patient and containment checks
  // below ask it): a value the PACS would refuse, or render wrong, never reaches it.
  assertWindowQuery(query);
  return query;
}
