import type { Database, Sql } from '../../../platform/db.js';
import { localVerdict, type LocalEvidence } from './local-verdict.js';
import type { EnrichmentProvider, Indicator } from './provider.js';

export const LOCAL_PROVIDER = 'local';

const THREAT_TYPES = ['malware', 'threat-actor', 'intrusion-set', 'campaign', 'tool'];

/** Answers whether a value is on one of the tenant's enabled warninglists; returns the lists' names. */
export type WarninglistMatcher = (tx: Sql, tenantId: string, indicator: Indicator) => Promise<string[]>;

/**
 * The built-in offline provider: what the tenant's graph already knows. The entity and, for an indicator, the
 * observable its pattern names are looked at together: their sightings, their relationships to threats, and
 * their resolutions (resolves-to, either way) to infrastructure that is itself sighted or tied to a threat.
 */
export function createLocalProvider(deps: { db: Database; warninglists?: WarninglistMatcher }): EnrichmentProvider {
  return {
    name: LOCAL_PROVIDER,
    costCents: 0,
    rateLimit: null,
    lookup: (scope, indicator) =>
      deps.db.withTenant(scope.tenantId, async (tx) => localVerdict(await gatherEvidence(tx, scope.tenantId, indicator, deps.warninglists))),
  };
}

async function gatherEvidence(tx: Sql, tenantId: string, indicator: Indicator, warninglists?: WarninglistMatcher): Promise<LocalEvidence> {
  // The subjects: the entity itself and the observable with the same value (an indicator's pattern target).
  const subjects = await tx.query<{ id: string }>(
    `select id from entities where tenant_id = $1 and (id = $2 or (type = $3 and type <> 'indicator' and lower(key) = lower($4)))`,
    [tenantId, indicator.entityId, indicator.type, indicator.value],
  );
  const ids = subjects.rows.map((r) => r.id);
  const sightings = await tx.query<{ tp: number; fp: number; other: number }>(
    `select coalesce(sum(count) filter (where true_positive), 0)::int as tp,
            coalesce(sum(count) filter (where true_positive = false), 0)::int as fp,
            coalesce(sum(count) filter (where true_positive is null), 0)::int as other
       from sightings where tenant_id = $1 and entity_id = any($2::uuid[])`,
    [tenantId, ids],
  );
  const threats = await tx.query<{ label: string }>(
    `select distinct r.type || ' ' || e.type || ' ' || e.name as label
       from relationships r join entities e
         on e.tenant_id = r.tenant_id and e.id = case when r.source_id = any($2::uuid[]) then r.target_id else r.source_id end
      where r.tenant_id = $1 and (r.source_id = any($2::uuid[]) or r.target_id = any($2::uuid[]))
        and e.type = any($3::text[])
      order by label limit 20`,
    [tenantId, ids, THREAT_TYPES],
  );
  const resolutions = await tx.query<{ name: string; flagged: boolean }>(
    `with resolved as (
       select distinct case when r.source_id = any($2::uuid[]) then r.target_id else r.source_id end as id
         from relationships r
        where r.tenant_id = $1 and r.type = 'resolves-to' and (r.source_id = any($2::uuid[]) or r.target_id = any($2::uuid[])))
     select e.name,
            exists (select 1 from sightings s where s.tenant_id = $1 and s.entity_id = e.id and s.true_positive)
            or exists (select 1 from relationships t join entities x on x.tenant_id = t.tenant_id
                         and x.id = case when t.source_id = e.id then t.target_id else t.source_id end
                        where t.tenant_id = $1 and (t.source_id = e.id or t.target_id = e.id) and x.type = any($3::text[])) as flagged
       from resolved join entities e on e.tenant_id = $1 and e.id = resolved.id
      order by e.name limit 200`,
    [tenantId, ids, THREAT_TYPES],
  );
  const counts = sightings.rows[0] ?? { tp: 0, fp: 0, other: 0 };
  return {
    truePositives: counts.tp,
    falsePositives: counts.fp,
    unlabelled: counts.other,
    threatLinks: threats.rows.map((r) => r.label),
    resolutions: resolutions.rows.length,
    flaggedResolutions: resolutions.rows.filter((r) => r.flagged).map((r) => r.name),
    warninglists: warninglists ? await warninglists(tx, tenantId, indicator) : [],
  };
}

/**
 * Warninglist membership as the scoring module recorded it: the entity's active suppressions (or inform flags)
 * by a warninglist. Reading the record rather than matching again keeps one source of truth for the lists.
 */
export const warninglistsFromSuppressions: WarninglistMatcher = async (tx, tenantId, indicator) => {
  const { rows } = await tx.query<{ warninglist: string }>(
    `select distinct warninglist from ti_suppressions
      where tenant_id = $1 and entity_id = $2 and warninglist is not null and cleared_at is null
        and (expires_at is null or expires_at > now())
      order by warninglist`,
    [tenantId, indicator.entityId],
  );
  return rows.map((r) => r.warninglist);
};
