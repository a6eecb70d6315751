/**
 * SQL of suppression: rules, the ledger, and the bulk evaluation — rules and warninglists matched against
 * ti_scores in one statement per batch (CIDR by inet `<<=`, domain suffixes by equality with the host's suffixes,
 * exact values by equality). Regex rules are matched in JS on RE2 by the service and handed in as matches.
 */
import type { Sql } from '../../platform/db.js';
import { scopeSql, type Scope } from './scoring.repo.js';
import type { ValueKind } from './value-match.js';
import type { Warninglist } from './warninglists.js';

export type RuleRow = {
  id: string;
  name: string;
  action: 'suppress' | 'inform';
  types: string[] | null;
  sources: string[] | null;
  labels: string[] | null;
  minScore: number | null;
  maxScore: number | null;
  minAgeDays: number | null;
  maxAgeDays: number | null;
  valueKind: ValueKind | null;
  valuePattern: string | null;
  reason: string;
  ownerId: string;
  enabled: boolean;
  expiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
};
export type RuleWrite = Omit<RuleRow, 'createdAt' | 'updatedAt'>;
export type LedgerRow = {
  id: string;
  entityId: string;
  ruleId: string | null;
  warninglist: string | null;
  action: 'suppress' | 'inform';
  reason: string;
  at: Date;
  expiresAt: Date | null;
  clearedAt: Date | null;
};
export type RegexMatch = { entityId: string; ruleId: string };

const RULE_COLUMNS = `id, name, action, types, sources, labels, min_score as "minScore", max_score as "maxScore",
  min_age_days as "minAgeDays", max_age_days as "maxAgeDays", value_kind as "valueKind", value_pattern as "valuePattern", reason,
  owner_id as "ownerId", enabled, expires_at as "expiresAt", created_at as "createdAt", updated_at as "updatedAt"`;

/** The conditions of rule r on score row s, except the regex (matched in JS). $2 is now. */
const RULE_MATCH_SQL = `
  r.enabled and (r.expires_at is null or r.expires_at > $2::timestamptz)
  and (r.types is null or coalesce(s.obs_type, s.entity_type) = any(r.types) or s.entity_type = any(r.types))
  and (r.sources is null or s.sources && r.sources)
  and (r.labels is null or s.labels && r.labels)
  and (r.min_score is null or s.score >= r.min_score)
  and (r.max_score is null or s.score <= r.max_score)
  and (r.min_age_days is null or s.decay_start <= $2::timestamptz - make_interval(days => r.min_age_days))
  and (r.max_age_days is null or s.decay_start >= $2::timestamptz - make_interval(days => r.max_age_days))`;

export const ruleRepo = {
  async list(tx: Sql, tenantId: string): Promise<RuleRow[]> {
    const { rows } = await tx.query<RuleRow>(`select ${RULE_COLUMNS} from ti_suppression_rules where tenant_id = $1 order by created_at, id`, [tenantId]);
    return rows;
  },
  async get(tx: Sql, tenantId: string, id: string, forUpdate = false): Promise<RuleRow | null> {
    const { rows } = await tx.query<RuleRow>(
      `select ${RULE_COLUMNS} from ti_suppression_rules where tenant_id = $1 and id = $2${forUpdate ? ' for update' : ''}`,
      [tenantId, id],
    );
    return rows[0] ?? null;
  },
  async upsert(tx: Sql, tenantId: string, r: RuleWrite, at: Date): Promise<RuleRow> {
    const { rows } = await tx.query<RuleRow>(
      `insert into ti_suppression_rules (tenant_id, id, name, action, types, sources, labels, min_score, max_score, min_age_days, max_age_days,
                                         value_kind, value_pattern, value_cidr, reason, owner_id, enabled, expires_at, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $19::inet, $14, $15, $16, $17, $18, $18)
       on conflict (tenant_id, id) do update set name = excluded.name, action = excluded.action, types = excluded.types,
         sources = excluded.sources, labels = excluded.labels, min_score = excluded.min_score, max_score = excluded.max_score,
         min_age_days = excluded.min_age_days, max_age_days = excluded.max_age_days, value_kind = excluded.value_kind,
         value_pattern = excluded.value_pattern, value_cidr = excluded.value_cidr, reason = excluded.reason, owner_id = excluded.owner_id,
         enabled = excluded.enabled, expires_at = excluded.expires_at, updated_at = excluded.updated_at
       returning ${RULE_COLUMNS}`,
      [tenantId, r.id, r.name, r.action, r.types, r.sources, r.labels, r.minScore, r.maxScore, r.minAgeDays, r.maxAgeDays, r.valueKind,
        r.valuePattern, r.reason, r.ownerId, r.enabled, r.expiresAt?.toISOString() ?? null, at.toISOString(),
        r.valueKind === 'cidr' ? r.valuePattern : null],
    );
    return rows[0]!;
  },
  async delete(tx: Sql, tenantId: string, id: string): Promise<void> {
    await tx.query(`delete from ti_suppression_rules where tenant_id = $1 and id = $2`, [tenantId, id]);
  },

  /** Entities in scope that meet every condition of the regex rule but its pattern, with the value to test. */
  async regexCandidates(tx: Sql, tenantId: string, now: Date, ruleId: string, scope: Scope): Promise<{ entityId: string; value: string }[]> {
    const predicate = scopeSql(scope, 's.entity_id', 4);
    const { rows } = await tx.query<{ entityId: string; value: string }>(
      `select s.entity_id as "entityId", s.obs_value as value
         from ti_scores s join ti_suppression_rules r on r.tenant_id = s.tenant_id and r.id = $3
        where s.tenant_id = $1 and s.obs_value is not null and ${predicate.sql} and ${RULE_MATCH_SQL}`,
      [tenantId, now.toISOString(), ruleId, ...predicate.params],
    );
    return rows;
  },
};

