import type { FontPicker } from './pdf-font-picker.js';
import { partText, type Cell, type Column, type Row, type RowMark } from './report-sections.js';

// A table in the PDF that breaks across pages: each page the table reaches starts with its
// header row; a row moves whole to the next page when it does not fit; only a row taller than
// a whole page (a long justification) is split, and then it continues under a repeated
// header. Long values (UIDs, serving ids) wrap inside their cells: pdfkit breaks a word that
// is wider than its line by characters.

type Doc = PDFKit.PDFDocument;

export interface TableStyle {
  fontSize: number;
  padding: number;
}

/** One piece of text in a cell, as it will be set. */
interface Line {
  text: string;
  bold: boolean;
}

interface Measured {
  cells: Line[][];
  heights: number[][];
  height: number;
}

interface Geometry {
  xs: number[];
  widths: number[];
}

const BORDER = '#8c8c8c';
const HEADER_FILL = '#e6e6e6';
const BREAK_GLASS_FILL = '#fff1c2';
/** Below this much room, a tall row starts on the next page instead of being split. */
const MIN_SPLIT_ROOM = 60;

export class PdfTable {
  constructor(
    private readonly doc: Doc,
    private readonly fonts: FontPicker,
    private readonly style: TableStyle,
    private readonly none: string,
  ) {}

  /**
   * The room the table needs where it starts: its header and its first row, or, for a first
   * row taller than a page, enough of it to be worth splitting. A header alone at the foot of
   * a page says nothing; the section heading asks for this much too, to stay with its table.
   */
  startHeight(columns: Column[], rows: Row[]): number {
    const geometry = this.geometry(columns);
    const header = this.header(columns, geometry);
    const first = rows[0] && this.measure(this.lines(rows[0].cells), geometry);
    if (!first) return header.height;
    const pageRoom = this.bottom() - this.doc.page.margins.top - header.height;
    return header.height + (first.height <= pageRoom ? first.height : MIN_SPLIT_ROOM);
  }

  /** Draws the table from doc.y on; leaves doc.y under it. */
  draw(columns: Column[], rows: Row[]): void {
    const geometry = this.geometry(columns);
    const header = this.header(columns, geometry);
    if (this.doc.y + this.startHeight(columns, rows) > this.bottom()) this.doc.addPage();
    let y = this.drawRow(header, [], this.doc.y, geometry, true);
    for (const row of rows) y = this.placeRow(this.lines(row.cells), row.marks, y, header, geometry);
    this.doc.x = this.doc.page.margins.left;
    this.doc.y = y + this.style.padding * 2;
  }

  private header(columns: Column[], geometry: Geometry): Measured {
    return this.measure(
      columns.map((column): Line[] => [{ text: column.title, bold: true }]),
      geometry,
    );
  }

  private geometry(columns: Column[]): Geometry {
    const left = this.doc.page.margins.left;
    const width = this.doc.page.width - left - this.doc.page.margins.right;
    const total = columns.reduce((sum, column) => sum + column.weight, 0);
    const widths = columns.map((column) => (column.weight / total) * width);
    const xs: number[] = [];
    widths.reduce((x, w) => (xs.push(x), x + w), left);
    return { xs, widths };
  }

  private lines(cells: Cell[]): Line[][] {
    return cells.map((cell) => {
      if (cell.length === 0) return [{ text: this.none, bold: false }];
      return cell.map((part) => ({ text: partText(part, this.none), bold: part.strong === true }));
    });
  }

  private textWidth(geometry: Geometry, column: number): number {
    return geometry.widths[column]! - this.style.padding * 2;
  }

  private setFont(line: Line): void {
    this.doc.font(this.fonts.pick(line.text, line.bold)).fontSize(this.style.fontSize);
  }

  private lineHeight(line: Line, width: number): number {
    if (line.text === '') return 0;
    this.setFont(line);
    return this.doc.heightOfString(line.text, { width });
  }

  /** Each line's height in its cell, measured once: the row's height and its drawing both use them. */
  private measure(cells: Line[][], geometry: Geometry): Measured {
    const heights = cells.map((lines, column) => {
      const width = this.textWidth(geometry, column);
      return lines.map((line) => this.lineHeight(line, width));
    });
    let tallest = 0;
    for (const column of heights)
      tallest = Math.max(
        tallest,
        column.reduce((sum, h) => sum + h, 0),
      );
    // At least one line, so that a row of empty cells still shows.
    return { cells, heights, height: Math.max(tallest, this.style.fontSize * 1.2) + this.style.padding * 2 };
  }

