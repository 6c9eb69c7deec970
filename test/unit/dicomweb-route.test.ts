import { describe, expect, it } from 'vitest';
import { parseDicomwebPath } from '../../gateway/dicomweb-route.js';
import { Refusal } from '../../gateway/refusal.js';

// The gateway's route allow-list without a server: what parses, what it parses to, the one
// canonical path sent to the PACS, and every shape that is refused (with its status and reason).

const STUDY = '1.2.826.0.1.3680043.8.498.10';
const SERIES = '1.2.826.0.1.3680043.8.498.20';
const INSTANCE = '1.2.826.0.1.3680043.8.498.30';
const OTHER_STUDY = '1.2.826.0.1.3680043.8.498.11';
const S = `/dicom-web/studies/${STUDY}`;
const SE = `${S}/series/${SERIES}`;
const I = `${SE}/instances/${INSTANCE}`;

function refusalOf(rawPath: string): Refusal {
  let parsed: unknown;
  try {
    parsed = parseDicomwebPath(rawPath);
  } catch (error) {
    expect(error).toBeInstanceOf(Refusal);
    return error as Refusal;
  }
  throw new Error(`expected ${JSON.stringify(rawPath)} to be refused, but it parsed to ${JSON.stringify(parsed)}`);
}

const expectNotCanonical = (rawPath: string) =>
  expect({ status: refusalOf(rawPath).status, reason: refusalOf(rawPath).reason }).toEqual({ status: 400, reason: 'PATH_NOT_CANONICAL' });
const expectNotAllowed = (rawPath: string) =>
  expect({ status: refusalOf(rawPath).status, reason: refusalOf(rawPath).reason }).toEqual({ status: 403, reason: 'ROUTE_NOT_ALLOWED' });

describe('parseDicomwebPath accepts every served route', () => {
  it.each([
    ['QIDO studies', '/dicom-web/studies', { kind: 'qido', level: 'studies' }],
    ['QIDO series of a study', `${S}/series`, { kind: 'qido', level: 'series', study: STUDY }],
    ['QIDO instances of a study', `${S}/instances`, { kind: 'qido', level: 'study-instances', study: STUDY }],
    ['QIDO instances of a series', `${SE}/instances`, { kind: 'qido', level: 'series-instances', study: STUDY, series: SERIES }],
    ['WADO-RS study', S, { kind: 'wado', resource: 'retrieve', study: STUDY }],
    ['WADO-RS study metadata', `${S}/metadata`, { kind: 'wado', resource: 'metadata', study: STUDY }],
    ['WADO-RS study rendered', `${S}/rendered`, { kind: 'wado', resource: 'rendered', study: STUDY }],
    ['WADO-RS study thumbnail', `${S}/thumbnail`, { kind: 'wado', resource: 'thumbnail', study: STUDY }],
    ['WADO-RS series', SE, { kind: 'wado', resource: 'retrieve', study: STUDY, series: SERIES }],
    ['WADO-RS series metadata', `${SE}/metadata`, { kind: 'wado', resource: 'metadata', study: STUDY, series: SERIES }],
    ['WADO-RS series rendered', `${SE}/rendered`, { kind: 'wado', resource: 'rendered', study: STUDY, series: SERIES }],
    ['WADO-RS series thumbnail', `${SE}/thumbnail`, { kind: 'wado', resource: 'thumbnail', study: STUDY, series: SERIES }],
    ['WADO-RS instance', I, { kind: 'wado', resource: 'retrieve', study: STUDY, series: SERIES, instance: INSTANCE }],
    ['WADO-RS instance metadata', `${I}/metadata`, { kind: 'wado', resource: 'metadata', study: STUDY, series: SERIES, instance: INSTANCE }],
    ['WADO-RS instance rendered', `${I}/rendered`, { kind: 'wado', resource: 'rendered', study: STUDY, series: SERIES, instance: INSTANCE }],
    ['WADO-RS instance thumbnail', `${I}/thumbnail`, { kind: 'wado', resource: 'thumbnail', study: STUDY, series: SERIES, instance: INSTANCE }],
    ['WADO-RS one frame', `${I}/frames/1`, { kind: 'wado', resource: 'frames', study: STUDY, series: SERIES, instance: INSTANCE }],
    ['WADO-RS frame list', `${I}/frames/1,2,17`, { kind: 'wado', resource: 'frames', study: STUDY, series: SERIES, instance: INSTANCE }],
    ['WADO-RS rendered frames', `${I}/frames/3,4/rendered`, { kind: 'wado', resource: 'frames-rendered', study: STUDY, series: SERIES, instance: INSTANCE }],
    ['bulk data by tag', `${I}/bulk/7fe00010`, { kind: 'wado', resource: 'bulkdata', study: STUDY, series: SERIES, instance: INSTANCE }],
    ['bulk data in a sequence item', `${I}/bulk/00540016/0/00181072`, { kind: 'wado', resource: 'bulkdata', study: STUDY, series: SERIES, instance: INSTANCE }],
  ])('%s', (_label, path, route) => {
    expect(parseDicomwebPath(path)).toEqual({ route, normalisedPath: path });
  });

  it('UIDs at the bounds: a 64-character UID and components of 0', () => {
    const longest = `1.${'9'.repeat(62)}`;
    expect(longest).toHaveLength(64);
    expect(parseDicomwebPath(`/dicom-web/studies/${longest}`).route).toEqual({ kind: 'wado', resource: 'retrieve', study: longest });
    expect(parseDicomwebPath('/dicom-web/studies/0.0').route).toEqual({ kind: 'wado', resource: 'retrieve', study: '0.0' });
    expect(parseDicomwebPath('/dicom-web/studies/1.20.300').route).toEqual({ kind: 'wado', resource: 'retrieve', study: '1.20.300' });
  });

  it('frame lists at the bounds: 100 frames, six-digit frame numbers', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1).join(',');
    expect(parseDicomwebPath(`${I}/frames/${hundred}`).route).toMatchObject({ resource: 'frames' });
    expect(parseDicomwebPath(`${I}/frames/999999`).route).toMatchObject({ resource: 'frames' });
  });
});

