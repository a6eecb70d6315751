import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../platform/clock.js';
import type { Database } from '../../platform/db.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import type { AuditService } from '../audit/index.js';
import { createRescorer } from './rescore.js';
import { registerScoringRoutes } from './scoring.routes.js';
import { createScoringService } from './scoring.service.js';
import { createSuppressionService } from './suppression.service.js';
import { loadWarninglists, type Warninglist } from './warninglists.js';

/**
 * Threat-intel scoring and suppression: explainable scores with decay, the `ti.rescore` job (schedulable; a tenant
 * schedules it daily through the schedules API), suppression rules, warninglists and the ledger.
 */
export function createTiScoringModule(deps: {
  db: Database;
  clock: Clock;
  audit: AuditService;
  /** The built-in lists by default (server/warninglists). */
  warninglists?: Warninglist[];
}) {
  const warninglists = deps.warninglists ?? loadWarninglists();
  const rescorer = createRescorer({ clock: deps.clock, warninglists });
  const scoring = createScoringService({ ...deps, rescorer });
  const suppression = createSuppressionService({ ...deps, rescorer, warninglists });
  return {
    scoring,
    suppression,
    warninglists,
    /**
     * Rescores the given entities (or the whole tenant) and re-evaluates their suppression inside the caller's
     * transaction: call it after ingest, a sighting or an enrichment verdict.
     */
    rescore: rescorer.rescore,
    /** One batch of a whole-tenant pass in the caller's transaction (the job's loop; benchmarks). */
    rescoreBatch: rescorer.rescoreBatch,
    jobs: [scoring.rescoreJob],
    routes: (app: FastifyInstance) => registerScoringRoutes(app, { scoring, suppression }),
  };
}

export type TiScoringModule = ReturnType<typeof createTiScoringModule>;
