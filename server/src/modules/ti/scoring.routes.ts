import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { pageOf } from '../../platform/pagination.js';
import { userCtxOf } from '../../platform/request-context.js';
import {
  exportQuery, indicatorSchema, indicatorsQuery, ruleBody, ruleParams, rulePatchBody, ruleSchema, scoringBody, scoringSchema,
  suppressionSchema, suppressionsQuery, warninglistBody, warninglistParams, warninglistSchema,
} from './scoring.schemas.js';
import type { ScoringService } from './scoring.service.js';
import type { SuppressionService } from './suppression.service.js';

/** Scored indicators, the scoring settings, suppression rules, warninglists and the suppression ledger. */
export function registerScoringRoutes(app: FastifyInstance, deps: { scoring: ScoringService; suppression: SuppressionService }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { scoring, suppression } = deps;
  const tags = ['threat-intel'];

  r.get('/api/v1/indicators', {
    config: { action: 'indicator:list' },
    schema: {
      operationId: 'listIndicators', tags, querystring: indicatorsQuery, response: { 200: pageOf(indicatorSchema) },
      summary: 'Scored indicators and observables, best first, with each score\'s breakdown; suppressed and revoked ones only when asked.',
    },
    handler: async (request) => scoring.list(userCtxOf(request), request.query),
  });
  r.get('/api/v1/indicators/export', {
    config: { action: 'indicator:export' },
    schema: {
      operationId: 'exportIndicators', tags, querystring: exportQuery, produces: ['text/csv', 'application/stix+json'],
      summary: 'The same selection as CSV, or as a STIX 2.1 bundle whose confidence is the score.',
    },
    handler: async (request, reply) => {
      const rendered = await scoring.exportIndicators(userCtxOf(request), request.query);
      return reply
        .header('content-disposition', `attachment; filename="${rendered.filename}"`)
        .header('x-summit-count', String(rendered.count))
        .type(rendered.contentType)
        .send(rendered.content);
    },
  });
  r.get('/api/v1/ti/scoring', {
    config: { action: 'ti-scoring:read' },
    schema: { operationId: 'getTiScoring', tags, summary: 'The scoring model, thresholds, source ratings and suppression switch.', response: { 200: scoringSchema } },
    handler: async (request) => scoring.getScoring(userCtxOf(request)),
  });
  r.put('/api/v1/ti/scoring', {
    config: { action: 'ti-scoring:update' },
    schema: {
      operationId: 'updateTiScoring', tags, body: scoringBody, response: { 200: scoringSchema },
      summary: 'Change model parameters (fields given replace the current ones), thresholds, source ratings (the list replaces all) or the suppression switch; rescores the tenant.',
    },
    handler: async (request) => scoring.updateScoring(userCtxOf(request), request.body),
  });

  r.get('/api/v1/ti/suppression-rules', {
    config: { action: 'suppression-rule:list' },
    schema: { operationId: 'listSuppressionRules', tags, summary: 'The tenant\'s suppression rules with what each currently matches.', response: { 200: z.object({ items: z.array(ruleSchema) }) } },
    handler: async (request) => suppression.listRules(userCtxOf(request)),
  });
  r.post('/api/v1/ti/suppression-rules', {
    config: { action: 'suppression-rule:create' },
    schema: { operationId: 'createSuppressionRule', tags, summary: 'Add a rule; it applies at once.', body: ruleBody, response: { 201: ruleSchema } },
    handler: async (request, reply) => reply.status(201).send(await suppression.createRule(userCtxOf(request), request.body)),
  });
  r.get('/api/v1/ti/suppression-rules/:id', {
    config: { action: 'suppression-rule:list' },
    schema: { operationId: 'getSuppressionRule', tags, summary: 'One suppression rule.', params: ruleParams, response: { 200: ruleSchema } },
    handler: async (request) => suppression.getRule(userCtxOf(request), request.params.id),
  });
  r.patch('/api/v1/ti/suppression-rules/:id', {
    config: { action: 'suppression-rule:update' },
    schema: { operationId: 'updateSuppressionRule', tags, summary: 'Change a rule (match replaces the whole condition set); re-evaluated at once.', params: ruleParams, body: rulePatchBody, response: { 200: ruleSchema } },
    handler: async (request) => suppression.updateRule(userCtxOf(request), request.params.id, request.body),
  });
  r.delete('/api/v1/ti/suppression-rules/:id', {
    config: { action: 'suppression-rule:delete' },
    schema: { operationId: 'deleteSuppressionRule', tags, summary: 'Remove a rule; what it alone suppressed reappears.', params: ruleParams, response: { 204: z.null() } },
    handler: async (request, reply) => {
      await suppression.deleteRule(userCtxOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  });

  r.get('/api/v1/ti/warninglists', {
    config: { action: 'warninglist:list' },
    schema: { operationId: 'listWarninglists', tags, summary: 'The built-in warninglists and whether this tenant applies each.', response: { 200: z.object({ items: z.array(warninglistSchema) }) } },
    handler: async (request) => suppression.listWarninglists(userCtxOf(request)),
  });
  r.put('/api/v1/ti/warninglists/:name', {
    config: { action: 'warninglist:update' },
    schema: { operationId: 'updateWarninglist', tags, summary: 'Enable or disable a warninglist for this tenant.', params: warninglistParams, body: warninglistBody, response: { 200: warninglistSchema } },
    handler: async (request) => suppression.setWarninglist(userCtxOf(request), request.params.name, request.body.enabled),
  });

  r.get('/api/v1/ti/suppressions', {
    config: { action: 'suppression:list' },
    schema: { operationId: 'listSuppressions', tags, summary: 'The suppression ledger, newest first: what was suppressed or flagged, by which rule or list, when, and when it cleared.', querystring: suppressionsQuery, response: { 200: pageOf(suppressionSchema) } },
    handler: async (request) => suppression.listSuppressions(userCtxOf(request), request.query),
  });
}
