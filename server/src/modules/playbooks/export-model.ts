/**
 * From a finished run to the bytes of its export: the run's report sections with inline highlights, analysts'
 * annotations, provenance (sources and ingest runs), the tenant's branding, then the tenant's redaction rules for
 * the audience, then Markdown or PDF (modules/reports).
 */
import type { Sql } from '../../platform/db.js';
import { redact, renderMarkdown, renderPdf, type ExportModel, type RedactionRule, type ReportRow, type Severity } from '../reports/index.js';
import { settingsRepo, type PlaybookRow, type RunRow } from './playbook.repo.js';
import { isoOf } from './playbook.repo.js';

export type ExportFormat = 'md' | 'pdf';
export type RenderedExport = { content: Buffer; contentType: string; filename: string; sha256: string; redactedCount: number };

type EntitySummary = { id: string; type: string; name: string; tlp: string; confidence: number | null; properties?: Record<string, unknown> };
type StoredResults = {
  entities?: Record<string, EntitySummary>;
  highlights?: Array<{ entityId: string; severity: Severity; note: string; rule: string }>;
  report?: { title?: string; sections?: Array<{ title: string; columns: Array<{ key: string; label: string }>; rows: Array<{ entityId: string | null; cells: Record<string, string | number | boolean | null> }>; truncated?: boolean }> };
  provenance?: Record<string, Array<{ source: string; runId: string | null; at: string }>>;
};

const RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
export const DEFAULT_ACCENT = '#1f6feb';

