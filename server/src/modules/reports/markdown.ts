import { createHash } from 'node:crypto';
import { formatOptional, formatValue } from './format.js';
import { escapeInline, escapeParagraph, escapeQuotedLines } from './markdown-escape.js';
import { SEVERITY_LABEL, severitiesPresent } from './severity.js';
import type { ExportModel, ReportRow, ReportSection } from './types.js';

export type MarkdownExport = { content: string; sha256: string };

/**
 * The line that opens the footer. The body never contains it on a line of its own: every untrusted value is
 * escaped (a leading `-` becomes `\-`) and table delimiter rows start with `|`.
 */
export const FOOTER_RULE = '---';

/**
 * Renders the export as GitHub-flavoured Markdown.
 *
 * What the SHA-256 covers: the UTF-8 bytes of the body, i.e. everything before the footer's `---` line (the body
 * ends with a blank line, which is included). The footer itself (footer text, run id, version, time, the hash) is
 * not covered. To check a file: `sed '/^---$/,$d' export.md | sha256sum`. The same hash is printed in the PDF
 * export of the same model, so both formats carry one fingerprint of the content.
 */
export function renderMarkdown(model: ExportModel): MarkdownExport {
  const body = renderBody(model);
  const sha256 = hashMarkdownBody(body);
  return { content: body + renderFooter(model, sha256), sha256 };
}

export function hashMarkdownBody(body: string): string {
  return createHash('sha256').update(body, 'utf8').digest('hex');
}

export function renderBody(model: ExportModel): string {
  const lines: string[] = [];
  const push = (...more: string[]) => lines.push(...more);
  const { run, playbook } = model;

  push(`# ${escapeInline(model.title)}`, '');
  push(`**${escapeInline(model.branding.name)}** · Playbook: ${escapeInline(playbook.name)} (version ${playbook.version})`, '');
  push(
    ...table(
      ['Run', 'Status', 'Trigger', 'Requested by', 'Started', 'Finished'],
      [[run.id, run.status, run.trigger, formatOptional(run.requestedBy), formatOptional(run.startedAt), formatOptional(run.finishedAt)]],
    ),
    '',
  );

  push('## Parameters', '');
  if (model.parameters.length === 0) push('_No parameters._', '');
  else push(...table(['Parameter', 'Value'], model.parameters.map((p) => [p.name, formatValue(p.value)])), '');

  push('## Summary', '');
  if (model.summary.length === 0) push('_No summary figures._', '');
  else push(...model.summary.map((s) => `- **${escapeInline(s.label)}**: ${escapeInline(formatValue(s.value))}`), '');

  push('## Findings', '');
  const highlights = model.sections.flatMap((s) => s.rows.flatMap((r) => (r.highlight ? [r.highlight] : [])));
  if (highlights.length > 0) {
    const legend = severitiesPresent(highlights.map((h) => h.severity)).map((s) => {
      const n = highlights.filter((h) => h.severity === s).length;
      return `**${SEVERITY_LABEL[s]}** (${n})`;
    });
    push(
      `> Highlights: ${legend.join(' · ')}. A row flagged by an \`annotate\` step shows its severity badge and note in the Highlight column, with the rule that flagged it in parentheses.`,
      '',
    );
  }
  if (model.sections.length === 0) push('_No findings._', '');
  for (const section of model.sections) push(...renderSection(section));

  push('## Annotations', '');
  if (model.annotations.length === 0) push('_No annotations._', '');
  for (const a of model.annotations) {
    const about = a.entityId ? ` · on entity ${escapeInline(a.entityId)}` : '';
    push(`> **${escapeInline(a.author)}** · ${escapeInline(a.createdAt)}${about}\\`, escapeQuotedLines(a.text), '');
  }

  push('## Provenance', '');
  if (model.provenance.length === 0) push('_No provenance recorded._', '');
  else {
    push(
      ...table(
        ['Source', 'Ingest run', 'First seen', 'Last seen', 'Entities'],
        model.provenance.map((p) => [p.source, formatOptional(p.ingestRunId), formatOptional(p.firstSeen), formatOptional(p.lastSeen), String(p.entities)]),
      ),
      '',
    );
  }
  return lines.join('\n') + '\n';
}

function renderSection(section: ReportSection): string[] {
  const out = [`### ${escapeInline(section.title)}`, ''];
  if (section.description) out.push(escapeParagraph(section.description), '');
  if (section.columns.length === 0) return [...out, '_This section has no columns._', ''];
  if (section.rows.length === 0) return [...out, '_No rows._', ''];
  const withHighlight = section.rows.some((r) => r.highlight);
  const headers = section.columns.map((c) => c.label).concat(withHighlight ? ['Highlight'] : []);
  const rows = section.rows.map((row) =>
    section.columns.map((c) => formatValue(row.cells[c.key] ?? null)).concat(withHighlight ? [highlightText(row)] : []),
  );
  out.push(...table(headers, rows, withHighlight ? headers.length - 1 : -1), '');
  if (section.truncated) out.push(`_Truncated: the run stopped at its row limit; the first ${section.rows.length} rows are shown._`, '');
  return out;
}

/** The Highlight cell, already Markdown (its parts are escaped here). */
function highlightText(row: ReportRow): string {
  const h = row.highlight;
  if (!h) return '';
  return `**${SEVERITY_LABEL[h.severity]}** ${escapeInline(h.note)} (${escapeInline(h.rule)})`;
}

/** A GitHub table; every cell is escaped except the pre-rendered column `rawColumn`. */
function table(headers: string[], rows: string[][], rawColumn = -1): string[] {
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === rawColumn ? c : escapeInline(c))).join(' | ')} |`;
  return [
    `| ${headers.map((h) => escapeInline(h)).join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map(line),
  ];
}

function renderFooter(model: ExportModel, sha256: string): string {
  const lines = [FOOTER_RULE, ''];
  if (model.branding.footerText) lines.push(escapeParagraph(model.branding.footerText), '');
  lines.push(
    `Run ${escapeInline(model.run.id)} · Playbook ${escapeInline(model.playbook.name)} version ${model.playbook.version} · Generated ${escapeInline(model.generatedAt)}`,
    '',
    `SHA-256 of the content above the \`---\` line: ${sha256}`,
  );
  return lines.join('\n') + '\n';
}
