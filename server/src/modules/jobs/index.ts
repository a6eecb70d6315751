import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../platform/clock.js';
import type { Logger } from '../../platform/context.js';
import type { Database } from '../../platform/db.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import type { AuditService } from '../audit/index.js';
import { createDlqService } from './dlq.service.js';
import { registerDlqRoutes } from './dlq.routes.js';
import { registerScheduleRoutes } from './schedule.routes.js';
import { createScheduleService } from './schedule.service.js';
import { createScheduler, type ScheduleFailing } from './scheduler.js';
import { createAutoReplayer } from './auto-replayer.js';
import { loadAutoReplayPolicy, type AutoReplayPolicy } from './auto-replay-policy.js';
import type { Registry } from 'prom-client';
import { registerDlqDepthGauge } from './dlq-depth.js';
import { registerJobAlerts, type RaiseAlert } from './job-alerts.js';

export type { Scheduler, ScheduleFailing } from './scheduler.js';
export type { DlqService } from './dlq.service.js';
export { registerJobAlerts, DLQ_DEPTH_ALERT } from './job-alerts.js';
export { scheduleRepo, type ScheduleRow } from './schedule.repo.js';
export { cronProblems, nextFires } from './schedule-time.js';

/** Schedules, the scheduler that fires them, and the dead-letter queue's admin API, over the platform job queue. */
export function createJobsModule(deps: {
  db: Database;
  clock: Clock;
  log: Logger;
  audit: AuditService;
  jobs: JobQueue;
  maxSchedulesPerTenant: number;
  schedulerTickMs?: number;
  /** Dead letters, a deep dead-letter queue and failing schedules reach the tenant's notification channels. */
  raise: RaiseAlert;
  registry: Registry;
}) {
  const onScheduleFailing: ScheduleFailing = registerJobAlerts(deps.jobs, deps.raise, deps.log);
  registerDlqDepthGauge(deps.registry, deps.db);
  const schedules = createScheduleService({ ...deps, maxPerTenant: deps.maxSchedulesPerTenant });
  const dlq = createDlqService(deps);
  const scheduler = createScheduler({ ...deps, tickMs: deps.schedulerTickMs, onFailing: onScheduleFailing });
  /**
   * Reads and checks the auto-replay policy: a syntax or value error names its line; a queue that is not a job type
   * of this version is refused too, since its settings would silently never apply.
   */
  async function loadReplayPolicy(file: string): Promise<AutoReplayPolicy> {
    const policy = await loadAutoReplayPolicy(file);
    const known = deps.jobs.types().map((t) => t.name);
    const unknown = Object.keys(policy.queues).filter((q) => !known.includes(q));
    if (unknown.length) {
      throw new Error(`${file}: queues ${unknown.map((q) => `"${q}"`).join(', ')} are not job types of this version (known: ${known.join(', ')})`);
    }
    return policy;
  }
  return {
    schedules,
    dlq,
    scheduler,
    loadReplayPolicy,
    autoReplayer: (policy: AutoReplayPolicy, intervalMs?: number) =>
      createAutoReplayer({ db: deps.db, dlq, policy, clock: deps.clock, log: deps.log, intervalMs }),
    routes(app: FastifyInstance) {
      registerScheduleRoutes(app, { schedules });
      registerDlqRoutes(app, { dlq });
    },
  };
}

export type JobsModule = ReturnType<typeof createJobsModule>;
