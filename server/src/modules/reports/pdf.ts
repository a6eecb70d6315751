import PDFDocument from 'pdfkit';
import { formatOptional, formatValue } from './format.js';
import { renderMarkdown } from './markdown.js';
import { drawTable, type PdfTableRow } from './pdf-table.js';
import { toPdfText } from './pdf-text.js';
import { SEVERITY_COLOUR, SEVERITY_LABEL, severitiesPresent } from './severity.js';
import type { ExportModel, ReportSection } from './types.js';

export type PdfExport = { content: Buffer; sha256: string };

type Doc = PDFKit.PDFDocument;
const MARGIN = 40;
const BAND = 44;
const TEXT = '#111827';
const MUTED = '#4b5563';

/**
 * Renders the export as a PDF (A4). `sha256` is the content hash printed in the footer: the SHA-256 of the
 * Markdown export's body for the same model (see markdown.ts), so a PDF and a Markdown file of one export carry
 * the same fingerprint; a PDF cannot contain a hash of its own bytes. Hash `content` for a checksum of the file.
 *
 * Deterministic: the same model gives the same bytes. pdfkit's only varying inputs are the CreationDate (taken
 * from `generatedAt`) and the file ID (an MD5 of the info dictionary, so fixed with it).
 */
export async function renderPdf(model: ExportModel): Promise<PdfExport> {
  const { sha256 } = renderMarkdown(model);
  const created = new Date(model.generatedAt);
  const doc = new PDFDocument({
    size: 'A4',
    bufferPages: true,
    margins: { top: BAND + 20, bottom: 60, left: MARGIN, right: MARGIN },
    info: {
      Title: toPdfText(model.title),
      Author: toPdfText(model.branding.name),
      Subject: `Playbook run ${model.run.id}`,
      Creator: 'Summit',
      Producer: 'Summit (PDFKit)',
      CreationDate: Number.isNaN(created.getTime()) ? new Date(0) : created,
    },
  });
  const done = collect(doc);
  const logo = openLogo(doc, model);
  const decorate = () => drawHeaderBand(doc, model, logo);
  doc.on('pageAdded', decorate);
  decorate();
  const addPage = () => void doc.addPage();

  drawTitle(doc, model);
  heading(doc, 'Parameters', addPage);
  if (model.parameters.length === 0) note(doc, 'No parameters.');
  else drawTable(doc, { headers: ['Parameter', 'Value'], rows: model.parameters.map((p) => ({ cells: [p.name, formatValue(p.value)] })) }, addPage);

  heading(doc, 'Summary', addPage);
  if (model.summary.length === 0) note(doc, 'No summary figures.');
  else drawTable(doc, { headers: ['Figure', 'Value'], rows: model.summary.map((s) => ({ cells: [s.label, formatValue(s.value)] })) }, addPage);

  heading(doc, 'Findings', addPage);
  drawLegend(doc, model);
  if (model.sections.length === 0) note(doc, 'No findings.');
  for (const section of model.sections) drawSection(doc, section, addPage);

  heading(doc, 'Annotations', addPage);
  if (model.annotations.length === 0) note(doc, 'No annotations.');
  for (const a of model.annotations) {
    const about = a.entityId ? ` - on entity ${a.entityId}` : '';
    doc.font('Helvetica-Bold').fontSize(9).fillColor(TEXT).text(toPdfText(`${a.author} - ${a.createdAt}${about}`));
    doc.font('Helvetica').fontSize(9).text(toPdfText(a.text), { paragraphGap: 6 });
  }

  heading(doc, 'Provenance', addPage);
  if (model.provenance.length === 0) note(doc, 'No provenance recorded.');
  else {
    drawTable(
      doc,
      {
        headers: ['Source', 'Ingest run', 'First seen', 'Last seen', 'Entities'],
        rows: model.provenance.map((p) => ({ cells: [p.source, formatOptional(p.ingestRunId), formatOptional(p.firstSeen), formatOptional(p.lastSeen), String(p.entities)] })),
      },
      addPage,
    );
  }

  heading(doc, 'Integrity', addPage);
  note(doc, `Run ${model.run.id}, playbook ${model.playbook.name} version ${model.playbook.version}, generated ${model.generatedAt}.`);
  note(doc, `Content SHA-256: ${sha256}`);
  note(doc, 'This is the SHA-256 of the Markdown export of the same content (everything above its footer line).');

  drawFooters(doc, model, sha256);
  doc.end();
  const content = await done;
  return { content, sha256 };
}

function collect(doc: Doc): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
}

type OpenedImage = { width: number; height: number };

/** A logo pdfkit cannot read (not really PNG/JPEG) is left out rather than failing the export. */
function openLogo(doc: Doc, model: ExportModel): OpenedImage | null {
  const logo = model.branding.logo;
  if (!logo || logo.data.length === 0) return null;
  try {
    return (doc as unknown as { openImage(src: Buffer): OpenedImage }).openImage(logo.data);
  } catch {
    return null;
  }
}

