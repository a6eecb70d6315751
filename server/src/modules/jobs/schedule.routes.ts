import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { pageOf } from '../../platform/pagination.js';
import { userCtxOf } from '../../platform/request-context.js';
import { idParams } from '../tenancy/tenancy.schemas.js';
import {
  createScheduleBody,
  listSchedulesQuery,
  previewQuery,
  scheduleDetailSchema,
  scheduleSchema,
  updateScheduleBody,
} from './schedule.schemas.js';
import type { ScheduleService } from './schedule.service.js';

export function registerScheduleRoutes(app: FastifyInstance, deps: { schedules: ScheduleService }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { schedules } = deps;
  r.get('/api/v1/schedules/preview', {
    config: { action: 'schedule:preview' },
    schema: {
      operationId: 'previewSchedule',
      tags: ['schedules'],
      summary: 'The next fire times of a cron expression in a time zone, or what is wrong with it.',
      querystring: previewQuery,
      response: { 200: z.object({ items: z.array(z.iso.datetime()) }) },
    },
    handler: async (request) => schedules.preview(request.query),
  });
  r.get('/api/v1/schedules/job-types', {
    config: { action: 'schedule:list' },
    schema: {
      operationId: 'listSchedulableJobTypes',
      tags: ['schedules'],
      summary: 'Job types a schedule may run, with their payload JSON Schema.',
      response: { 200: z.object({ items: z.array(z.object({ name: z.string(), payload: z.unknown() })) }) },
    },
    handler: async () => schedules.jobTypes(),
  });
  r.post('/api/v1/schedules', {
    config: { action: 'schedule:create' },
    schema: { operationId: 'createSchedule', tags: ['schedules'], summary: 'Create a schedule.', body: createScheduleBody, response: { 201: scheduleDetailSchema } },
    handler: async (request, reply) => reply.status(201).send(await schedules.create(userCtxOf(request), request.body)),
  });
  r.get('/api/v1/schedules', {
    config: { action: 'schedule:list' },
    schema: { operationId: 'listSchedules', tags: ['schedules'], summary: 'List the tenant\'s schedules.', querystring: listSchedulesQuery, response: { 200: pageOf(scheduleSchema) } },
    handler: async (request) => schedules.list(userCtxOf(request), request.query),
  });
  r.get('/api/v1/schedules/:id', {
    config: { action: 'schedule:read' },
    schema: { operationId: 'getSchedule', tags: ['schedules'], summary: 'A schedule with its next five fire times.', params: idParams, response: { 200: scheduleDetailSchema } },
    handler: async (request) => schedules.get(userCtxOf(request), request.params.id),
  });
  r.patch('/api/v1/schedules/:id', {
    config: { action: 'schedule:update' },
    schema: { operationId: 'updateSchedule', tags: ['schedules'], summary: 'Change a schedule.', params: idParams, body: updateScheduleBody, response: { 200: scheduleDetailSchema } },
    handler: async (request) => schedules.update(userCtxOf(request), request.params.id, request.body),
  });
  r.delete('/api/v1/schedules/:id', {
    config: { action: 'schedule:delete' },
    schema: { operationId: 'deleteSchedule', tags: ['schedules'], summary: 'Delete a schedule.', params: idParams, response: { 204: z.null() } },
    handler: async (request, reply) => {
      await schedules.remove(userCtxOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  });
}