describe('parseDicomwebPath normalises to one canonical path', () => {
  it.each([
    ['repeated slashes', `//dicom-web///studies//${STUDY}//series/${SERIES}`, SE],
    ['a trailing slash', `${S}/`, S],
    ['dot segments', `/dicom-web/./studies/./${STUDY}/.`, S],
    ['a dot-dot that stays below the root', `/dicom-web/studies/${STUDY}/series/../metadata`, `${S}/metadata`],
    ['percent-encoded letters (one layer)', `/dicom-web/%73tudies/${STUDY}/%6Detadata`, `${S}/metadata`],
    ['percent-encoded digits and dots in a UID', `/dicom-web/studies/${STUDY.replace(/\./g, '%2E')}`, S],
    ['an encoded dot segment', `/dicom-web/studies/${STUDY}/%2e/metadata`, `${S}/metadata`],
    ['an encoded dot-dot that stays below the root', `/dicom-web/studies/${STUDY}/series/%2e%2e/metadata`, `${S}/metadata`],
  ])('%s', (_label, raw, canonical) => {
    expect(parseDicomwebPath(raw).normalisedPath).toBe(canonical);
  });

  it('matches the route on the normalised path, not the raw one', () => {
    // A dot-dot leaves the granted study for another: the route names the other study, so the
    // caller's grant check sees the study that is really addressed.
    const parsed = parseDicomwebPath(`/dicom-web/studies/${STUDY}/../${OTHER_STUDY}/metadata`);
    expect(parsed).toEqual({ route: { kind: 'wado', resource: 'metadata', study: OTHER_STUDY }, normalisedPath: `/dicom-web/studies/${OTHER_STUDY}/metadata` });
  });

  it('a dot-dot that leaves the DICOMweb root for the PACS’s REST API is refused as a route', () => {
    expectNotAllowed(`/dicom-web/studies/../../tools/find`);
    expectNotAllowed(`/dicom-web/%2e%2e/instances`);
    expectNotAllowed(`/dicom-web/studies/${STUDY}/../../../patients`);
  });
});

