import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RaiseAlertInput } from '../src/modules/notifications/index.js';
import { verifyWebhookSignature } from '../src/modules/notifications/index.js';
import { ValidationError } from '../src/platform/errors.js';
import { createTestApp, problemOf, waitFor, type TestApp, type TestTenant } from './harness.js';

/** A webhook receiver on 127.0.0.1 (port 0): records every request and answers from a per-path script of statuses. */
type Received = { path: string; headers: IncomingHttpHeaders; body: string };
const received: Received[] = [];
const scripts = new Map<string, number[]>();
let receiver: Server;
let base: string;

let t: TestApp;
let acme: TestTenant;
let globex: TestTenant;
const SECRET = 'whsec-0123456789-abcdefghij';

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = scripts.get(path)?.shift() ?? 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  t = await createTestApp();
  t.summit.modules.jobs.startWorkers();
  acme = await t.createTenant('acme');
  globex = await t.createTenant('globex');
});
afterAll(async () => {
  await t.close();
  await new Promise((resolve) => receiver.close(resolve));
});

const system = (tenantId: string) => ({ tenantId, actor: { type: 'system' as const, id: 'test' }, requestId: null });

function raise(tenant: TestTenant, alert: Partial<RaiseAlertInput> & { groupKey: string }) {
  return t.db.withTenant(tenant.id, (tx) =>
    t.summit.modules.notifications.raise(tx, system(tenant.id), {
      kind: 'dlq.item',
      severity: 'warning',
      title: `A job landed in the dead-letter queue (${alert.groupKey})`,
      detail: 'ingest.run failed 5 times',
      ...alert,
    }),
  );
}

async function webhook(tenant: TestTenant, path: string, secret: string | undefined = SECRET) {
  const res = await tenant.admin.post('/api/v1/notification-channels', { kind: 'webhook', name: `hook ${path}`, url: `${base}${path}`, secret });
  expect(res.statusCode).toBe(201);
  return res.json() as { id: string };
}

const deliveriesTo = (path: string) => received.filter((r) => r.path === path);

/** Distinct delivery jobs (retries share the id) enqueued for a tenant, from pg-boss's own table. */
async function deliveryJobs(tenantId: string): Promise<number> {
  const { rows } = await t.db.withSystem((tx) =>
    tx.query<{ n: number }>(
      `select count(distinct data->>'jobId')::int as n from pgboss.job where name = 'notifications.webhook' and data->>'tenantId' = $1`,
      [tenantId],
    ),
  );
  return rows[0]!.n;
}

