import type { Sql } from '../../platform/db.js';
import type { CatchUp } from './schedule-time.js';

export type ScheduleRow = {
  tenantId: string;
  id: string;
  name: string;
  jobType: string;
  payload: Record<string, unknown>;
  cron: string;
  timezone: string;
  enabled: boolean;
  catchUp: CatchUp;
  ownerId: string | null;
  nextFireAt: Date | null;
  lastFiredAt: Date | null;
  consecutiveFailures: number;
  createdAt: Date;
  updatedAt: Date;
};

const COLS = `tenant_id as "tenantId", id, name, job_type as "jobType", payload, cron, timezone, enabled,
  catch_up as "catchUp", owner_id as "ownerId", next_fire_at as "nextFireAt", last_fired_at as "lastFiredAt",
  consecutive_failures as "consecutiveFailures", created_at as "createdAt", updated_at as "updatedAt"`;

export type ScheduleWrite = Pick<ScheduleRow, 'name' | 'jobType' | 'payload' | 'cron' | 'timezone' | 'enabled' | 'catchUp' | 'nextFireAt'>;

export const scheduleRepo = {
  async insert(tx: Sql, row: ScheduleWrite & { tenantId: string; id: string; ownerId: string | null }): Promise<ScheduleRow> {
    const { rows } = await tx.query<ScheduleRow>(
      `insert into schedules (tenant_id, id, name, job_type, payload, cron, timezone, enabled, catch_up, owner_id, next_fire_at)
       values ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11) returning ${COLS}`,
      [row.tenantId, row.id, row.name, row.jobType, JSON.stringify(row.payload), row.cron, row.timezone, row.enabled, row.catchUp, row.ownerId, row.nextFireAt?.toISOString() ?? null],
    );
    return rows[0]!;
  },
  async update(tx: Sql, tenantId: string, id: string, row: ScheduleWrite): Promise<ScheduleRow> {
    const { rows } = await tx.query<ScheduleRow>(
      `update schedules set name = $3, job_type = $4, payload = $5::jsonb, cron = $6, timezone = $7, enabled = $8,
              catch_up = $9, next_fire_at = $10, updated_at = now()
        where tenant_id = $1 and id = $2 returning ${COLS}`,
      [tenantId, id, row.name, row.jobType, JSON.stringify(row.payload), row.cron, row.timezone, row.enabled, row.catchUp, row.nextFireAt?.toISOString() ?? null],
    );
    return rows[0]!;
  },
  async get(tx: Sql, tenantId: string, id: string, forUpdate = false): Promise<ScheduleRow | null> {
    const { rows } = await tx.query<ScheduleRow>(
      `select ${COLS} from schedules where tenant_id = $1 and id = $2 ${forUpdate ? 'for update' : ''}`,
      [tenantId, id],
    );
    return rows[0] ?? null;
  },
  async list(tx: Sql, tenantId: string, after: string | undefined, limit: number): Promise<ScheduleRow[]> {
    const { rows } = await tx.query<ScheduleRow>(
      `select ${COLS} from schedules where tenant_id = $1 and ($2::uuid is null or id > $2::uuid) order by id limit $3`,
      [tenantId, after ?? null, limit],
    );
    return rows;
  },
  /** Schedules the tenant's users made; those Summit provides itself (no owner: the daily rescoring) do not count. */
  async count(tx: Sql, tenantId: string): Promise<number> {
    const { rows } = await tx.query<{ n: number }>('select count(*)::int as n from schedules where tenant_id = $1 and owner_id is not null', [tenantId]);
    return rows[0]!.n;
  },
  async delete(tx: Sql, tenantId: string, id: string): Promise<void> {
    await tx.query('delete from schedules where tenant_id = $1 and id = $2', [tenantId, id]);
  },

  /** Due schedules of every tenant, locked; another replica skips them, so each fire time is handled once. */
  async lockDue(tx: Sql, now: Date, limit: number): Promise<ScheduleRow[]> {
    const { rows } = await tx.query<ScheduleRow>(
      `select ${COLS} from schedules where enabled and next_fire_at <= $1 order by next_fire_at limit $2
         for update skip locked`,
      [now.toISOString(), limit],
    );
    return rows;
  },
  async advance(tx: Sql, tenantId: string, id: string, next: Date | null, lastFiredAt: Date | null): Promise<void> {
    await tx.query(
      `update schedules set next_fire_at = $3, last_fired_at = coalesce($4, last_fired_at) where tenant_id = $1 and id = $2`,
      [tenantId, id, next?.toISOString() ?? null, lastFiredAt?.toISOString() ?? null],
    );
  },
  /** Records a scheduled run's outcome; returns the failures in a row after it. */
  async recordOutcome(tx: Sql, tenantId: string, id: string, failed: boolean): Promise<number | null> {
    const { rows } = await tx.query<{ n: number }>(
      `update schedules set consecutive_failures = case when $3 then consecutive_failures + 1 else 0 end
        where tenant_id = $1 and id = $2 returning consecutive_failures as n`,
      [tenantId, id, failed],
    );
    return rows[0]?.n ?? null;
  },
};
