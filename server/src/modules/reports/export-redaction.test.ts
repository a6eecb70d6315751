import { describe, expect, it } from 'vitest';
import { buildExportModel, valueOf } from './export-model.fixture.js';
import { escapeInline } from './markdown-escape.js';
import { renderMarkdown } from './markdown.js';
import { renderPdf } from './pdf.js';
import { pdfText } from './poppler.fixture.js';
import { redact } from './redact.js';
import type { RedactionRule } from './types.js';

/**
 * End to end: for each kind of rule, the values it redacts are in the unredacted export (so the check can fail),
 * and in neither the Markdown nor the text a PDF reader extracts once redacted. Markdown is searched for each value
 * as written and as escaped (`hxxp\://…`), since either would show the value to a reader.
 */
function leaks(markdown: string, pdf: string, value: string): string[] {
  const where: string[] = [];
  if (markdown.includes(value) || markdown.includes(escapeInline(value))) where.push('markdown');
  if (pdf.includes(value)) where.push('pdf');
  return where;
}

const base = buildExportModel({ rows: 40 });
// The values also appear in free text, where only the scrub of redacted values can catch them.
base.annotations.push({ author: 'lee', createdAt: '2025-03-02T11:00:00.000Z', entityId: null, text: `Pivot from ${valueOf(4)} and ${valueOf(2)}` });
base.parameters.push({ name: 'seed', value: valueOf(9) });

const cases: { rule: RedactionRule; expected: string[] }[] = [
  { rule: { id: 'red', kind: 'tlp', tlp: ['red'], audiences: ['share-link'] }, expected: [valueOf(4), valueOf(9), valueOf(39)] },
  { rule: { id: 'urls', kind: 'entity-type', types: ['url'] }, expected: [valueOf(2), valueOf(7), valueOf(37)] },
  { rule: { id: 'src', kind: 'property', names: ['sources', 'minConfidence'] }, expected: ['feed-alpha'] },
  { rule: { id: 'ips', kind: 'regex', pattern: '198\\.51\\.\\d+\\.\\d+' }, expected: [valueOf(1), valueOf(6), valueOf(36)] },
];

describe('redacted exports', () => {
  for (const { rule, expected } of cases) {
    it(`removes every value a ${rule.kind} rule redacts from the Markdown and the PDF text`, async () => {
      const plainPdf = pdfText((await renderPdf(base)).content);
      const plainMd = renderMarkdown(base).content;
      for (const value of expected) expect(leaks(plainMd, plainPdf, value), value).toEqual(['markdown', 'pdf']);

      const { model, redactedValues, applied } = redact(base, [rule], 'share-link');
      expect(applied[0]!.count).toBeGreaterThan(0);
      for (const value of expected) expect(redactedValues).toContain(value);
      const markdown = renderMarkdown(model).content;
      const pdf = pdfText((await renderPdf(model)).content);
      for (const value of redactedValues) expect(leaks(markdown, pdf, value), value).toEqual([]);
      expect(markdown).toContain(escapeInline('[REDACTED]'));
      expect(pdf).toContain('[REDACTED]');
      // What was not redacted is still there.
      expect(pdf).toContain('Weekly C2 infrastructure review');
    });
  }
});
