/** SQL of enrichment requests (one row per job), the entities they look up, and the verdicts they write. */
import type { Sql } from '../../platform/db.js';
import type { Indicator, LookupResult } from './providers/provider.js';

export type EnrichmentJobRow = {
  id: string;
  provider: string;
  entityIds: string[];
  status: 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed';
  lookedUp: number;
  waitUntil: Date | null;
  waitReason: string | null;
  error: string | null;
  requestedBy: string;
  createdAt: Date;
  updatedAt: Date;
};

const JOB_COLUMNS = `id, provider, entity_ids as "entityIds", status, looked_up as "lookedUp", wait_until as "waitUntil",
  wait_reason as "waitReason", error, requested_by as "requestedBy", created_at as "createdAt", updated_at as "updatedAt"`;

// The observable behind a one-comparison STIX pattern, for indicators the scoring module has not scored yet.
const SIMPLE_PATTERN = /^\[\s*([a-z0-9-]+):[A-Za-z0-9_.'-]+\s*=\s*'((?:[^'\\]|\\.)*)'\s*\]$/;

export const enrichmentRepo = {
  /** Ids among `ids` that are entities of the tenant. */
  async existingEntities(tx: Sql, tenantId: string, ids: string[]): Promise<Set<string>> {
    const { rows } = await tx.query<{ id: string }>('select id from entities where tenant_id = $1 and id = any($2::uuid[])', [tenantId, ids]);
    return new Set(rows.map((r) => r.id));
  },

  /** Entities matching a query, oldest first, for `{provider, query}` requests. */
  async findEntities(tx: Sql, tenantId: string, q: { types?: string[]; search?: string; limit: number }): Promise<string[]> {
    const { rows } = await tx.query<{ id: string }>(
      `select id from entities
        where tenant_id = $1 and ($2::text[] is null or type = any($2::text[]))
          and ($3::text is null or lower(name) like lower($3) || '%')
        order by id limit $4`,
      [tenantId, q.types ?? null, q.search?.replace(/[\\%_]/g, (c) => `\\${c}`) ?? null, q.limit],
    );
    return rows.map((r) => r.id);
  },

  /**
   * What to look up for each entity: its observable value. For an indicator that is the observable its pattern
   * compares (from ti_scores when scored, else read from a one-comparison pattern); entities with no value to look
   * up (a malware, a compound pattern) are left out.
   */
  async indicators(tx: Sql, tenantId: string, ids: string[]): Promise<Indicator[]> {
    const { rows } = await tx.query<{ id: string; type: string; name: string; obsType: string | null; obsValue: string | null; pattern: string | null }>(
      `select e.id, e.type, e.name, s.obs_type as "obsType", s.obs_value as "obsValue", e.properties->>'pattern' as pattern
         from entities e left join ti_scores s on s.tenant_id = e.tenant_id and s.entity_id = e.id
        where e.tenant_id = $1 and e.id = any($2::uuid[])`,
      [tenantId, ids],
    );
    const byId = new Map<string, Indicator>();
    for (const r of rows) {
      if (r.obsType && r.obsValue) byId.set(r.id, { entityId: r.id, type: r.obsType, value: r.obsValue });
      else if (r.type === 'indicator') {
        const m = r.pattern ? SIMPLE_PATTERN.exec(r.pattern.trim()) : null;
        if (m) byId.set(r.id, { entityId: r.id, type: m[1]!, value: m[2]!.replace(/\\([\s\S])/g, '$1') });
      } else byId.set(r.id, { entityId: r.id, type: r.type, value: r.name });
    }
    // In the order asked for, so a waiting job resumes where it stopped.
    return ids.map((id) => byId.get(id)).filter((i): i is Indicator => i !== undefined);
  },

  async insertVerdict(tx: Sql, tenantId: string, v: { id: string; entityId: string; provider: string; result: LookupResult; at: Date }): Promise<void> {
    await tx.query(
      `insert into ti_enrichment_verdicts (tenant_id, id, entity_id, provider, verdict, details, created_at) values ($1, $2, $3, $4, $5, $6::jsonb, $7)`,
      [tenantId, v.id, v.entityId, v.provider, v.result.verdict, JSON.stringify(v.result.details), v.at],
    );
  },

  async insertJob(tx: Sql, tenantId: string, j: Pick<EnrichmentJobRow, 'id' | 'provider' | 'entityIds' | 'requestedBy' | 'createdAt'>): Promise<void> {
    await tx.query(
      `insert into ti_enrichment_jobs (tenant_id, id, provider, entity_ids, status, requested_by, created_at, updated_at)
       values ($1, $2, $3, $4::uuid[], 'queued', $5, $6, $6)`,
      [tenantId, j.id, j.provider, j.entityIds, j.requestedBy, j.createdAt],
    );
  },

  async job(tx: Sql, tenantId: string, id: string): Promise<EnrichmentJobRow | null> {
    const { rows } = await tx.query<EnrichmentJobRow>(`select ${JOB_COLUMNS} from ti_enrichment_jobs where tenant_id = $1 and id = $2`, [tenantId, id]);
    return rows[0] ?? null;
  },

  async setJobState(
    tx: Sql,
    tenantId: string,
    id: string,
    s: { status: EnrichmentJobRow['status']; at: Date; waitUntil?: Date | null; waitReason?: string | null; error?: string | null; lookedUp?: number },
  ): Promise<void> {
    await tx.query(
      `update ti_enrichment_jobs set status = $3, updated_at = $4, wait_until = $5, wait_reason = $6, error = $7,
              looked_up = looked_up + $8
        where tenant_id = $1 and id = $2`,
      [tenantId, id, s.status, s.at, s.waitUntil ?? null, s.waitReason ?? null, s.error ?? null, s.lookedUp ?? 0],
    );
  },

  async addLookedUp(tx: Sql, tenantId: string, id: string, count: number): Promise<void> {
    await tx.query('update ti_enrichment_jobs set looked_up = looked_up + $3 where tenant_id = $1 and id = $2', [tenantId, id, count]);
  },

  async waitingJobs(tx: Sql, tenantId: string, provider: string): Promise<string[]> {
    const { rows } = await tx.query<{ id: string }>(
      `select id from ti_enrichment_jobs where tenant_id = $1 and provider = $2 and status = 'waiting' order by id for update`,
      [tenantId, provider],
    );
    return rows.map((r) => r.id);
  },

  /**
   * Withdraws a waiting job's queued pg-boss copy (not yet started), returning its payload so it can be enqueued
   * again to run now. Null when a worker already took it.
   */
  async withdrawQueued(tx: Sql, tenantId: string, queue: string, jobId: string): Promise<unknown | null> {
    const { rows } = await tx.query<{ payload: unknown }>(
      `delete from pgboss.job where name = $1 and state = 'created' and data->>'tenantId' = $2 and data->>'jobId' = $3
       returning data->'payload' as payload`,
      [queue, tenantId, jobId],
    );
    return rows[0]?.payload ?? null;
  },
};
