import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../platform/clock.js';
import type { Database } from '../../platform/db.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import type { AuditService } from '../audit/index.js';
import type { NotificationsModule } from '../notifications/index.js';
import { createEnrichmentModule } from './enrichment.module.js';
import { createTiScoringModule } from './scoring.module.js';

export { RESCORE_JOB } from './scoring.service.js';
export type { RescoreCounts } from './rescore.js';

/**
 * Threat intel: scoring and suppression (scoring.module.ts), enrichment and budgets (enrichment.module.ts).
 * Other modules call `rescore(tx, tenantId, entityIds?)` after ingest or a sighting.
 */
export function createTiModule(deps: {
  db: Database;
  clock: Clock;
  audit: AuditService;
  jobs: JobQueue;
  raise: NotificationsModule['raise'];
  secret: string;
  env?: 'dev' | 'prod';
  /** The outbound fetch (platform/outbound-fetch.ts) enrichment providers are called through. */
  fetch?: typeof fetch;
}) {
  const scoring = createTiScoringModule(deps);
  const enrichment = createEnrichmentModule({ ...deps, rescore: scoring.rescore });
  return {
    scoring,
    enrichment,
    rescore: scoring.rescore,
    jobs: [...scoring.jobs, ...enrichment.jobs],
    routes: (app: FastifyInstance) => {
      scoring.routes(app);
      enrichment.routes(app);
    },
  };
}

export type TiModule = ReturnType<typeof createTiModule>;
