import { toPdfText } from './pdf-text.js';

/**
 * Tables for the PDF export, drawn with pdfkit primitives so that page breaks are ours to decide: a row is
 * measured before it is drawn and goes to the next page whole when it does not fit, and every page a table runs
 * onto starts with the table's header row again.
 */
export type PdfTableRow = {
  cells: string[];
  /** Background tint of a highlighted row, and the note drawn under its cells. */
  highlight?: { tint: string; badge: string; badgeColour: string; note: string };
};
export type PdfTable = { headers: string[]; rows: PdfTableRow[] };

type Doc = PDFKit.PDFDocument;

const FONT_SIZE = 8;
const PAD = 3;
const MIN_COLUMN = 34;
const MAX_NATURAL = 220;
/** A cell shows at most this many characters in the PDF (the Markdown export has them all). */
export const MAX_CELL_CHARS = 600;

export function drawTable(doc: Doc, table: PdfTable, addPage: () => void): void {
  const left = doc.page.margins.left;
  const available = doc.page.width - left - doc.page.margins.right;
  doc.fontSize(FONT_SIZE);
  const widths = columnWidths(doc, table, available);
  const headers = table.headers.map(toPdfText);
  const drawHeader = () => drawRow(doc, { cells: headers }, widths, left, { bold: true, fill: '#e5e7eb' });
  const bodyHeight = doc.page.height - doc.page.margins.top - doc.page.margins.bottom;
  const headerHeight = measureRow(doc, { cells: headers }, widths, true);

  if (doc.y + headerHeight + 2 * FONT_SIZE > maxY(doc)) addPage();
  drawHeader();
  for (const source of table.rows) {
    const row = fitRow(doc, prepareRow(source), widths, bodyHeight - headerHeight);
    const height = measureRow(doc, row, widths, false);
    if (doc.y + height > maxY(doc)) {
      addPage();
      drawHeader();
    }
    drawRow(doc, row, widths, left, row.highlight ? { fill: row.highlight.tint } : {});
  }
  doc.x = left;
  doc.y += FONT_SIZE;
}

const maxY = (doc: Doc) => doc.page.height - doc.page.margins.bottom;

function prepareRow(row: PdfTableRow): PdfTableRow {
  const clip = (text: string) => (text.length > MAX_CELL_CHARS ? `${text.slice(0, MAX_CELL_CHARS - 1)}…` : text);
  return {
    cells: row.cells.map((c) => toPdfText(clip(c))),
    ...(row.highlight ? { highlight: { ...row.highlight, note: toPdfText(clip(row.highlight.note)) } } : {}),
  };
}

/** A row taller than a page could never be placed: shorten its texts until it fits (only pathological input). */
function fitRow(doc: Doc, row: PdfTableRow, widths: number[], limit: number): PdfTableRow {
  let current = row;
  while (measureRow(doc, current, widths, false) > limit) {
    const longest = Math.max(...current.cells.map((c) => c.length), current.highlight?.note.length ?? 0);
    const cut = (text: string) => (text.length > longest / 2 ? `${text.slice(0, Math.floor(longest / 2))}…` : text);
    current = { cells: current.cells.map(cut), ...(current.highlight ? { highlight: { ...current.highlight, note: cut(current.highlight.note) } } : {}) };
  }
  return current;
}

function columnWidths(doc: Doc, table: PdfTable, available: number): number[] {
  const sample = table.rows.slice(0, 200);
  const natural = table.headers.map((header, i) => {
    doc.font('Helvetica-Bold');
    let widest = doc.widthOfString(toPdfText(header));
    doc.font('Helvetica');
    for (const row of sample) widest = Math.max(widest, doc.widthOfString(toPdfText((row.cells[i] ?? '').slice(0, 80))));
    return Math.min(MAX_NATURAL, Math.max(MIN_COLUMN, widest + 2 * PAD + 1));
  });
  const total = natural.reduce((a, b) => a + b, 0);
  // Wider than the page: shrink in proportion (texts wrap); narrower: widen in proportion to fill the line.
  return natural.map((w) => (w * available) / total);
}

function measureRow(doc: Doc, row: PdfTableRow, widths: number[], bold: boolean): number {
  doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(FONT_SIZE);
  let height = 0;
  row.cells.forEach((text, i) => {
    height = Math.max(height, doc.heightOfString(text || ' ', { width: widths[i]! - 2 * PAD }));
  });
  if (row.highlight) height += noteHeight(doc, row.highlight, sum(widths));
  return height + 2 * PAD;
}

function noteHeight(doc: Doc, highlight: NonNullable<PdfTableRow['highlight']>, width: number): number {
  // Measured all in bold, which is wider than the regular note text: never less than what is drawn.
  doc.font('Helvetica-Bold').fontSize(FONT_SIZE);
  return doc.heightOfString(`${highlight.badge}  ${highlight.note}`, { width: width - 2 * PAD }) + PAD;
}

function drawRow(doc: Doc, row: PdfTableRow, widths: number[], left: number, style: { bold?: boolean; fill?: string }): void {
  const top = doc.y;
  const height = measureRow(doc, row, widths, style.bold ?? false);
  const width = sum(widths);
  if (style.fill) doc.rect(left, top, width, height).fill(style.fill);
  doc.fillColor('#111827').font(style.bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(FONT_SIZE);
  let x = left;
  let cellsBottom = top;
  row.cells.forEach((text, i) => {
    doc.text(text, x + PAD, top + PAD, { width: widths[i]! - 2 * PAD });
    cellsBottom = Math.max(cellsBottom, doc.y);
    x += widths[i]!;
  });
  if (row.highlight) {
    const h = row.highlight;
    doc.font('Helvetica-Bold').fillColor(h.badgeColour).text(`${h.badge}  `, left + PAD, cellsBottom + PAD, { width: width - 2 * PAD, continued: true });
    doc.font('Helvetica').fillColor('#111827').text(h.note);
  }
  doc.moveTo(left, top + height).lineTo(left + width, top + height).lineWidth(0.5).strokeColor('#d1d5db').stroke();
  doc.x = left;
  doc.y = top + height;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
