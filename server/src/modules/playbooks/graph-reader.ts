/**
 * What the playbook engine reads from the graph, as a small interface (unit tests pass an in-memory one) and its
 * implementation over the store. Every query is parameterised, runs inside `db.withTenant` (row-level security) and
 * also names the tenant explicitly. Transactions stay short, one query each, because PGlite has one connection and a
 * run must not starve the API: a depth-3 expansion is three transactions, not one long one.
 *
 * Cancellation: each call checks its AbortSignal before every query. A query already sent is not interrupted on
 * PGlite (it has no cancel); the engine stops waiting for it at once, and its cost stays bounded by the SQL limits.
 * On PostgreSQL, `statementTimeoutMs` additionally makes the server abandon a slow statement.
 */
import { toIso } from '../../platform/clock.js';
import type { Database, Sql } from '../../platform/db.js';

export type EntitySummary = {
  id: string;
  stixId: string;
  type: string;
  name: string;
  confidence: number | null;
  tlp: string | null;
  firstSeen: string | null;
  lastSeen: string | null;
  properties: Record<string, unknown>;
  /** Distinct sources that asserted the entity, sorted. */
  sources: string[];
};
export type ProvenanceRecord = { source: string; runId: string | null; at: string; confidence: number | null };
export type SearchFilter = { ids?: string[]; types?: string[]; q?: string; minConfidence?: number; tlp?: string[]; source?: string; since?: Date; includeSuppressed?: boolean };
export type ExpandOptions = { relationshipTypes?: string[]; entityTypes?: string[]; depth: number; limit: number; includeSuppressed?: boolean };

export interface GraphReader {
  /** Entities matching every given filter, highest confidence first (then by id); at most `limit`. */
  search(filter: SearchFilter, limit: number, signal: AbortSignal): Promise<{ entities: EntitySummary[]; truncated: boolean }>;
  /**
   * Entities within `depth` hops of `ids` (edges in either direction, of `relationshipTypes` if given), not counting
   * the starting ones. At most `limit` nodes are visited; `entityTypes` narrows what is returned, not the walk.
   */
  expand(ids: string[], options: ExpandOptions, signal: AbortSignal): Promise<{ ids: string[]; truncated: boolean }>;
  entities(ids: string[], signal: AbortSignal): Promise<EntitySummary[]>;
  provenance(ids: string[], signal: AbortSignal): Promise<Record<string, ProvenanceRecord[]>>;
}

/** Ids per query when a caller hands over a large set: keeps each statement and its parameter array modest. */
const CHUNK = 5_000;

const SUMMARY_COLS = `e.id, e.stix_id as "stixId", e.type, e.name, e.confidence, e.tlp, e.first_seen as "firstSeen", e.last_seen as "lastSeen", e.properties,
  coalesce((select array_agg(distinct p.source order by p.source) from provenance p
             where p.tenant_id = e.tenant_id and p.subject_kind = 'entity' and p.subject_id = e.id), '{}') as sources`;

type SummaryRow = Omit<EntitySummary, 'firstSeen' | 'lastSeen'> & { firstSeen: Date | string | null; lastSeen: Date | string | null };
const toSummary = (row: SummaryRow): EntitySummary => ({ ...row, firstSeen: toIso(row.firstSeen), lastSeen: toIso(row.lastSeen), sources: row.sources ?? [] });

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/**
 * Entities threat intel suppresses (an active `suppress` entry in its ledger, suppression on for the tenant) stay
 * out of playbooks unless a step asks for them (`includeSuppressed`), as they stay out of its lists and exports.
 */
function notSuppressed(alias: string, nowParam: string): string {
  return `not (coalesce((select st.suppression_enabled from ti_settings st where st.tenant_id = ${alias}.tenant_id), true)
    and exists (select 1 from ti_suppressions l where l.tenant_id = ${alias}.tenant_id and l.entity_id = ${alias}.id
                  and l.action = 'suppress' and l.cleared_at is null and (l.expires_at is null or l.expires_at > ${nowParam})))`;
}

