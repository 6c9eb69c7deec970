import type { ReportLayout } from './report-sections.js';

// The report's one stylesheet, inline so that the file stands alone (saved, mailed, archived
// in an evidence bundle) with no request to anywhere. It holds no report values, only the
// layout's column widths, so it is the same for every report of a layout: a server that
// sends the HTML under a strict Content-Security-Policy can allow it by its hash. Widths are
// classes here rather than style attributes for the same reason.

const BASE = `
:root { color-scheme: light; }
body {
  margin: 1.5rem;
  color: #111;
  background: #fff;
  font: 10pt/1.35 "DejaVu Sans", "Noto Sans", "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", Arial, sans-serif;
}
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; border-bottom: 1px solid #444; break-after: avoid; page-break-after: avoid; }
dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dl.fields > div { display: contents; }
dt { font-weight: bold; }
dd { margin: 0; overflow-wrap: anywhere; }
ul.values { margin: 0; padding: 0; list-style: none; display: flex; flex-wrap: wrap; gap: .1rem 1.2rem; }
p.note { margin: .3rem 0; font-style: italic; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; font-size: 8pt; }
th, td { border: 1px solid #999; padding: 2px 3px; vertical-align: top; text-align: start; overflow-wrap: anywhere; word-break: break-word; }
thead th { background: #e6e6e6; }
/* Print: every page of a long table starts with its header, and no row is cut in two. */
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
/* Emphasis only: the row says "break-glass" / "refused" in words as well. */
tr.break-glass td { background: #fff1c2; }
tr.break-glass td:first-child { border-left: 4px double #000; }
tr.refused td { font-style: italic; }
strong.mark { letter-spacing: .02em; }
.k { color: #444; font-size: .9em; }
/* The recorded code beside its words: evidence, quieter than the words. */
.code { color: #444; font-size: .85em; }
.none { color: #444; }
@page {
  size: A4 landscape;
  margin: 12mm 10mm 14mm;
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; }
}
@media print {
  body { margin: 0; font-size: 9pt; }
  table { font-size: 7pt; }
  thead th, tr.break-glass td { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;

/** Column widths as percentages of each table, from the layout's weights. */
function columnWidths(layout: ReportLayout): string {
  const rules: string[] = [];
  for (const section of layout.sections) {
    for (const block of section.blocks) {
      if (block.kind !== 'table') continue;
      const total = block.columns.reduce((sum, column) => sum + column.weight, 0);
      block.columns.forEach((column, index) => {
        rules.push(`#${section.id} col:nth-child(${index + 1}) { width: ${((column.weight / total) * 100).toFixed(2)}%; }`);
      });
    }
  }
  return rules.join('\n');
}

export function reportStylesheet(layout: ReportLayout): string {
  return `${BASE}${columnWidths(layout)}\n`;
}
