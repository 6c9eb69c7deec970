import { existsSync } from 'node:fs';
import type { ReportLang } from './labels.js';

// Which fonts the PDF embeds. pdfkit's built-in Helvetica covers Latin-1 only: no Chinese
// headings, and no non-Latin patient ids or usernames. So the report embeds system fonts:
// for Chinese a WenQuanYi CJK font (the only choice; its absence is an error that says what
// to install), otherwise DejaVu Sans, with Helvetica only when DejaVu is missing too. The
// other family, when present, is a per-value fallback for characters the first one lacks
// (Chinese values in an English report; Hebrew or emoji in a Chinese one).

const WQY_DIR = '/usr/share/fonts/truetype/wqy';
const DEJAVU_DIR = '/usr/share/fonts/truetype/dejavu';

/** A font file and, for a collection (.ttc), the PostScript name of the face to use. */
export interface FontFace {
  file: string;
  face?: string;
}

export interface FontFamily {
  regular: FontFace | 'Helvetica';
  bold: FontFace | 'Helvetica-Bold';
}

export class ReportFontMissingError extends Error {
  readonly code = 'REPORT_FONT_MISSING';
}

const CJK_CANDIDATES: { face: FontFace; debianPackage: string }[] = [
  { face: { file: `${WQY_DIR}/wqy-microhei.ttc`, face: 'WenQuanYiMicroHei' }, debianPackage: 'fonts-wqy-microhei' },
  { face: { file: `${WQY_DIR}/wqy-zenhei.ttc`, face: 'WenQuanYiZenHei' }, debianPackage: 'fonts-wqy-zenhei' },
];

function cjkFace(): FontFace | undefined {
  return CJK_CANDIDATES.find((candidate) => existsSync(candidate.face.file))?.face;
}

function dejaVu(): FontFamily | undefined {
  const regular = `${DEJAVU_DIR}/DejaVuSans.ttf`;
  if (!existsSync(regular)) return undefined;
  const bold = `${DEJAVU_DIR}/DejaVuSans-Bold.ttf`;
  return { regular: { file: regular }, bold: { file: existsSync(bold) ? bold : regular } };
}

export interface ReportFonts {
  primary: FontFamily;
  /** Used for a value the primary family cannot show and this one can. */
  fallback?: FontFamily;
}

/** The fonts for a report in `lang`; throws ReportFontMissingError when Chinese cannot be shown. */
export function chooseReportFonts(lang: ReportLang): ReportFonts {
  const cjk = cjkFace();
  // WenQuanYi has no bold face; headings in Chinese are set larger instead.
  const cjkFamily: FontFamily | undefined = cjk && { regular: cjk, bold: cjk };
  const latin = dejaVu();
  if (lang === 'zh') {
    if (!cjkFamily) {
      const packages = CJK_CANDIDATES.map((c) => c.debianPackage).join(' or ');
      const files = CJK_CANDIDATES.map((c) => c.face.file).join(', ');
      throw new ReportFontMissingError(`a Chinese report needs a CJK font and none was found (looked for ${files}): install Debian's ${packages}`);
    }
    return latin ? { primary: cjkFamily, fallback: latin } : { primary: cjkFamily };
  }
  const primary = latin ?? { regular: 'Helvetica', bold: 'Helvetica-Bold' };
  return cjkFamily ? { primary, fallback: cjkFamily } : { primary };
}
