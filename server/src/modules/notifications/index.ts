import type { Clock } from '../../platform/clock.js';
import { deriveKey } from '../../platform/crypto.js';
import type { Database } from '../../platform/db.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import type { AuditService } from '../audit/index.js';
import { createAlertService } from './alert.service.js';
import { createChannelService } from './channel.service.js';
import { createInboxService } from './inbox.service.js';
import { createSecretBox } from '../../platform/secret-box.js';
import { createWebhookJob } from './webhook.job.js';
import { registerNotificationRoutes } from './notifications.routes.js';
import type { FastifyInstance } from 'fastify';

export { ALERT_GROUPING_WINDOW_MS, WEBHOOK_QUEUE, type AlertKind, type Severity } from './alert-grouping.js';
export type { RaiseResult, RaiseScope } from './alert.service.js';
export type { RaiseAlertInput } from './notifications.schemas.js';
export { signWebhookBody, verifyWebhookSignature } from './webhook-signature.js';

/**
 * Alerts, where they go, and the inbox. Other modules raise alerts through `raise(tx, scope, alert)` inside their
 * own transaction; the webhook delivery job must be registered on the job queue before it starts.
 */
export function createNotificationsModule(deps: {
  db: Database;
  clock: Clock;
  audit: Pick<AuditService, 'record'>;
  jobs: Pick<JobQueue, 'enqueue'>;
  /** SUMMIT_SECRET: channel secrets are sealed under a key derived from it. */
  secret: string;
  /** dev: webhooks may point anywhere (a receiver on localhost); prod: https to public addresses only. */
  allowPrivateNetwork: boolean;
  fetch?: typeof fetch;
}) {
  const secrets = createSecretBox(deriveKey(deps.secret, 'channel-secrets'));
  const urlPolicy = { allowPrivateNetwork: deps.allowPrivateNetwork };
  const alerts = createAlertService({ clock: deps.clock, audit: deps.audit, jobs: deps.jobs });
  const channels = createChannelService({ db: deps.db, audit: deps.audit, secrets, urlPolicy });
  const inbox = createInboxService({ db: deps.db, clock: deps.clock, audit: deps.audit });
  const webhookJob = createWebhookJob({ db: deps.db, clock: deps.clock, secrets, urlPolicy, fetch: deps.fetch });
  return {
    channels,
    inbox,
    raise: alerts.raise,
    webhookJob,
    jobs: [webhookJob],
    routes: (app: FastifyInstance) => registerNotificationRoutes(app, { channels, inbox }),
  };
}

export type NotificationsModule = ReturnType<typeof createNotificationsModule>;

