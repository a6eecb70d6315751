import { z } from 'zod';
import { pageQuerySchema } from '../../platform/pagination.js';
import { ALERT_KINDS, SEVERITIES } from './alert-grouping.js';

export const idParams = z.object({ id: z.uuid().describe('Resource id (UUID).') });

export const CHANNEL_KINDS = ['webhook', 'inbox'] as const;

/**
 * The shape rules a channel must follow are checked here, so a bad request names its field (`body.url`); whether a
 * URL is allowed where the server runs (https, no private addresses in prod) is the service's call.
 */
export const createChannelBody = z
  .object({
    kind: z.enum(CHANNEL_KINDS).describe('webhook: signed JSON POSTs to `url`. inbox: the in-app notification list.'),
    name: z.string().trim().min(1).max(100).describe('Unique within the tenant, case-insensitively.'),
    url: z.string().trim().min(1).max(2048).optional().describe('Webhook endpoint (http or https; https in prod). Webhooks only.'),
    secret: z
      .string()
      .min(16, 'use at least 16 characters')
      .max(256)
      .optional()
      .describe('Shared secret for X-Summit-Signature (HMAC-SHA256 of the body). Write-only: never returned. Webhooks only.'),
  })
  .superRefine((body, ctx) => {
    if (body.kind === 'webhook' && body.url === undefined) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'a webhook channel needs a url' });
    }
    if (body.kind === 'inbox') {
      for (const field of ['url', 'secret'] as const) {
        if (body[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: `an inbox channel takes no ${field}` });
      }
    }
  });
export type CreateChannelInput = z.output<typeof createChannelBody>;

export const channelSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  kind: z.enum(CHANNEL_KINDS),
  url: z.string().nullable(),
  hasSecret: z.boolean().describe('Whether deliveries are signed; the secret itself is never returned.'),
  createdBy: z.string(),
  createdAt: z.iso.datetime(),
});

export const notificationSchema = z.object({
  id: z.uuid(),
  event: z.enum(['alert.opened', 'alert.escalated']).describe('Why this notification was sent.'),
  severity: z.enum(SEVERITIES).describe('The alert\'s severity when it notified.'),
  title: z.string(),
  detail: z.string(),
  createdAt: z.iso.datetime(),
  read: z.boolean(),
  readAt: z.iso.datetime().nullable(),
  alert: z.object({
    id: z.uuid(),
    kind: z.enum(ALERT_KINDS),
    groupKey: z.string().describe('The cause: repeats with the same key within the grouping window are one alert.'),
    occurrences: z.number().int().describe('How many times the cause was raised while this alert was open.'),
    firstSeenAt: z.iso.datetime(),
    lastSeenAt: z.iso.datetime(),
    open: z.boolean(),
    data: z.record(z.string(), z.unknown()),
  }),
});

export const listNotificationsQuery = pageQuerySchema.extend({
  unread: z.enum(['true', 'false']).transform((v) => v === 'true').optional().describe('true: only unread notifications.'),
});

export const updateNotificationBody = z.object({
  read: z.boolean().describe('true marks the notification read for the tenant; false marks it unread again.'),
});

export const readAllResultSchema = z.object({ updated: z.number().int().describe('Notifications marked read.') });

/** What other modules pass to raise(); validated there, since callers are code, not HTTP clients. */
export const raiseAlertInput = z.object({
  kind: z.enum(ALERT_KINDS),
  groupKey: z.string().min(1).max(200),
  severity: z.enum(SEVERITIES),
  title: z.string().min(1).max(200),
  detail: z.string().max(4000),
  data: z.record(z.string(), z.unknown()).optional(),
});
export type RaiseAlertInput = z.input<typeof raiseAlertInput>;
