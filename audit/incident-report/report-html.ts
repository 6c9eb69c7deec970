import { escapeXml } from '../../contracts/xml.js';
import type { IncidentReport } from '../../contracts/incident.js';
import { REPORT_LABELS, type ReportLang } from './labels.js';
import { reportStylesheet } from './report-html-style.js';
import { reportSections, type Block, type Cell, type Field, type Part, type Row, type Section } from './report-sections.js';

// The investigation report as one self-contained HTML5 document: readable on screen, printed
// on A4 from any browser. No scripts, no external resources. Built as strings (not a DOM):
// a report can list ten thousand accesses.
//
// Every recorded value goes through `text()`: escaped, then isolated in <bdi>, so that
// right-to-left text (or a stray bidi control) in one value cannot reorder the labels and
// values around it. escapeXml (contracts/xml.ts) is right for HTML5 as it stands: it replaces
// all five of < > & " ', which covers text content and attribute values in either quote, and
// &apos; is a named character reference in HTML5 (unlike HTML 4). This document is HTML5.

export interface ReportHtmlOptions {
  lang?: ReportLang;
}

/** A recorded value, or the "none" mark when nothing was recorded. */
function text(value: string | null, none: string): string {
  return value === null ? `<span class="none">${escapeXml(none)}</span>` : `<bdi>${escapeXml(value)}</bdi>`;
}

/** A label, then the value; a code in words keeps the code beside them, smaller: "Revoked (REVOKED)". */
function part(p: Part, none: string): string {
  const label = p.label === undefined ? '' : `<span class="k">${escapeXml(p.label)}</span> `;
  const code = p.code === undefined ? '' : ` <span class="code">(${text(p.code, none)})</span>`;
  const value = p.strong ? `<strong class="mark">${text(p.value, none)}</strong>` : text(p.value, none);
  return label + value + code;
}

function cell(c: Cell, none: string): string {
  if (c.length === 0) return `<td>${text(null, none)}</td>`;
  if (c.length === 1) return `<td>${part(c[0]!, none)}</td>`;
  return `<td>${c.map((p) => `<div>${part(p, none)}</div>`).join('')}</td>`;
}

function row(r: Row, none: string): string {
  // Marks are fixed words of ours, never values.
  const open = r.marks.length === 0 ? '<tr>' : `<tr class="${r.marks.join(' ')}">`;
  return `${open}${r.cells.map((c) => cell(c, none)).join('')}</tr>`;
}

function fieldValues(field: Field, none: string): string {
  if (field.values.length === 0) return text(null, none);
  if (field.values.length === 1) return part(field.values[0]!, none);
  return `<ul class="values">${field.values.map((v) => `<li>${part(v, none)}</li>`).join('')}</ul>`;
}

function fields(list: Field[], none: string): string {
  const items = list.map((f) => `<div><dt>${escapeXml(f.label)}</dt><dd>${fieldValues(f, none)}</dd></div>`);
  return `<dl class="fields">${items.join('')}</dl>`;
}

function block(b: Block, out: string[], noneRecorded: string, none: string): void {
  if (b.kind === 'note') {
    out.push(`<p class="note">${escapeXml(b.text)}</p>`);
  } else if (b.kind === 'fields') {
    out.push(fields(b.fields, none));
  } else if (b.rows.length === 0) {
    out.push(`<p class="note">${escapeXml(noneRecorded)}</p>`);
  } else {
    out.push('<table>', `<colgroup>${'<col>'.repeat(b.columns.length)}</colgroup>`);
    out.push(`<thead><tr>${b.columns.map((c) => `<th scope="col">${escapeXml(c.title)}</th>`).join('')}</tr></thead>`, '<tbody>');
    // One push per row: the rows are the bulk of a large report.
    for (const r of b.rows) out.push(row(r, none));
    out.push('</tbody></table>');
  }
}

function section(s: Section, out: string[], noneRecorded: string, none: string): void {
  out.push(`<section id="${s.id}" aria-labelledby="h-${s.id}">`, `<h2 id="h-${s.id}">${escapeXml(s.title)}</h2>`);
  for (const b of s.blocks) block(b, out, noneRecorded, none);
  out.push('</section>');
}

export function renderReportHtml(report: IncidentReport, options: ReportHtmlOptions = {}): string {
  const labels = REPORT_LABELS[options.lang ?? 'en'];
  const layout = reportSections(report, labels);
  const out: string[] = [
    '<!DOCTYPE html>',
    `<html lang="${escapeXml(layout.lang)}">`,
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeXml(layout.documentTitle)}</title>`,
    `<style>${reportStylesheet(layout)}</style>`,
    '</head>',
    '<body>',
    '<header>',
    `<h1>${escapeXml(labels.documentTitle)} <bdi>${escapeXml(layout.incidentId)}</bdi></h1>`,
    fields(layout.heading, layout.none),
    '</header>',
    '<main>',
  ];
  for (const s of layout.sections) section(s, out, layout.noneRecorded, layout.none);
  out.push('</main>', '</body>', '</html>', '');
  return out.join('\n');
}
