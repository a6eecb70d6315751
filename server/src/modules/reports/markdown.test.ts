import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildExportModel } from './export-model.fixture.js';
import { escapeInline } from './markdown-escape.js';
import { renderMarkdown } from './markdown.js';

/** Cell count of a GitHub table line: pipes not escaped by a backslash, minus the outer two. */
const cellsIn = (line: string) => line.replace(/\\./g, '').split('|').length - 2;

describe('renderMarkdown', () => {
  const model = buildExportModel({ rows: 8 });
  const { content, sha256 } = renderMarkdown(model);

  it('lays out title, branding, parameters, summary, findings, annotations, provenance and footer in order', () => {
    const headings = content.split('\n').filter((l) => l.startsWith('#'));
    expect(headings).toEqual([
      '# Weekly C2 infrastructure review',
      '## Parameters',
      '## Summary',
      '## Findings',
      '### Infrastructure',
      '### Top sources',
      '## Annotations',
      '## Provenance',
    ]);
    expect(content).toContain('**Acme Threat Intel** · Playbook: C2 sweep (version 3)');
    expect(content).toContain('| minConfidence | 60 |');
    expect(content).toContain('| types | domain-name, ipv4-addr |');
    expect(content).toContain('- **Entities found**: 8');
    expect(content).toContain('> **dana\\@acme.example** · 2025-03-02T09:10:00.000Z\\\n> Reviewed with the SOC.\\\n> Escalate the red items.');
    expect(content).toContain('| feed-alpha | ingest-run-0001 | 2025-02-20T00:00:00.000Z | 2025-03-01T00:00:00.000Z | 8 |');
    expect(content).toContain('| stix-upload | — | — | — | 0 |');
  });

  it('shows highlights inline: a severity badge and the note in the highlighted row, and a legend', () => {
    expect(content).toContain('| c2-0.evil-domain.example | domain-name | clear | 50 | 2025-03-01T00:00:00.000Z | feed-alpha | **CRITICAL** beacons every 0 s (beaconing) |');
    expect(content).toContain('| hxxp\\://malware-7.example.net/payload | url | amber | 57 | 2025-03-01T00:00:00.000Z | feed-alpha | **MEDIUM** beacons every 7 s (beaconing) |');
    expect(content).toMatch(/> Highlights: \*\*CRITICAL\*\* \(1\) · \*\*MEDIUM\*\* \(1\)\. /);
    // The aggregate section has no highlights and no Highlight column.
    expect(content).toContain('| Source | Entities |\n| --- | --- |\n| feed-alpha | 8 |');
  });

  it('ends with a footer (run id, playbook version, SHA-256) whose hash covers exactly the content above the --- line', () => {
    const lines = content.split('\n');
    const rule = lines.indexOf('---');
    expect(lines.filter((l) => l === '---')).toHaveLength(1);
    const body = lines.slice(0, rule).join('\n') + '\n';
    expect(createHash('sha256').update(body, 'utf8').digest('hex')).toBe(sha256);
    const footer = lines.slice(rule).join('\n');
    expect(footer).toContain('Acme confidential - internal distribution');
    expect(footer).toContain('Run f0e1d2c3-0000-4000-8000-0000000000aa · Playbook C2 sweep version 3 · Generated 2025-03-02T10:00:00.000Z');
    expect(footer).toContain(`SHA-256 of the content above the \`---\` line: ${sha256}`);
    // Same model, same bytes; a changed value changes the hash.
    expect(renderMarkdown(model)).toEqual({ content, sha256 });
    const changed = structuredClone(model);
    changed.sections[0]!.rows[0]!.cells.name = 'other';
    expect(renderMarkdown(changed).sha256).not.toBe(sha256);
  });

  it('escapes untrusted values so they cannot break a table or inject links, images, HTML or code', () => {
    const hostile = structuredClone(model);
    const evil = 'a|b\nc `code` [x](https://evil.example) ![i](http://t.example/p.png) <img src=x onerror=alert(1)> **bold** www.evil.example me@evil.example &lt;';
    hostile.sections[0]!.rows[0]!.cells.name = evil;
    hostile.sections[0]!.rows[0]!.highlight = { severity: 'high', note: evil, rule: '|rule|' };
    hostile.title = `# ${evil}`;
    hostile.sections[0]!.description = '- not a list\n---';
    hostile.annotations[0]!.text = '1. not a list\n    not code\n---\n> not a quote';
    const out = renderMarkdown(hostile).content;
    const row = out.split('\n').find((l) => l.startsWith('| a\\|b'))!;
    expect(cellsIn(row)).toBe(7);
    // Every metacharacter in the hostile cell, note and title is backslash-escaped: nothing can open a link, an
    // image, HTML, code, emphasis, an entity or an autolink.
    const unescaped = /(?<!\\)[[\]<>`*&|@]|(?<!\\):\/\/|www\./;
    const nameCell = row.slice(2, row.indexOf(' | domain-name'));
    const noteCell = row.slice(row.indexOf('**HIGH** ') + 9, -2);
    const title = out.split('\n')[0]!.slice(2);
    for (const text of [nameCell, noteCell, title]) expect(text.replace(/\\\\/g, '')).not.toMatch(unescaped);
    expect(nameCell).toContain('a\\|b c \\`code\\` \\[x\\](https\\://evil.example)');
    expect(out).toContain('\n\\- not a list ---\n');
    expect(out).toContain('> 1\\. not a list\\\n> not code\\\n> \\---\\\n> \\> not a quote');
    expect(out.split('\n').filter((l) => l === '---')).toHaveLength(1);
  });

  it('keeps every table row at its column count for arbitrary cell text (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
        const m = buildExportModel({ rows: 1 });
        m.sections[0]!.rows[0]!.cells.name = text;
        m.sections[0]!.rows[0]!.highlight = { severity: 'low', note: text, rule: text };
        const lines = renderMarkdown(m).content.split('\n');
        const header = lines.findIndex((l) => l.startsWith('| Value |'));
        expect(cellsIn(lines[header]!)).toBe(7);
        expect(cellsIn(lines[header + 2]!)).toBe(7);
        expect(lines[header + 3]).toBe('');
        expect(escapeInline(text)).not.toMatch(/[\n\r]/);
      }),
      { numRuns: 300 },
    );
  });
});
