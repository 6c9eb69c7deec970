import { Refusal } from './refusal.js';

/** A rendering's VOI window, as DICOMweb's `window` names it (PS3.18 8.3.5.1.4): center, width, function. */
export interface RenderingWindow {
  center: number;
  width: number;
  fn: 'linear' | 'sigmoid';
}

// A plain decimal: an optional minus, no exponent, no sign or space the PACS would have to
// guess at, and few enough digits that it stays a finite float there (Orthanc reads a float).
const DECIMAL = /^-?(?:0|[1-9][0-9]{0,8})(?:\.[0-9]{1,6})?$/;

const SHAPE = 'window must be center,width,function: two decimal numbers and linear or sigmoid, e.g. 40,400,linear.';

const notValid = (detail: string) => new Refusal(400, 'WINDOW_NOT_VALID', detail);

/**
 * Checks a `window` value before it is sent to the PACS, which is then given it unchanged.
 * Refuses (400 WINDOW_NOT_VALID) anything but `center,width,function` with:
 * - center and width plain decimals (center may be negative);
 * - width at least 1 for `linear` and above 0 for `sigmoid`, as DICOM requires of each
 *   (PS3.3 C.11.2.1.2.1 and C.11.2.1.3.1);
 * - function `linear` or `sigmoid`. `linear-exact` is refused: Orthanc's DICOMweb plugin 1.7
 *   computes it without the +0.5 of PS3.3 C.11.2.1.3.2, so its image comes back shifted by
 *   half a window, which a reader would take for the window asked for.
 */
export function parseWindow(value: string): RenderingWindow {
  const parts = value.split(',');
  if (parts.length !== 3) throw notValid(SHAPE);
  const [center = '', width = '', fn = ''] = parts;
  if (!DECIMAL.test(center) || !DECIMAL.test(width)) throw notValid(SHAPE);
  if (fn === 'linear-exact') throw notValid('window function linear-exact is not served: the PACS computes it half a window off. Ask for linear.');
  if (fn !== 'linear' && fn !== 'sigmoid') throw notValid(SHAPE);
  const parsed = { center: Number(center), width: Number(width), fn } as const;
  if (!Number.isFinite(parsed.center) || !Number.isFinite(parsed.width)) throw notValid(SHAPE);
  if (fn === 'linear' ? parsed.width < 1 : parsed.width <= 0) {
    throw notValid(`window width must be ${fn === 'linear' ? 'at least 1 for linear' : 'above 0 for sigmoid'}.`);
  }
  return parsed;
}

/** A retrieve query's `window`, if any: at most one, and valid (see parseWindow). */
export function assertWindowQuery(query: URLSearchParams): void {
  const values = query.getAll('window');
  if (values.length > 1) throw notValid('window is given more than once.');
  if (values[0] !== undefined) parseWindow(values[0]);
}
