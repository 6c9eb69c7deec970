import { describe, expect, it } from 'vitest';
import { confineQidoQuery } from '../../gateway/qido-policy.js';
import { Refusal } from '../../gateway/refusal.js';

// How a QIDO-RS query is confined to the token's studies, without a server. What the code
// promises (gateway/qido-policy.ts and the README): /studies without a StudyInstanceUID is
// rewritten to the granted set; with one, it must be a granted study; below a study only
// series- and instance-level keys; refused (403) and never rewritten: a UID with a wildcard or
// a list, a repeated key, a hex tag, any patient-level filter, and any key not on the list.
// limit, offset, includefield and fuzzymatching pass unchanged at every level.

const STUDY_A = '1.2.826.0.1.3680043.8.498.1';
const STUDY_B = '1.2.826.0.1.3680043.8.498.2';
const NOT_GRANTED = '1.2.826.0.1.3680043.8.498.3';
const SERIES = '1.2.826.0.1.3680043.8.498.20';
const INSTANCE = '1.2.826.0.1.3680043.8.498.30';
const granted: ReadonlySet<string> = new Set([STUDY_A, STUDY_B]);

type QidoRoute = Parameters<typeof confineQidoQuery>[0];
const studies: QidoRoute = { kind: 'qido', level: 'studies' };
const series: QidoRoute = { kind: 'qido', level: 'series', study: STUDY_A };
const studyInstances: QidoRoute = { kind: 'qido', level: 'study-instances', study: STUDY_A };
const seriesInstances: QidoRoute = { kind: 'qido', level: 'series-instances', study: STUDY_A, series: SERIES };
const LEVELS: Array<[string, QidoRoute]> = [
  ['studies', studies],
  ['series', series],
  ['study-instances', studyInstances],
  ['series-instances', seriesInstances],
];

/** The query as it will be sent on: every entry, in order. */
const confined = (route: QidoRoute, raw: string, grant: ReadonlySet<string> = granted) => [...confineQidoQuery(route, raw, grant)];

function refusalOf(route: QidoRoute, raw: string, grant: ReadonlySet<string> = granted): { status: number; reason: string } {
  let query: URLSearchParams;
  try {
    query = confineQidoQuery(route, raw, grant);
  } catch (error) {
    expect(error).toBeInstanceOf(Refusal);
    return { status: (error as Refusal).status, reason: (error as Refusal).reason };
  }
  throw new Error(`expected ${JSON.stringify(raw)} at ${route.level} to be refused, but it was sent as ${JSON.stringify([...query])}`);
}

const refused = (reason: string) => ({ status: 403, reason });

describe('confineQidoQuery at /studies confines to the granted studies', () => {
  it('rewrites a query with no StudyInstanceUID to the granted set (one list-matching query)', () => {
    expect(confined(studies, '')).toEqual([['StudyInstanceUID', `${STUDY_A},${STUDY_B}`]]);
  });

  it('keeps the viewer’s own study-level filters beside the rewrite', () => {
    expect(confined(studies, 'StudyDate=20200101-20201231&ModalitiesInStudy=CT&StudyDescription=*head*')).toEqual([
      ['StudyDate', '20200101-20201231'],
      ['ModalitiesInStudy', 'CT'],
      ['StudyDescription', '*head*'],
      ['StudyInstanceUID', `${STUDY_A},${STUDY_B}`],
    ]);
  });

  it('passes a granted StudyInstanceUID unchanged (never widened to the whole set)', () => {
    expect(confined(studies, `StudyInstanceUID=${STUDY_B}`)).toEqual([['StudyInstanceUID', STUDY_B]]);
  });

  it('rewrites to a grant of one study', () => {
    expect(confined(studies, 'AccessionNumber=A*', new Set([STUDY_A]))).toEqual([
      ['AccessionNumber', 'A*'],
      ['StudyInstanceUID', STUDY_A],
    ]);
  });

  it('passes the control keys unchanged and still confines (fuzzymatching, includefield=all, limit, offset)', () => {
    expect(confined(studies, 'fuzzymatching=true&includefield=all&limit=1000000&offset=0&ReferringPhysicianName=*')).toEqual([
      ['fuzzymatching', 'true'],
      ['includefield', 'all'],
      ['limit', '1000000'],
      ['offset', '0'],
      ['ReferringPhysicianName', '*'],
      ['StudyInstanceUID', `${STUDY_A},${STUDY_B}`],
    ]);
  });

  it('does not let limit/offset abuse escape the confinement (negative, huge, not a number)', () => {
    for (const raw of ['limit=-1&offset=-1', 'offset=99999999999999999999', 'limit=all']) {
      expect(confined(studies, raw).at(-1)).toEqual(['StudyInstanceUID', `${STUDY_A},${STUDY_B}`]);
    }
  });

  it('reads keys after one layer of decoding, as the PACS will', () => {
    expect(confined(studies, `Study%49nstanceUID=${STUDY_A}`)).toEqual([['StudyInstanceUID', STUDY_A]]);
    expect(refusalOf(studies, `StudyInstanceUID=${encodeURIComponent(NOT_GRANTED)}`)).toEqual(refused('STUDY_NOT_GRANTED'));
  });

  it('refuses a StudyInstanceUID that is not granted', () => {
    expect(refusalOf(studies, `StudyInstanceUID=${NOT_GRANTED}`)).toEqual(refused('STUDY_NOT_GRANTED'));
  });

  it('refuses a granted study’s UID with extra components (a prefix is not a grant)', () => {
    expect(refusalOf(studies, `StudyInstanceUID=${STUDY_A}.1`)).toEqual(refused('STUDY_NOT_GRANTED'));
    expect(refusalOf(studies, `StudyInstanceUID=1.2.826.0.1.3680043.8.498`)).toEqual(refused('STUDY_NOT_GRANTED'));
  });
});