describe('parseDicomwebPath refuses as not canonical (400)', () => {
  it.each([
    ['climbing above the root', '/..'],
    ['climbing above the root from inside', `/dicom-web/studies/${STUDY}/../../../../etc/passwd`],
    ['encoded dot-dot above the root', '/%2e%2e/%2e%2e/dicom-web/studies'],
    ['mixed-case encoded dot-dot above the root', '/dicom-web/%2E%2e/%2e%2E/..'],
    ['an encoded slash', `/dicom-web/studies/${STUDY}%2fseries`],
    ['an encoded slash (upper case)', `/dicom-web/studies%2F${STUDY}`],
    ['an encoded slash hiding a climb', '/dicom-web/studies/..%2f..%2f..%2ftools'],
    ['an encoded backslash', `/dicom-web/studies/${STUDY}%5cmetadata`],
    ['an encoded backslash (upper case)', `/dicom-web/studies/${STUDY}%5Cmetadata`],
    ['a backslash', `/dicom-web/studies/${STUDY}\\metadata`],
    ['a backslash climb', '/dicom-web\\..\\..\\tools'],
    ['an encoded NUL', `/dicom-web/studies/${STUDY}%00`],
    ['a raw NUL', `/dicom-web/studies/${STUDY}\0/metadata`],
    ['double encoding of a dot-dot', '/dicom-web/studies/%252e%252e/%252e%252e/tools'],
    ['double encoding of a slash', `/dicom-web/studies/${STUDY}%252fmetadata`],
    ['double encoding of a letter', `/dicom-web/%2573tudies/${STUDY}`],
    ['a percent sign that is not an escape', `/dicom-web/studies/${STUDY}/%zz`],
    ['a truncated escape', `/dicom-web/studies/${STUDY}/%2`],
    ['an invalid UTF-8 escape', `/dicom-web/studies/${STUDY}/%c0%ae%c0%ae`],
    ['overlong UTF-8 for a slash', `/dicom-web/studies/${STUDY}%c0%af..`],
  ])('%s', (_label, raw) => expectNotCanonical(raw));
});

