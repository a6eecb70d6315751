/** SQL for connectors, their runs, cursors, record versions and request log; tenantId is always required. */
import type { Sql } from '../../platform/db.js';

export type ConnectorRow = {
  id: string;
  kind: 'servicenow';
  name: string;
  config: Record<string, unknown>;
  secretSealed: string;
  scheduleId: string | null;
  rateLimit: Record<string, number>;
  pageSize: number;
  createdAt: Date;
  updatedAt: Date;
};
export type RunStatus = 'queued' | 'running' | 'succeeded' | 'partial' | 'failed';
export type RunCounts = { fetched: number; created: number; updated: number; unchanged: number; failed: number; pages: number };
export type RunRow = RunCounts & {
  id: string;
  connectorId: string;
  status: RunStatus;
  trigger: 'manual' | 'schedule';
  error: { kind: string; message: string } | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
};

const CONNECTOR_COLS = `id, kind, name, config, secret_sealed as "secretSealed", schedule_id as "scheduleId", rate_limit as "rateLimit",
  page_size as "pageSize", created_at as "createdAt", updated_at as "updatedAt"`;
const RUN_COLS = `id, connector_id as "connectorId", status, trigger, fetched, created, updated, unchanged, failed, pages, error,
  created_at as "createdAt", started_at as "startedAt", finished_at as "finishedAt"`;

