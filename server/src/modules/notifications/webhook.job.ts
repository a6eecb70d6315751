import { z } from 'zod';
import type { Clock } from '../../platform/clock.js';
import type { Database } from '../../platform/db.js';
import { PermanentJobError, type JobContext, type JobType } from '../../platform/jobs/job-types.js';
import { ALERT_KINDS, SEVERITIES, WEBHOOK_QUEUE } from './alert-grouping.js';
import { secretContext } from './channel.service.js';
import { channelRepo } from './notifications.repo.js';
import { SecretUnreadableError, type SecretBox } from '../../platform/secret-box.js';
import { createOutboundHttp, outboundRefusalOf } from '../../platform/outbound-fetch.js';
import { checkOutboundUrl, type OutboundPolicy } from '../../platform/outbound-url.js';
import {
  classifyDeliveryStatus,
  DELIVERY_HEADER,
  EVENT_HEADER,
  signWebhookBody,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from './webhook-signature.js';

export const webhookPayload = z.object({
  channelId: z.uuid(),
  notificationId: z.uuid(),
  event: z.enum(['alert.opened', 'alert.escalated']),
  alert: z.object({
    id: z.uuid(),
    kind: z.enum(ALERT_KINDS),
    groupKey: z.string(),
    severity: z.enum(SEVERITIES),
    title: z.string(),
    detail: z.string(),
    data: z.record(z.string(), z.unknown()),
    occurrences: z.number().int().min(1),
    firstSeenAt: z.string(),
    lastSeenAt: z.string(),
  }),
});
export type WebhookPayload = z.output<typeof webhookPayload>;

/** A failure worth another attempt (the endpoint is down, slow or busy). Its message never quotes the URL. */
export class WebhookDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookDeliveryError';
  }
}

export type WebhookJobDeps = {
  db: Database;
  clock: Clock;
  secrets: Pick<SecretBox, 'open'>;
  urlPolicy: OutboundPolicy;
  /** The outbound fetch (platform/outbound-fetch.ts), which refuses disallowed addresses at connect time. */
  fetch?: typeof fetch;
  timeoutMs?: number;
};

function networkProblem(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `the webhook endpoint did not answer within ${timeoutMs / 1000} s`;
  }
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  return `could not reach the webhook endpoint: ${cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error))}`;
}

async function deliver(deps: WebhookJobDeps, doFetch: typeof fetch, ctx: JobContext, payload: WebhookPayload): Promise<void> {
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const channel = await deps.db.withTenant(ctx.tenantId, (tx) => channelRepo.get(tx, ctx.tenantId, payload.channelId));
  if (!channel || channel.kind !== 'webhook' || !channel.url) {
    // Deleted since the alert: nobody wants this delivery any more, and a dead letter for it would be noise.
    ctx.log.info({ channelId: payload.channelId, jobId: ctx.jobId }, 'webhook channel is gone; delivery dropped');
    return;
  }
  // Checked again at delivery: the channel may predate the policy; the address is checked as the connection opens.
  const check = checkOutboundUrl(channel.url, deps.urlPolicy);
  if (!check.ok) throw new PermanentJobError(`the channel's webhook url is not allowed here: it ${check.problem}`);
  let secret: string | null = null;
  try {
    secret = channel.secretSealed === null ? null : deps.secrets.open(channel.secretSealed, secretContext(ctx.tenantId, channel.id));
  } catch (error) {
    if (error instanceof SecretUnreadableError) throw new PermanentJobError(`${error.message}; recreate the channel`, { cause: error });
    throw error;
  }

  const sentAt = deps.clock.now();
  // The delivery id is the job id, stable across retries: receivers deduplicate on it.
  const body = Buffer.from(
    JSON.stringify({ id: ctx.jobId, type: payload.event, tenantId: ctx.tenantId, sentAt: sentAt.toISOString(), alert: payload.alert }),
    'utf8',
  );
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'Summit-Webhooks/1',
    [DELIVERY_HEADER]: ctx.jobId,
    [EVENT_HEADER]: payload.event,
    [TIMESTAMP_HEADER]: String(Math.floor(sentAt.getTime() / 1000)),
  };
  if (secret !== null) headers[SIGNATURE_HEADER] = signWebhookBody(secret, body);

  let status: number;
  try {
    const res = await doFetch(check.url, {
      method: 'POST',
      headers,
      body,
      // Never follow: a redirect would carry the signed body to a host nobody configured.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = res.status;
    // The response body is the endpoint's business; drop it so the connection is freed and nothing of it is logged.
    await res.body?.cancel().catch(() => undefined);
  } catch (error) {
    const refused = outboundRefusalOf(error);
    if (refused) throw new PermanentJobError(`the webhook host ${refused.message}`);
    throw new WebhookDeliveryError(networkProblem(error, timeoutMs));
  }
  const outcome = classifyDeliveryStatus(status);
  if (outcome === 'retry') throw new WebhookDeliveryError(`the webhook endpoint answered HTTP ${status}`);
  if (outcome === 'permanent') throw new PermanentJobError(`the webhook endpoint refused the delivery with HTTP ${status}`);
  ctx.log.info({ channelId: channel.id, jobId: ctx.jobId, attempt: ctx.attempt, status }, 'webhook delivered');
}

/**
 * POSTs one alert to one webhook channel. At least once: a delivery whose answer is lost is sent again, with the
 * same X-Summit-Delivery id. About 70 minutes of retries (10 attempts, 10 s doubling to 30 min) ride out an
 * endpoint's deploy or short outage; after that the delivery is a dead letter, and the alert is still in the inbox.
 */
export function createWebhookJob(deps: WebhookJobDeps): JobType<typeof webhookPayload> {
  const doFetch = deps.fetch ?? createOutboundHttp({ policy: deps.urlPolicy }).fetch;
  return {
    name: WEBHOOK_QUEUE,
    payload: webhookPayload,
    retry: { maxAttempts: 10, baseDelayMs: 10_000, maxDelayMs: 30 * 60_000 },
    timeoutSeconds: Math.ceil((deps.timeoutMs ?? 10_000) / 1000) + 20,
    concurrency: 8,
    handle: (ctx, payload) => deliver(deps, doFetch, ctx, payload),
  };
}
