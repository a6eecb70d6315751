import type { FastifyInstance } from 'fastify';
import type { Clock } from './platform/clock.js';
import type { Config } from './platform/config.js';
import type { Logger } from './platform/context.js';
import type { Database } from './platform/db.js';
import { createJobQueue } from './platform/jobs/job-queue.js';
import { createOutboundHttp, type Resolver } from './platform/outbound-fetch.js';
import { outboundPolicyFor } from './platform/outbound-url.js';
import type { JobType } from './platform/jobs/job-types.js';
import type { Metrics } from './platform/metrics.js';
import { createAuditModule } from './modules/audit/index.js';
import { createConnectorsModule } from './modules/connectors/index.js';
import { createGraphModule, type GraphHooks } from './modules/graph/index.js';
import { createJobsModule } from './modules/jobs/index.js';
import { createNotificationsModule } from './modules/notifications/index.js';
import { createPlaybooksModule } from './modules/playbooks/index.js';
import { createPolicyModule, type PolicyBundle } from './modules/policy/index.js';
import { createTenancyModule } from './modules/tenancy/index.js';
import { createTiModule, RESCORE_JOB } from './modules/ti/index.js';

/**
 * What every module hands the composition root: its HTTP routes (mounted by app.ts only, and only in processes
 * that serve HTTP) and its job types (registered on the queue here, before it starts, in every process).
 */
export type SummitModule = {
  routes?: (app: FastifyInstance) => void;
  // Each job type validates its own payload (any: a queue of differently typed jobs); the root only registers them.
  jobs?: ReadonlyArray<JobType<any>>;
};

export type ModuleDeps = {
  config: Pick<Config, 'SUMMIT_ENV' | 'SUMMIT_MAX_SCHEDULES_PER_TENANT'> | Partial<Pick<Config, 'SUMMIT_ENV' | 'SUMMIT_MAX_SCHEDULES_PER_TENANT'>>;
  db: Database;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  secret: string;
  operatorToken: string;
  /** How often idle job workers poll (tests shorten it). */
  jobPollIntervalMs?: number;
  policyBundle?: PolicyBundle;
  /** Tests: resolve outbound host names from a table (no real DNS), or replace the outbound fetch altogether. */
  outbound?: { resolve?: Resolver; fetch?: typeof fetch };
};

/**
 * Builds every module once, in dependency order, and registers their job types on the one job queue. Nothing here
 * knows about HTTP: app.ts mounts the routes, main.ts decides whether this process serves, works, or both.
 */
export async function createModules(deps: ModuleDeps) {
  const { db, clock, log, metrics, secret } = deps;
  const env = deps.config.SUMMIT_ENV ?? 'dev';
  const policy = await createPolicyModule({ log, histogram: metrics.policyDecisionDuration, bundle: deps.policyBundle });
  const audit = createAuditModule({ db, clock, secret });
  // pg-boss starts with the modules (enqueueing needs it); workers run only where main.ts says so.
  const queue = createJobQueue({ db, log, clock, metrics, pollIntervalMs: deps.jobPollIntervalMs });
  // Every outbound client (webhooks, ServiceNow, enrichment providers) goes through one policy, checked when a URL is
  // configured and again as each connection opens: private and loopback addresses only outside prod; without
  // SUMMIT_ENV (tests) that is dev. Later clients (audit export to a SIEM) take `outbound` too.
  const outboundPolicy = outboundPolicyFor(env);
  const outbound = createOutboundHttp({ policy: outboundPolicy, resolve: deps.outbound?.resolve });
  const outboundFetch = deps.outbound?.fetch ?? outbound.fetch;
  const notifications = createNotificationsModule({ db, clock, audit, jobs: queue, secret, allowPrivateNetwork: outboundPolicy.allowPrivateNetwork, fetch: outboundFetch });
  const jobs = createJobsModule({
    db,
    clock,
    log,
    audit,
    jobs: queue,
    maxSchedulesPerTenant: deps.config.SUMMIT_MAX_SCHEDULES_PER_TENANT ?? 100,
    raise: notifications.raise,
    registry: metrics.registry,
  });
  // Threat intel rescoring follows graph changes: a sighting or an edited entity at once, in its transaction; an
  // ingest run by a ti.rescore job over what the run asserted, enqueued as the run finishes.
  const graphHooks: GraphHooks = {
    entitiesChanged: async (tx, tenantId, ids) => void (await ti.rescore(tx, tenantId, ids)),
    ingestFinished: async (tx, scope, runId) =>
      void (await queue.enqueue(tx, scope, RESCORE_JOB, { ingestRunId: runId }, { idempotencyKey: `ti.rescore:ingest:${runId}` })),
  };
  // Schema approvals are enforced in prod only.
  const graph = createGraphModule({ db, clock, log, audit, jobs: queue, registry: metrics.registry, env, hooks: graphHooks });
  const playbooks = createPlaybooksModule({ db, clock, audit, jobs: queue, engine: policy.engine, raise: notifications.raise, secret });
  const ti = createTiModule({ db, clock, audit, jobs: queue, raise: notifications.raise, secret, env, fetch: outboundFetch });
  const connectors = createConnectorsModule({
    db,
    clock,
    audit,
    jobs: queue,
    registry: metrics.registry,
    raise: notifications.raise,
    secret,
    graph,
    outboundPolicy,
    fetch: outboundFetch,
  });
  const tenancy = createTenancyModule({
    db,
    clock,
    audit,
    operatorToken: deps.operatorToken,
    isAllowed: policy.isAllowed,
    permissionsOf: policy.permissionsOf,
  });

  const all: SummitModule[] = [tenancy, audit, policy, notifications, jobs, graph, playbooks, ti, connectors];
  for (const module of all) for (const type of module.jobs ?? []) queue.register(type);
  return {
    /** In the order their routes are mounted. */
    all,
    policy,
    audit,
    tenancy,
    /** The platform job queue (pg-boss); `jobsModule` is the schedules and dead-letter module over it. */
    jobs: queue,
    jobsModule: jobs,
    notifications,
    graph,
    playbooks,
    ti,
    connectors,
    /** The outbound policy and its fetch; close() when the process stops. */
    outbound: { policy: outboundPolicy, fetch: outboundFetch, close: () => outbound.close() },
  };
}

export type Modules = Awaited<ReturnType<typeof createModules>>;
