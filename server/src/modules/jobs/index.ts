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

export type { Scheduler, ScheduleFailing } from './scheduler.js';
export type { DlqService } from './dlq.service.js';

/** Schedules, the scheduler that fires them, and the dead-letter queue's admin API, over the platform job queue. */
export function createJobsModule(deps: {
  db: Database;
  clock: Clock;
  log: Logger;
  audit: AuditService;
  jobs: JobQueue;
  maxSchedulesPerTenant: number;
  schedulerTickMs?: number;
  onScheduleFailing?: ScheduleFailing;
}) {
  const schedules = createScheduleService({ ...deps, maxPerTenant: deps.maxSchedulesPerTenant });
  const dlq = createDlqService(deps);
  const scheduler = createScheduler({ ...deps, tickMs: deps.schedulerTickMs, onFailing: deps.onScheduleFailing });
  return {
    schedules,
    dlq,
    scheduler,
    registerRoutes(app: FastifyInstance) {
      registerScheduleRoutes(app, { schedules });
      registerDlqRoutes(app, { dlq });
    },
  };
}

export type JobsModule = ReturnType<typeof createJobsModule>;
