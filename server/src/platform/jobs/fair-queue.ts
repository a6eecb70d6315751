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
