import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { Clock } from './platform/clock.js';
import type { Config } from './platform/config.js';
import { deriveSigningKey } from './platform/crypto.js';
import type { Database } from './platform/db.js';
import { createHttpServer, type LogStream } from './platform/http.js';
import { createOutboundHttp, type Resolver } from './platform/outbound-fetch.js';
import { outboundPolicyFor } from './platform/outbound-url.js';
import { createMetrics } from './platform/metrics.js';
import { registerOpsRoutes } from './platform/ops.routes.js';
import { auditCheckpointJob, createAuditService, registerAuditRoutes } from './modules/audit/index.js';
import { createJobQueue } from './platform/jobs/job-queue.js';
import { createJobsModule, registerDlqDepthGauge, registerJobAlerts } from './modules/jobs/index.js';
import { createGraphModule, type GraphHooks } from './modules/graph/index.js';
import {
  createPolicyModule,
  registerAuthorizationHook,
  registerPolicyRoutes,
  type PolicyBundle,
} from './modules/policy/index.js';
import { createTenancyModule, registerTenancyRoutes } from './modules/tenancy/index.js';
import { createPlaybooksModule } from './modules/playbooks/index.js';
import { createTiModule, RESCORE_JOB } from './modules/ti/index.js';
import { createConnectorsModule } from './modules/connectors/index.js';
import { createNotificationsModule, registerNotificationJobs, registerNotificationRoutes } from './modules/notifications/index.js';

export type AppDeps = {
  config: Pick<Config, 'SUMMIT_LOG_LEVEL' | 'SUMMIT_BODY_LIMIT'> & Partial<Pick<Config, 'SUMMIT_MAX_SCHEDULES_PER_TENANT' | 'SUMMIT_ENV' | 'SUMMIT_REQUEST_TIMEOUT_MS'>>;
  db: Database;
  clock: Clock;
  secret: string;
  operatorToken: string;
  /** false silences request logs (tests). */
  logger?: boolean;
  /** Where log lines go instead of stdout (tests that read them). */
  logStream?: LogStream;
  /** Tests: resolve outbound host names from a table (no real DNS), or replace the outbound fetch altogether. */
  outbound?: { resolve?: Resolver; fetch?: typeof fetch };
  /** How often idle job workers poll (tests shorten it). */
  jobPollIntervalMs?: number;
  policyBundle?: PolicyBundle;
};

async function registerDocs(app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Summit API',
        version: '1',
        description: 'IntelGraph and Maestro Conductor. Errors are RFC 9457 application/problem+json with `code` and `requestId`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  // Swagger UI's own routes (page and assets) are public; mark them so in their own scope.
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
    });
    await docs.register(swaggerUi, { routePrefix: '/docs' });
  });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
}

