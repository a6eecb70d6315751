import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { pageOf, pageQuerySchema } from '../../platform/pagination.js';
import { userCtxOf } from '../../platform/request-context.js';
import { idParams } from '../tenancy/tenancy.schemas.js';
import { MAX_BULK_REPLAY, type DlqService } from './dlq.service.js';

const errorSchema = z.object({ attempt: z.number().int(), class: z.string(), message: z.string(), at: z.string() });
const summarySchema = z.object({
  id: z.uuid(),
  queue: z.string(),
  jobId: z.uuid(),
  attempts: z.number().int(),
  status: z.enum(['dead', 'replayed', 'discarded']),
  replayCount: z.number().int(),
  deadAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  lastError: errorSchema.nullable(),
});
const detailSchema = summarySchema.extend({ payload: z.unknown(), errors: z.array(errorSchema), idempotencyKey: z.string() });

export function registerDlqRoutes(app: FastifyInstance, deps: { dlq: DlqService }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { dlq } = deps;
  r.get('/api/v1/dlq', {
    config: { action: 'dlq:list' },
    schema: {
      operationId: 'listDeadLetters',
      tags: ['dlq'],
      summary: 'Jobs whose retries are spent, newest last.',
      querystring: pageQuerySchema.extend({
        queue: z.string().max(100).optional(),
        status: z.enum(['dead', 'replayed', 'discarded']).optional(),
      }),
      response: { 200: pageOf(summarySchema) },
    },
    handler: async (request) => dlq.list(userCtxOf(request), request.query),
  });
  r.get('/api/v1/dlq/:id', {
    config: { action: 'dlq:read' },
    schema: { operationId: 'getDeadLetter', tags: ['dlq'], summary: 'A dead letter with its payload and every error.', params: idParams, response: { 200: detailSchema } },
    handler: async (request) => dlq.get(userCtxOf(request), request.params.id),
  });
  r.post('/api/v1/dlq/:id/replay', {
    config: { action: 'dlq:replay' },
    schema: { operationId: 'replayDeadLetter', tags: ['dlq'], summary: 'Run a dead letter again (idempotently).', params: idParams, response: { 202: summarySchema } },
    handler: async (request, reply) => reply.status(202).send(await dlq.replay(userCtxOf(request), request.params.id)),
  });
  r.post('/api/v1/dlq/replay', {
    config: { action: 'dlq:replay' },
    schema: {
      operationId: 'replayDeadLetters',
      tags: ['dlq'],
      summary: `Replay the given dead letters of a queue, or all its dead ones (at most ${MAX_BULK_REPLAY}).`,
      body: z.object({ queue: z.string().min(1).max(100), ids: z.array(z.uuid()).min(1).max(MAX_BULK_REPLAY).optional() }),
      response: { 202: z.object({ replayed: z.array(z.uuid()), skipped: z.array(z.object({ id: z.string(), reason: z.string() })) }) },
    },
    handler: async (request, reply) => reply.status(202).send(await dlq.replayMany(userCtxOf(request), request.body)),
  });
  r.delete('/api/v1/dlq/:id', {
    config: { action: 'dlq:discard' },
    schema: {
      operationId: 'discardDeadLetter',
      tags: ['dlq'],
      summary: 'Discard a dead letter for good, saying why.',
      params: idParams,
      body: z.object({ reason: z.string().trim().min(3).max(500).describe('Why it is discarded; kept in the audit log.') }),
      response: { 204: z.null() },
    },
    handler: async (request, reply) => {
      await dlq.discard(userCtxOf(request), request.params.id, request.body.reason);
      return reply.status(204).send(null);
    },
  });
}
