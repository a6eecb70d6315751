import type { Sql } from '../db.js';
import type { JobType } from './job-types.js';

/** How long a job may stay active before pg-boss hands it out again: its timeout plus the crash-recovery margin. */
export function expirySecondsOf(type: JobType): number {
  return (type.timeoutSeconds ?? 15 * 60) + (type.crashRecoverySeconds ?? 60);
}

export function hasTenantLimits(type: JobType): boolean {
  return Boolean(type.perTenant?.concurrency || type.perTenant?.startsPerHour);
}

/**
 * Claims a run for a tenant's job under the type's per-tenant limits, in the caller's (system) transaction.
 * Returns null when the job may run now (the claim is recorded), or when to try again: shortly when the tenant is
 * at its concurrency limit, at the next hour when it spent its hourly starts.
 */
export async function claimTenantSlot(tx: Sql, type: JobType, tenantId: string, bossJobId: string, now: Date): Promise<Date | null> {
  const limits = type.perTenant ?? {};
  // Serialises claims for one tenant and queue, so two workers cannot both take the last slot.
  await tx.query('select pg_advisory_xact_lock(hashtext($1))', [`jobs:${type.name}:${tenantId}`]);
  if (limits.concurrency) {
    // A row whose worker died stops counting once the job has expired (and pg-boss handed it out again).
    const { rows } = await tx.query<{ n: number }>(
      `select count(*)::int as n from job_running
        where tenant_id = $1 and queue = $2 and started_at > $3::timestamptz - make_interval(secs => $4)`,
      [tenantId, type.name, now.toISOString(), expirySecondsOf(type)],
    );
    if (rows[0]!.n >= limits.concurrency) return new Date(now.getTime() + 2_000);
  }
  const hour = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
  if (limits.startsPerHour) {
    const { rows } = await tx.query<{ started: number }>(
      'select started from job_tenant_starts where tenant_id = $1 and queue = $2 and hour = $3',
      [tenantId, type.name, hour.toISOString()],
    );
    if ((rows[0]?.started ?? 0) >= limits.startsPerHour) return new Date(hour.getTime() + 3_600_000);
  }
  await tx.query('insert into job_running (tenant_id, queue, job_id) values ($1, $2, $3) on conflict do nothing', [tenantId, type.name, bossJobId]);
  await tx.query(
    `insert into job_tenant_starts (tenant_id, queue, hour, started) values ($1, $2, $3, 1)
     on conflict (tenant_id, queue, hour) do update set started = job_tenant_starts.started + 1`,
    [tenantId, type.name, hour.toISOString()],
  );
  return null;
}

export async function releaseTenantSlot(tx: Sql, type: JobType, tenantId: string, bossJobId: string): Promise<void> {
  if (!hasTenantLimits(type)) return;
  await tx.query('delete from job_running where tenant_id = $1 and queue = $2 and job_id = $3', [tenantId, type.name, bossJobId]);
}
