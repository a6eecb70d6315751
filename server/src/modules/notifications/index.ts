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

export { registerNotificationRoutes } from './notifications.routes.js';
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
  return {
    channels: createChannelService({ db: deps.db, audit: deps.audit, secrets, urlPolicy }),
    inbox: createInboxService({ db: deps.db, clock: deps.clock, audit: deps.audit }),
    raise: alerts.raise,
    webhookJob: createWebhookJob({ db: deps.db, clock: deps.clock, secrets, urlPolicy, fetch: deps.fetch }),
  };
}

export type NotificationsModule = ReturnType<typeof createNotificationsModule>;

/** Registers the module's job types; call before the queue starts. */
export function registerNotificationJobs(queue: Pick<JobQueue, 'register'>, notifications: Pick<NotificationsModule, 'webhookJob'>): void {
  queue.register(notifications.webhookJob);
}