describe('parseDicomwebPath refuses as not allowed (403)', () => {
  it.each([
    ['the root', '/'],
    ['the empty path', ''],
    ['the DICOMweb root alone', '/dicom-web'],
    ['the PACS REST API', '/studies'],
    ['the PACS REST API (tools)', '/tools/find'],
    ['the PACS REST API (instances)', `/instances/${INSTANCE}/file`],
    ['legacy WADO-URI', '/wado'],
    ['the DICOMweb plugin’s servers', '/dicom-web/servers'],
    ['DICOMweb series without a study', `/dicom-web/series/${SERIES}`],
    ['DICOMweb instances without a study', `/dicom-web/instances`],
    ['the wrong case (DICOM-WEB)', '/DICOM-WEB/studies'],
    ['the wrong case (Studies)', `/dicom-web/Studies/${STUDY}`],
    ['a prefix before dicom-web', `/pacs/dicom-web/studies/${STUDY}`],
    ['a query string left in the path', '/dicom-web/studies?PatientID=*'],
    ['a fragment left in the path', `/dicom-web/studies/${STUDY}#x`],
    ['an encoded question mark', `/dicom-web/studies/${STUDY}%3FStudyInstanceUID=*`],
    ['a matrix parameter', `/dicom-web/studies/${STUDY};jsessionid=1`],
  ])('%s', (_label, raw) => expectNotAllowed(raw));

  it.each([
    ['a wildcard for the study', '/dicom-web/studies/*'],
    ['a wildcard inside a UID', '/dicom-web/studies/1.2.*'],
    ['a list of studies', `/dicom-web/studies/${STUDY},${OTHER_STUDY}`],
    ['a UID with one component', '/dicom-web/studies/12345'],
    ['a UID with a leading zero', '/dicom-web/studies/1.2.03'],
    ['a UID with a leading zero in the first component', '/dicom-web/studies/01.2.3'],
    ['a UID over 64 characters', `/dicom-web/studies/1.${'9'.repeat(63)}`],
    ['a UID with an empty component', '/dicom-web/studies/1..2'],
    ['a UID ending in a dot', '/dicom-web/studies/1.2.'],
    ['a UID starting with a dot', '/dicom-web/studies/.1.2'],
    ['a UID with a letter', '/dicom-web/studies/1.2.3a'],
    ['a UID with a sign', '/dicom-web/studies/1.-2.3'],
    ['a UID with a space (encoded)', `/dicom-web/studies/${STUDY}%20`],
    ['a UID of full-width digits', '/dicom-web/studies/１.２.３'],
    ['a series that is not a UID', `${S}/series/abc`],
    ['a series with a leading zero', `${S}/series/1.02`],
    ['an instance that is not a UID', `${SE}/instances/*`],
    ['an instance over 64 characters', `${SE}/instances/1.${'9'.repeat(63)}`],
    ['a name, not a UID', '/dicom-web/studies/...'],
  ])('%s', (_label, raw) => expectNotAllowed(raw));

  it.each([
    ['an unknown study resource', `${S}/bulk`],
    ['study frames', `${S}/frames/1`],
    ['study instances by UID without a series', `${S}/instances/${INSTANCE}`],
    ['an unknown series resource', `${SE}/frames/1`],
    ['series bulk data', `${SE}/bulk/7fe00010`],
    ['an unknown instance resource', `${I}/pixeldata`],
    ['a STOW-like path', '/dicom-web/studies/stow'],
    ['the PACS’s own archive route under a study', `${S}/archive`],
    ['frames without a list', `${I}/frames`],
    ['frame 0', `${I}/frames/0`],
    ['a frame with a leading zero', `${I}/frames/01`],
    ['a negative frame', `${I}/frames/-1`],
    ['a frame range', `${I}/frames/1-5`],
    ['a trailing comma in a frame list', `${I}/frames/1,`],
    ['a seven-digit frame', `${I}/frames/1000000`],
    ['101 frames', `${I}/frames/${Array.from({ length: 101 }, (_, i) => i + 1).join(',')}`],
    ['frames rendered as something else', `${I}/frames/1/metadata`],
    ['bulk data without a tag', `${I}/bulk`],
    ['bulk data with a non-hex tag', `${I}/bulk/7fe0001g`],
    ['bulk data with a short tag', `${I}/bulk/7fe001`],
    ['bulk data with a name', `${I}/bulk/PixelData`],
    ['bulk data with a five-digit item', `${I}/bulk/00540016/10000/00181072`],
  ])('%s', (_label, raw) => expectNotAllowed(raw));

  it.each([
    ['after QIDO studies', '/dicom-web/studies/x/'],
    ['after study metadata', `${S}/metadata/x`],
    ['after QIDO series', `${S}/series/x/y`],
    ['after study instances', `${S}/instances/x`],
    ['after series metadata', `${SE}/metadata/x`],
    ['after QIDO series instances', `${SE}/instances`.concat('/x.y')],
    ['after instance metadata', `${I}/metadata/x`],
    ['after an instance rendered', `${I}/rendered/1`],
    ['after an instance thumbnail', `${I}/thumbnail/x`],
    ['after frames', `${I}/frames/1/x`],
    ['after rendered frames', `${I}/frames/1/rendered/x`],
    ['after bulk data', `${I}/bulk/7fe00010/pixels`],
  ])('trailing junk %s', (_label, raw) => expectNotAllowed(raw));
});

describe('parseDicomwebPath refusals are Refusals with a stable reason', () => {
  it('never an Error of another kind, even for hostile input', () => {
    for (const raw of ['%', '%%', '/%E0%A4%A', `${S}/${'a'.repeat(10_000)}`, '/dicom-web/studies/' + '../'.repeat(100)]) {
      const refusal = refusalOf(raw);
      expect(['PATH_NOT_CANONICAL', 'ROUTE_NOT_ALLOWED']).toContain(refusal.reason);
    }
  });
});