describe('confineQidoQuery refuses a StudyInstanceUID that is not exactly one UID', () => {
  it.each([
    ['a wildcard', '*'],
    ['a trailing wildcard', '1.2.826.*'],
    ['a single-character wildcard', `${STUDY_A.slice(0, -1)}?`],
    ['a comma list of granted studies', `${STUDY_A},${STUDY_B}`],
    ['a comma list smuggling another study', `${STUDY_A},${NOT_GRANTED}`],
    ['an encoded comma list', `${STUDY_A}%2C${NOT_GRANTED}`],
    ['a backslash (DICOM multi-value) list', `${STUDY_A}%5C${NOT_GRANTED}`],
    ['an empty value (universal matching)', ''],
    ['a quoted empty value', '""'],
    ['a range', `${STUDY_A}-${STUDY_B}`],
    ['a trailing space', `${STUDY_A}%20`],
    ['a trailing NUL', `${STUDY_A}%00`],
    ['a leading zero', '1.2.03'],
    ['over 64 characters', `1.${'2'.repeat(63)}`],
  ])('%s', (_label, value) => {
    expect(refusalOf(studies, `StudyInstanceUID=${value}`)).toEqual(refused('QIDO_UID_PATTERN'));
  });

  it.each([
    ['SeriesInstanceUID', series],
    ['SeriesInstanceUID', studyInstances],
    ['SOPInstanceUID', studyInstances],
    ['SOPInstanceUID', seriesInstances],
    ['SOPClassUID', seriesInstances],
  ] as Array<[string, QidoRoute]>)('the same for %s at %s', (key, route) => {
    for (const value of ['*', `${SERIES},${INSTANCE}`, '', '1.2.*']) expect(refusalOf(route, `${key}=${value}`)).toEqual(refused('QIDO_UID_PATTERN'));
  });

  it('accepts exactly one UID for SeriesInstanceUID, SOPInstanceUID and SOPClassUID below a study', () => {
    expect(confined(series, `SeriesInstanceUID=${SERIES}`)).toEqual([['SeriesInstanceUID', SERIES]]);
    expect(confined(studyInstances, `SeriesInstanceUID=${SERIES}&SOPInstanceUID=${INSTANCE}`)).toEqual([
      ['SeriesInstanceUID', SERIES],
      ['SOPInstanceUID', INSTANCE],
    ]);
    expect(confined(seriesInstances, 'SOPClassUID=1.2.840.10008.5.1.4.1.1.2')).toEqual([['SOPClassUID', '1.2.840.10008.5.1.4.1.1.2']]);
  });
});