describe('notification channels', () => {
  it('creates a webhook channel and never returns or logs its secret', async () => {
    const res = await acme.admin.post('/api/v1/notification-channels', { kind: 'webhook', name: 'Pager', url: `${base}/pager`, secret: SECRET });
    expect(res.statusCode).toBe(201);
    const channel = res.json();
    expect(channel).toMatchObject({ kind: 'webhook', name: 'Pager', url: `${base}/pager`, hasSecret: true });
    expect(channel).not.toHaveProperty('secret');
    const list = await acme.admin.get('/api/v1/notification-channels');
    expect(list.json().items).toEqual(expect.arrayContaining([expect.objectContaining({ id: channel.id, hasSecret: true })]));
    const audit = await acme.admin.get('/api/v1/audit?action=notification_channel.create');
    expect(audit.json().items[0]).toMatchObject({ after: { name: 'Pager', kind: 'webhook', signed: true } });
    const { rows } = await t.db.withSystem((tx) => tx.query<{ s: string }>('select secret_sealed as s from notification_channels where id = $1', [channel.id]));
    for (const body of [res.body, list.body, audit.body, rows[0]!.s]) expect(body).not.toContain(SECRET);
  });

  it('creates an inbox channel without url or secret', async () => {
    const res = await acme.admin.post('/api/v1/notification-channels', { kind: 'inbox', name: 'Console' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ kind: 'inbox', url: null, hasSecret: false });
  });

  it.each([
    [{ kind: 'webhook', name: 'x' }, ['body.url']],
    [{ kind: 'inbox', name: 'x', url: 'https://example.com', secret: 'a-long-enough-secret' }, ['body.secret', 'body.url']],
    [{ kind: 'sms', name: 'x' }, ['body.kind']],
    [{ kind: 'webhook', name: '', url: 'https://example.com' }, ['body.name']],
    [{ kind: 'webhook', name: 'x', url: 'https://example.com', secret: 'short' }, ['body.secret']],
    [{ kind: 'webhook', name: 'x', url: 'ftp://example.com/x' }, ['body.url']],
    [{ kind: 'webhook', name: 'x', url: 'https://user:pw@example.com/x' }, ['body.url']],
  ])('refuses %j naming %j', async (body, paths) => {
    const res = await acme.admin.post('/api/v1/notification-channels', body);
    expect(res.statusCode).toBe(400);
    expect(problemOf(res)).toMatchObject({ code: 'validation_failed' });
    expect(problemOf(res).errors!.map((e) => e.path).sort()).toEqual(paths);
  });

  it('refuses a second channel with the same name, case-insensitively', async () => {
    await acme.admin.post('/api/v1/notification-channels', { kind: 'inbox', name: 'Ops' });
    const res = await acme.admin.post('/api/v1/notification-channels', { kind: 'inbox', name: 'OPS' });
    expect(res.statusCode).toBe(409);
    expect(problemOf(res)).toMatchObject({ code: 'conflict', detail: expect.stringContaining('OPS') });
  });

  it('lists channels page by page', async () => {
    const tenant = await t.createTenant();
    for (const name of ['a', 'b', 'c']) await tenant.admin.post('/api/v1/notification-channels', { kind: 'inbox', name });
    const first = (await tenant.admin.get('/api/v1/notification-channels?limit=2')).json();
    expect(first.items.map((c: { name: string }) => c.name)).toEqual(['a', 'b']);
    const second = (await tenant.admin.get(`/api/v1/notification-channels?limit=2&cursor=${first.nextCursor}`)).json();
    expect(second).toMatchObject({ items: [expect.objectContaining({ name: 'c' })], nextCursor: null });
  });

  it('deletes a channel once; another tenant gets 404 and an analyst 403', async () => {
    const channel = (await acme.admin.post('/api/v1/notification-channels', { kind: 'inbox', name: 'temp' })).json();
    expect((await globex.admin.delete(`/api/v1/notification-channels/${channel.id}`)).statusCode).toBe(404);
    expect((await globex.admin.get('/api/v1/notification-channels')).json().items).toEqual([]);
    const analyst = await t.createUser(acme, ['analyst']);
    expect((await analyst.client.post('/api/v1/notification-channels', { kind: 'inbox', name: 'mine' })).statusCode).toBe(403);
    expect((await acme.admin.delete(`/api/v1/notification-channels/${channel.id}`)).statusCode).toBe(204);
    expect((await acme.admin.delete(`/api/v1/notification-channels/${channel.id}`)).statusCode).toBe(404);
  });
});

