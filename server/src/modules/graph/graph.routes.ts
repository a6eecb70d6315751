import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { pageOf } from '../../platform/pagination.js';
import { userCtxOf } from '../../platform/request-context.js';
import { idParams } from '../tenancy/tenancy.schemas.js';
import type { ExportService } from './export.service.js';
import type { GraphService } from './graph.service.js';
import {
  createEntityBody,
  createRelationshipBody,
  createSightingBody,
  edgeSchema,
  entityDetailSchema,
  entitySchema,
  exportQuery,
  listEntitiesQuery,
  listRelationshipsQuery,
  neighborsQuery,
  neighbourhoodSchema,
  pathsQuery,
  relationshipSchema,
  sightingSchema,
  updateEntityBody,
} from './graph.schemas.js';


export function registerGraphRoutes(app: FastifyInstance, deps: { graph: GraphService; exporter: ExportService }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { graph, exporter } = deps;
  const tags = ['graph'];

  r.post('/api/v1/entities', {
    config: { action: 'entity:create' },
    schema: { operationId: 'createEntity', tags, summary: 'Add an entity (validated and keyed like ingested STIX).', body: createEntityBody, response: { 201: entitySchema } },
    handler: async (request, reply) => reply.status(201).send(await graph.createEntity(userCtxOf(request), request.body as never)),
  });
  r.get('/api/v1/entities', {
    config: { action: 'entity:list' },
    schema: { operationId: 'listEntities', tags, summary: 'Search entities.', querystring: listEntitiesQuery, response: { 200: pageOf(entitySchema) } },
    handler: async (request) => {
      const { since, ...query } = request.query;
      return graph.listEntities(userCtxOf(request), { ...query, since: since ? new Date(since) : undefined } as never);
    },
  });
  r.get('/api/v1/entities/:id', {
    config: { action: 'entity:read' },
    schema: { operationId: 'getEntity', tags, summary: 'An entity with its provenance and latest sightings.', params: idParams, response: { 200: entityDetailSchema } },
    handler: async (request) => graph.getEntity(userCtxOf(request), request.params.id),
  });
  r.patch('/api/v1/entities/:id', {
    config: { action: 'entity:update' },
    schema: { operationId: 'updateEntity', tags, summary: 'Change an entity\'s name, properties, confidence, TLP or seen times.', params: idParams, body: updateEntityBody, response: { 200: entitySchema } },
    handler: async (request) => graph.updateEntity(userCtxOf(request), request.params.id, request.body as never),
  });
  r.delete('/api/v1/entities/:id', {
    config: { action: 'entity:delete' },
    schema: { operationId: 'deleteEntity', tags, summary: 'Delete an entity with its relationships and sightings.', params: idParams, response: { 204: z.null() } },
    handler: async (request, reply) => {
      await graph.deleteEntity(userCtxOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  });
  r.get('/api/v1/entities/:id/relationships', {
    config: { action: 'relationship:list' },
    schema: { operationId: 'listEntityRelationships', tags, summary: 'Relationships of an entity.', params: idParams, querystring: listRelationshipsQuery, response: { 200: pageOf(relationshipSchema) } },
    handler: async (request) => graph.listRelationships(userCtxOf(request), request.params.id, request.query as never),
  });
  r.get('/api/v1/entities/:id/neighbors', {
    config: { action: 'graph:neighbors' },
    schema: {
      operationId: 'getEntityNeighbors',
      tags,
      summary: 'The neighbourhood of an entity, up to 3 hops, bounded by limit (truncated says when it was cut).',
      params: idParams,
      querystring: neighborsQuery,
      response: { 200: neighbourhoodSchema },
    },
    // The service hands back the response already written as JSON by the database (up to 1,000 nodes); a string
    // with a JSON content type goes out as it is, neither parsed nor re-validated. neighbourhoodSchema still
    // documents it, and test/graph-read.test.ts holds the database's JSON to that schema (hence the cast: the type
    // provider expects the parsed object).
    handler: async (request, reply) => {
      const body = await graph.neighbors(userCtxOf(request), request.params.id, request.query);
      return reply.type('application/json; charset=utf-8').send(body as never);
    },
  });
  r.get('/api/v1/paths', {
    config: { action: 'graph:paths' },
    schema: {
      operationId: 'findPaths',
      tags,
      summary: 'Shortest paths between two entities.',
      querystring: pathsQuery,
      response: { 200: z.object({ paths: z.array(z.object({ nodeIds: z.array(z.uuid()), edgeIds: z.array(z.uuid()) })), nodes: z.array(entitySchema), truncated: z.boolean() }) },
    },
    handler: async (request) => graph.paths(userCtxOf(request), request.query),
  });
  r.post('/api/v1/relationships', {
    config: { action: 'relationship:create' },
    schema: { operationId: 'createRelationship', tags, summary: 'Relate two entities (merges into an identical relationship).', body: createRelationshipBody, response: { 201: relationshipSchema.extend({ created: z.boolean() }) } },
    handler: async (request, reply) => reply.status(201).send(await graph.createRelationship(userCtxOf(request), request.body)),
  });
  r.post('/api/v1/sightings', {
    config: { action: 'sighting:create' },
    schema: { operationId: 'createSighting', tags, summary: 'Record that an entity was seen.', body: createSightingBody, response: { 201: sightingSchema } },
    handler: async (request, reply) => reply.status(201).send(await graph.createSighting(userCtxOf(request), request.body)),
  });

  r.get('/api/v1/export/stix', {
    config: { action: 'export:stix' },
    schema: {
      operationId: 'exportStix',
      tags: ['export'],
      summary: 'A STIX 2.1 bundle of the graph; further pages via the x-summit-next-cursor header.',
      querystring: exportQuery,
    },
    handler: async (request, reply) => {
      const { since, ...query } = request.query;
      const result = await exporter.exportStix(userCtxOf(request), { ...query, since: since ? new Date(since) : undefined } as never);
      if (result.nextCursor) reply.header('x-summit-next-cursor', result.nextCursor);
      return reply.type('application/stix+json;version=2.1').send(JSON.stringify(result.bundle));
    },
  });
}