/** Assembles the HTTP API: one instance of each module, authentication and policy on every route. */
export async function buildApp(deps: AppDeps) {
  const { db, clock } = deps;
  const metrics = createMetrics({ collectDefaults: deps.logger !== false });
  const app = createHttpServer({
    logLevel: deps.config.SUMMIT_LOG_LEVEL,
    bodyLimit: deps.config.SUMMIT_BODY_LIMIT,
    logger: deps.logger,
    logStream: deps.logStream,
    requestTimeoutMs: deps.config.SUMMIT_REQUEST_TIMEOUT_MS ?? 120_000,
  });

  const policy = await createPolicyModule({ log: app.log, histogram: metrics.policyDecisionDuration, bundle: deps.policyBundle });
  policy.registry.attach(app);
  const audit = createAuditService({ db, clock, signingKey: deriveSigningKey(deps.secret, 'audit-checkpoint') });
  // Job types are registered here, once; pg-boss starts with the app (enqueueing needs it), workers only where
  // main.ts says so (serve --role worker|all).
  const jobs = createJobQueue({ db, log: app.log, clock, metrics, pollIntervalMs: deps.jobPollIntervalMs });
  jobs.register({ ...auditCheckpointJob(audit), schedulable: true });
  // Every outbound client (webhooks, ServiceNow, enrichment providers) goes through one policy, checked when a URL is
  // configured and again as each connection opens: private and loopback addresses only in dev; without SUMMIT_ENV
  // (tests) that is dev.
  const outboundPolicy = outboundPolicyFor(deps.config.SUMMIT_ENV);
  const outbound = createOutboundHttp({ policy: outboundPolicy, resolve: deps.outbound?.resolve });
  const outboundFetch = deps.outbound?.fetch ?? outbound.fetch;
  const notifications = createNotificationsModule({
    db,
    clock,
    audit,
    jobs,
    secret: deps.secret,
    allowPrivateNetwork: outboundPolicy.allowPrivateNetwork,
    fetch: outboundFetch,
  });
  registerNotificationJobs(jobs, notifications);
  // Dead letters, a deep dead-letter queue and failing schedules reach the tenant's notification channels.
  const onScheduleFailing = registerJobAlerts(jobs, notifications.raise, app.log);
  // Schema approvals are enforced in prod only; without SUMMIT_ENV (tests) that is dev, as for webhooks above.
  // Threat intel rescoring follows graph changes: a sighting or an edited entity at once, in its transaction; an
  // ingest run by a ti.rescore job over what the run asserted, enqueued as the run finishes.
  const graphHooks: GraphHooks = {
    entitiesChanged: async (tx, tenantId, ids) => void (await tiModule.rescore(tx, tenantId, ids)),
    ingestFinished: async (tx, scope, runId) =>
      void (await jobs.enqueue(tx, scope, RESCORE_JOB, { ingestRunId: runId }, { idempotencyKey: `ti.rescore:ingest:${runId}` })),
  };
  const graphModule = createGraphModule({ db, clock, log: app.log, audit, jobs, registry: metrics.registry, env: deps.config.SUMMIT_ENV ?? 'dev', hooks: graphHooks });
  const jobsModule = createJobsModule({
    db,
    clock,
    log: app.log,
    audit,
    jobs,
    maxSchedulesPerTenant: deps.config.SUMMIT_MAX_SCHEDULES_PER_TENANT ?? 100,
    onScheduleFailing,
  });
  const playbooksModule = createPlaybooksModule({
    db,
    clock,
    audit,
    jobs,
    engine: policy.engine,
    raise: notifications.raise,
    secret: deps.secret,
  });
  const tiModule = createTiModule({ db, clock, audit, jobs, raise: notifications.raise, secret: deps.secret, env: deps.config.SUMMIT_ENV ?? 'dev', fetch: outboundFetch });
  const connectorsModule = createConnectorsModule({
    db,
    clock,
    audit,
    jobs,
    registry: metrics.registry,
    raise: notifications.raise,
    secret: deps.secret,
    graph: graphModule,
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

  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequestDuration.observe(
      { route: request.routeOptions.url ?? 'unmatched', method: request.method, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  registerAuthorizationHook(app, {
    authenticate: tenancy.authenticate,
    engine: policy.engine,
    audit,
    withTenantTx: (tenantId, fn) => db.withTenant(tenantId, fn),
  });

  await registerDocs(app);
  registerOpsRoutes(app, { db, metrics });
  registerTenancyRoutes(app, tenancy);
  registerAuditRoutes(app, { audit });
  registerPolicyRoutes(app, { coverage: policy.coverage });
  registerNotificationRoutes(app, notifications);
  jobsModule.registerRoutes(app);
  graphModule.registerRoutes(app);
  playbooksModule.registerRoutes(app);
  tiModule.registerRoutes(app);
  connectorsModule.registerRoutes(app);
  registerDlqDepthGauge(metrics.registry, db);

  await jobs.start();
  app.addHook('onClose', async () => {
    await jobsModule.scheduler.stop();
    await jobs.stop();
    await outbound.close();
  });
  await app.ready();
  return { app, modules: { policy, audit, tenancy, jobs, jobsModule, notifications, graph: graphModule, playbooks: playbooksModule, ti: tiModule, connectors: connectorsModule }, metrics };
}

export type SummitApp = Awaited<ReturnType<typeof buildApp>>;
