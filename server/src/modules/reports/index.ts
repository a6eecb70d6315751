/**
 * Reports: turns a playbook run's export model into Markdown or PDF, after applying the tenant's redaction rules
 * for the audience. Pure code (no database, no HTTP); the playbooks module assembles the model and calls in.
 */
export type {
  Audience,
  Branding,
  CellValue,
  ExportModel,
  Highlight,
  Logo,
  ProvenanceEntry,
  RedactionRule,
  ReportColumn,
  ReportEntity,
  ReportRow,
  ReportSection,
  RunAnnotation,
  Severity,
  Tlp,
} from './types.js';
export { AUDIENCES, ENTITY_BOOKKEEPING_PROPERTIES, ENTITY_METADATA_COLUMNS, REDACTION_MARKER, SEVERITIES, TLPS } from './types.js';
export { MAX_PATTERN_LENGTH, redactionRuleSchema, validateRedactionPattern } from './redaction-rules.js';
export { redact, type RedactionResult } from './redact.js';
export { renderMarkdown, type MarkdownExport } from './markdown.js';
export { renderPdf, type PdfExport } from './pdf.js';
/** How a value is written into the Markdown export (escaped): search an export for this form as well as the raw one. */
export { escapeInline as escapeMarkdownText } from './markdown-escape.js';