describe('confineQidoQuery refuses a repeated key', () => {
  it.each([
    ['StudyInstanceUID (granted, then another)', `StudyInstanceUID=${STUDY_A}&StudyInstanceUID=${NOT_GRANTED}`],
    ['StudyInstanceUID (twice the same)', `StudyInstanceUID=${STUDY_A}&StudyInstanceUID=${STUDY_A}`],
    ['StudyInstanceUID, once encoded', `StudyInstanceUID=${STUDY_A}&Study%49nstanceUID=${NOT_GRANTED}`],
    ['StudyInstanceUID, the second empty', `StudyInstanceUID=${STUDY_A}&StudyInstanceUID=`],
    ['a filter', 'StudyDate=2020&StudyDate=2021'],
    ['limit', 'limit=1&limit=2'],
    ['offset', 'offset=0&offset=10'],
    ['includefield', 'includefield=StudyDate&includefield=all'],
    ['fuzzymatching', 'fuzzymatching=false&fuzzymatching=true'],
  ])('%s', (_label, raw) => {
    expect(refusalOf(studies, raw)).toEqual(refused('QIDO_REPEATED_KEY'));
  });

  it('below a study too', () => {
    expect(refusalOf(series, `SeriesInstanceUID=${SERIES}&SeriesInstanceUID=${SERIES}`)).toEqual(refused('QIDO_REPEATED_KEY'));
    expect(refusalOf(seriesInstances, 'InstanceNumber=1&InstanceNumber=2')).toEqual(refused('QIDO_REPEATED_KEY'));
  });
});

describe('confineQidoQuery refuses attributes named by hex tag', () => {
  it.each([
    ['StudyInstanceUID', '0020000D', studies],
    ['StudyInstanceUID (lower case)', '0020000d', studies],
    ['PatientID', '00100020', studies],
    ['SeriesInstanceUID', '0020000E', series],
    ['SOPInstanceUID', '00080018', seriesInstances],
    ['a private tag', '00091001', studyInstances],
  ] as Array<[string, string, QidoRoute]>)('%s as %s', (_label, tag, route) => {
    expect(refusalOf(route, `${tag}=*`)).toEqual(refused('QIDO_HEX_TAG'));
  });

  it('and other spellings of a tag as keys not on the list', () => {
    for (const key of ['0020,000D', '(0020,000D)', 'x0020000D', '0x0020000D', '0020000D0']) {
      expect(refusalOf(studies, `${encodeURIComponent(key)}=*`)).toEqual(refused('QIDO_KEY_NOT_ALLOWED'));
    }
  });
});

describe('confineQidoQuery refuses every patient-level filter, at every level', () => {
  const patientKeys = [
    'PatientID',
    'PatientName',
    'PatientBirthDate',
    'PatientSex',
    'PatientAge',
    'IssuerOfPatientID',
    'OtherPatientIDsSequence',
    'OtherPatientNames',
  ];
  it.each(LEVELS)('%s', (_label, route) => {
    for (const key of patientKeys) expect(refusalOf(route, `${key}=*`)).toEqual(refused('QIDO_PATIENT_FILTER'));
  });

  it('even with a granted study named beside it', () => {
    expect(refusalOf(studies, `StudyInstanceUID=${STUDY_A}&PatientID=P-000123`)).toEqual(refused('QIDO_PATIENT_FILTER'));
    expect(refusalOf(studies, `PatientName=DOE%5EJANE&fuzzymatching=true`)).toEqual(refused('QIDO_PATIENT_FILTER'));
  });

  it('even with an empty value', () => {
    expect(refusalOf(studies, 'PatientID=')).toEqual(refused('QIDO_PATIENT_FILTER'));
  });
});

