import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { pageOf, pageQuerySchema } from '../../platform/pagination.js';
import { userCtxOf } from '../../platform/request-context.js';
import { idParams } from '../tenancy/tenancy.schemas.js';
import { ingestQuery, runSchema, statsQuery } from './graph.schemas.js';
import type { IngestService } from './ingest.service.js';

/** A STIX bundle may be large: this route alone accepts bodies up to 64 MB. */
export const INGEST_BODY_LIMIT = 64 * 1024 * 1024;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function registerIngestRoutes(app: FastifyInstance, deps: { ingest: IngestService }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { ingest } = deps;

  r.post('/api/v1/ingest/stix', {
    config: { action: 'ingest:stix' },
    bodyLimit: INGEST_BODY_LIMIT,
    schema: {
      operationId: 'ingestStixBundle',
      tags: ['ingest'],
      summary: 'Ingest a STIX 2.1 bundle: small bundles now, large ones by a job (GET the run to follow it).',
      querystring: ingestQuery,
      body: z.unknown().describe('A STIX 2.1 bundle ({"type": "bundle", "objects": [...]}), up to 64 MB.'),
      response: { 202: runSchema },
    },
    handler: async (request, reply) => reply.status(202).send(await ingest.submitStix(userCtxOf(request), request.body, request.query.source)),
  });
  r.get('/api/v1/ingest/runs', {
    config: { action: 'ingest:read' },
    schema: { operationId: 'listIngestRuns', tags: ['ingest'], summary: 'Ingest runs, newest first.', querystring: pageQuerySchema, response: { 200: pageOf(runSchema) } },
    handler: async (request) => ingest.listRuns(userCtxOf(request), request.query),
  });
  r.get('/api/v1/ingest/runs/:id', {
    config: { action: 'ingest:read' },
    schema: { operationId: 'getIngestRun', tags: ['ingest'], summary: 'An ingest run: status, counts, each rejected object with its reason.', params: idParams, response: { 200: runSchema } },
    handler: async (request) => ingest.getRun(userCtxOf(request), request.params.id),
  });
  r.get('/api/v1/ingest/stats', {
    config: { action: 'ingest:read' },
    schema: {
      operationId: 'getIngestStats',
      tags: ['ingest'],
      summary: 'Objects received, accepted and rejected by runs finished in the window (seed SLO: success rate ≥ 99%).',
      querystring: statsQuery,
      response: { 200: z.object({ window: z.string(), received: z.number().int(), accepted: z.number().int(), rejected: z.number().int(), successRate: z.number().nullable() }) },
    },
    handler: async (request) => {
      const window = request.query.window;
      const ms = Number(window.slice(0, -1)) * UNIT_MS[window.at(-1) as keyof typeof UNIT_MS];
      return ingest.stats(userCtxOf(request), ms, window);
    },
  });
}