function drawHeaderBand(doc: Doc, model: ExportModel, logo: OpenedImage | null): void {
  const accent = /^#[0-9a-fA-F]{6}$/.test(model.branding.accentColor) ? model.branding.accentColor : '#1f6feb';
  doc.save();
  doc.rect(0, 0, doc.page.width, BAND).fill(accent);
  const logoWidth = logo ? 110 : 0;
  doc.font('Helvetica-Bold').fontSize(14).fillColor(isLight(accent) ? TEXT : '#ffffff');
  doc.text(toPdfText(model.branding.name), MARGIN, 15, { width: doc.page.width - 2 * MARGIN - logoWidth, height: 18, ellipsis: true, lineBreak: false });
  if (logo) {
    doc.image(logo as never, doc.page.width - MARGIN - logoWidth, 6, { fit: [logoWidth, BAND - 12], align: 'right', valign: 'center' });
  }
  doc.restore();
  doc.font('Helvetica').fontSize(10).fillColor(TEXT);
  doc.x = MARGIN;
  doc.y = doc.page.margins.top;
}

/** Relative luminance above one half: dark text reads better on the band than white. */
function isLight(hex: string): boolean {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b! > 0.5;
}

function drawTitle(doc: Doc, model: ExportModel): void {
  const { run, playbook } = model;
  doc.font('Helvetica-Bold').fontSize(18).fillColor(TEXT).text(toPdfText(model.title));
  doc.moveDown(0.3);
  doc.font('Helvetica').fontSize(9).fillColor(MUTED);
  doc.text(toPdfText(`Playbook ${playbook.name}, version ${playbook.version} - run ${run.id}`));
  doc.text(
    toPdfText(
      `Status ${run.status} - trigger ${run.trigger} - requested by ${formatOptional(run.requestedBy)} - started ${formatOptional(run.startedAt)} - finished ${formatOptional(run.finishedAt)}`,
    ),
  );
  doc.fillColor(TEXT).moveDown(0.5);
}

/** A heading never ends a page: if the next few lines would not fit under it, it starts the next page. */
function heading(doc: Doc, text: string, addPage: () => void, size = 13): void {
  if (doc.y + size + 60 > doc.page.height - doc.page.margins.bottom) addPage();
  doc.moveDown(0.4);
  doc.font('Helvetica-Bold').fontSize(size).fillColor(TEXT).text(toPdfText(text), MARGIN);
  doc.moveDown(0.3);
  doc.font('Helvetica').fontSize(10);
}

function note(doc: Doc, text: string): void {
  doc.font('Helvetica').fontSize(9).fillColor(MUTED).text(toPdfText(text), MARGIN).fillColor(TEXT);
  doc.moveDown(0.3);
}

function drawLegend(doc: Doc, model: ExportModel): void {
  const highlights = model.sections.flatMap((s) => s.rows.flatMap((r) => (r.highlight ? [r.highlight] : [])));
  if (highlights.length === 0) return;
  doc.font('Helvetica').fontSize(9).fillColor(TEXT).text('Highlights: ', MARGIN, doc.y, { continued: true });
  for (const severity of severitiesPresent(highlights.map((h) => h.severity))) {
    const count = highlights.filter((h) => h.severity === severity).length;
    doc.font('Helvetica-Bold').fillColor(SEVERITY_COLOUR[severity].badge).text(`${SEVERITY_LABEL[severity]} (${count})  `, { continued: true });
  }
  doc.font('Helvetica').fillColor(MUTED).text('- tinted rows were flagged by annotate steps; the note is under the row.');
  doc.fillColor(TEXT).moveDown(0.5);
}

function drawSection(doc: Doc, section: ReportSection, addPage: () => void): void {
  heading(doc, section.title, addPage, 11);
  if (section.description) note(doc, section.description);
  if (section.columns.length === 0) return note(doc, 'This section has no columns.');
  if (section.rows.length === 0) return note(doc, 'No rows.');
  const rows: PdfTableRow[] = section.rows.map((row) => {
    const cells = section.columns.map((c) => formatValue(row.cells[c.key] ?? null));
    const h = row.highlight;
    if (!h) return { cells };
    const colour = SEVERITY_COLOUR[h.severity];
    return { cells, highlight: { tint: colour.tint, badgeColour: colour.badge, badge: SEVERITY_LABEL[h.severity], note: `${h.note} (${h.rule})` } };
  });
  drawTable(doc, { headers: section.columns.map((c) => c.label), rows }, addPage);
  if (section.truncated) note(doc, `Truncated: the run stopped at its row limit; the first ${section.rows.length} rows are shown.`);
}

function drawFooters(doc: Doc, model: ExportModel, sha256: string): void {
  const { start, count } = doc.bufferedPageRange();
  for (let i = start; i < start + count; i++) {
    doc.switchToPage(i);
    const bottom = doc.page.margins.bottom;
    // Writing inside the bottom margin would make pdfkit open a new page; lift the margin while drawing.
    doc.page.margins.bottom = 0;
    const y = doc.page.height - 46;
    const width = doc.page.width - 2 * MARGIN;
    doc.moveTo(MARGIN, y - 4).lineTo(MARGIN + width, y - 4).lineWidth(0.5).strokeColor('#d1d5db').stroke();
    doc.font('Helvetica').fontSize(7.5).fillColor(MUTED);
    const footer = model.branding.footerText ? `${model.branding.footerText} - ` : '';
    doc.text(toPdfText(`${footer}Run ${model.run.id} - playbook version ${model.playbook.version}`), MARGIN, y, { width: width - 80, lineBreak: false, ellipsis: true });
    doc.text(`Page ${i - start + 1} of ${count}`, MARGIN + width - 80, y, { width: 80, align: 'right', lineBreak: false });
    doc.text(`Content SHA-256: ${sha256}`, MARGIN, y + 11, { width, lineBreak: false });
    doc.page.margins.bottom = bottom;
  }
}

