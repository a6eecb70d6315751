/**
 * Enrichment and budgets, composed: providers, budgets, the enrichment job and their routes. createTiModule
 * (index.ts) builds this with the scoring module's rescore.
 */
import { outboundPolicyFor } from '../../platform/outbound-url.js';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../platform/clock.js';
import { deriveKey } from '../../platform/crypto.js';
import type { Database } from '../../platform/db.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import type { AuditService } from '../audit/index.js';
import type { NotificationsModule } from '../notifications/index.js';
import { createBudgetAdminService } from './budget-admin.service.js';
import { registerBudgetRoutes } from './budget.routes.js';
import { createBudgetService } from './budget.service.js';
import { createEnrichmentJob, type Rescore } from './enrichment.job.js';
import { registerEnrichmentRoutes } from './enrichment.routes.js';
import { createEnrichmentService } from './enrichment.service.js';
import { createLocalProvider, warninglistsFromSuppressions, type WarninglistMatcher } from './providers/local.provider.js';
import { registerProviderRoutes } from './providers/provider.routes.js';
import { createProviderService } from './providers/provider.service.js';
import { createSecretBox } from '../../platform/secret-box.js';
import type { Sleep } from './providers/token-bucket.js';

export function createEnrichmentModule(deps: {
  db: Database;
  clock: Clock;
  audit: Pick<AuditService, 'record'>;
  jobs: Pick<JobQueue, 'enqueue'>;
  raise: NotificationsModule['raise'];
  /** SUMMIT_SECRET: provider credentials are sealed under a key derived from it. */
  secret: string;
  /** The scoring module's rescore: recomputes the entities' scores after a verdict lands. */
  rescore: Rescore;
  /** dev (and tests) may configure providers on plain http; prod requires https. */
  env?: 'dev' | 'prod';
  warninglists?: WarninglistMatcher;
  sleep?: Sleep;
  fetch?: typeof fetch;
}) {
  const { db, clock, audit, jobs } = deps;
  const local = createLocalProvider({ db, warninglists: deps.warninglists ?? warninglistsFromSuppressions });
  const providers = createProviderService({
    db,
    clock,
    audit,
    seal: createSecretBox(deriveKey(deps.secret, 'ti-provider-secrets')),
    local,
    outboundPolicy: outboundPolicyFor(deps.env),
    sleep: deps.sleep,
    fetch: deps.fetch,
  });
  const budgets = createBudgetService({ db, clock, audit, raise: deps.raise });
  const enrichment = createEnrichmentService({ db, clock, audit, jobs, providers, budgets });
  const budgetAdmin = createBudgetAdminService({ db, clock, audit, budgets, providers, enrichment });
  return {
    providers,
    budgets,
    budgetAdmin,
    enrichment,
    jobs: [createEnrichmentJob({ db, clock, jobs, providers, budgets, rescore: deps.rescore })],
    routes(app: FastifyInstance) {
      registerEnrichmentRoutes(app, { enrichment });
      registerBudgetRoutes(app, { budgets: budgetAdmin });
      registerProviderRoutes(app, { providers });
    },
  };
}

export type EnrichmentModule = ReturnType<typeof createEnrichmentModule>;