/**
 * Brings the ledger of the entities in scope up to date at `now`: entries for new matches (rules not expired,
 * enabled warninglists, the regex matches given) are added; active entries that no longer match (rule removed,
 * expired, changed; list disabled; score moved) are cleared. Returns counts.
 */
export async function evaluateScope(
  tx: Sql,
  tenantId: string,
  now: Date,
  input: { warninglists: Warninglist[]; regexMatches: RegexMatch[]; scope: Scope },
): Promise<{ added: number; cleared: number }> {
  const cidrs = input.warninglists.filter((w) => w.kind === 'cidr').flatMap((w) => w.values.map((cidr) => ({ name: w.name, cidr })));
  const domains = input.warninglists.filter((w) => w.kind === 'domain').flatMap((w) => w.values.map((domain) => ({ name: w.name, domain })));
  const s = scopeSql(input.scope, 's.entity_id', 6);
  const l = scopeSql(input.scope, 'l.entity_id', 6);
  const { rows } = await tx.query<{ added: number; cleared: number }>(
    `with wl_cidr as (select x.name, x.cidr::inet as cidr from jsonb_to_recordset($3::jsonb) as x(name text, cidr text)),
     wl_domain as (select x.name, x.domain from jsonb_to_recordset($4::jsonb) as x(name text, domain text)),
     matches as (
       select s.entity_id, 'rule:' || r.id as matcher, r.id as rule_id, null::text as warninglist, r.action, r.reason, r.expires_at
         from ti_scores s join ti_suppression_rules r on r.tenant_id = s.tenant_id
        where s.tenant_id = $1 and ${s.sql} and ${RULE_MATCH_SQL}
          and (r.value_kind is null
               or (r.value_kind = 'cidr' and s.obs_inet <<= r.value_cidr)
               or (r.value_kind = 'domain-suffix' and (s.obs_host = r.value_pattern or right(s.obs_host, length(r.value_pattern) + 1) = '.' || r.value_pattern))
               or (r.value_kind = 'exact' and s.obs_value = r.value_pattern))
       union all
       select m."entityId", 'rule:' || r.id, r.id, null, r.action, r.reason, r.expires_at
         from jsonb_to_recordset($5::jsonb) as m("entityId" uuid, "ruleId" uuid)
         join ti_suppression_rules r on r.tenant_id = $1 and r.id = m."ruleId"
       union all
       select s.entity_id, 'warninglist:' || w.name, null, w.name, 'suppress', 'on the warninglist ' || w.name || ' (' || s.obs_value || ' is in ' || w.cidr || ')', null
         from ti_scores s join wl_cidr w on s.obs_inet <<= w.cidr
        where s.tenant_id = $1 and s.obs_inet is not null and ${s.sql}
       union all
       select s.entity_id, 'warninglist:' || w.name, null, w.name, 'suppress', 'on the warninglist ' || w.name || ' (' || s.obs_host || ' is under ' || w.domain || ')', null
         from ti_scores s cross join lateral unnest(ti_domain_suffixes(s.obs_host)) as sfx(domain) join wl_domain w on w.domain = sfx.domain
        where s.tenant_id = $1 and s.obs_host is not null and ${s.sql}
     ),
     -- Set differences (hashed), not anti-joins: the planner cannot estimate the CTE and would loop.
     active as (select l.entity_id, l.matcher from ti_suppressions l where l.tenant_id = $1 and l.cleared_at is null and ${l.sql}),
     gone as materialized (select entity_id, matcher from active except select entity_id, matcher from matches),
     fresh as materialized (select entity_id, matcher from matches except select entity_id, matcher from active),
     cleared as (
       update ti_suppressions l set cleared_at = least($2::timestamptz, coalesce(l.expires_at, $2::timestamptz))
        where l.tenant_id = $1 and l.cleared_at is null and (l.entity_id, l.matcher) in (select g.entity_id, g.matcher from gone g)
       returning 1
     ),
     added as (
       insert into ti_suppressions (tenant_id, id, entity_id, matcher, rule_id, warninglist, action, reason, at, expires_at)
       select distinct on (m.entity_id, m.matcher) $1, gen_random_uuid(), m.entity_id, m.matcher, m.rule_id, m.warninglist, m.action, m.reason, $2, m.expires_at
         from matches m join fresh f on f.entity_id = m.entity_id and f.matcher = m.matcher
        order by m.entity_id, m.matcher
       returning 1
     )
     select (select count(*) from added)::int as added, (select count(*) from cleared)::int as cleared`,
    [tenantId, now.toISOString(), JSON.stringify(cidrs), JSON.stringify(domains), JSON.stringify(input.regexMatches), ...s.params],
  );
  return rows[0]!;
}

