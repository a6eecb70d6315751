/**
 * SQL of scoring: the tenant's settings and source ratings, and the bulk recompute — the model of scoring-model.ts
 * written as one set-based statement per batch of entities (no row-by-row JS). Every function takes the tenant id;
 * row-level security backs it up.
 */
import type { Sql } from '../../platform/db.js';
import {
  DEFAULT_MODEL, DEFAULT_THRESHOLDS, RELIABILITY_LETTERS, type Reliability, type ScoringModel, type Thresholds,
} from './scoring-model.js';

/** Entity types that get a score: indicators and every observable type. */
export const SCORED_TYPES = ['indicator', 'ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr', 'file', 'mac-addr', 'autonomous-system'] as const;

export type TiSettings = {
  model: ScoringModel;
  thresholds: Thresholds;
  suppressionEnabled: boolean;
  warninglists: string[];
  updatedBy: string | null;
  updatedAt: Date | null;
};
export type SourceRating = { source: string; reliability: Reliability; credibility: number | null; updatedAt: Date };

export const DEFAULT_SETTINGS: TiSettings = {
  model: DEFAULT_MODEL, thresholds: DEFAULT_THRESHOLDS, suppressionEnabled: true, warninglists: [], updatedBy: null, updatedAt: null,
};

/** Which entities a statement covers: all the tenant's, an id range (batches), or a list of ids. */
export type Scope = { kind: 'all' } | { kind: 'range'; after: string | null; upto: string } | { kind: 'ids'; ids: string[] };

/** The predicate of a scope on an entity-id column, its parameters numbered from `next`. */
export function scopeSql(scope: Scope, column: string, next: number): { sql: string; params: unknown[] } {
  switch (scope.kind) {
    case 'all':
      return { sql: 'true', params: [] };
    case 'ids':
      return { sql: `${column} = any($${next}::uuid[])`, params: [scope.ids] };
    case 'range':
      return scope.after === null
        ? { sql: `${column} <= $${next}::uuid`, params: [scope.upto] }
        : { sql: `${column} > $${next}::uuid and ${column} <= $${next + 1}::uuid`, params: [scope.after, scope.upto] };
  }
}

export const settingsRepo = {
  async get(tx: Sql, tenantId: string): Promise<TiSettings> {
    const { rows } = await tx.query<{
      model: ScoringModel; high: number; medium: number; low: number; revoke: number; suppressionEnabled: boolean;
      warninglists: string[]; updatedBy: string | null; updatedAt: Date;
    }>(
      `select model, threshold_high as high, threshold_medium as medium, threshold_low as low, threshold_revoke as revoke,
              suppression_enabled as "suppressionEnabled", warninglists, updated_by as "updatedBy", updated_at as "updatedAt"
         from ti_settings where tenant_id = $1`,
      [tenantId],
    );
    const row = rows[0];
    if (!row) return DEFAULT_SETTINGS;
    return {
      // Parameters added after a tenant saved its model take their defaults.
      model: { ...DEFAULT_MODEL, ...row.model, decay: { ...DEFAULT_MODEL.decay, ...row.model.decay } },
      thresholds: { high: row.high, medium: row.medium, low: row.low, revoke: row.revoke },
      suppressionEnabled: row.suppressionEnabled,
      warninglists: row.warninglists,
      updatedBy: row.updatedBy,
      updatedAt: row.updatedAt,
    };
  },

  async put(tx: Sql, tenantId: string, s: TiSettings, userId: string | null, at: Date): Promise<void> {
    await tx.query(
      `insert into ti_settings (tenant_id, model, threshold_high, threshold_medium, threshold_low, threshold_revoke, suppression_enabled,
                                warninglists, updated_by, updated_at)
       values ($1, $2::jsonb, $3, $4, $5, $6, $7, $8, $9, $10)
       on conflict (tenant_id) do update set model = excluded.model, threshold_high = excluded.threshold_high,
         threshold_medium = excluded.threshold_medium, threshold_low = excluded.threshold_low, threshold_revoke = excluded.threshold_revoke,
         suppression_enabled = excluded.suppression_enabled, warninglists = excluded.warninglists, updated_by = excluded.updated_by,
         updated_at = excluded.updated_at`,
      [tenantId, JSON.stringify(s.model), s.thresholds.high, s.thresholds.medium, s.thresholds.low, s.thresholds.revoke,
        s.suppressionEnabled, s.warninglists, userId, at.toISOString()],
    );
  },

  async ratings(tx: Sql, tenantId: string): Promise<SourceRating[]> {
    const { rows } = await tx.query<SourceRating>(
      `select source, reliability, credibility, updated_at as "updatedAt" from ti_source_ratings where tenant_id = $1 order by source`,
      [tenantId],
    );
    return rows;
  },

  /** Replaces the tenant's ratings with these. */
  async replaceRatings(tx: Sql, tenantId: string, ratings: { source: string; reliability: Reliability; credibility: number | null }[], userId: string, at: Date) {
    await tx.query(`delete from ti_source_ratings where tenant_id = $1`, [tenantId]);
    if (!ratings.length) return;
    await tx.query(
      `insert into ti_source_ratings (tenant_id, source, reliability, credibility, updated_by, updated_at)
       select $1, r.source, r.reliability, r.credibility, $2, $3
         from jsonb_to_recordset($4::jsonb) as r(source text, reliability text, credibility smallint)`,
      [tenantId, userId, at.toISOString(), JSON.stringify(ratings)],
    );
  },
};

