/** SQL of the scored-indicator reads: the list (score order, cursor pages) and the rows an export needs. */
import type { Sql } from '../../platform/db.js';
import type { Band } from './scoring-model.js';

export type IndicatorRow = {
  entityId: string;
  stixId: string;
  entityType: string;
  name: string;
  observableType: string | null;
  observableValue: string | null;
  sources: string[];
  labels: string[];
  score: number;
  base: number;
  band: Band;
  revoked: boolean;
  breakdown: Record<string, unknown>;
  decayStart: Date;
  computedAt: Date;
  /** Active ledger entries: what suppresses or flags it now. */
  matches: { matcher: string; ruleId: string | null; warninglist: string | null; action: 'suppress' | 'inform'; reason: string; at: string }[];
  suppressed: boolean;
  informed: boolean;
  // Export only.
  properties?: Record<string, unknown>;
  key?: string;
  tlp?: string | null;
  confidence?: number | null;
  firstSeen?: Date | null;
  lastSeen?: Date | null;
  createdAt?: Date;
  modifiedAt?: Date;
};

export type IndicatorFilter = {
  minScore?: number;
  maxScore?: number;
  band?: Band[];
  type?: string[];
  includeSuppressed: boolean;
  includeRevoked: boolean;
  /** Whether suppression hides anything (the tenant's toggle). */
  suppressionEnabled: boolean;
  after?: { score: number; id: string };
  limit: number;
};

export async function listIndicators(tx: Sql, tenantId: string, now: Date, f: IndicatorFilter, withEntity = false): Promise<IndicatorRow[]> {
  const where = ['s.tenant_id = $1'];
  const params: unknown[] = [tenantId, now.toISOString()];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replaceAll('?', `$${params.length}`));
  };
  if (f.minScore !== undefined) add('s.score >= ?', f.minScore);
  if (f.maxScore !== undefined) add('s.score <= ?', f.maxScore);
  if (f.band?.length) add('s.band = any(?::text[])', f.band);
  if (f.type?.length) add('(coalesce(s.obs_type, s.entity_type) = any(?::text[]) or s.entity_type = any(?::text[]))', f.type);
  if (!f.includeRevoked) where.push('not s.revoked');
  if (f.suppressionEnabled && !f.includeSuppressed) {
    // Read from the lateral below (the active entries of this row, by the ledger's active-key index); a separate
    // NOT EXISTS was planned onto the rule index and scanned every active entry per row.
    where.push('m.suppressed is not true');
  }
  if (f.after) {
    params.push(f.after.score, f.after.id);
    where.push(`(s.score, s.entity_id) < ($${params.length - 1}::int, $${params.length}::uuid)`);
  }
  params.push(f.limit);
  const entityColumns = withEntity
    ? `, e.properties, e.key, e.tlp, e.confidence, e.first_seen as "firstSeen", e.last_seen as "lastSeen", e.created_at as "createdAt", e.modified_at as "modifiedAt"`
    : '';
  const { rows } = await tx.query<IndicatorRow>(
    `select s.entity_id as "entityId", e.stix_id as "stixId", s.entity_type as "entityType", e.name, s.obs_type as "observableType",
            s.obs_value as "observableValue", s.sources, s.labels, s.score, s.base, s.band, s.revoked, s.breakdown,
            s.decay_start as "decayStart", s.computed_at as "computedAt",
            coalesce(m.matches, '[]'::jsonb) as matches,
            $${params.length + 1}::boolean and coalesce(m.suppressed, false) as suppressed, coalesce(m.informed, false) as informed
            ${entityColumns}
       from ti_scores s
       join entities e on e.tenant_id = s.tenant_id and e.id = s.entity_id
       left join lateral (
         select jsonb_agg(jsonb_build_object('matcher', l.matcher, 'ruleId', l.rule_id, 'warninglist', l.warninglist, 'action', l.action,
                                             'reason', l.reason, 'at', l.at) order by l.at, l.matcher) as matches,
                bool_or(l.action = 'suppress') as suppressed, bool_or(l.action = 'inform') as informed
           from ti_suppressions l
          where l.tenant_id = s.tenant_id and l.entity_id = s.entity_id and l.cleared_at is null
            and (l.expires_at is null or l.expires_at > $2::timestamptz)
       ) m on true
      where ${where.join(' and ')}
      order by s.score desc, s.entity_id desc
      limit $${params.length}`,
    [...params, f.suppressionEnabled],
  );
  return rows;
}