describe('confineQidoQuery serves only the keys of its level', () => {
  it('accepts every study-level key at /studies', () => {
    const raw = 'StudyDate=20200101&StudyTime=0800-1200&AccessionNumber=A1&ModalitiesInStudy=MR&StudyDescription=brain&StudyID=7&ReferringPhysicianName=SMITH*';
    expect(confined(studies, raw)).toHaveLength(8);
  });

  it('accepts series-level keys at series level and instance-level keys at instance level', () => {
    const seriesRaw = `SeriesInstanceUID=${SERIES}&Modality=CT&SeriesNumber=2&SeriesDescription=axial&PerformedProcedureStepStartDate=20200101`;
    expect(confined(series, seriesRaw)).toHaveLength(5);
    expect(confined(studyInstances, `${seriesRaw}&SOPInstanceUID=${INSTANCE}&InstanceNumber=3`)).toHaveLength(7);
    expect(confined(seriesInstances, `SOPInstanceUID=${INSTANCE}&SOPClassUID=1.2.840.10008.5.1.4.1.1.4&InstanceNumber=3`)).toHaveLength(3);
  });

  it('never rewrites a query below a study (the path names the study)', () => {
    for (const [, route] of LEVELS.slice(1)) expect(confined(route, '')).toEqual([]);
  });

  it.each([
    ['StudyInstanceUID below a study (series)', series, `StudyInstanceUID=${NOT_GRANTED}`],
    ['StudyInstanceUID below a study (study instances)', studyInstances, `StudyInstanceUID=${NOT_GRANTED}`],
    ['StudyInstanceUID below a series', seriesInstances, `StudyInstanceUID=${NOT_GRANTED}`],
    ['a study-level filter at series level', series, 'StudyDate=2020'],
    ['a study-level filter at instance level', seriesInstances, 'AccessionNumber=*'],
    ['SeriesInstanceUID at /studies', studies, `SeriesInstanceUID=${SERIES}`],
    ['SOPInstanceUID at /studies', studies, `SOPInstanceUID=${INSTANCE}`],
    ['a series-level key below a series', seriesInstances, 'Modality=CT'],
    ['SeriesInstanceUID below a series', seriesInstances, `SeriesInstanceUID=${SERIES}`],
    ['an instance-level key at series level', series, 'InstanceNumber=1'],
  ] as Array<[string, QidoRoute, string]>)('refuses %s', (_label, route, raw) => {
    expect(refusalOf(route, raw)).toEqual(refused('QIDO_KEY_NOT_ALLOWED'));
  });

  it.each([
    ['a key in the wrong case', 'studyinstanceuid=*'],
    ['a control key in the wrong case', 'Limit=10'],
    ['a key with a trailing space', `StudyInstanceUID%20=${NOT_GRANTED}`],
    ['a key with a trailing NUL', `StudyInstanceUID%00=${NOT_GRANTED}`],
    ['an attribute path into a sequence', `ReferencedStudySequence.ReferencedSOPInstanceUID=${INSTANCE}`],
    ['an empty key', '=x'],
    ['a key with no value', 'expand'],
    ['Orthanc’s own query options', 'expand=true'],
    ['a key the standard knows but the list does not', 'InstitutionName=*'],
    ['a second query smuggled in a key', `x%3FStudyInstanceUID%3D*=1`],
  ])('refuses %s', (_label, raw) => {
    expect(refusalOf(studies, raw)).toEqual(refused('QIDO_KEY_NOT_ALLOWED'));
  });

  it('keeps a semicolon inside a value (it does not start a new key)', () => {
    expect(confined(studies, `StudyDescription=x;StudyInstanceUID=${NOT_GRANTED}`)).toEqual([
      ['StudyDescription', `x;StudyInstanceUID=${NOT_GRANTED}`],
      ['StudyInstanceUID', `${STUDY_A},${STUDY_B}`],
    ]);
  });
});

describe('confineQidoQuery checks in a fixed order', () => {
  it('a patient filter is refused as such even when repeated', () => {
    expect(refusalOf(studies, 'PatientID=1&PatientID=2')).toEqual(refused('QIDO_PATIENT_FILTER'));
  });
  it('a bad UID is refused before the grant is consulted', () => {
    expect(refusalOf(studies, 'StudyInstanceUID=*', new Set())).toEqual(refused('QIDO_UID_PATTERN'));
  });
  it('the first offending key decides', () => {
    expect(refusalOf(studies, `InstitutionName=x&StudyInstanceUID=${NOT_GRANTED}`)).toEqual(refused('QIDO_KEY_NOT_ALLOWED'));
    expect(refusalOf(studies, `StudyInstanceUID=*&InstitutionName=x`)).toEqual(refused('QIDO_UID_PATTERN'));
  });
});

describe('confineQidoQuery with an empty grant', () => {
  // An empty StudyInstanceUID is universal matching in QIDO: every study on the PACS. Only the
  // verifier's `min(1)` keeps an empty grant from reaching here, so the policy refuses too.
  it('refuses rather than send an unconfined query', () => {
    expect(refusalOf(studies, '', new Set())).toEqual(refused('STUDY_NOT_GRANTED'));
  });

  it('refuses a named study (nothing is granted)', () => {
    expect(refusalOf(studies, `StudyInstanceUID=${STUDY_A}`, new Set())).toEqual(refused('STUDY_NOT_GRANTED'));
  });
});
