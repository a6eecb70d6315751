import { describe, expect, it } from 'vitest';
import { buildExportModel, valueOf } from './export-model.fixture.js';
import { renderMarkdown } from './markdown.js';
import { renderPdf } from './pdf.js';
import { toPdfText } from './pdf-text.js';
import { pdfImageCount, pdfInfo, pdfText } from './poppler.fixture.js';

describe('renderPdf', () => {
  it('renders a 1,000-row section that a standard reader opens, over many pages, with its text extractable', async () => {
    const model = buildExportModel({ rows: 1000, logo: true });
    const { content, sha256 } = await renderPdf(model);
    const info = pdfInfo(content);
    const pages = Number(info.Pages);
    expect(pages).toBeGreaterThan(1);
    expect(info.Title).toBe('Weekly C2 infrastructure review');
    expect(info.CreationDate).toMatch(/Mar\s+2 10:00:00 2025/);
    expect(sha256).toBe(renderMarkdown(model).sha256);

    const text = pdfText(content);
    for (const i of [0, 1, 2, 3, 4, 500, 999]) expect(text, valueOf(i)).toContain(valueOf(i));
    expect(text).toContain('Acme Threat Intel');
    expect(text).toContain('beacons every 7 s (beaconing)');
    expect(text).toContain('CRITICAL');
    expect(text).toContain('ingest-run-0001');
    expect(text).toContain('Escalate the red items.');
    expect(text).toContain(`Page ${pages} of ${pages}`);
    expect(text).toContain(`Content SHA-256: ${sha256}`);
    expect(pdfImageCount(content)).toBe(pages);

    // Every page after the first that the findings table runs onto starts with its header row again.
    let continued = 0;
    for (let page = 2; page <= pages; page++) {
      const pageText = pdfText(content, page);
      expect(pageText).toContain(`Page ${page} of ${pages}`);
      expect(pageText).toContain('Run f0e1d2c3-0000-4000-8000-0000000000aa');
      if (/c2-\d+\.evil-domain\.example/.test(pageText)) {
        expect(pageText).toMatch(/Value\s+Type\s+TLP\s+Confidence\s+First seen\s+Sources/);
        continued++;
      }
    }
    expect(continued).toBeGreaterThan(10);
  });

  it('never splits a row: each highlighted row and its note are on the same page', async () => {
    const model = buildExportModel({ rows: 300 });
    const { content } = await renderPdf(model);
    const pages = Number(pdfInfo(content).Pages);
    for (let page = 1; page <= pages; page++) {
      const lines = pdfText(content, page).split('\n');
      lines.forEach((line, i) => {
        const note = /^\s*(CRITICAL|HIGH|MEDIUM|LOW|INFO)\s+beacons every (\d+) s/.exec(line);
        if (!note) return;
        // The row the note belongs to is on the line above, on this page.
        expect(lines[i - 1], `page ${page}: ${line}`).toMatch(/feed-alpha\s*$/);
      });
    }
  });

  it('gives the same bytes for the same model', async () => {
    const model = buildExportModel({ rows: 50, logo: true });
    const first = await renderPdf(model);
    const second = await renderPdf(structuredClone(model));
    expect(second.content.equals(first.content)).toBe(true);
    const later = await renderPdf({ ...model, generatedAt: '2025-03-03T10:00:00.000Z' });
    expect(later.content.equals(first.content)).toBe(false);
  });

  it('draws characters the standard fonts lack as their base letter or "?", without failing', async () => {
    expect(toPdfText('Ωmega 日本 😀 őz café € “q”')).toBe('?mega ?? ? oz café € “q”');
    const model = buildExportModel({ rows: 3 });
    model.sections[0]!.rows[0]!.cells.name = 'Ωmega-日本.example';
    model.branding.name = 'Ünïcødé 😀 Corp';
    const text = pdfText((await renderPdf(model)).content);
    expect(text).toContain('?mega-??.example');
    expect(text).toContain('Ünïcødé ? Corp');
  });

  it('leaves out a logo it cannot read instead of failing the export', async () => {
    const model = buildExportModel({ rows: 3 });
    model.branding.logo = { mediaType: 'image/png', data: Buffer.from('not an image') };
    const { content } = await renderPdf(model);
    expect(pdfImageCount(content)).toBe(0);
    expect(pdfText(content)).toContain('Acme Threat Intel');
  });
});
