import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { userCtxOf } from '../../platform/request-context.js';
import type { BudgetAdminService } from './budget-admin.service.js';
import {
  budgetSettingsSchema,
  budgetStatusSchema,
  overrideBody,
  overrideResponse,
  updateBudgetBody,
  usageQuery,
  usageResponse,
} from './budget.schemas.js';
import { providerParams } from './providers/provider.schemas.js';

export function registerBudgetRoutes(app: FastifyInstance, deps: { budgets: BudgetAdminService }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { budgets } = deps;
  const tags = ['threat intel'];
  r.get('/api/v1/ti/budgets', {
    config: { action: 'ti-budget:list' },
    schema: { operationId: 'listTiBudgets', tags, summary: 'Each provider\'s monthly budget, usage, overrides and reset time.', response: { 200: z.object({ items: z.array(budgetStatusSchema) }) } },
    handler: async (request) => budgets.list(userCtxOf(request)),
  });
  r.put('/api/v1/ti/budgets/:provider', {
    config: { action: 'ti-budget:update' },
    schema: { operationId: 'updateTiBudget', tags, summary: 'Set a provider\'s monthly caps on calls and cost (integer cents).', params: providerParams, body: updateBudgetBody, response: { 200: budgetStatusSchema } },
    handler: async (request) => budgets.update(userCtxOf(request), request.params.provider, request.body),
  });
  r.post('/api/v1/ti/budgets/:provider/overrides', {
    config: { action: 'ti-budget:override' },
    schema: {
      operationId: 'grantTiBudgetOverride',
      tags,
      summary: 'Grant extra calls or cost for this month, or lift the caps until a time; a reason is required. Wakes waiting enrichment jobs.',
      params: providerParams,
      body: overrideBody,
      response: { 201: overrideResponse },
    },
    handler: async (request, reply) => reply.status(201).send(await budgets.grantOverride(userCtxOf(request), request.params.provider, request.body)),
  });
  r.get('/api/v1/ti/usage', {
    config: { action: 'ti-usage:read' },
    schema: { operationId: 'getTiUsage', tags, summary: 'A month\'s usage per provider and its ledger of calls.', querystring: usageQuery, response: { 200: usageResponse } },
    handler: async (request) => budgets.usage(userCtxOf(request), request.query),
  });
  r.get('/api/v1/ti/budget-settings', {
    config: { action: 'ti-budget:list' },
    schema: { operationId: 'getTiBudgetSettings', tags, summary: 'The time zone budget months are counted in.', response: { 200: budgetSettingsSchema } },
    handler: async (request) => budgets.settings(userCtxOf(request)),
  });
  r.put('/api/v1/ti/budget-settings', {
    config: { action: 'ti-budget:update' },
    schema: { operationId: 'updateTiBudgetSettings', tags, summary: 'Set the time zone budget months are counted in.', body: budgetSettingsSchema, response: { 200: budgetSettingsSchema } },
    handler: async (request) => budgets.updateSettings(userCtxOf(request), request.body),
  });
}
