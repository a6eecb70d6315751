import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { userCtxOf } from '../../../platform/request-context.js';
import { createProviderBody, providerParams, providerSchema, updateProviderBody } from './provider.schemas.js';
import type { ProviderService } from './provider.service.js';

// Configuring a provider decides what the tenant spends, so it takes the budget actions: members list, admins change.
export function registerProviderRoutes(app: FastifyInstance, deps: { providers: ProviderService }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { providers } = deps;
  const tags = ['threat intel'];
  r.get('/api/v1/ti/providers', {
    config: { action: 'ti-budget:list' },
    schema: { operationId: 'listTiProviders', tags, summary: 'Enrichment providers: the built-in local one and those the tenant configured.', response: { 200: z.object({ items: z.array(providerSchema) }) } },
    handler: async (request) => providers.list(userCtxOf(request)),
  });
  r.post('/api/v1/ti/providers', {
    config: { action: 'ti-budget:update' },
    schema: { operationId: 'createTiProvider', tags, summary: 'Configure an HTTP enrichment provider (base URL, credential, cost per call, rate limit).', body: createProviderBody, response: { 201: providerSchema } },
    handler: async (request, reply) => reply.status(201).send(await providers.create(userCtxOf(request), request.body)),
  });
  r.patch('/api/v1/ti/providers/:provider', {
    config: { action: 'ti-budget:update' },
    schema: { operationId: 'updateTiProvider', tags, summary: 'Change an HTTP enrichment provider.', params: providerParams, body: updateProviderBody, response: { 200: providerSchema } },
    handler: async (request) => providers.update(userCtxOf(request), request.params.provider, request.body),
  });
}
