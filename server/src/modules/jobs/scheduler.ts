import type { Clock } from '../../platform/clock.js';
import type { Logger } from '../../platform/context.js';
import type { Database, Sql } from '../../platform/db.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import { scheduleRepo, type ScheduleRow } from './schedule.repo.js';
import { dueFires } from './schedule-time.js';

export type ScheduleFailing = (tx: Sql, schedule: Pick<ScheduleRow, 'tenantId' | 'id'>, failuresInARow: number) => Promise<void>;

const DUE_BATCH = 200;

/**
 * Fires due schedules. Each tick locks the due rows (`for update skip locked`), enqueues their jobs and moves
 * next_fire_at on, all in one transaction: every replica may tick, and each fire time is enqueued exactly once.
 */
export function createScheduler(deps: {
  db: Database;
  jobs: Pick<JobQueue, 'enqueue' | 'onOutcome'>;
  clock: Clock;
  log: Logger;
  tickMs?: number;
  /** Failures in a row after which a schedule is reported as failing (and again at every multiple). */
  failureThreshold?: number;
  onFailing?: ScheduleFailing;
}) {
  const { db, jobs, clock, log } = deps;
  const tickMs = deps.tickMs ?? 1_000;
  const threshold = deps.failureThreshold ?? 3;
  let timer: NodeJS.Timeout | null = null;
  let ticking: Promise<unknown> = Promise.resolve();

  async function tick(): Promise<number> {
    return db.withSystem(async (tx) => {
      const now = clock.now();
      let fired = 0;
      for (;;) {
        const due = await scheduleRepo.lockDue(tx, now, DUE_BATCH);
        for (const schedule of due) {
          const { fires, missed, next } = dueFires(schedule, schedule.nextFireAt!, now);
          for (const firedFor of fires) {
            await jobs.enqueue(
              tx,
              { tenantId: schedule.tenantId, actor: { type: 'system', id: `schedule:${schedule.id}` }, requestId: null },
              schedule.jobType,
              schedule.payload,
              { schedule: { id: schedule.id, firedFor }, idempotencyKey: `schedule:${schedule.id}:${firedFor.toISOString()}` },
            );
            fired++;
          }
          if (missed) log.warn({ scheduleId: schedule.id, missed, catchUp: schedule.catchUp }, 'schedule missed fire times while down');
          await scheduleRepo.advance(tx, schedule.tenantId, schedule.id, next, fires.at(-1) ?? null);
        }
        if (due.length < DUE_BATCH) return fired;
      }
    });
  }

  // A scheduled job's outcome updates its schedule's failures-in-a-row, in the job's settling transaction.
  jobs.onOutcome(async (tx, outcome) => {
    const scheduleId = outcome.envelope.scheduleId;
    if (!scheduleId) return;
    const failures = await scheduleRepo.recordOutcome(tx, outcome.tenantId, scheduleId, outcome.outcome === 'dead_lettered');
    if (failures && failures >= threshold && failures % threshold === 0 && deps.onFailing) {
      await deps.onFailing(tx, { tenantId: outcome.tenantId, id: scheduleId }, failures);
    }
  });

  function start() {
    if (timer) return;
    const loop = () => {
      ticking = tick()
        .catch((error) => log.error({ err: error }, 'scheduler tick failed'))
        .finally(() => {
          if (timer) timer = setTimeout(loop, tickMs);
        });
    };
    timer = setTimeout(loop, 0);
  }

  async function stop() {
    if (timer) clearTimeout(timer);
    timer = null;
    await ticking;
  }

  return { tick, start, stop };
}

export type Scheduler = ReturnType<typeof createScheduler>;
