/**
 * Scored indicators as CSV and as a STIX 2.1 bundle. STIX objects are written by the graph's exporter (so they
 * round-trip through import) with `confidence` set from the score, the score's breakdown in
 * `x_summit_score_breakdown`, and `revoked` on indicators scored under the revoke threshold.
 */
import { toIso } from '../../platform/clock.js';
import { toStixBundle, toStixObject } from '../graph/stix/export.js';
import type { EntityType, Tlp } from '../graph/stix/model.js';
import type { IndicatorRow } from './indicator.repo.js';

export type RenderedIndicators = { contentType: string; filename: string; content: string; count: number };

const CSV_COLUMNS = ['id', 'stix_id', 'entity_type', 'observable_type', 'value', 'name', 'score', 'band', 'base', 'revoked', 'suppressed', 'sources', 'labels', 'decay_start'] as const;

/** One CSV field: quoted when needed, and a leading =, +, -, @ neutralised so a spreadsheet never runs it as a formula. */
export function csvField(value: unknown): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n']/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function renderIndicatorsCsv(rows: IndicatorRow[]): RenderedIndicators {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) {
    lines.push([
      r.entityId, r.stixId, r.entityType, r.observableType, r.observableValue, r.name, r.score, r.band, r.base, r.revoked, r.suppressed,
      r.sources.join(' '), r.labels.join(' '), toIso(r.decayStart),
    ].map(csvField).join(','));
  }
  return { contentType: 'text/csv; charset=utf-8', filename: 'indicators.csv', content: `${lines.join('\r\n')}\r\n`, count: rows.length };
}

export function renderIndicatorsStix(rows: IndicatorRow[], now: Date): RenderedIndicators {
  const objects = rows.map((r) => {
    const object = toStixObject(
      {
        stixId: r.stixId,
        type: r.entityType as EntityType,
        key: r.key ?? '',
        name: r.name,
        properties: { ...(r.properties ?? {}), x_summit_score_breakdown: r.breakdown, ...(r.entityType === 'indicator' && r.revoked ? { revoked: true } : {}) },
        confidence: r.score,
        tlp: (r.tlp ?? null) as Tlp | null,
        firstSeen: toIso(r.firstSeen),
        lastSeen: toIso(r.lastSeen),
        created: toIso(r.createdAt),
        modified: toIso(r.modifiedAt),
      },
      { fallbackTime: now.toISOString() },
    );
    return object;
  });
  return { contentType: 'application/stix+json;version=2.1', filename: 'indicators.stix.json', content: JSON.stringify(toStixBundle(objects)), count: rows.length };
}
