import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { pageOf } from '../../platform/pagination.js';
import { userCtxOf } from '../../platform/request-context.js';
import { idParams } from '../tenancy/tenancy.schemas.js';
import type { RecordsService } from './records.service.js';
import {
  createOverrideBody,
  createSchemaBody,
  ingestRecordsBody,
  listSchemasQuery,
  overrideSchema,
  recordsRunSchema,
  schemaDetailSchema,
  schemaSchema,
} from './schema.schemas.js';
import type { SchemaService } from './schema.service.js';

/** Records of a custom feed: up to 5,000 per call, so this route alone accepts bodies up to 16 MB. */
export const RECORDS_BODY_LIMIT = 16 * 1024 * 1024;

export function registerSchemaRoutes(app: FastifyInstance, deps: { schemas: SchemaService; records: RecordsService }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { schemas, records } = deps;
  const tags = ['schemas'];

  r.post('/api/v1/schemas', {
    config: { action: 'schema:create' },
    schema: {
      operationId: 'createSchema',
      tags,
      summary: 'Submit a version of a custom feed schema (JSON Schema + mapping to entities); it starts pending approval.',
      body: createSchemaBody,
      response: { 201: schemaDetailSchema },
    },
    handler: async (request, reply) => reply.status(201).send(await schemas.create(userCtxOf(request), request.body)),
  });
  r.get('/api/v1/schemas', {
    config: { action: 'schema:list' },
    schema: { operationId: 'listSchemas', tags, summary: 'Schema versions, newest first.', querystring: listSchemasQuery, response: { 200: pageOf(schemaSchema) } },
    handler: async (request) => schemas.list(userCtxOf(request), request.query),
  });
  r.get('/api/v1/schemas/:id', {
    config: { action: 'schema:read' },
    schema: {
      operationId: 'getSchema',
      tags,
      summary: 'A schema version with its JSON Schema, mapping, approval and overrides.',
      params: idParams,
      response: { 200: schemaDetailSchema },
    },
    handler: async (request) => schemas.get(userCtxOf(request), request.params.id),
  });
  r.post('/api/v1/schemas/:id/approve', {
    config: { action: 'schema:approve' },
    schema: {
      operationId: 'approveSchema',
      tags,
      summary: 'Approve a schema version (admins; never the admin who submitted it).',
      params: idParams,
      response: { 200: schemaDetailSchema },
    },
    handler: async (request) => schemas.approve(userCtxOf(request), request.params.id),
  });
  r.post('/api/v1/schemas/:id/overrides', {
    config: { action: 'schema:override' },
    schema: {
      operationId: 'createSchemaOverride',
      tags,
      summary: 'Let ingest against an unapproved schema version through in prod until an expiry (admins; not the submitter).',
      params: idParams,
      body: createOverrideBody,
      response: { 201: overrideSchema },
    },
    handler: async (request, reply) => reply.status(201).send(await schemas.grantOverride(userCtxOf(request), request.params.id, request.body)),
  });
  r.post('/api/v1/ingest/records', {
    // Each record is checked on its own (one with a NUL is rejected with a reason, the rest are stored): the edge's
    // character and depth checks leave the records to the handler.
    config: { action: 'ingest:records', itemCheckedBodyFields: ['records'] },
    bodyLimit: RECORDS_BODY_LIMIT,
    schema: {
      operationId: 'ingestRecords',
      tags: ['ingest'],
      summary: 'Ingest records of a custom feed: each validated against its schema and mapped to entities; invalid ones rejected by index.',
      body: ingestRecordsBody,
      response: { 201: recordsRunSchema },
    },
    handler: async (request, reply) => reply.status(201).send(await records.ingestRecords(userCtxOf(request), request.body)),
  });
}
