import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { pageOf, pageQuerySchema } from '../../platform/pagination.js';
import { userCtxOf } from '../../platform/request-context.js';
import type { ChannelService } from './channel.service.js';
import type { InboxService } from './inbox.service.js';
import {
  channelSchema,
  createChannelBody,
  idParams,
  listNotificationsQuery,
  notificationSchema,
  readAllResultSchema,
  updateNotificationBody,
} from './notifications.schemas.js';

export function registerNotificationRoutes(app: FastifyInstance, deps: { channels: ChannelService; inbox: InboxService }) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post('/api/v1/notification-channels', {
    config: { action: 'channel:create' },
    schema: {
      operationId: 'createNotificationChannel',
      tags: ['notifications'],
      summary: 'Add a place alerts are sent: a signed webhook or the in-app inbox.',
      body: createChannelBody,
      response: { 201: channelSchema },
    },
    handler: async (request, reply) => reply.status(201).send(await deps.channels.create(userCtxOf(request), request.body)),
  });
  r.get('/api/v1/notification-channels', {
    config: { action: 'channel:list' },
    schema: {
      operationId: 'listNotificationChannels',
      tags: ['notifications'],
      summary: 'List the tenant\'s notification channels (never their secrets).',
      querystring: pageQuerySchema,
      response: { 200: pageOf(channelSchema) },
    },
    handler: async (request) => deps.channels.list(userCtxOf(request), request.query),
  });
  r.delete('/api/v1/notification-channels/:id', {
    config: { action: 'channel:delete' },
    schema: {
      operationId: 'deleteNotificationChannel',
      tags: ['notifications'],
      summary: 'Delete a channel; deliveries still queued for it are dropped.',
      params: idParams,
      response: { 204: z.null() },
    },
    handler: async (request, reply) => {
      await deps.channels.remove(userCtxOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  });

  r.get('/api/v1/notifications', {
    config: { action: 'notification:list' },
    schema: {
      operationId: 'listNotifications',
      tags: ['notifications'],
      summary: 'The tenant\'s alert inbox, newest first.',
      querystring: listNotificationsQuery,
      response: { 200: pageOf(notificationSchema) },
    },
    handler: async (request) => deps.inbox.list(userCtxOf(request), request.query),
  });
  r.patch('/api/v1/notifications/:id', {
    config: { action: 'notification:update' },
    schema: {
      operationId: 'updateNotification',
      tags: ['notifications'],
      summary: 'Mark a notification read or unread.',
      params: idParams,
      body: updateNotificationBody,
      response: { 200: notificationSchema },
    },
    handler: async (request) => deps.inbox.update(userCtxOf(request), request.params.id, request.body),
  });
  r.post('/api/v1/notifications/read-all', {
    config: { action: 'notification:update' },
    schema: {
      operationId: 'markAllNotificationsRead',
      tags: ['notifications'],
      summary: 'Mark every unread notification of the tenant read.',
      response: { 200: readAllResultSchema },
    },
    handler: async (request) => deps.inbox.markAllRead(userCtxOf(request)),
  });
}
