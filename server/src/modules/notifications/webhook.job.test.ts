import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../platform/clock.js';
import { deriveKey } from '../../platform/crypto.js';
import type { Database, Sql } from '../../platform/db.js';
import { PermanentJobError, type JobContext } from '../../platform/jobs/job-types.js';
import { secretContext } from './channel.service.js';
import type { ChannelRow } from './notifications.repo.js';
import { createSecretBox } from '../../platform/secret-box.js';
import { verifyWebhookSignature } from './webhook-signature.js';
import { createWebhookJob, WebhookDeliveryError, type WebhookPayload } from './webhook.job.js';

const TENANT = '0190a000-0000-7000-8000-000000000001';
const CHANNEL = '0190a000-0000-7000-8000-000000000002';
const box = createSecretBox(deriveKey('unit-test-server-secret-0123456789abcdef', 'channel-secrets'));
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

/** A store that answers the one query the job makes (the channel lookup) with the given row. */
function storeWith(channel: Partial<ChannelRow> | null): Database {
  const row = channel && { id: CHANNEL, tenantId: TENANT, name: 'hook', kind: 'webhook', url: 'http://127.0.0.1:9/hook', secretSealed: null, ...channel };
  const tx = { query: async () => ({ rows: row ? [row] : [], rowCount: row ? 1 : 0 }) } as unknown as Sql;
  return { withTenant: (_tenant: string, fn: (tx: Sql) => Promise<unknown>) => fn(tx) } as unknown as Database;
}

const ctx = { tenantId: TENANT, jobId: '0190a000-0000-7000-8000-0000000000aa', attempt: 1, log: silent } as unknown as JobContext;
const payload: WebhookPayload = {
  channelId: CHANNEL,
  notificationId: '0190a000-0000-7000-8000-000000000003',
  event: 'alert.opened',
  alert: {
    id: '0190a000-0000-7000-8000-000000000004',
    kind: 'dlq.item',
    groupKey: 'g',
    severity: 'warning',
    title: 't',
    detail: 'd',
    data: {},
    occurrences: 1,
    firstSeenAt: '2026-01-01T00:00:00.000Z',
    lastSeenAt: '2026-01-01T00:00:00.000Z',
  },
};

function jobWith(channel: Partial<ChannelRow> | null, fetch: typeof globalThis.fetch, allowPrivateNetwork = true) {
  return createWebhookJob({ db: storeWith(channel), clock: createManualClock(), secrets: box, urlPolicy: { allowPrivateNetwork }, fetch, timeoutMs: 50 });
}
const answering = (status: number) => (async () => new Response(null, { status })) as typeof fetch;

describe('webhook delivery job', () => {
  it('signs the exact bytes it sends with the channel secret', async () => {
    let sent: { body: Buffer; headers: Record<string, string> } | undefined;
    const fetch = (async (_url: URL, init: RequestInit) => {
      sent = { body: init.body as Buffer, headers: init.headers as Record<string, string> };
      return new Response(null, { status: 200 });
    }) as unknown as typeof globalThis.fetch;
    await jobWith({ secretSealed: box.seal('channel-secret-123456', secretContext(TENANT, CHANNEL)) }, fetch).handle(ctx, payload);
    expect(verifyWebhookSignature('channel-secret-123456', sent!.body, sent!.headers['x-summit-signature'])).toBe(true);
    expect(JSON.parse(sent!.body.toString('utf8'))).toMatchObject({ id: ctx.jobId, type: 'alert.opened', tenantId: TENANT });
  });

  it('sends unsigned when the channel has no secret', async () => {
    let headers: Record<string, string> = {};
    const fetch = (async (_url: URL, init: RequestInit) => {
      headers = init.headers as Record<string, string>;
      return new Response(null, { status: 204 });
    }) as unknown as typeof globalThis.fetch;
    await jobWith({}, fetch).handle(ctx, payload);
    expect(headers).not.toHaveProperty('x-summit-signature');
    expect(headers['x-summit-delivery']).toBe(ctx.jobId);
  });

  it('retries a timeout, a network error and a 5xx; gives up at once on a 4xx or a redirect', async () => {
    const hang = ((_url: URL, init: RequestInit) =>
      new Promise((_, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason)))) as unknown as typeof fetch;
    await expect(jobWith({}, hang).handle(ctx, payload)).rejects.toThrow(new WebhookDeliveryError('the webhook endpoint did not answer within 0.05 s'));
    const refused = (async () => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    }) as typeof fetch;
    await expect(jobWith({}, refused).handle(ctx, payload)).rejects.toThrow(/could not reach the webhook endpoint: ECONNREFUSED/);
    await expect(jobWith({}, answering(502)).handle(ctx, payload)).rejects.toBeInstanceOf(WebhookDeliveryError);
    await expect(jobWith({}, answering(429)).handle(ctx, payload)).rejects.toBeInstanceOf(WebhookDeliveryError);
    await expect(jobWith({}, answering(403)).handle(ctx, payload)).rejects.toBeInstanceOf(PermanentJobError);
    await expect(jobWith({}, answering(302)).handle(ctx, payload)).rejects.toBeInstanceOf(PermanentJobError);
  });

  it('drops the delivery when the channel is gone, without calling anyone', async () => {
    let called = false;
    const fetch = (async () => {
      called = true;
      return new Response(null, { status: 200 });
    }) as typeof globalThis.fetch;
    await jobWith(null, fetch).handle(ctx, payload);
    expect(called).toBe(false);
  });

  it('refuses for good a private address outside dev and a secret it cannot decrypt', async () => {
    await expect(jobWith({}, answering(200), false).handle(ctx, payload)).rejects.toThrow(PermanentJobError);
    const sealedElsewhere = box.seal('channel-secret-123456', secretContext(TENANT, '0190a000-0000-7000-8000-0000000000ff'));
    await expect(jobWith({ secretSealed: sealedElsewhere }, answering(200)).handle(ctx, payload)).rejects.toThrow(/recreate the channel/);
  });
});
