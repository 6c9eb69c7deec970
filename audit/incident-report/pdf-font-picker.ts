import type { FontFamily, ReportFonts } from './pdf-fonts.js';

// Registers the report's fonts with a pdfkit document and picks, for each piece of text,
// the family that can show it. pdfkit has no font fallback of its own: a character the
// current font lacks prints as an empty box.

type Doc = PDFKit.PDFDocument;
type Covers = (codePoint: number) => boolean;

export interface FontPicker {
  /** The registered font name to set `text` in. */
  pick(text: string, bold?: boolean): string;
  regular: string;
  bold: string;
}

const PRINTABLE_ASCII = /^[\x20-\x7e\n]*$/;

function register(doc: Doc, prefix: string, family: FontFamily): { regular: string; bold: string } {
  const names = { regular: `${prefix}-regular`, bold: `${prefix}-bold` };
  for (const weight of ['regular', 'bold'] as const) {
    const face = family[weight];
    if (typeof face === 'string')
      names[weight] = face; // a built-in font: no file to register
    else if (face.face) doc.registerFont(names[weight], face.file, face.face);
    else doc.registerFont(names[weight], face.file);
  }
  // A family without a bold face (WenQuanYi) uses one name for both: pdfkit caches an
  // embedded font under the first name it was opened by, and would parse the whole file
  // again on every switch to a second name for the same face.
  const { regular, bold } = family;
  if (typeof regular !== 'string' && typeof bold !== 'string' && regular.file === bold.file && regular.face === bold.face) names.bold = names.regular;
  return names;
}

/**
 * What a registered font can show. pdfkit keeps the fontkit font of an embedded font at
 * `_font.font` (not in its typings; pdfkit is pinned). The built-in fonts are set in
 * WinAnsi, roughly Latin-1.
 */
function coverage(doc: Doc, name: string): Covers {
  doc.font(name);
  const embedded = (doc as unknown as { _font?: { font?: { hasGlyphForCodePoint?: Covers } } })._font?.font;
  if (typeof embedded?.hasGlyphForCodePoint === 'function') return (codePoint) => embedded.hasGlyphForCodePoint!(codePoint);
  return (codePoint) => codePoint <= 0xff;
}

function missing(text: string, covers: Covers): number {
  let count = 0;
  for (const char of text) if (!covers(char.codePointAt(0)!)) count++;
  return count;
}

export function registerReportFonts(doc: Doc, fonts: ReportFonts): FontPicker {
  const primary = register(doc, 'report', fonts.primary);
  const fallback = fonts.fallback && register(doc, 'report-fallback', fonts.fallback);
  const primaryCovers = coverage(doc, primary.regular);
  const fallbackCovers = fallback && coverage(doc, fallback.regular);
  doc.font(primary.regular);
  return {
    regular: primary.regular,
    bold: primary.bold,
    pick(text, bold = false) {
      // Most values (ids, UIDs, times) are ASCII, which every family here covers.
      if (!fallback || !fallbackCovers || PRINTABLE_ASCII.test(text)) return bold ? primary.bold : primary.regular;
      const useFallback = missing(text, fallbackCovers) < missing(text, primaryCovers);
      const family = useFallback ? fallback : primary;
      return bold ? family.bold : family.regular;
    },
  };
}