export const ledgerRepo = {
  /** Clears the active entries of one rule (deleted or changed); returns the entities they were on. */
  async clearRule(tx: Sql, tenantId: string, ruleId: string, at: Date): Promise<number> {
    const { rowCount } = await tx.query(
      `update ti_suppressions set cleared_at = least($3::timestamptz, coalesce(expires_at, $3::timestamptz))
        where tenant_id = $1 and rule_id = $2 and cleared_at is null`,
      [tenantId, ruleId, at.toISOString()],
    );
    return rowCount;
  },
  async clearWarninglist(tx: Sql, tenantId: string, name: string, at: Date): Promise<number> {
    const { rowCount } = await tx.query(
      `update ti_suppressions set cleared_at = $3 where tenant_id = $1 and warninglist = $2 and cleared_at is null`,
      [tenantId, name, at.toISOString()],
    );
    return rowCount;
  },
  async list(
    tx: Sql,
    tenantId: string,
    now: Date,
    f: { entityId?: string; ruleId?: string; warninglist?: string; active?: boolean; before?: { at: string; id: string }; limit: number },
  ): Promise<LedgerRow[]> {
    const where = ['tenant_id = $1'];
    const params: unknown[] = [tenantId, now.toISOString()];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replaceAll('?', `$${params.length}`));
    };
    if (f.entityId) add('entity_id = ?', f.entityId);
    if (f.ruleId) add('rule_id = ?', f.ruleId);
    if (f.warninglist) add('warninglist = ?', f.warninglist);
    if (f.active === true) where.push('cleared_at is null and (expires_at is null or expires_at > $2)');
    if (f.active === false) where.push('(cleared_at is not null or expires_at <= $2)');
    if (f.before) {
      params.push(f.before.at, f.before.id);
      where.push(`(at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(f.limit);
    const { rows } = await tx.query<LedgerRow>(
      `select id, entity_id as "entityId", rule_id as "ruleId", warninglist, action, reason, at, expires_at as "expiresAt",
              case when cleared_at is null and expires_at <= $2 then expires_at else cleared_at end as "clearedAt"
         from ti_suppressions where ${where.join(' and ')} order by at desc, id desc limit $${params.length}`,
      params,
    );
    return rows;
  },
};
