/**
 * The export model: everything a playbook run export shows, already resolved to plain values. The playbooks module
 * builds it from a run (results, annotations, provenance, tenant branding); this module only redacts and renders
 * it, so nothing here touches the database or HTTP.
 */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const TLPS = ['clear', 'green', 'amber', 'amber+strict', 'red'] as const;
export type Tlp = (typeof TLPS)[number];

export const AUDIENCES = ['member', 'share-link'] as const;
/** Who receives the export: a signed-in tenant member, or a visitor through a share link. */
export type Audience = (typeof AUDIENCES)[number];

export type CellValue = string | number | boolean | null;

export type ReportEntity = {
  id: string;
  type: string;
  tlp: Tlp;
  name: string;
  properties?: Record<string, unknown>;
};

export type Highlight = { severity: Severity; note: string; rule: string };

export type ReportRow = {
  /** What redaction rules look at: the entity behind the row (absent for aggregate rows). */
  entity?: ReportEntity;
  /** Keyed by column key. */
  cells: Record<string, CellValue>;
  /** Set by `annotate` steps. */
  highlight?: Highlight | null;
};

export type ReportColumn = { key: string; label: string };

export type ReportSection = {
  title: string;
  description?: string;
  columns: ReportColumn[];
  rows: ReportRow[];
  /** The runner stopped at its row limit: the section shows only the first rows. */
  truncated?: boolean;
};

export type Logo = { mediaType: 'image/png' | 'image/jpeg'; data: Buffer };

export type Branding = {
  name: string;
  /** `#rrggbb` */
  accentColor: string;
  footerText?: string | null;
  logo?: Logo | null;
};

export type RunAnnotation = { author: string; createdAt: string; entityId?: string | null; text: string };

export type ProvenanceEntry = {
  source: string;
  ingestRunId: string | null;
  firstSeen: string | null;
  lastSeen: string | null;
  entities: number;
};

export type ExportModel = {
  title: string;
  branding: Branding;
  playbook: { id: string; name: string; version: number };
  run: {
    id: string;
    status: string;
    trigger: string;
    requestedBy: string | null;
    startedAt: string | null;
    finishedAt: string | null;
  };
  parameters: { name: string; value: CellValue | CellValue[] }[];
  summary: { label: string; value: CellValue }[];
  /** Findings, rendered as tables with inline highlights. */
  sections: ReportSection[];
  /** Analyst annotations added after the run. */
  annotations: RunAnnotation[];
  provenance: ProvenanceEntry[];
  /** ISO 8601; also the PDF's CreationDate, so the same model renders to the same bytes. */
  generatedAt: string;
};

export type RedactionRule =
  /** Redact the identifying values of rows whose entity has one of these TLP levels. */
  | { id: string; kind: 'tlp'; tlp: Tlp[]; audiences?: Audience[] }
  /** Redact the identifying values of rows whose entity has one of these types. */
  | { id: string; kind: 'entity-type'; types: string[]; audiences?: Audience[] }
  /** Blank cells (by column key), entity properties and parameters with these names. */
  | { id: string; kind: 'property'; names: string[]; audiences?: Audience[] }
  /** Replace matches in every text of the model (RE2 syntax: linear time, no backreferences or lookaround). */
  | { id: string; kind: 'regex'; pattern: string; flags?: string; audiences?: Audience[] };

/** What every redacted value is replaced with. */
export const REDACTION_MARKER = '[REDACTED]';

/**
 * Columns of an entity row that describe the entity rather than identify it; `tlp` and `entity-type` rules keep
 * them (every other string cell of a matching row is a value-like cell and is redacted). Compared
 * case-insensitively. The playbooks module should use these keys for metadata columns.
 */
export const ENTITY_METADATA_COLUMNS: readonly string[] = [
  'id',
  'stixId',
  'type',
  'tlp',
  'confidence',
  'score',
  'severity',
  'firstSeen',
  'lastSeen',
  'createdAt',
  'modifiedAt',
  'source',
  'sources',
  'sourceCount',
  'highlight',
  'count',
];

/**
 * Entity properties that are bookkeeping rather than identity (STIX common properties). `tlp`/`entity-type` rules
 * redact every other string inside `properties`; these are kept, because collecting a timestamp or a marking id
 * as a "redacted value" would scrub it from unrelated parts of the report.
 */
export const ENTITY_BOOKKEEPING_PROPERTIES: readonly string[] = [
  'spec_version',
  'created',
  'modified',
  'valid_from',
  'valid_until',
  'first_seen',
  'last_seen',
  'object_marking_refs',
  'created_by_ref',
  'revoked',
  'lang',
  'confidence',
  'defanged',
];
