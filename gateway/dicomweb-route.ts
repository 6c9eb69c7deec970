import { dicomUid } from '../contracts/identifiers.js';
import { Refusal } from './refusal.js';

export type WadoResource = 'retrieve' | 'metadata' | 'rendered' | 'thumbnail' | 'frames' | 'frames-rendered' | 'bulkdata';

export type DicomwebRoute =
  | { kind: 'qido'; level: 'studies' }
  | { kind: 'qido'; level: 'series' | 'study-instances'; study: string }
  | { kind: 'qido'; level: 'series-instances'; study: string; series: string }
  | { kind: 'wado'; resource: WadoResource; study: string; series?: string; instance?: string };

export interface ParsedPath {
  route: DicomwebRoute;
  /** The path as it will be sent to the PACS: decoded, dot segments resolved, one slash each. */
  normalisedPath: string;
}

export function studyOf(route: DicomwebRoute): string | undefined {
  return 'study' in route ? route.study : undefined;
}

export function seriesOf(route: DicomwebRoute): string | undefined {
  return 'series' in route ? route.series : undefined;
}

export function instanceOf(route: DicomwebRoute): string | undefined {
  return 'instance' in route ? route.instance : undefined;
}

/** A route as access records and logs name it; `unparsed` before the path was understood. */
export function describeRoute(route: DicomwebRoute | undefined): string {
  if (!route) return 'unparsed';
  return route.kind === 'qido' ? `qido:${route.level}` : `wado:${route.resource}`;
}

const LEVEL_RESOURCES = new Set(['metadata', 'rendered', 'thumbnail']);

function uid(segment: string | undefined): string {
  if (segment === undefined || !dicomUid.safeParse(segment).success)
    throw new Refusal(403, 'ROUTE_NOT_ALLOWED', 'A path segment that must be a DICOM UID is not one.');
  return segment;
}

/**
 * Normalises a request path and matches it against the DICOMweb routes the gateway serves:
 * WADO-RS (study, series, instance, frames, metadata, rendered, thumbnail, bulk data) and
 * QIDO-RS. Everything else is refused: Orthanc's REST API, legacy /wado, /servers, STOW-RS,
 * and anything that does not parse.
 */
export function parseDicomwebPath(rawPath: string): ParsedPath {
  // Encoded separators and NULs have no business in a DICOMweb path, and decoding twice is
  // how a second layer of encoding would slip past a matcher.
  if (/%(2f|5c|00)/i.test(rawPath) || rawPath.includes('\\') || rawPath.includes('\0')) {
    throw new Refusal(400, 'PATH_NOT_CANONICAL', 'The path carries an encoded separator or NUL.');
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    throw new Refusal(400, 'PATH_NOT_CANONICAL', 'The path is not valid percent-encoding.');
  }
  if (decoded.includes('%')) throw new Refusal(400, 'PATH_NOT_CANONICAL', 'The path is encoded more than once.');
  const segments: string[] = [];
  for (const segment of decoded.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (segments.pop() === undefined) throw new Refusal(400, 'PATH_NOT_CANONICAL', 'The path climbs above the root.');
      continue;
    }
    segments.push(segment);
  }
  const route = match(segments);
  return { route, normalisedPath: `/${segments.join('/')}` };
}

function match(s: string[]): DicomwebRoute {
  const notAllowed = () => new Refusal(403, 'ROUTE_NOT_ALLOWED', 'Only DICOMweb WADO-RS and QIDO-RS routes for a granted study are served.');
  if (s[0] !== 'dicom-web' || s[1] !== 'studies') throw notAllowed();
  if (s.length === 2) return { kind: 'qido', level: 'studies' };
  const study = uid(s[2]);
  if (s.length === 3) return { kind: 'wado', resource: 'retrieve', study };
  if (s.length === 4) {
    if (s[3] === 'series') return { kind: 'qido', level: 'series', study };
    if (s[3] === 'instances') return { kind: 'qido', level: 'study-instances', study };
    if (LEVEL_RESOURCES.has(s[3]!)) return { kind: 'wado', resource: s[3] as WadoResource, study };
    throw notAllowed();
  }
  if (s[3] !== 'series') throw notAllowed();
  const series = uid(s[4]);
  if (s.length === 5) return { kind: 'wado', resource: 'retrieve', study, series };
  if (s.length === 6) {
    if (s[5] === 'instances') return { kind: 'qido', level: 'series-instances', study, series };
    if (LEVEL_RESOURCES.has(s[5]!)) return { kind: 'wado', resource: s[5] as WadoResource, study, series };
    throw notAllowed();
  }
  if (s[5] !== 'instances') throw notAllowed();
  const instance = uid(s[6]);
  if (s.length === 7) return { kind: 'wado', resource: 'retrieve', study, series, instance };
  if (s.length === 8 && LEVEL_RESOURCES.has(s[7]!)) return { kind: 'wado', resource: s[7] as WadoResource, study, series, instance };
  if (s[7] === 'frames' && /^[1-9][0-9]{0,5}(,[1-9][0-9]{0,5}){0,99}$/.test(s[8] ?? '')) {
    if (s.length === 9) return { kind: 'wado', resource: 'frames', study, series, instance };
    if (s.length === 10 && s[9] === 'rendered') return { kind: 'wado', resource: 'frames-rendered', study, series, instance };
  }
  // Orthanc's bulk data URIs: /bulk/<tag>[/<item>/<tag>...]
  if (s[7] === 'bulk' && s.length >= 9 && s.slice(8).every((p) => /^([0-9a-fA-F]{8}|[0-9]{1,4})$/.test(p))) {
    return { kind: 'wado', resource: 'bulkdata', study, series, instance };
  }
  throw notAllowed();
}
