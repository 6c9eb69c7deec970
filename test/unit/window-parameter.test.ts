import { describe, expect, it } from 'vitest';
import { serialiseQuery } from '../../pacs/dicomweb-client.js';
import { authorize } from '../../gateway/authorize.js';
import { parseDicomwebPath } from '../../gateway/dicomweb-route.js';
import type { GrantStatus } from '../../gateway/grant-status.js';
import { planPacsRequest } from '../../gateway/pacs-request.js';
import { Refusal } from '../../gateway/refusal.js';
import type { StudyHierarchy } from '../../gateway/study-hierarchy.js';
import type { VerifiedToken } from '../../gateway/token-verifier.js';
import { parseWindow } from '../../gateway/window-parameter.js';

// DICOMweb's rendering `window` as the gateway checks it, without a server: exactly
// center,width,function with plain decimal numbers, a width DICOM allows for the function,
// and linear or sigmoid (never linear-exact, which Orthanc's DICOMweb plugin 1.7 computes half
// a window off). A bad value is refused 400 WINDOW_NOT_VALID before the PACS is asked
// anything; a good one is sent on unchanged, commas raw.

function refusalOf(value: string): { status: number; reason: string; detail: string } {
  let parsed: unknown;
  try {
    parsed = parseWindow(value);
  } catch (error) {
    expect(error).toBeInstanceOf(Refusal);
    const refusal = error as Refusal;
    return { status: refusal.status, reason: refusal.reason, detail: refusal.message };
  }
  throw new Error(`expected ${JSON.stringify(value)} to be refused, but it parsed to ${JSON.stringify(parsed)}`);
}

describe('parseWindow accepts', () => {
  it.each([
    ['the soft-tissue preset', '40,400,linear', { center: 40, width: 400, fn: 'linear' }],
    ['the lung preset (negative center)', '-600,1500,linear', { center: -600, width: 1500, fn: 'linear' }],
    ['the bone preset', '400,1800,linear', { center: 400, width: 1800, fn: 'linear' }],
    ['the brain preset', '40,80,linear', { center: 40, width: 80, fn: 'linear' }],
    ['sigmoid', '40,400,sigmoid', { center: 40, width: 400, fn: 'sigmoid' }],
    ['decimals', '-0.5,350.25,linear', { center: -0.5, width: 350.25, fn: 'linear' }],
    ['a zero center', '0,1,linear', { center: 0, width: 1, fn: 'linear' }],
    ['the narrowest linear width', '40,1,linear', { center: 40, width: 1, fn: 'linear' }],
    ['a sigmoid width below 1', '40,0.5,sigmoid', { center: 40, width: 0.5, fn: 'sigmoid' }],
    ['the widest numbers served', '-999999999.999999,999999999.999999,linear', { center: -999999999.999999, width: 999999999.999999, fn: 'linear' }],
  ])('%s', (_label, value, window) => {
    expect(parseWindow(value)).toEqual(window);
  });
});

describe('parseWindow refuses with 400 WINDOW_NOT_VALID', () => {
  it.each([
    ['two parts', '40,400'],
    ['one part', '40'],
    ['four parts', '40,400,linear,1'],
    ['the empty value', ''],
    ['a trailing comma', '40,400,linear,'],
    ['an empty center', ',400,linear'],
    ['an empty width', '40,,linear'],
    ['letters for numbers', 'a,b,linear'],
    ['a letter for the width', '40,b,linear'],
    ['a zero width', '40,0,linear'],
    ['a negative width', '40,-400,linear'],
    ['a linear width below 1', '40,0.5,linear'],
    ['a zero sigmoid width', '40,0,sigmoid'],
    ['linear-exact', '40,400,linear-exact'],
    ['an unknown function', '40,400,gamma'],
    ['a missing function', '40,400,'],
    ['the function in capitals', '40,400,LINEAR'],
    ['a function with a space', '40,400, linear'],
    ['a space before a number', ' 40,400,linear'],
    ['a plus sign', '+40,400,linear'],
    ['an exponent', '4e1,400,linear'],
    ['infinity', 'Infinity,400,linear'],
    ['NaN', 'NaN,400,linear'],
    ['hexadecimal', '0x28,400,linear'],
    ['a leading zero', '040,400,linear'],
    ['a bare decimal point', '.5,400,linear'],
    ['a trailing decimal point', '40.,400,linear'],
    ['too many integer digits', '1234567890,400,linear'],
    ['a float out of range', `40,${'9'.repeat(40)},linear`],
    ['too many decimals', '40.1234567,400,linear'],
    ['full-width digits', '４０,400,linear'],
    ['semicolons', '40;400;linear'],
    ['a very long value', `${'1,'.repeat(5_000)}linear`],
  ])('%s', (_label, value) => {
    expect(refusalOf(value)).toMatchObject({ status: 400, reason: 'WINDOW_NOT_VALID' });
  });

  it('says why linear-exact is not served, and what to ask for instead', () => {
    expect(refusalOf('40,400,linear-exact').detail).toMatch(/linear-exact.*half a window.*linear/);
  });

  it('names the expected shape', () => {
    expect(refusalOf('40,400').detail).toContain('center,width,function');
  });
});

