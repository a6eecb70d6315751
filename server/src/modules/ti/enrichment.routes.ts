import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { userCtxOf } from '../../platform/request-context.js';
import { idParams } from '../tenancy/tenancy.schemas.js';
import { enrichBody, enrichmentJobSchema, enrichResponse } from './enrichment.schemas.js';
import type { EnrichmentService } from './enrichment.service.js';

export function registerEnrichmentRoutes(app: FastifyInstance, deps: { enrichment: EnrichmentService }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { enrichment } = deps;
  r.post('/api/v1/ti/enrich', {
    config: { action: 'ti:enrich' },
    schema: {
      operationId: 'enrichIndicators',
      tags: ['threat intel'],
      summary: 'Look indicators up with a provider, as jobs (202 with their ids); 429 budget_exhausted when the month\'s budget is spent.',
      body: enrichBody,
      response: { 202: enrichResponse },
    },
    handler: async (request, reply) => reply.status(202).send(await enrichment.enrich(userCtxOf(request), request.body)),
  });
  r.get('/api/v1/ti/enrichments/:id', {
    config: { action: 'ti-usage:read' },
    schema: { operationId: 'getEnrichmentJob', tags: ['threat intel'], summary: 'An enrichment job: its state, lookups done, and what it waits for.', params: idParams, response: { 200: enrichmentJobSchema } },
    handler: async (request) => enrichment.job(userCtxOf(request), request.params.id),
  });
}