  private bottom(): number {
    return this.doc.page.height - this.doc.page.margins.bottom;
  }

  private newPage(header: Measured, geometry: Geometry): number {
    this.doc.addPage();
    return this.drawRow(header, [], this.doc.page.margins.top, geometry, true);
  }

  /** Puts one row at `y`, or on the next page, or split across pages; returns the y under it. */
  private placeRow(cells: Line[][], marks: RowMark[], y: number, header: Measured, geometry: Geometry): number {
    let pending = this.measure(cells, geometry);
    const pageRoom = this.bottom() - this.doc.page.margins.top - header.height;
    for (;;) {
      if (y + pending.height <= this.bottom()) return this.drawRow(pending, marks, y, geometry, false);
      if (pending.height <= pageRoom || this.bottom() - y < MIN_SPLIT_ROOM) {
        y = this.newPage(header, geometry);
        if (pending.height <= pageRoom) continue;
      }
      // Taller than a page: what fits here, the rest under the header on the next page. With
      // at least MIN_SPLIT_ROOM here, every cell's first line fits, so each pass moves on.
      const room = this.bottom() - y;
      const [now, later] = this.split(pending.cells, room - this.style.padding * 2, geometry);
      this.drawRow({ ...this.measure(now, geometry), height: room }, marks, y, geometry, false);
      pending = this.measure(later, geometry);
      y = this.newPage(header, geometry);
    }
  }

  /** Splits a row's cells at `height`: what fits on this page, and the rest. */
  private split(cells: Line[][], height: number, geometry: Geometry): [Line[][], Line[][]] {
    const now: Line[][] = [];
    const later: Line[][] = [];
    cells.forEach((lines, column) => {
      const width = this.textWidth(geometry, column);
      const here: Line[] = [];
      const rest: Line[] = [];
      let used = 0;
      for (const line of lines) {
        if (rest.length > 0) {
          rest.push(line);
          continue;
        }
        const lineHeight = this.lineHeight(line, width);
        if (used + lineHeight <= height) {
          here.push(line);
          used += lineHeight;
          continue;
        }
        const cut = this.fittingPrefix(line, width, height - used);
        if (cut > 0) {
          const chars = Array.from(line.text);
          here.push({ text: chars.slice(0, cut).join(''), bold: line.bold });
          rest.push({ text: chars.slice(cut).join(''), bold: line.bold });
        } else {
          rest.push(line);
        }
      }
      now.push(here);
      later.push(rest);
    });
    return [now, later];
  }

  /** How many characters of `line` fit in `height` (binary search: height grows with length). */
  private fittingPrefix(line: Line, width: number, height: number): number {
    const chars = Array.from(line.text);
    let low = 0;
    let high = chars.length;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (this.lineHeight({ text: chars.slice(0, mid).join(''), bold: line.bold }, width) <= height) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  private drawRow(row: Measured, marks: RowMark[], y: number, geometry: Geometry, isHeader: boolean): number {
    const doc = this.doc;
    const fill = isHeader ? HEADER_FILL : marks.includes('break-glass') ? BREAK_GLASS_FILL : undefined;
    const left = geometry.xs[0]!;
    const right = geometry.xs.at(-1)! + geometry.widths.at(-1)!;
    if (fill) doc.rect(left, y, right - left, row.height).fill(fill);
    doc.lineWidth(0.4).strokeColor(BORDER).fillColor('#000');
    row.cells.forEach((lines, column) => {
      const x = geometry.xs[column]!;
      const width = this.textWidth(geometry, column);
      doc.rect(x, y, geometry.widths[column]!, row.height).stroke();
      let lineY = y + this.style.padding;
      lines.forEach((line, index) => {
        const lineHeight = row.heights[column]![index]!;
        if (lineHeight === 0) return;
        this.setFont(line);
        // `height` bounds the text to its cell: pdfkit would otherwise start a page of its own.
        doc.text(line.text, x + this.style.padding, lineY, { width, height: lineHeight + 1, lineBreak: true });
        lineY += lineHeight;
      });
    });
    return y + row.height;
  }
}
