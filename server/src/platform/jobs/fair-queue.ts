import type { Sql } from '../db.js';

/**
 * Start-time fair queuing across tenants sharing a queue. Each job gets a virtual start time: the later of the
 * tenant's next slot and the queue's clock (the virtual start of the latest job to begin). The queue hands out
 * jobs in virtual-start order (pg-boss fetches by priority, so priority = -virtual start). A tenant that enqueues
 * 1,000 jobs takes slots 0…999; another tenant's single job, enqueued later, takes the queue's current clock and is
 * next in line instead of waiting behind the 1,000. An idle tenant does not bank credit: its next job starts at
 * the clock, not in the past.
 */
export function virtualStart(tenantNext: number | null, queueClock: number): number {
  return Math.max(tenantNext ?? 0, queueClock);
}

/**
 * pg-boss priority for a virtual start: higher runs first, so earlier virtual starts get higher priority. pg-boss
 * keeps priority in a 32-bit integer, so a queue can order about two billion job starts before its clocks must be
 * rebased (not yet done automatically: at 100 jobs/s that is eight months).
 */
export function priorityFor(vstart: number): number {
  return -Math.min(vstart, 2 ** 31 - 1);
}

/** Takes the next virtual start for a tenant's job in a queue, inside the enqueueing transaction. */
export async function takeVirtualStart(tx: Sql, tenantId: string, queue: string): Promise<number> {
  const clockRow = await tx.query<{ vtime: number }>('select vtime from job_queue_clock where queue = $1', [queue]);
  const tenantRow = await tx.query<{ next_vtime: number }>(
    'select next_vtime from job_tenant_clock where tenant_id = $1 and queue = $2 for update',
    [tenantId, queue],
  );
  const vstart = virtualStart(tenantRow.rows[0]?.next_vtime ?? null, clockRow.rows[0]?.vtime ?? 0);
  await tx.query(
    `insert into job_tenant_clock (tenant_id, queue, next_vtime) values ($1, $2, $3)
     on conflict (tenant_id, queue) do update set next_vtime = excluded.next_vtime`,
    [tenantId, queue, vstart + 1],
  );
  return vstart;
}

/** Moves a queue's clock to the latest virtual start that began running. */
export async function advanceQueueClock(tx: Sql, queue: string, vtime: number): Promise<void> {
  await tx.query(
    `insert into job_queue_clock (queue, vtime) values ($1, $2)
     on conflict (queue) do update set vtime = greatest(job_queue_clock.vtime, excluded.vtime)`,
    [queue, vtime],
  );
}
