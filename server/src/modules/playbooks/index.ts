import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../platform/clock.js';
import type { Database } from '../../platform/db.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import type { AuditService } from '../audit/index.js';
import type { NotificationsModule } from '../notifications/index.js';
import type { PolicyEngine } from '../policy/index.js';
import { createPlaybookAccess } from './access.js';
import { createPlaybookService } from './playbook.service.js';
import { registerPlaybookRoutes } from './playbooks.routes.js';
import { createRunService } from './run.service.js';
import { createPlaybookSettingsService } from './settings.service.js';
import { createShareService } from './share.service.js';

export { RUN_JOB } from './run.service.js';

/**
 * Playbooks: saved investigations with versions, grants decided by Cedar, runs as jobs, schedules on the jobs
 * scheduler, share links, and Markdown/PDF exports.
 */
export function createPlaybooksModule(deps: {
  db: Database;
  clock: Clock;
  audit: AuditService;
  jobs: JobQueue;
  engine: PolicyEngine;
  raise: NotificationsModule['raise'];
  secret: string;
  stepTimeoutMs?: number;
  rowLimit?: number;
}) {
  const access = createPlaybookAccess(deps.engine);
  const playbooks = createPlaybookService({ ...deps, access });
  const runs = createRunService({ ...deps, access, playbooks });
  const shares = createShareService({ ...deps, playbooks, runs });
  const settings = createPlaybookSettingsService({ ...deps, playbooks });
  return {
    playbooks,
    runs,
    shares,
    settings,
    jobs: [runs.runJob],
    routes: (app: FastifyInstance) => registerPlaybookRoutes(app, { playbooks, runs, shares, settings }),
  };
}

export type PlaybooksModule = ReturnType<typeof createPlaybooksModule>;