function durationOf(run: RunRow): string {
  if (!run.startedAt || !run.finishedAt) return '—';
  const ms = run.finishedAt.getTime() - run.startedAt.getTime();
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Assembles the export model of a run (before redaction). Pure apart from the reads it is handed. */
export function exportModelOf(input: {
  run: RunRow;
  playbook: PlaybookRow;
  tenantName: string;
  branding: { name?: string | null; accentColor?: string | null; footerText?: string | null };
  logo: { mediaType: 'image/png' | 'image/jpeg'; data: Buffer } | null;
  annotations: Array<{ author: string; createdAt: Date; entityId: string | null; text: string }>;
}): ExportModel {
  const { run, playbook } = input;
  const results = (run.results ?? {}) as StoredResults;
  const entities = results.entities ?? {};
  const strongest = new Map<string, { severity: Severity; note: string; rule: string }>();
  for (const h of results.highlights ?? []) {
    const seen = strongest.get(h.entityId);
    if (!seen || RANK[h.severity] > RANK[seen.severity]) strongest.set(h.entityId, { severity: h.severity, note: h.note, rule: h.rule });
  }
  const sections = (results.report?.sections ?? []).map((section) => ({
    title: section.title,
    columns: section.columns,
    truncated: section.truncated ?? false,
    rows: section.rows.map((row): ReportRow => {
      const entity = row.entityId ? entities[row.entityId] : undefined;
      return {
        ...(entity ? { entity: { id: entity.id, type: entity.type, tlp: entity.tlp as never, name: entity.name, properties: entity.properties ?? {} } } : {}),
        cells: row.cells,
        highlight: row.entityId ? strongest.get(row.entityId) ?? null : null,
      };
    }),
  }));
  const findings = sections.reduce((n, s) => n + s.rows.length, 0);
  const bySeverity = new Map<Severity, number>();
  for (const h of strongest.values()) bySeverity.set(h.severity, (bySeverity.get(h.severity) ?? 0) + 1);

  const provenance = new Map<string, { source: string; ingestRunId: string | null; firstSeen: string | null; lastSeen: string | null; ids: Set<string> }>();
  for (const [entityId, entries] of Object.entries(results.provenance ?? {})) {
    for (const p of entries) {
      const key = `${p.source}|${p.runId ?? ''}`;
      const row = provenance.get(key) ?? { source: p.source, ingestRunId: p.runId, firstSeen: p.at, lastSeen: p.at, ids: new Set<string>() };
      if (p.at < row.firstSeen!) row.firstSeen = p.at;
      if (p.at > row.lastSeen!) row.lastSeen = p.at;
      row.ids.add(entityId);
      provenance.set(key, row);
    }
  }
  const lastAnnotation = input.annotations.at(-1)?.createdAt;
  const generatedAt = [run.finishedAt ?? run.createdAt, lastAnnotation].filter((d): d is Date => !!d).sort((a, b) => b.getTime() - a.getTime())[0]!;

  return {
    title: results.report?.title || playbook.name,
    branding: {
      name: input.branding.name || input.tenantName,
      accentColor: input.branding.accentColor || DEFAULT_ACCENT,
      footerText: input.branding.footerText ?? null,
      logo: input.logo,
    },
    playbook: { id: playbook.id, name: playbook.name, version: run.version },
    run: {
      id: run.id, status: run.status, trigger: run.trigger, requestedBy: run.requestedBy,
      startedAt: run.startedAt ? isoOf(run.startedAt) : null, finishedAt: run.finishedAt ? isoOf(run.finishedAt) : null,
    },
    parameters: Object.entries(run.params).map(([name, value]) => ({ name, value: value as never })),
    summary: [
      { label: 'Status', value: run.status },
      { label: 'Findings', value: findings },
      { label: 'Highlighted', value: [...bySeverity].sort((a, b) => RANK[b[0]] - RANK[a[0]]).map(([s, n]) => `${n} ${s}`).join(', ') || 'none' },
      { label: 'Steps', value: run.trace.length },
      { label: 'Duration', value: durationOf(run) },
      ...(run.error ? [{ label: 'Error', value: `${run.error.stepId ? `step ${run.error.stepId}: ` : ''}${run.error.message}` }] : []),
    ],
    sections,
    annotations: input.annotations.map((a) => ({ author: a.author, createdAt: isoOf(a.createdAt), entityId: a.entityId, text: a.text })),
    provenance: [...provenance.values()]
      .sort((a, b) => a.source.localeCompare(b.source) || (a.firstSeen ?? '').localeCompare(b.firstSeen ?? ''))
      .map(({ ids, ...p }) => ({ ...p, entities: ids.size })),
    generatedAt: isoOf(generatedAt),
  };
}

/** Reads what an export needs, redacts for the audience and renders. */
export async function buildExport(tx: Sql, input: { tenantId: string; run: RunRow; playbook: PlaybookRow; format: ExportFormat; audience: 'member' | 'share-link'; now: Date }): Promise<RenderedExport> {
  const { tenantId, run, playbook } = input;
  const settings = await settingsRepo.get(tx, tenantId);
  const { rows: tenants } = await tx.query<{ name: string }>(`select name from tenants where id = $1`, [tenantId]);
  const { rows: annotations } = await tx.query<{ author: string; createdAt: Date; entityId: string | null; text: string }>(
    `select coalesce(u.display_name, u.email, a.author_id::text) as author, a.created_at as "createdAt", a.entity_id as "entityId", a.text
       from run_annotations a left join users u on u.tenant_id = a.tenant_id and u.id = a.author_id
      where a.tenant_id = $1 and a.run_id = $2 order by a.created_at, a.id`,
    [tenantId, run.id],
  );
  const rules = (await settingsRepo.redactionRules(tx, tenantId)).map((r) => ({ ...r.rule, id: r.id }) as RedactionRule);
  const model = exportModelOf({
    run, playbook, tenantName: tenants[0]?.name ?? 'Summit', branding: settings.branding,
    logo: settings.logo && settings.logoMediaType ? { mediaType: settings.logoMediaType, data: settings.logo } : null,
    annotations,
  });
  const redacted = redact(model, rules, input.audience);
  const redactedCount = redacted.applied.reduce((n, a) => n + a.count, 0);
  const base = `${playbook.name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'playbook'}-run-${run.id}`;
  if (input.format === 'md') {
    const md = renderMarkdown(redacted.model);
    return { content: Buffer.from(md.content, 'utf8'), contentType: 'text/markdown; charset=utf-8', filename: `${base}.md`, sha256: md.sha256, redactedCount };
  }
  const pdf = await renderPdf(redacted.model);
  return { content: pdf.content, contentType: 'application/pdf', filename: `${base}.pdf`, sha256: pdf.sha256, redactedCount };
}

