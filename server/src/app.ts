import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { Clock } from './platform/clock.js';
import type { Config } from './platform/config.js';
import { deriveSigningKey } from './platform/crypto.js';
import type { Database } from './platform/db.js';
import { createHttpServer } from './platform/http.js';
import { createMetrics } from './platform/metrics.js';
import { registerOpsRoutes } from './platform/ops.routes.js';
import { createAuditService, registerAuditRoutes } from './modules/audit/index.js';
import {
  createPolicyModule,
  registerAuthorizationHook,
  registerPolicyRoutes,
  type PolicyBundle,
} from './modules/policy/index.js';
import { createTenancyModule, registerTenancyRoutes } from './modules/tenancy/index.js';

export type AppDeps = {
  config: Pick<Config, 'SUMMIT_LOG_LEVEL' | 'SUMMIT_BODY_LIMIT'>;
  db: Database;
  clock: Clock;
  secret: string;
  operatorToken: string;
  /** false silences request logs (tests). */
  logger?: boolean;
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
  const app = createHttpServer({ logLevel: deps.config.SUMMIT_LOG_LEVEL, bodyLimit: deps.config.SUMMIT_BODY_LIMIT, logger: deps.logger });

  const policy = await createPolicyModule({ log: app.log, histogram: metrics.policyDecisionDuration, bundle: deps.policyBundle });
  policy.registry.attach(app);
  const audit = createAuditService({ db, clock, signingKey: deriveSigningKey(deps.secret, 'audit-checkpoint') });
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

  await app.ready();
  return { app, modules: { policy, audit, tenancy }, metrics };
}

export type SummitApp = Awaited<ReturnType<typeof buildApp>>;
