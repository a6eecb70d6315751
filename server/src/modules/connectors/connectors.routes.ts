import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { userCtxOf, type UserCtx } from '../../platform/request-context.js';
import type { ConnectorService } from './connector.service.js';
import { connectorDto, createBody, healthDto, idParams, incidentBody, incidentQueued, incidentRequestDto, incidentRequestParams, incidentResult, runDto, testResult, updateBody } from './connector.schemas.js';

export function registerConnectorRoutes(app: FastifyInstance, deps: { connectors: ConnectorService; startSync: (ctx: UserCtx, id: string) => Promise<{ runId: string; alreadyActive: boolean }>; isThrottled: (connectorId: string) => boolean }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { connectors } = deps;
  const tags = ['connectors'];
  r.post('/api/v1/connectors', {
    config: { action: 'connector:create' },
    schema: { operationId: 'createConnector', tags, summary: 'Configure a ServiceNow connector; secrets are sealed and never returned.', body: createBody, response: { 201: connectorDto } },
    handler: async (request, reply) => reply.status(201).send(await connectors.create(userCtxOf(request), request.body)),
  });
  r.get('/api/v1/connectors', {
    config: { action: 'connector:list' },
    schema: { operationId: 'listConnectors', tags, summary: 'The tenant\'s connectors.', response: { 200: z.object({ items: z.array(connectorDto) }) } },
    handler: async (request) => connectors.list(userCtxOf(request)),
  });
  r.get('/api/v1/connectors/:id', {
    config: { action: 'connector:read' },
    schema: { operationId: 'getConnector', tags, summary: 'One connector (without secrets).', params: idParams, response: { 200: connectorDto } },
    handler: async (request) => connectors.get(userCtxOf(request), request.params.id),
  });
  r.patch('/api/v1/connectors/:id', {
    config: { action: 'connector:update' },
    schema: { operationId: 'updateConnector', tags, summary: 'Change a connector; leave config.auth out to keep the stored credentials.', params: idParams, body: updateBody, response: { 200: connectorDto } },
    handler: async (request) => connectors.update(userCtxOf(request), request.params.id, request.body),
  });
  r.delete('/api/v1/connectors/:id', {
    config: { action: 'connector:delete' },
    schema: { operationId: 'deleteConnector', tags, summary: 'Remove a connector, its schedule, runs and cursor (graph data stays).', params: idParams, response: { 204: z.null() } },
    handler: async (request, reply) => {
      await connectors.remove(userCtxOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  });
  r.post('/api/v1/connectors/:id/test', {
    config: { action: 'connector:test' },
    schema: { operationId: 'testConnector', tags, summary: 'Check reachability and credentials with one small read.', params: idParams, response: { 200: testResult } },
    handler: async (request) => connectors.test(userCtxOf(request), request.params.id),
  });
  r.post('/api/v1/connectors/:id/sync', {
    config: { action: 'connector:sync' },
    schema: { operationId: 'syncConnector', tags, summary: 'Start a sync now (a job); follow it in the runs. While a run is queued or running, returns that run (alreadyActive: true) instead of starting another.', params: idParams, response: { 202: z.object({ runId: z.string(), alreadyActive: z.boolean() }) } },
    handler: async (request, reply) => reply.status(202).send(await deps.startSync(userCtxOf(request), request.params.id)),
  });
  r.get('/api/v1/connectors/:id/runs', {
    config: { action: 'connector-run:list' },
    schema: { operationId: 'listConnectorRuns', tags, summary: 'The connector\'s sync runs, newest first.', params: idParams, response: { 200: z.object({ items: z.array(runDto) }) } },
    handler: async (request) => connectors.listRuns(userCtxOf(request), request.params.id),
  });
  r.get('/api/v1/connectors/:id/health', {
    config: { action: 'connector:health' },
    schema: { operationId: 'getConnectorHealth', tags, summary: 'Status, last success, lag, last-hour error rate and P95 latency, throttling, records synced.', params: idParams, response: { 200: healthDto } },
    handler: async (request) => connectors.health(userCtxOf(request), request.params.id, deps.isThrottled(request.params.id)),
  });
  r.post('/api/v1/connectors/:id/incidents', {
    config: { action: 'connector:incident' },
    schema: {
      operationId: 'pushConnectorIncident',
      tags,
      summary: 'Create or update the ServiceNow incident of a finding (idempotent by finding key): 200 when the inline push succeeded, 202 when it failed retryably and the connector.incident job will retry.',
      params: idParams,
      body: incidentBody,
      response: { 200: incidentResult, 202: incidentQueued },
    },
    handler: async (request, reply) => {
      const result = await connectors.pushIncident(userCtxOf(request), request.params.id, request.body);
      if (result.kind === 'queued') return reply.status(202).send({ requestId: result.requestId, jobId: result.jobId, status: 'queued' as const });
      return reply.status(200).send({ requestId: result.requestId, sysId: result.sysId, number: result.number, created: result.created });
    },
  });
  r.get('/api/v1/connectors/:id/incidents/:requestId', {
    config: { action: 'connector:read' },
    schema: { operationId: 'getConnectorIncidentRequest', tags, summary: 'One outbound incident request: queued, pushed (with the incident) or failed (with the error).', params: incidentRequestParams, response: { 200: incidentRequestDto } },
    handler: async (request) => connectors.getIncidentRequest(userCtxOf(request), request.params.id, request.params.requestId),
  });
}
