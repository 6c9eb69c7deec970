import PDFDocument from 'pdfkit';
import type { IncidentReport } from '../../contracts/incident.js';
import { REPORT_LABELS, type ReportLabels, type ReportLang } from './labels.js';
import { chooseReportFonts } from './pdf-fonts.js';
import { registerReportFonts, type FontPicker } from './pdf-font-picker.js';
import { PdfTable } from './pdf-table.js';
import { partText, reportSections, type Field, type ReportLayout, type Section } from './report-sections.js';

// The investigation report as a PDF: A4 landscape (the accesses table has thirteen columns),
// the same sections as the HTML, "page N of M" and the incident id on every page, and the
// document information set from the report, so that two renderings of one report differ only
// where pdfkit itself varies (the font subset tags).

export interface ReportPdfOptions {
  lang?: ReportLang;
  /** Content streams are deflated unless false; tests turn it off to read the text. */
  compress?: boolean;
}

type Doc = PDFKit.PDFDocument;

const MARGINS = { top: 36, bottom: 42, left: 28, right: 28 };
const SIZES = { title: 15, section: 12, body: 8.5, table: 6.5, footer: 7 };
const TABLE_STYLE = { fontSize: SIZES.table, padding: 2 };
/** A section heading with the space above and below it. */
const HEADING_HEIGHT = 32;
/** A section heading is kept with at least this much of what follows it, when that is not a table. */
const KEEP_WITH_HEADING = 40;

function ensureRoom(doc: Doc, height: number): void {
  if (doc.y + height > doc.page.height - doc.page.margins.bottom) doc.addPage();
}

function write(doc: Doc, fonts: FontPicker, text: string, size: number, bold = false): void {
  doc
    .font(fonts.pick(text, bold))
    .fontSize(size)
    .fillColor('#000')
    .text(text, doc.page.margins.left, doc.y, { width: contentWidth(doc) });
}

function contentWidth(doc: Doc): number {
  return doc.page.width - doc.page.margins.left - doc.page.margins.right;
}

/** "Label: value, value": the label in bold, the values as recorded (a code in words with the code beside them). */
function writeField(doc: Doc, fonts: FontPicker, field: Field, none: string): void {
  const values = field.values.length === 0 ? none : field.values.map((part) => partText(part, none)).join(', ');
  const label = `${field.label}: `;
  doc.font(fonts.pick(label, true)).fontSize(SIZES.body).fillColor('#000');
  doc.text(label, doc.page.margins.left, doc.y, { width: contentWidth(doc), continued: true });
  doc.font(fonts.pick(values)).text(values);
}

function writeSection(doc: Doc, fonts: FontPicker, section: Section, layout: ReportLayout): void {
  const first = section.blocks[0];
  const table = new PdfTable(doc, fonts, TABLE_STYLE, layout.none);
  // The heading stays with the start of what follows it: a table's header and first row.
  const following = first?.kind === 'table' && first.rows.length > 0 ? table.startHeight(first.columns, first.rows) : KEEP_WITH_HEADING;
  ensureRoom(doc, HEADING_HEIGHT + following);
  doc.moveDown(0.8);
  doc.outline.addItem(section.title);
  write(doc, fonts, section.title, SIZES.section, true);
  doc.moveDown(0.3);
  for (const block of section.blocks) {
    if (block.kind === 'note') write(doc, fonts, block.text, SIZES.body);
    else if (block.kind === 'fields') for (const field of block.fields) writeField(doc, fonts, field, layout.none);
    else if (block.rows.length === 0) write(doc, fonts, layout.noneRecorded, SIZES.body);
    else table.draw(block.columns, block.rows);
  }
}

/** Written last, over every buffered page, once the page count is known. */
function writeFooters(doc: Doc, fonts: FontPicker, layout: ReportLayout, labels: ReportLabels): void {
  const { start, count } = doc.bufferedPageRange();
  for (let index = start; index < start + count; index++) {
    doc.switchToPage(index);
    // The footer sits in the bottom margin, where pdfkit would otherwise start a new page.
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    const y = doc.page.height - bottom + 14;
    const width = contentWidth(doc);
    const left = doc.page.margins.left;
    const page = labels.page(index + 1, count);
    doc.font(fonts.pick(layout.incidentId)).fontSize(SIZES.footer).fillColor('#000');
    doc.text(layout.incidentId, left, y, { width: width / 2, lineBreak: false });
    doc.font(fonts.pick(page)).text(page, left + width / 2, y, { width: width / 2, align: 'right', lineBreak: false });
    doc.page.margins.bottom = bottom;
  }
}

/** The document information: deterministic, from the report. */
function documentInfo(report: IncidentReport, layout: ReportLayout): PDFKit.DocumentInfo {
  const info: PDFKit.DocumentInfo = { Title: layout.documentTitle, Subject: report.title, Keywords: report.incidentId, Creator: 'imaging-access-review' };
  const generated = new Date(report.generatedAt);
  // An unreadable timestamp leaves pdfkit's own (the time of rendering) rather than "Invalid Date".
  if (!Number.isNaN(generated.getTime())) Object.assign(info, { CreationDate: generated, ModDate: generated });
  return info;
}

function collect(doc: Doc): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
}

export async function renderReportPdf(report: IncidentReport, options: ReportPdfOptions = {}): Promise<Buffer> {
  const lang = options.lang ?? 'en';
  const labels = REPORT_LABELS[lang];
  // Before the document exists: a missing Chinese font is an error that names the package.
  const fonts = chooseReportFonts(lang);
  const layout = reportSections(report, labels);
  const doc = new PDFDocument({
    size: 'A4',
    layout: 'landscape',
    margins: MARGINS,
    bufferPages: true,
    compress: options.compress ?? true,
    lang: labels.langTag,
    displayTitle: true,
    info: documentInfo(report, layout),
  });
  const done = collect(doc);
  const picker = registerReportFonts(doc, fonts);
  write(doc, picker, layout.documentTitle, SIZES.title, true);
  doc.moveDown(0.3);
  for (const field of layout.heading) writeField(doc, picker, field, layout.none);
  for (const section of layout.sections) writeSection(doc, picker, section, layout);
  writeFooters(doc, picker, layout, labels);
  doc.end();
  return done;
}