/**
 * The id that closes a batch of `size` scored entities after `after` (null: from the start), or null when none is
 * left. Batches are id ranges so every table of the statement is read by a range scan of its entity-id index.
 */
export async function nextBatchBound(tx: Sql, tenantId: string, after: string | null, size: number): Promise<{ upto: string; count: number } | null> {
  const { rows } = await tx.query<{ upto: string | null; count: number }>(
    `with b as (select id from entities where tenant_id = $1 and type = any($2::text[]) and ($3::uuid is null or id > $3::uuid)
                 order by id limit $4)
     select (select id::text from b order by id desc limit 1) as upto, (select count(*)::int from b) as count`,
    [tenantId, SCORED_TYPES, after, size],
  );
  const row = rows[0]!;
  return row.upto ? { upto: row.upto, count: row.count } : null;
}

/** Model parameters as the statement's positional parameters (arrays and numbers; no per-row JSON lookups). */
function modelParams(model: ScoringModel, thresholds: Thresholds) {
  const decay = Object.entries(model.decay).map(([cls, d]) => ({ cls, tau: d.lifetimeDays, delta: d.speed }));
  return [
    RELIABILITY_LETTERS.map((l) => model.reliabilityValues[l]),
    model.credibilityValues,
    model.reliabilityWeight,
    model.credibilityWeight,
    model.defaultReliability,
    model.defaultCredibility,
    model.defaultBase,
    model.corroborationPerSource,
    model.corroborationMax,
    model.truePositivePoints,
    model.truePositiveMax,
    model.falsePositivePoints,
    model.falsePositiveMax,
    JSON.stringify(model.verdictWeights),
    model.enrichmentMin,
    model.enrichmentMax,
    JSON.stringify(decay),
    thresholds.high,
    thresholds.medium,
    thresholds.low,
    thresholds.revoke,
  ];
}