describe('alerts and webhook deliveries', () => {
  it('delivers a signed webhook a receiver can verify', async () => {
    const tenant = await t.createTenant();
    await webhook(tenant, '/signed');
    const raised = await raise(tenant, { groupKey: 'dlq:ingest.run', data: { queue: 'ingest.run', depth: 3 } });
    expect(raised).toMatchObject({ decision: 'open', occurrences: 1, deliveryJobIds: [expect.any(String)] });
    const [delivery] = await waitFor('the delivery', async () => deliveriesTo('/signed').length > 0 && deliveriesTo('/signed'));
    expect(verifyWebhookSignature(SECRET, delivery!.body, delivery!.headers['x-summit-signature'] as string)).toBe(true);
    expect(verifyWebhookSignature('another-secret-entirely', delivery!.body, delivery!.headers['x-summit-signature'] as string)).toBe(false);
    expect(delivery!.headers).toMatchObject({
      'content-type': 'application/json',
      'x-summit-delivery': raised.deliveryJobIds[0],
      'x-summit-event': 'alert.opened',
      'x-summit-timestamp': expect.stringMatching(/^\d{10}$/),
    });
    expect(JSON.parse(delivery!.body)).toMatchObject({
      id: raised.deliveryJobIds[0],
      type: 'alert.opened',
      tenantId: tenant.id,
      alert: { id: raised.alertId, kind: 'dlq.item', groupKey: 'dlq:ingest.run', severity: 'warning', occurrences: 1, data: { depth: 3 } },
    });
  });

  it('retries a failing endpoint until it answers, with the same delivery id', async () => {
    const tenant = await t.createTenant();
    await webhook(tenant, '/flaky');
    scripts.set('/flaky', [503, 500]);
    // The queue schedules a retry at clock.now() + backoff; with the clock set back the retry is due at once.
    t.clock.advance(-2 * 60 * 60_000);
    try {
      await raise(tenant, { groupKey: 'flaky' });
      await waitFor('the third attempt', async () => deliveriesTo('/flaky').length >= 3, 30_000);
    } finally {
      t.clock.advance(2 * 60 * 60_000);
    }
    const attempts = deliveriesTo('/flaky');
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.headers['x-summit-delivery'])).size).toBe(1);
    for (const a of attempts) expect(verifyWebhookSignature(SECRET, a.body, a.headers['x-summit-signature'] as string)).toBe(true);
    const dead = await t.db.withTenant(tenant.id, (tx) => tx.query('select 1 from dlq_items'));
    expect(dead.rows).toEqual([]);
  });

  it('dead-letters a delivery the endpoint refuses with a 4xx, after one attempt', async () => {
    const tenant = await t.createTenant();
    await webhook(tenant, '/gone');
    scripts.set('/gone', [410]);
    await raise(tenant, { groupKey: 'gone' });
    const item = await waitFor('the dead letter', async () => {
      const { rows } = await t.db.withTenant(tenant.id, (tx) =>
        tx.query<{ attempts: number; errors: { class: string; message: string }[] }>(`select attempts, errors from dlq_items where queue = 'notifications.webhook'`),
      );
      return rows[0];
    });
    expect(item).toMatchObject({ attempts: 1, errors: [{ class: 'PermanentJobError', message: expect.stringContaining('HTTP 410') }] });
    expect(item.errors[0]!.message).not.toContain('127.0.0.1');
  });

  it('groups repeats of one cause: five raises make one alert of five occurrences and one delivery', async () => {
    const tenant = await t.createTenant();
    await webhook(tenant, '/grouped');
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await raise(tenant, { groupKey: 'schedule:nightly', kind: 'schedule.failing' }));
    expect(results.map((r) => r.decision)).toEqual(['open', 'group', 'group', 'group', 'group']);
    expect(new Set(results.map((r) => r.alertId)).size).toBe(1);
    expect(results.at(-1)!.occurrences).toBe(5);
    expect(results.flatMap((r) => r.deliveryJobIds)).toHaveLength(1);
    expect(await deliveryJobs(tenant.id)).toBe(1);
    await waitFor('the delivery', async () => deliveriesTo('/grouped').length > 0);
    const { rows } = await t.db.withTenant(tenant.id, (tx) => tx.query<{ occurrences: number }>('select occurrences from alerts'));
    expect(rows).toEqual([{ occurrences: 5 }]);
    const inbox = (await tenant.admin.get('/api/v1/notifications')).json();
    expect(inbox.items).toHaveLength(1);
    expect(inbox.items[0]).toMatchObject({ alert: { occurrences: 5, kind: 'schedule.failing', open: true } });
    expect(deliveriesTo('/grouped')).toHaveLength(1);
  });

  it('counts concurrent raises of one cause onto one alert', async () => {
    const tenant = await t.createTenant();
    const results = await Promise.all(Array.from({ length: 8 }, () => raise(tenant, { groupKey: 'race' })));
    expect(new Set(results.map((r) => r.alertId)).size).toBe(1);
    expect(results.filter((r) => r.notificationId !== null)).toHaveLength(1);
    const { rows } = await t.db.withTenant(tenant.id, (tx) => tx.query<{ occurrences: number }>('select occurrences from alerts'));
    expect(rows).toEqual([{ occurrences: 8 }]);
  });

  it('drops deliveries still queued for a channel that was deleted', async () => {
    const tenant = await t.createTenant();
    const channel = await webhook(tenant, '/deleted');
    await t.summit.modules.jobs.stopWorkers();
    let jobId: string;
    try {
      [jobId] = (await raise(tenant, { groupKey: 'orphan' })).deliveryJobIds as [string];
      expect((await tenant.admin.delete(`/api/v1/notification-channels/${channel.id}`)).statusCode).toBe(204);
    } finally {
      t.summit.modules.jobs.startWorkers();
    }
    await waitFor('the delivery job to finish', async () => {
      const { rows } = await t.db.withSystem((tx) =>
        tx.query<{ state: string }>(`select state from pgboss.job where name = 'notifications.webhook' and data->>'jobId' = $1`, [jobId]),
      );
      return rows[0]?.state === 'completed';
    });
    expect(deliveriesTo('/deleted')).toEqual([]);
    expect((await t.db.withTenant(tenant.id, (tx) => tx.query('select 1 from dlq_items'))).rows).toEqual([]);
  });

  it('notifies again when a grouped cause turns more severe, and after the grouping window', async () => {
    const tenant = await t.createTenant();
    const first = await raise(tenant, { groupKey: 'dlq-depth', kind: 'dlq.depth', severity: 'warning' });
    const worse = await raise(tenant, { groupKey: 'dlq-depth', kind: 'dlq.depth', severity: 'critical' });
    const calmer = await raise(tenant, { groupKey: 'dlq-depth', kind: 'dlq.depth', severity: 'warning' });
    expect([first.decision, worse.decision, calmer.decision]).toEqual(['open', 'escalate', 'group']);
    expect(worse.alertId).toBe(first.alertId);
    t.clock.advance(61 * 60_000);
    const later = await raise(tenant, { groupKey: 'dlq-depth', kind: 'dlq.depth', severity: 'warning' });
    expect(later).toMatchObject({ decision: 'replace', occurrences: 1 });
    expect(later.alertId).not.toBe(first.alertId);
    const items = (await tenant.admin.get('/api/v1/notifications')).json().items;
    expect(items.map((n: { event: string; severity: string; alert: { open: boolean } }) => [n.event, n.severity, n.alert.open])).toEqual([
      ['alert.opened', 'warning', true],
      ['alert.escalated', 'critical', false],
      ['alert.opened', 'warning', false],
    ]);
  });

  it('puts an alert in the inbox when the tenant has no channels at all', async () => {
    const tenant = await t.createTenant();
    const raised = await raise(tenant, { groupKey: 'lonely' });
    expect(raised.deliveryJobIds).toEqual([]);
    expect((await tenant.admin.get('/api/v1/notifications')).json().items).toEqual([
      expect.objectContaining({ id: raised.notificationId, read: false, alert: expect.objectContaining({ id: raised.alertId }) }),
    ]);
  });

  it('raises nothing when the caller\'s transaction rolls back', async () => {
    const tenant = await t.createTenant();
    await webhook(tenant, '/rolled-back');
    await expect(
      t.db.withTenant(tenant.id, async (tx) => {
        await t.summit.modules.notifications.raise(tx, system(tenant.id), { kind: 'dlq.item', groupKey: 'rb', severity: 'info', title: 'x', detail: '' });
        throw new Error('the cause rolls back');
      }),
    ).rejects.toThrow('the cause rolls back');
    expect((await tenant.admin.get('/api/v1/notifications')).json().items).toEqual([]);
    expect(await deliveryJobs(tenant.id)).toBe(0);
  });

  it('refuses a malformed alert, naming the field', async () => {
    const error = await raise(acme, { groupKey: '', severity: 'apocalyptic' as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).fields.map((f) => f.path).sort()).toEqual(['alert.groupKey', 'alert.severity']);
  });
});

