import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { Clock } from './platform/clock.js';
import type { Config } from './platform/config.js';
import type { Database } from './platform/db.js';
import { createHttpServer, type LogStream } from './platform/http.js';
import { createMetrics, type Metrics } from './platform/metrics.js';
import type { Resolver } from './platform/outbound-fetch.js';
import { registerOpsRoutes } from './platform/ops.routes.js';
import { registerAuthorizationHook, type PolicyBundle } from './modules/policy/index.js';
import { createModules, type Modules } from './modules.js';

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

/**
 * Mounts the HTTP API over modules that are already built: authentication and policy on every route, the docs and
 * operational endpoints, then each module's routes. Builds no module and registers no job.
 */
export async function mountHttpApi(app: FastifyInstance, modules: Modules, deps: { db: Database; metrics: Metrics }) {
  const { policy, tenancy, audit } = modules;
  policy.registry.attach(app);
  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.httpRequestDuration.observe(
      { route: request.routeOptions.url ?? 'unmatched', method: request.method, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  registerAuthorizationHook(app, {
    authenticate: tenancy.authenticate,
    engine: policy.engine,
    audit,
    withTenantTx: (tenantId, fn) => deps.db.withTenant(tenantId, fn),
  });
  await registerDocs(app);
  registerOpsRoutes(app, deps);
  for (const module of modules.all) module.routes?.(app);
}

/**
 * The whole service in one process: every module, the HTTP API over them, and the job queue started (enqueueing
 * needs it; workers and the scheduler start only where main.ts says so).
 */
export async function buildApp(deps: AppDeps) {
  const metrics = createMetrics({ collectDefaults: deps.logger !== false });
  const app = createHttpServer({
    logLevel: deps.config.SUMMIT_LOG_LEVEL,
    bodyLimit: deps.config.SUMMIT_BODY_LIMIT,
    logger: deps.logger,
    logStream: deps.logStream,
    requestTimeoutMs: deps.config.SUMMIT_REQUEST_TIMEOUT_MS ?? 120_000,
  });
  const modules = await createModules({ ...deps, log: app.log, metrics });
  await mountHttpApi(app, modules, { db: deps.db, metrics });
  await modules.jobs.start();
  app.addHook('onClose', async () => {
    await modules.jobsModule.scheduler.stop();
    await modules.jobs.stop();
    await modules.outbound.close();
  });
  await app.ready();
  return { app, modules, metrics };
}

export type SummitApp = Awaited<ReturnType<typeof buildApp>>;