// $1 tenant, $2 now, $3 scored types, $4–$24 model and thresholds (modelParams), $25… the scope.
// Half-away-from-zero rounding is written out (sign · floor(|x| + 0.5)) on float8 so SQL and JS agree on .5.
const RESCORE_SQL = (scope: string) => String.raw`
with targets as (
  select e.id, e.type, e.key, e.name, e.properties, e.first_seen, e.last_seen, e.created_at
    from entities e
   where e.tenant_id = $1 and e.type = any($3::text[]) and ${scope.replaceAll('@', 'e.id')}
),
-- The observable of a one-comparison pattern, read from the canonical key (modules/graph/stix/pattern.ts writes
-- it without spaces: [ipv4-addr:value='1.2.3.4']) with plain string functions: PostgreSQL's regex engine costs
-- tens of microseconds per row here, the bulk path's largest share. A value still holding an unescaped quote
-- after removing \\ and \' is a compound pattern ([a:value='x' OR b:value='y']) and is not taken.
parsed as (
  select t.*, k.vtype, k.vraw, k.falg, k.fraw
    from targets t
    cross join lateral (
      select case when t.type = 'indicator' and coalesce(t.properties ->> 'pattern_type', 'stix') = 'stix' and t.key like '[%:value=''%'']'
                  then position(':value=''' in t.key) end as vpos,
             case when t.type = 'indicator' and coalesce(t.properties ->> 'pattern_type', 'stix') = 'stix' and t.key like '[file:hashes.%=''%'']'
                  then position('=''' in t.key) end as fpos
    ) p
    cross join lateral (
      select substr(t.key, 2, p.vpos - 2) as vtype,
             substr(t.key, p.vpos + 8, length(t.key) - p.vpos - 9) as vraw,
             substr(t.key, 14, p.fpos - 14) as falg,
             substr(t.key, p.fpos + 2, length(t.key) - p.fpos - 3) as fraw
    ) k
),
checked as (
  select p.*,
         case when p.vtype in ('ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr', 'mac-addr')
                   and position('''' in replace(replace(p.vraw, '\\', ''), '\''', '')) = 0 then p.vraw end as vvalue,
         case when p.falg in ('''SHA-256''', '''SHA-1''', '''MD5''', '"SHA-256"', '"SHA-1"', '"MD5"', 'SHA256', 'SHA1', 'MD5')
                   and p.fraw ~ '^[0-9A-Fa-f]+$' then lower(p.fraw) end as fvalue
    from parsed p
),
-- Materialized: the pattern regexes then run once per entity, not once per reference to their results.
obs as materialized (
  select p.id, p.type, p.properties, p.first_seen, p.last_seen, p.created_at,
         o.obs_type,
         case when o.obs_type in ('domain-name', 'email-addr') then lower(o.raw) else o.raw end as obs_value
    from checked p
    cross join lateral (
      select case when p.type <> 'indicator' then p.type when p.vvalue is not null then p.vtype when p.fvalue is not null then 'file' end as obs_type,
             case when p.type = 'file' then lower(coalesce(p.properties #>> '{hashes,SHA-256}', p.properties #>> '{hashes,SHA-1}', p.properties #>> '{hashes,MD5}', p.key))
                  when p.type = 'autonomous-system' then p.key
                  when p.type <> 'indicator' then p.name
                  when p.vvalue is not null then case when position('\' in p.vvalue) > 0 then regexp_replace(p.vvalue, '\\(.)', '\1', 'g') else p.vvalue end
                  when p.fvalue is not null then p.fvalue end as raw
    ) o
),
src as (
  select pv.subject_id as id, pv.source, max(pv.confidence)::float8 as confidence, min(pv.asserted_at) as first_at
    from provenance pv
   where pv.tenant_id = $1 and pv.subject_kind = 'entity' and ${scope.replaceAll('@', 'pv.subject_id')}
   group by pv.subject_id, pv.source
),
src_val as (
  select s.id, s.source, s.confidence, s.first_at, r.reliability, r.credibility,
         $6::float8 * ($4::float8[])[ascii(coalesce(r.reliability, $8::text)) - 64]
           + $7::float8 * coalesce(s.confidence, ($5::float8[])[coalesce(r.credibility::int, $9::int)]) as value
    from src s
    left join ti_source_ratings r on r.tenant_id = $1 and r.source = s.source
),
src_agg as (
  select id, count(*)::int as n, array_agg(source order by source) as sources, min(first_at) as first_at, max(value) as best_value
    from src_val group by id
),
src_best as (
  select distinct on (id) id, source, reliability, credibility, confidence from src_val order by id, value desc, source
),
sig as (
  select g.entity_id as id,
         coalesce(sum(g.count) filter (where g.true_positive), 0)::int as tp,
         coalesce(sum(g.count) filter (where g.true_positive = false), 0)::int as fp,
         max(coalesce(g.last_seen, g.first_seen, g.created_at)) filter (where g.true_positive is distinct from false) as last_at
    from sightings g
   where g.tenant_id = $1 and ${scope.replaceAll('@', 'g.entity_id')}
   group by g.entity_id
),
ver_latest as (
  select distinct on (v.entity_id, v.provider) v.entity_id as id, v.provider, v.verdict
    from ti_enrichment_verdicts v
   where v.tenant_id = $1 and ${scope.replaceAll('@', 'v.entity_id')}
   order by v.entity_id, v.provider, v.created_at desc, v.id desc
),
ver as (
  select id, sum(($17::jsonb ->> verdict)::float8) as points,
         jsonb_agg(jsonb_build_object('provider', provider, 'verdict', verdict) order by provider) as verdicts
    from ver_latest group by id
),
decay as (
  select d.cls, d.tau, d.delta from jsonb_to_recordset($20::jsonb) as d(cls text, tau float8, delta float8)
),
parts as (
  select o.id, o.type, o.obs_type, o.obs_value, o.properties,
         coalesce(sa.n, 0) as n, coalesce(sa.sources, '{}') as sources,
         coalesce(sa.best_value, $10::float8) as source_points,
         least($12::float8, $11::float8 * greatest(0, coalesce(sa.n, 0) - 1)) as corr,
         least($14::float8, $13::float8 * coalesce(sg.tp, 0)) as tp_pts,
         least($16::float8, $15::float8 * coalesce(sg.fp, 0)) as fp_pts,
         least($19::float8, greatest($18::float8, coalesce(v.points, 0))) as enr,
         coalesce(sg.tp, 0) as tp, coalesce(sg.fp, 0) as fp, coalesce(v.verdicts, '[]'::jsonb) as verdicts,
         sb.source as best_source, sb.reliability as best_reliability, sb.credibility as best_credibility, sb.confidence as best_confidence,
         coalesce(greatest(sg.last_at, o.last_seen, o.first_seen,
                           case when o.type = 'indicator' and o.properties ->> 'valid_from' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$'
                                then (o.properties ->> 'valid_from')::timestamptz end),
                  sa.first_at, o.created_at) as decay_start,
         coalesce(dc.cls, 'default') as cls, coalesce(dc.tau, dd.tau) as tau, coalesce(dc.delta, dd.delta) as delta
    from obs o
    left join src_agg sa on sa.id = o.id
    left join src_best sb on sb.id = o.id
    left join sig sg on sg.id = o.id
    left join ver v on v.id = o.id
    left join decay dc on dc.cls = o.obs_type
    cross join (select tau, delta from decay where cls = 'default') dd
),
based as (
  select p.*,
         least(100, greatest(0, sign(x.raw_base) * floor(abs(x.raw_base) + 0.5)))::int as base,
         greatest(0, extract(epoch from ($2::timestamptz - p.decay_start))::float8 / 86400) as age
    from parts p
    cross join lateral (select p.source_points + p.corr + p.tp_pts - p.fp_pts + p.enr as raw_base) x
),
scored as materialized (
  select b.*, f.factor,
         least(100, greatest(0, floor(b.base * f.factor + 0.5)))::int as score
    from based b
    cross join lateral (select case when b.age >= b.tau then 0::float8
                                    else least(1, greatest(0, 1 - power(b.age / b.tau, 1 / b.delta))) end as factor) f
),
upserted as (
  insert into ti_scores as t (tenant_id, entity_id, entity_type, obs_type, obs_value, obs_inet, obs_host, sources, labels, score, base,
                              band, revoked, breakdown, decay_start, computed_at)
  select $1, s.id, s.type, s.obs_type, s.obs_value,
         case when s.obs_type in ('ipv4-addr', 'ipv6-addr') then ti_inet(s.obs_value) end,
         case s.obs_type when 'domain-name' then s.obs_value
                         when 'url' then lower(substring(s.obs_value from '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^/?#@]*@)?([^/:?#]+)'))
                         when 'email-addr' then substring(s.obs_value from '@([^@]*)$') end,
         s.sources,
         case when jsonb_typeof(s.properties -> 'labels') = 'array'
              then array(select jsonb_array_elements_text(s.properties -> 'labels')) else '{}' end,
         s.score, s.base,
         case when s.score >= $21 then 'high' when s.score >= $22 then 'medium' when s.score >= $23 then 'low' else 'none' end,
         s.score < $24,
         jsonb_build_object(
           'source', jsonb_build_object('name', s.best_source,
                                        'reliability', case when s.best_source is null then null else coalesce(s.best_reliability, $8::text) end,
                                        'credibility', case when s.best_source is null then null else coalesce(s.best_credibility::int, $9::int) end,
                                        'confidence', s.best_confidence,
                                        'value', floor(s.source_points * 100 + 0.5) / 100),
           'corroboration', jsonb_build_object('sources', s.n, 'points', s.corr),
           'sightings', jsonb_build_object('truePositives', s.tp, 'falsePositives', s.fp, 'points', s.tp_pts - s.fp_pts),
           'enrichment', jsonb_build_object('verdicts', s.verdicts, 'points', s.enr),
           'base', s.base,
           'decay', jsonb_build_object('class', s.cls, 'ageDays', floor(s.age * 100 + 0.5) / 100, 'lifetimeDays', s.tau, 'speed', s.delta,
                                       'factor', floor(s.factor * 100 + 0.5) / 100, 'points', s.score - s.base),
           'score', s.score),
         s.decay_start, $2
    from scored s
  on conflict (tenant_id, entity_id) do update set
    entity_type = excluded.entity_type, obs_type = excluded.obs_type, obs_value = excluded.obs_value, obs_inet = excluded.obs_inet,
    obs_host = excluded.obs_host, sources = excluded.sources, labels = excluded.labels, score = excluded.score, base = excluded.base,
    band = excluded.band, revoked = excluded.revoked, breakdown = excluded.breakdown, decay_start = excluded.decay_start,
    computed_at = excluded.computed_at
  returning 1
)
select count(*)::int as scored from upserted`;

/**
 * Recomputes the scores of the entities in scope in one statement, at `now`. Entities of scored types without a
 * score row get one. Returns how many were scored.
 */
export async function rescoreScope(tx: Sql, tenantId: string, now: Date, settings: Pick<TiSettings, 'model' | 'thresholds'>, scope: Scope): Promise<number> {
  const params: unknown[] = [tenantId, now.toISOString(), SCORED_TYPES];
  const m = modelParams(settings.model, settings.thresholds);
  params.push(...m);
  const predicate = scopeSql(scope, '@', params.length + 1);
  params.push(...predicate.params);
  // Parameter numbers in RESCORE_SQL: $4.. follow modelParams order. Keep the two in step.
  const { rows } = await tx.query<{ scored: number }>(RESCORE_SQL(predicate.sql), params);
  return rows[0]?.scored ?? 0;
}