describe('the window on its way through the gateway', () => {
  const STUDY = '1.2.826.0.1.3680043.8.498.10';
  const RENDERED = `/dicom-web/studies/${STUDY}/series/${STUDY}.1/instances/${STUDY}.1.1/rendered`;
  const token: VerifiedToken = {
    subject: 'clin.alice',
    jti: 'jti-1',
    grantId: 'gr_0123456789',
    studies: new Set([STUDY]),
    patientId: 'SYN-0001',
    purposeOfUse: 'TREAT',
    expiresAtMs: Date.now() + 60_000,
  };
  /** A grant that is active and a PACS that confirms everything, each counting what it was asked. */
  function deps() {
    const asked = { grants: 0, pacs: 0 };
    const grants = { assertActive: () => void asked.grants++ } as unknown as GrantStatus;
    const hierarchy = {
      assertPatient: () => void asked.pacs++,
      assertContained: () => void asked.pacs++,
    } as unknown as StudyHierarchy;
    return { asked, deps: { grants, hierarchy } };
  }
  const through = async (rawPath: string, rawQuery: string) => {
    const { asked, deps: d } = deps();
    const target = parseDicomwebPath(rawPath);
    try {
      const query = await authorize(d, token, target.route, rawQuery);
      return { asked, sent: serialiseQuery(planPacsRequest(target, query).query) };
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      return { asked, refused: { status: error.status, reason: error.reason } };
    }
  };

  it.each([
    ['40,400,linear', 'window=40,400,linear'],
    ['-600,1500,linear', 'window=-600,1500,linear'],
    ['40%2C400%2Clinear', 'window=40,400,linear'],
    ['40,400,sigmoid&quality=80', 'window=40,400,sigmoid&quality=80'],
  ])('sends %s on to the PACS unchanged, commas raw', async (value, sent) => {
    const result = await through(RENDERED, `window=${value}`);
    expect(result).toMatchObject({ sent, asked: { grants: 1, pacs: 2 } });
  });

  it('keeps the window on a thumbnail, which the PACS is asked for as a small rendering', async () => {
    const result = await through(RENDERED.replace(/rendered$/, 'thumbnail'), 'window=-600,1500,linear');
    expect(result.sent).toBe('window=-600,1500,linear&viewport=128,128');
  });

  it.each([
    ['two parts', 'window=40,400'],
    ['a zero width', 'window=40,0,linear'],
    ['linear-exact', 'window=40,400,linear-exact'],
    ['letters', 'window=a,b,linear'],
    ['an empty window', 'window='],
    ['a repeated window (the PACS would take the last)', 'window=40,400,linear&window=-600,1500,linear'],
  ])('refuses %s before the PACS is asked anything', async (_label, rawQuery) => {
    for (const path of [RENDERED, RENDERED.replace(/rendered$/, 'thumbnail'), `/dicom-web/studies/${STUDY}/rendered`]) {
      const result = await through(path, rawQuery);
      expect(result, path).toMatchObject({ refused: { status: 400, reason: 'WINDOW_NOT_VALID' }, asked: { pacs: 0 } });
    }
  });

  it('refuses a study the token does not grant before judging its window (the order decides the recorded reason)', async () => {
    const other = RENDERED.replaceAll(STUDY, '1.2.826.0.1.3680043.8.498.11');
    expect(await through(other, 'window=40,0,linear')).toMatchObject({ refused: { status: 403, reason: 'STUDY_NOT_GRANTED' } });
  });
});
