import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DLQ_DEPTH_ALERT, registerJobAlerts } from '../src/modules/jobs/index.js';
import type { JobOutcome, OutcomeListener } from '../src/platform/jobs/job-queue.js';
import { insertDeadLetter } from './fixtures.js';
import { createTestApp, type TestApp, type TestTenant } from './harness.js';

let t: TestApp;
const listeners: OutcomeListener[] = [];
const errors: unknown[] = [];
const log = { info: () => undefined, warn: () => undefined, debug: () => undefined, error: (o: unknown) => void errors.push(o) };
let onFailing: ReturnType<typeof registerJobAlerts>;

beforeAll(async () => {
  t = await createTestApp();
  onFailing = registerJobAlerts({ onOutcome: (l) => void listeners.push(l) }, t.summit.modules.notifications.raise, log);
});
afterAll(() => t.close());

function deadLettered(tenantId: string, queue = 'audit.checkpoint'): JobOutcome {
  const jobId = randomUUID();
  return {
    queue,
    tenantId,
    jobId,
    attempt: 5,
    outcome: 'dead_lettered',
    error: { class: 'Error', message: 'upstream timed out' },
    envelope: { tenantId, payload: {}, jobId, idempotencyKey: jobId, attempt: 5, errors: [], vstart: 0, enqueuedBy: { type: 'system', id: 't' }, requestId: null },
  };
}

async function inbox(tenant: TestTenant) {
  return (await tenant.admin.get('/api/v1/notifications')).json().items as Array<{ title: string; severity: string; alert: { kind: string; occurrences: number } }>;
}

describe('alerts from the job system', () => {
  it('raises one grouped alert for repeated dead letters of a queue', async () => {
    const tenant = await t.createTenant();
    for (let i = 0; i < 3; i++) await t.db.withSystem((tx) => listeners[0]!(tx, deadLettered(tenant.id)));
    const items = await inbox(tenant);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ severity: 'warning', alert: { kind: 'dlq.item', occurrences: 3 } });
    expect(items[0]!.title).toContain('audit.checkpoint');
  });

  it('raises a critical alert when a queue\'s dead letters pile up', async () => {
    const tenant = await t.createTenant();
    for (let i = 0; i <= DLQ_DEPTH_ALERT; i++) await insertDeadLetter(t, tenant.id);
    await t.db.withSystem((tx) => listeners[0]!(tx, deadLettered(tenant.id)));
    const kinds = (await inbox(tenant)).map((n) => [n.alert.kind, n.severity]);
    expect(kinds).toEqual(expect.arrayContaining([['dlq.depth', 'critical'], ['dlq.item', 'warning']]));
  });

  it('raises an alert for a schedule that keeps failing', async () => {
    const tenant = await t.createTenant();
    const scheduleId = randomUUID();
    await t.db.withSystem((tx) => onFailing(tx, { tenantId: tenant.id, id: scheduleId }, 3));
    const [item] = await inbox(tenant);
    expect(item).toMatchObject({ severity: 'critical', alert: { kind: 'schedule.failing' } });
  });

  it('counts a scheduled job\'s failures in a row on its schedule, and resets on success', async () => {
    const tenant = await t.createTenant();
    const schedule = (await tenant.admin.post('/api/v1/schedules', { name: 'flaky', jobType: 'audit.checkpoint', cron: '0 * * * *' })).json();
    const { scheduleRepo } = await import('../src/modules/jobs/schedule.repo.js');
    const record = (failed: boolean) => t.db.withSystem((tx) => scheduleRepo.recordOutcome(tx, tenant.id, schedule.id, failed));
    expect([await record(true), await record(true)]).toEqual([1, 2]);
    expect((await tenant.admin.get(`/api/v1/schedules/${schedule.id}`)).json().consecutiveFailures).toBe(2);
    expect(await record(false)).toBe(0);
  });

  it('never lets an alert that cannot be raised undo the job\'s outcome', async () => {
    const tenant = await t.createTenant();
    const broken = registerJobAlerts({ onOutcome: () => undefined }, async () => {
      throw new Error('notifications are down');
    }, log);
    const after = await t.db.withSystem(async (tx) => {
      await broken(tx, { tenantId: tenant.id, id: randomUUID() }, 3);
      return (await tx.query<{ ok: number }>('select 1 as ok')).rows[0]!.ok;
    });
    expect(after).toBe(1);
    expect(errors.length).toBeGreaterThan(0);
  });
});
