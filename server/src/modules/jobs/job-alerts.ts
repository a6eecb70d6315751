import type { Logger } from '../../platform/context.js';
import { withSavepoint, type Sql } from '../../platform/db.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import type { ScheduleFailing } from './scheduler.js';

export type RaiseAlert = (
  tx: Sql,
  scope: { tenantId: string; actor: { type: 'system'; id: string }; requestId: string | null },
  alert: {
    kind: 'dlq.item' | 'dlq.depth' | 'schedule.failing';
    groupKey: string;
    severity: 'info' | 'warning' | 'critical';
    title: string;
    detail: string;
    data?: Record<string, unknown>;
  },
) => Promise<unknown>;

/** A tenant's queue holding more dead letters than this raises a critical alert. */
export const DLQ_DEPTH_ALERT = 25;

/**
 * Turns job outcomes into alerts, inside the settling transaction so an alert exists exactly when its cause
 * does. An alert that cannot be raised must not undo the outcome, so each runs in a savepoint and is only logged.
 * Repeats of a cause are grouped by the notifications module (one alert per group key per window).
 */
export function registerJobAlerts(jobs: Pick<JobQueue, 'onOutcome'>, raise: RaiseAlert, log: Logger): ScheduleFailing {
  const scopeOf = (tenantId: string) => ({ tenantId, actor: { type: 'system' as const, id: 'jobs' }, requestId: null });
  const safely = async (tx: Sql, what: string, fn: () => Promise<unknown>) => {
    const error = await withSavepoint(tx, 'job_alert', fn);
    if (error) log.error({ err: error }, `could not raise the ${what} alert`);
  };

  jobs.onOutcome(async (tx, outcome) => {
    if (outcome.outcome !== 'dead_lettered') return;
    const { queue, tenantId, jobId, attempt, error } = outcome;
    await safely(tx, 'dead-letter', () =>
      raise(tx, scopeOf(tenantId), {
        kind: 'dlq.item',
        groupKey: `dlq:${queue}`,
        severity: 'warning',
        title: `A ${queue} job failed for good`,
        detail: `Job ${jobId} failed after ${attempt} attempt(s): ${error?.class ?? 'Error'}: ${error?.message ?? ''}. See GET /api/v1/dlq?queue=${queue}.`,
        data: { queue, jobId, attempts: attempt, errorClass: error?.class },
      }),
    );
    const { rows } = await tx.query<{ n: number }>(
      `select count(*)::int as n from dlq_items where tenant_id = $1 and queue = $2 and status = 'dead'`,
      [tenantId, queue],
    );
    const depth = rows[0]!.n;
    if (depth > DLQ_DEPTH_ALERT) {
      await safely(tx, 'dead-letter depth', () =>
        raise(tx, scopeOf(tenantId), {
          kind: 'dlq.depth',
          groupKey: `dlq-depth:${queue}`,
          severity: 'critical',
          title: `${depth} ${queue} jobs wait in the dead-letter queue`,
          detail: `More than ${DLQ_DEPTH_ALERT} dead letters in ${queue}: find the common error, fix it, then replay them (POST /api/v1/dlq/replay).`,
          data: { queue, depth },
        }),
      );
    }
  });

  return async (tx, schedule, failures) =>
    safely(tx, 'failing schedule', () =>
      raise(tx, scopeOf(schedule.tenantId), {
        kind: 'schedule.failing',
        groupKey: `schedule:${schedule.id}`,
        severity: 'critical',
        title: 'A schedule keeps failing',
        detail: `The last ${failures} runs of schedule ${schedule.id} failed. See GET /api/v1/schedules/${schedule.id} and the dead-letter queue.`,
        data: { scheduleId: schedule.id, failures },
      }),
    );
}