export function createGraphReader(db: Database, tenantId: string, options: { statementTimeoutMs?: number; now?: Date } = {}): GraphReader {
  const now = () => (options.now ?? new Date()).toISOString();
  async function read<T>(signal: AbortSignal, fn: (tx: Sql) => Promise<T>): Promise<T> {
    signal.throwIfAborted();
    return db.withTenant(tenantId, async (tx) => {
      if (db.kind === 'postgres' && options.statementTimeoutMs) {
        await tx.query(`select set_config('statement_timeout', $1, true)`, [String(Math.max(1, Math.round(options.statementTimeoutMs)))]);
      }
      return fn(tx);
    });
  }

  return {
    async search(filter, limit, signal) {
      const where = ['e.tenant_id = $1'];
      const params: unknown[] = [tenantId];
      const add = (clause: string, value: unknown) => {
        params.push(value);
        where.push(clause.replaceAll('?', `$${params.length}`));
      };
      if (filter.ids) add('e.id = any(?::uuid[])', filter.ids);
      if (filter.types?.length) add('e.type = any(?::text[])', filter.types);
      if (filter.q) add('(strpos(lower(e.name), lower(?)) > 0 or strpos(e.key, lower(?)) > 0)', filter.q);
      if (filter.minConfidence !== undefined) add('e.confidence >= ?', filter.minConfidence);
      if (filter.tlp?.length) add('e.tlp = any(?::text[])', filter.tlp);
      if (filter.since) add('e.modified_at >= ?', filter.since.toISOString());
      if (filter.source) add(`exists (select 1 from provenance p where p.tenant_id = e.tenant_id and p.subject_kind = 'entity' and p.subject_id = e.id and p.source = ?)`, filter.source);
      if (!filter.includeSuppressed) add(notSuppressed('e', '?::timestamptz'), now());
      params.push(limit + 1);
      const rows = await read(signal, async (tx) => (await tx.query<SummaryRow>(
        `select ${SUMMARY_COLS} from entities e where ${where.join(' and ')}
          order by e.confidence desc nulls last, e.id limit $${params.length}`,
        params,
      )).rows);
      return { entities: rows.slice(0, limit).map(toSummary), truncated: rows.length > limit };
    },

    async expand(ids, { relationshipTypes, entityTypes, depth, limit, includeSuppressed }, signal) {
      const visited = new Set(ids);
      const found: Array<{ id: string; type: string }> = [];
      let frontier = [...ids];
      let truncated = false;
      const relTypes = relationshipTypes?.length ? relationshipTypes : null;
      for (let hop = 0; hop < depth && frontier.length && !truncated; hop++) {
        const remaining = limit - found.length;
        // The walk is bounded in SQL: one more row than still fits tells whether the hop was cut short.
        const rows = await read(signal, async (tx) => (await tx.query<{ id: string; type: string }>(
          // "except" drops the visited nodes with a hash anti-join; "<> all(array)" would compare every candidate
          // with every visited node, which a hub at depth 2 turns into millions of comparisons.
          `with nb as (
             select r.target_id as id from relationships r
              where r.tenant_id = $1 and r.source_id = any($2::uuid[]) and ($3::text[] is null or r.type = any($3::text[]))
             union
             select r.source_id from relationships r
              where r.tenant_id = $1 and r.target_id = any($2::uuid[]) and ($3::text[] is null or r.type = any($3::text[]))
             except
             select unnest($4::uuid[])
           )
           select nb.id, e.type from nb join entities e on e.tenant_id = $1 and e.id = nb.id
            where $6::boolean or ${notSuppressed('e', '$7::timestamptz')}
           order by nb.id limit $5`,
          [tenantId, frontier, relTypes, [...visited], remaining + 1, includeSuppressed ?? false, now()],
        )).rows);
        if (rows.length > remaining) truncated = true;
        const kept = rows.slice(0, remaining);
        for (const row of kept) visited.add(row.id);
        found.push(...kept);
        frontier = kept.map((row) => row.id);
      }
      const wanted = entityTypes?.length ? new Set(entityTypes) : null;
      return { ids: found.filter((n) => !wanted || wanted.has(n.type)).map((n) => n.id), truncated };
    },

    async entities(ids, signal) {
      const out: EntitySummary[] = [];
      for (const chunk of chunks([...new Set(ids)])) {
        const rows = await read(signal, async (tx) => (await tx.query<SummaryRow>(
          `select ${SUMMARY_COLS} from entities e where e.tenant_id = $1 and e.id = any($2::uuid[])`,
          [tenantId, chunk],
        )).rows);
        out.push(...rows.map(toSummary));
      }
      return out;
    },

    async provenance(ids, signal) {
      const out: Record<string, ProvenanceRecord[]> = {};
      for (const chunk of chunks([...new Set(ids)])) {
        const rows = await read(signal, async (tx) => (await tx.query<{ entityId: string; source: string; runId: string | null; at: Date | string; confidence: number | null }>(
          `select subject_id as "entityId", source, ingest_run_id as "runId", asserted_at as "at", confidence from provenance
            where tenant_id = $1 and subject_kind = 'entity' and subject_id = any($2::uuid[])
            order by subject_id, asserted_at, source`,
          [tenantId, chunk],
        )).rows);
        for (const row of rows) (out[row.entityId] ??= []).push({ source: row.source, runId: row.runId, at: toIso(row.at)!, confidence: row.confidence });
      }
      return out;
    },
  };
}