describe('inbox', () => {
  it('lists newest first, filters unread, and marks read and unread for the whole tenant', async () => {
    const tenant = await t.createTenant();
    const ids: string[] = [];
    for (const key of ['one', 'two', 'three']) ids.push((await raise(tenant, { groupKey: key })).notificationId!);
    const viewer = await t.createUser(tenant, ['viewer']);

    const page = (await viewer.client.get('/api/v1/notifications?limit=2')).json();
    expect(page.items.map((n: { id: string }) => n.id)).toEqual([ids[2], ids[1]]);
    const rest = (await viewer.client.get(`/api/v1/notifications?limit=2&cursor=${page.nextCursor}`)).json();
    expect(rest).toMatchObject({ items: [expect.objectContaining({ id: ids[0] })], nextCursor: null });

    const marked = await viewer.client.patch(`/api/v1/notifications/${ids[1]}`, { read: true });
    expect(marked.statusCode).toBe(200);
    expect(marked.json()).toMatchObject({ id: ids[1], read: true, readAt: expect.any(String) });
    const unread = (await tenant.admin.get('/api/v1/notifications?unread=true')).json();
    expect(unread.items.map((n: { id: string }) => n.id)).toEqual([ids[2], ids[0]]);

    expect((await tenant.admin.patch(`/api/v1/notifications/${ids[1]}`, { read: false })).json()).toMatchObject({ read: false, readAt: null });
    const all = await viewer.client.post('/api/v1/notifications/read-all');
    expect(all.json()).toEqual({ updated: 3 });
    expect((await tenant.admin.get('/api/v1/notifications?unread=true')).json().items).toEqual([]);

    const audit = (await tenant.admin.get('/api/v1/audit?action=notification.update')).json().items;
    expect(audit.map((e: { after: unknown }) => e.after)).toEqual([{ read: true }, { read: false }]);
  });

  it('answers 404 to another tenant and a bad body with a field error', async () => {
    const raised = await raise(acme, { groupKey: 'private' });
    const res = await globex.admin.patch(`/api/v1/notifications/${raised.notificationId}`, { read: true });
    expect(res.statusCode).toBe(404);
    expect((await globex.admin.get('/api/v1/notifications')).json().items).toEqual([]);
    const bad = await acme.admin.patch(`/api/v1/notifications/${raised.notificationId}`, { read: 'yes' });
    expect(problemOf(bad).errors).toEqual([expect.objectContaining({ path: 'body.read' })]);
  });
});
