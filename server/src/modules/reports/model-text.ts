import type { CellValue, ExportModel, ReportRow } from './types.js';

/**
 * Every piece of text an export shows, as one traversal: the regex rules and the final scrub of redacted values
 * both go through here, so a new field added to the model is either covered everywhere or nowhere.
 *
 * Left alone (structural, not free text): `run.id`, `playbook.id`, entity `id`/`type`/`tlp`, annotation
 * `entityId`, highlight severities, the accent colour, the logo, `generatedAt`, and two counts (the playbook
 * version and provenance entity counts) — the export needs them to be
 * what they are (the run id in the footer identifies the export; generatedAt fixes the PDF's bytes). Numbers are
 * text too once rendered: a number whose decimal form changes becomes a string.
 */
export type TextTransform = (text: string) => string;

export function mapModelText(model: ExportModel, fn: TextTransform): ExportModel {
  const nullable = (s: string | null) => (s === null ? null : fn(s));
  return {
    title: fn(model.title),
    branding: {
      ...model.branding,
      name: fn(model.branding.name),
      footerText: model.branding.footerText == null ? model.branding.footerText : fn(model.branding.footerText),
    },
    playbook: { ...model.playbook, name: fn(model.playbook.name) },
    run: {
      ...model.run,
      status: fn(model.run.status),
      trigger: fn(model.run.trigger),
      requestedBy: nullable(model.run.requestedBy),
      startedAt: nullable(model.run.startedAt),
      finishedAt: nullable(model.run.finishedAt),
    },
    parameters: model.parameters.map((p) => ({
      name: fn(p.name),
      value: Array.isArray(p.value) ? p.value.map((v) => mapCell(v, fn)) : mapCell(p.value, fn),
    })),
    summary: model.summary.map((s) => ({ label: fn(s.label), value: mapCell(s.value, fn) })),
    sections: model.sections.map((section) => ({
      ...section,
      title: fn(section.title),
      ...(section.description === undefined ? {} : { description: fn(section.description) }),
      columns: section.columns.map((c) => ({ key: c.key, label: fn(c.label) })),
      rows: section.rows.map((row) => mapRow(row, fn)),
    })),
    annotations: model.annotations.map((a) => ({ ...a, author: fn(a.author), createdAt: fn(a.createdAt), text: fn(a.text) })),
    provenance: model.provenance.map((p) => ({
      ...p,
      source: fn(p.source),
      ingestRunId: nullable(p.ingestRunId),
      firstSeen: nullable(p.firstSeen),
      lastSeen: nullable(p.lastSeen),
    })),
    generatedAt: model.generatedAt,
  };
}

function mapRow(row: ReportRow, fn: TextTransform): ReportRow {
  const out: ReportRow = { cells: Object.fromEntries(Object.entries(row.cells).map(([k, v]) => [k, mapCell(v, fn)])) };
  if (row.entity) {
    out.entity = { ...row.entity, name: fn(row.entity.name) };
    if (row.entity.properties !== undefined) out.entity.properties = mapUnknown(row.entity.properties, fn) as Record<string, unknown>;
  }
  if (row.highlight !== undefined) {
    out.highlight = row.highlight === null ? null : { ...row.highlight, note: fn(row.highlight.note), rule: fn(row.highlight.rule) };
  }
  return out;
}

export function mapCell(value: CellValue, fn: TextTransform): CellValue {
  if (typeof value === 'string') return fn(value);
  if (typeof value === 'number') {
    const text = String(value);
    const mapped = fn(text);
    return mapped === text ? value : mapped;
  }
  return value;
}

/** Strings anywhere inside a JSON-like value (entity properties); keys are names, not content, and stay. */
export function mapUnknown(value: unknown, fn: TextTransform): unknown {
  if (typeof value === 'string') return fn(value);
  if (typeof value === 'number') return mapCell(value, fn);
  if (Array.isArray(value)) return value.map((v) => mapUnknown(v, fn));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapUnknown(v, fn)]));
  }
  return value;
}

/** Every string leaf inside a JSON-like value. */
export function collectStrings(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, into);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) collectStrings(v, into);
  return into;
}