export const connectorRepo = {
  async insert(tx: Sql, tenantId: string, row: Omit<ConnectorRow, 'createdAt' | 'updatedAt'> & { createdBy: string; at: Date }): Promise<ConnectorRow> {
    const { rows } = await tx.query<ConnectorRow>(
      `insert into connectors (tenant_id, id, kind, name, config, secret_sealed, schedule_id, rate_limit, page_size, created_by, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) returning ${CONNECTOR_COLS}`,
      [tenantId, row.id, row.kind, row.name, JSON.stringify(row.config), row.secretSealed, row.scheduleId, JSON.stringify(row.rateLimit), row.pageSize, row.createdBy, row.at],
    );
    return rows[0]!;
  },
  async update(tx: Sql, tenantId: string, id: string, row: Pick<ConnectorRow, 'name' | 'config' | 'secretSealed' | 'scheduleId' | 'rateLimit' | 'pageSize'> & { at: Date }): Promise<ConnectorRow> {
    const { rows } = await tx.query<ConnectorRow>(
      `update connectors set name = $3, config = $4, secret_sealed = $5, schedule_id = $6, rate_limit = $7, page_size = $8, updated_at = $9
       where tenant_id = $1 and id = $2 returning ${CONNECTOR_COLS}`,
      [tenantId, id, row.name, JSON.stringify(row.config), row.secretSealed, row.scheduleId, JSON.stringify(row.rateLimit), row.pageSize, row.at],
    );
    return rows[0]!;
  },
  async get(tx: Sql, tenantId: string, id: string, forUpdate = false): Promise<ConnectorRow | null> {
    const { rows } = await tx.query<ConnectorRow>(`select ${CONNECTOR_COLS} from connectors where tenant_id = $1 and id = $2${forUpdate ? ' for update' : ''}`, [tenantId, id]);
    return rows[0] ?? null;
  },
  async list(tx: Sql, tenantId: string): Promise<ConnectorRow[]> {
    const { rows } = await tx.query<ConnectorRow>(`select ${CONNECTOR_COLS} from connectors where tenant_id = $1 order by lower(name), id`, [tenantId]);
    return rows;
  },
  async delete(tx: Sql, tenantId: string, id: string): Promise<void> {
    await tx.query('delete from connectors where tenant_id = $1 and id = $2', [tenantId, id]);
  },

  async insertRun(tx: Sql, tenantId: string, run: { id: string; connectorId: string; trigger: 'manual' | 'schedule'; status: RunStatus; at: Date }): Promise<void> {
    await tx.query(
      `insert into connector_runs (tenant_id, id, connector_id, status, trigger, created_at, started_at) values ($1, $2, $3, $4, $5, $6, $7)
       on conflict (tenant_id, id) do nothing`,
      [tenantId, run.id, run.connectorId, run.status, run.trigger, run.at, run.status === 'running' ? run.at : null],
    );
  },
  async getRun(tx: Sql, tenantId: string, id: string): Promise<RunRow | null> {
    const { rows } = await tx.query<RunRow>(`select ${RUN_COLS} from connector_runs where tenant_id = $1 and id = $2`, [tenantId, id]);
    return rows[0] ?? null;
  },
  /** The run of a scheduled fire, unless it exists already or another run of the connector is active. */
  async insertScheduledRun(tx: Sql, tenantId: string, run: { id: string; connectorId: string; at: Date }): Promise<void> {
    await tx.query(
      `insert into connector_runs (tenant_id, id, connector_id, status, trigger, created_at) values ($1, $2, $3, 'queued', 'schedule', $4) on conflict do nothing`,
      [tenantId, run.id, run.connectorId, run.at],
    );
  },
  /** The connector's queued or running run, if any (at most one: see migration 0015). */
  async activeRun(tx: Sql, tenantId: string, connectorId: string): Promise<RunRow | null> {
    const { rows } = await tx.query<RunRow>(`select ${RUN_COLS} from connector_runs where tenant_id = $1 and connector_id = $2 and status in ('queued', 'running')`, [tenantId, connectorId]);
    return rows[0] ?? null;
  },
  /**
   * Closes an active run created before `before`: its job is long gone (a worker killed on its last attempt), and
   * left active it would block every later sync of the connector.
   */
  async abandonStale(tx: Sql, tenantId: string, connectorId: string, before: Date, at: Date): Promise<number> {
    const { rows } = await tx.query<{ id: string }>(
      `update connector_runs set status = case when fetched > 0 then 'partial' else 'failed' end, finished_at = $4,
              error = '{"kind":"abandoned","message":"the run made no progress within its time limit; its worker is gone"}'::jsonb
        where tenant_id = $1 and connector_id = $2 and status in ('queued', 'running') and created_at < $3 returning id`,
      [tenantId, connectorId, before, at],
    );
    return rows.length;
  },
  /**
   * Makes run `id` the connector's running run: a queued run, a retry of a running one, or a DLQ replay of a run
   * that ended partial or failed. False when another run of the connector is active (that one covers this), or the
   * run already succeeded (a re-delivered job has nothing left to do). Two claims racing for different runs are
   * settled by the unique index (the loser gets a unique violation).
   */
  async claimRun(tx: Sql, tenantId: string, id: string, at: Date): Promise<boolean> {
    const { rows } = await tx.query<{ id: string }>(
      `update connector_runs r set status = 'running', started_at = coalesce(started_at, $3), finished_at = null
        where r.tenant_id = $1 and r.id = $2 and r.status <> 'succeeded'
          and not exists (select 1 from connector_runs o where o.tenant_id = $1 and o.connector_id = r.connector_id and o.id <> r.id and o.status in ('queued', 'running'))
        returning r.id`,
      [tenantId, id, at],
    );
    return rows.length === 1;
  },
  async markRunning(tx: Sql, tenantId: string, id: string, at: Date): Promise<void> {
    await tx.query(`update connector_runs set status = 'running', started_at = coalesce(started_at, $3), finished_at = null, error = null where tenant_id = $1 and id = $2`, [tenantId, id, at]);
  },
  async addProgress(tx: Sql, tenantId: string, id: string, counts: RunCounts): Promise<void> {
    await tx.query(
      `update connector_runs set fetched = fetched + $3, created = created + $4, updated = updated + $5, unchanged = unchanged + $6, failed = failed + $7, pages = pages + $8
       where tenant_id = $1 and id = $2`,
      [tenantId, id, counts.fetched, counts.created, counts.updated, counts.unchanged, counts.failed, counts.pages],
    );
  },
  async finishRun(tx: Sql, tenantId: string, id: string, status: RunStatus, at: Date, error: RunRow['error'] = null): Promise<void> {
    await tx.query(`update connector_runs set status = $3, finished_at = $4, error = $5 where tenant_id = $1 and id = $2`, [tenantId, id, status, at, error ? JSON.stringify(error) : null]);
  },
  /** A run whose attempt failed retryably waits for the job's next attempt, keeping the connector's one active slot. */
  async requeueRun(tx: Sql, tenantId: string, id: string, error: NonNullable<RunRow['error']>): Promise<void> {
    await tx.query(`update connector_runs set status = 'queued', error = $3 where tenant_id = $1 and id = $2`, [tenantId, id, JSON.stringify(error)]);
  },
  async listRuns(tx: Sql, tenantId: string, connectorId: string, limit: number): Promise<RunRow[]> {
    const { rows } = await tx.query<RunRow>(`select ${RUN_COLS} from connector_runs where tenant_id = $1 and connector_id = $2 order by id desc limit $3`, [tenantId, connectorId, limit]);
    return rows;
  },
  async lastRun(tx: Sql, tenantId: string, connectorId: string): Promise<RunRow | null> {
    return (await connectorRepo.listRuns(tx, tenantId, connectorId, 1))[0] ?? null;
  },

  async getCursor(tx: Sql, tenantId: string, connectorId: string) {
    const { rows } = await tx.query<{ cursor: unknown; watermark: Date | null; lastSuccessAt: Date | null; recordsSynced: string }>(
      `select cursor, watermark, last_success_at as "lastSuccessAt", records_synced as "recordsSynced" from connector_cursors where tenant_id = $1 and connector_id = $2`,
      [tenantId, connectorId],
    );
    return rows[0] ?? null;
  },
  async saveCursor(tx: Sql, tenantId: string, connectorId: string, cursor: unknown, watermark: Date | null, synced: number, at: Date): Promise<void> {
    await tx.query(
      `insert into connector_cursors (tenant_id, connector_id, cursor, watermark, records_synced, updated_at) values ($1, $2, $3, $4, $5, $6)
       on conflict (tenant_id, connector_id) do update set cursor = excluded.cursor, watermark = coalesce(excluded.watermark, connector_cursors.watermark),
         records_synced = connector_cursors.records_synced + excluded.records_synced, updated_at = excluded.updated_at`,
      [tenantId, connectorId, JSON.stringify(cursor), watermark, synced, at],
    );
  },
  async markSuccess(tx: Sql, tenantId: string, connectorId: string, at: Date): Promise<void> {
    await tx.query(
      `insert into connector_cursors (tenant_id, connector_id, cursor, last_success_at, updated_at) values ($1, $2, 'null'::jsonb, $3, $3)
       on conflict (tenant_id, connector_id) do update set last_success_at = excluded.last_success_at`,
      [tenantId, connectorId, at],
    );
  },

  /** The version of each record last written to the graph. */
  async recordVersions(tx: Sql, tenantId: string, connectorId: string, sysIds: string[]): Promise<Map<string, number>> {
    if (!sysIds.length) return new Map();
    const { rows } = await tx.query<{ sysId: string; modCount: number }>(
      `select sys_id as "sysId", sys_mod_count as "modCount" from connector_records where tenant_id = $1 and connector_id = $2 and sys_id = any($3::text[])`,
      [tenantId, connectorId, sysIds],
    );
    return new Map(rows.map((r) => [r.sysId, r.modCount]));
  },
  async saveRecords(tx: Sql, tenantId: string, connectorId: string, records: Array<{ sysId: string; modCount: number; entityId: string | null }>, at: Date): Promise<void> {
    if (!records.length) return;
    await tx.query(
      `insert into connector_records (tenant_id, connector_id, sys_id, sys_mod_count, entity_id, updated_at)
       select $1, $2, r."sysId", r."modCount", r."entityId", $4 from jsonb_to_recordset($3::jsonb) as r("sysId" text, "modCount" integer, "entityId" uuid)
       on conflict (tenant_id, connector_id, sys_id) do update set sys_mod_count = excluded.sys_mod_count, entity_id = coalesce(excluded.entity_id, connector_records.entity_id), updated_at = excluded.updated_at`,
      [tenantId, connectorId, JSON.stringify(records), at],
    );
  },

  async logRequests(tx: Sql, tenantId: string, connectorId: string, rows: Array<{ id: string; at: Date; status: number | null; durationMs: number }>): Promise<void> {
    if (!rows.length) return;
    await tx.query(
      `insert into connector_requests (tenant_id, connector_id, id, at, status, duration_ms)
       select $1, $2, r.id, r.at, r.status, r."durationMs" from jsonb_to_recordset($3::jsonb) as r(id uuid, at timestamptz, status integer, "durationMs" integer)`,
      [tenantId, connectorId, JSON.stringify(rows.map((r) => ({ ...r, durationMs: Math.round(r.durationMs) })))],
    );
  },
  /** Requests logged since `since` (the hourly budget a new run starts with is what they left). */
  async countRequests(tx: Sql, tenantId: string, connectorId: string, since: Date): Promise<number> {
    const { rows } = await tx.query<{ n: string }>('select count(*) as n from connector_requests where tenant_id = $1 and connector_id = $2 and at > $3', [tenantId, connectorId, since]);
    return Number(rows[0]!.n);
  },
  /** Deletes log rows older than `before` (health reads only the last hour). */
  async pruneRequests(tx: Sql, tenantId: string, connectorId: string, before: Date): Promise<number> {
    const { rows } = await tx.query<{ id: string }>('delete from connector_requests where tenant_id = $1 and connector_id = $2 and at < $3 returning id', [tenantId, connectorId, before]);
    return rows.length;
  },
  async requestStats(tx: Sql, tenantId: string, connectorId: string, since: Date) {
    const { rows } = await tx.query<{ total: string; errors: string; p95: number | null }>(
      `select count(*) as total, count(*) filter (where status is null or status >= 500 or status in (401, 403, 429)) as errors,
              percentile_cont(0.95) within group (order by duration_ms) as p95
         from connector_requests where tenant_id = $1 and connector_id = $2 and at >= $3`,
      [tenantId, connectorId, since],
    );
    const r = rows[0]!;
    return { total: Number(r.total), errors: Number(r.errors), p95Ms: r.p95 === null ? null : Number(r.p95) };
  },
};
