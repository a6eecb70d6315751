import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from './db.js';
import { sendProblem } from './http.js';
import { migrationStatus } from './migrations.js';
import type { Metrics } from './metrics.js';

/** Health, readiness and metrics: public, unauthenticated, cheap. */
export function registerOpsRoutes(app: FastifyInstance, deps: { db: Database; metrics: Metrics }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/healthz', {
    config: { public: true },
    schema: { operationId: 'getHealth', tags: ['ops'], summary: 'The process is up.', security: [], response: { 200: z.object({ status: z.literal('ok') }) } },
    handler: async () => ({ status: 'ok' as const }),
  });
  r.get('/readyz', {
    config: { public: true },
    schema: {
      operationId: 'getReadiness',
      tags: ['ops'],
      summary: 'The store answers and every migration is applied.',
      security: [],
      response: { 200: z.object({ status: z.literal('ready'), store: z.enum(['pglite', 'postgres']), migrations: z.number().int() }) },
    },
    handler: async (request, reply) => {
      try {
        await deps.db.ping();
        const status = await migrationStatus(deps.db);
        if (status.pending.length) {
          return sendProblem(request, reply, {
            status: 503,
            code: 'migrations_pending',
            detail: `Migrations ${status.pending.join(', ')} are not applied yet: run \`summit migrate\`.`,
          });
        }
        return { status: 'ready' as const, store: deps.db.kind, migrations: status.applied.length };
      } catch (error) {
        request.log.error({ err: error }, 'readiness check failed');
        return sendProblem(request, reply, { status: 503, code: 'store_unavailable', detail: 'The store does not answer.' });
      }
    },
  });
  r.get('/metrics', {
    config: { public: true },
    schema: { operationId: 'getMetrics', tags: ['ops'], summary: 'Prometheus metrics (text exposition format).', security: [] },
    handler: async (_request, reply) => {
      reply.type(deps.metrics.registry.contentType);
      return deps.metrics.registry.metrics();
    },
  });
}
