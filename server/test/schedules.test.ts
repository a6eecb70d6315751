import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScheduler } from '../src/modules/jobs/scheduler.js';
import { createTestApp, problemOf, waitFor, type TestApp, type TestTenant } from './harness.js';

let t: TestApp;
let tenant: TestTenant;

beforeAll(async () => {
  t = await createTestApp({ maxSchedulesPerTenant: 3 });
  tenant = await t.createTenant();
});
afterAll(() => t.close());

const hourly = { name: 'hourly checkpoint', jobType: 'audit.checkpoint', cron: '0 * * * *', timezone: 'Europe/Berlin' };
const scheduler = () => t.summit.modules.jobsModule.scheduler;

/** Jobs a schedule has enqueued so far (other tests' schedules share the store and fire too). */
async function jobsOf(scheduleId: string): Promise<string[]> {
  const { rows } = await t.db.withSystem((tx) =>
    tx.query<{ at: string }>(`select data->>'scheduledFor' as at from pgboss.job where data->>'scheduleId' = $1 order by 1`, [scheduleId]),
  );
  return rows.map((r) => r.at);
}

describe('schedule preview', () => {
  it('lists the next fire times in the zone, five by default', async () => {
    const res = await tenant.admin.get('/api/v1/schedules/preview?cron=0%209%20*%20*%20MON&timezone=America/Denver');
    expect(res.statusCode).toBe(200);
    const items: string[] = res.json().items;
    expect(items).toHaveLength(5);
    for (const at of items) {
      const local = new Intl.DateTimeFormat('en-US', { timeZone: 'America/Denver', weekday: 'short', hour: 'numeric', hourCycle: 'h23' }).format(new Date(at));
      expect(local).toBe('Mon, 09');
    }
  });

  it('accepts seconds as a sixth field', async () => {
    const items = (await tenant.admin.get('/api/v1/schedules/preview?cron=*/15%20*%20*%20*%20*%20*&count=3')).json().items;
    expect(new Date(items[1]).getTime() - new Date(items[0]).getTime()).toBe(15_000);
  });

  it('says what is wrong with the expression and the zone', async () => {
    const res = await tenant.admin.get('/api/v1/schedules/preview?cron=0%2025%20*%20*%20*&timezone=Moon/Base');
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors!.map((e) => e.path).sort()).toEqual(['querystring.cron', 'querystring.timezone']);
  });
});

describe('schedules', () => {
  it('creates a schedule with its next five fire times, and audits it', async () => {
    const res = await tenant.admin.post('/api/v1/schedules', hourly);
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ ...hourly, enabled: true, catchUp: 'skip', payload: {}, consecutiveFailures: 0 });
    expect(body.nextFires).toHaveLength(5);
    expect(body.nextFireAt).toBe(body.nextFires[0]);
    const audit = (await tenant.admin.get('/api/v1/audit?action=schedule.create')).json().items;
    expect(audit[0]).toMatchObject({ target: { id: body.id }, after: { cron: hourly.cron } });
  });

  it('reports every problem of a bad schedule at once and stores nothing', async () => {
    const res = await tenant.admin.post('/api/v1/schedules', { name: 'bad', jobType: 'nope', cron: 'every day', timezone: 'Nowhere' });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors!.map((e) => e.path).sort()).toEqual(['body.cron', 'body.jobType', 'body.timezone']);
    expect(problemOf(res).detail).toContain('audit.checkpoint');
    const bad = await tenant.admin.post('/api/v1/schedules', { ...hourly, name: 'payload', payload: { extra: 1 } });
    expect(bad.statusCode).toBe(400);
    expect(problemOf(bad).errors![0]!.path).toBe('body.payload');
    const names = (await tenant.admin.get('/api/v1/schedules')).json().items.map((s: { name: string }) => s.name);
    expect(names).not.toContain('bad');
  });

  it('refuses a duplicate name and a schedule over the tenant\'s cap', async () => {
    expect((await tenant.admin.post('/api/v1/schedules', hourly)).statusCode).toBe(409);
    const capped = await t.createTenant();
    for (let i = 0; i < 3; i++) expect((await capped.admin.post('/api/v1/schedules', { ...hourly, name: `s${i}` })).statusCode).toBe(201);
    const over = await capped.admin.post('/api/v1/schedules', { ...hourly, name: 's3' });
    expect(over.statusCode).toBe(429);
    expect(problemOf(over)).toMatchObject({ code: 'quota_exceeded', limit: 3 });
  });

  it('disables, edits and deletes a schedule', async () => {
    const created = (await tenant.admin.post('/api/v1/schedules', { ...hourly, name: 'to edit' })).json();
    const disabled = (await tenant.admin.patch(`/api/v1/schedules/${created.id}`, { enabled: false })).json();
    expect(disabled).toMatchObject({ enabled: false, nextFireAt: null, nextFires: [] });
    const badEdit = await tenant.admin.patch(`/api/v1/schedules/${created.id}`, { cron: '* * *' });
    expect(badEdit.statusCode).toBe(400);
    expect((await tenant.admin.get(`/api/v1/schedules/${created.id}`)).json().cron).toBe(hourly.cron);
    expect((await tenant.admin.delete(`/api/v1/schedules/${created.id}`)).statusCode).toBe(204);
    expect((await tenant.admin.get(`/api/v1/schedules/${created.id}`)).statusCode).toBe(404);
  });

  it('lets analysts schedule work and keeps viewers out', async () => {
    const analyst = await t.createUser(tenant, ['analyst']);
    const created = await analyst.client.post('/api/v1/schedules', { ...hourly, name: 'analyst' });
    expect(created.statusCode).toBe(201);
    expect(created.json().ownerId).toBe(analyst.user.id);
    const viewer = await t.createUser(tenant, ['viewer']);
    expect((await viewer.client.get('/api/v1/schedules')).statusCode).toBe(403);
  });
});

describe('firing', () => {
  it('fires a due schedule once, runs its job, and moves to the next fire time', async () => {
    const tn = await t.createTenant();
    const created = (await tn.admin.post('/api/v1/schedules', { name: 'every minute', jobType: 'audit.checkpoint', cron: '* * * * *' })).json();
    t.clock.set(new Date(new Date(created.nextFireAt).getTime() + 500));
    await scheduler().tick();
    await scheduler().tick();
    expect(await jobsOf(created.id)).toEqual([created.nextFireAt]);
    const after = (await tn.admin.get(`/api/v1/schedules/${created.id}`)).json();
    expect(after.lastFiredAt).toBe(created.nextFireAt);
    expect(new Date(after.nextFireAt).getTime() - new Date(created.nextFireAt).getTime()).toBe(60_000);

    t.summit.modules.jobs.startWorkers();
    await waitFor('the scheduled checkpoint', async () => {
      const { rows } = await t.db.withTenant(tn.id, (tx) => tx.query<{ n: number }>('select count(*)::int as n from audit_checkpoints'));
      return rows[0]!.n === 1;
    });
    await t.summit.modules.jobs.stopWorkers();
  });

  it('after downtime skips missed fire times, or runs the latest once', async () => {
    const tn = await t.createTenant();
    const skip = (await tn.admin.post('/api/v1/schedules', { name: 'skip', jobType: 'audit.checkpoint', cron: '* * * * *' })).json();
    const once = (await tn.admin.post('/api/v1/schedules', { name: 'once', jobType: 'audit.checkpoint', cron: '* * * * *', catchUp: 'run-once' })).json();
    const back = new Date(new Date(skip.nextFireAt).getTime() + 60 * 60_000 + 1_000);
    t.clock.set(back);
    await scheduler().tick();
    const onTime = new Date(back.getTime() - 1_000).toISOString();
    expect(await jobsOf(skip.id)).toEqual([onTime]);
    expect(await jobsOf(once.id)).toEqual([new Date(back.getTime() - 61_000).toISOString(), onTime]);
    for (const s of [skip, once]) {
      const after = (await tn.admin.get(`/api/v1/schedules/${s.id}`)).json();
      expect(new Date(after.nextFireAt).getTime()).toBeGreaterThan(t.clock.now().getTime());
    }
  });

  it('enqueues the next seconds ahead, and withdraws them when the schedule is disabled', async () => {
    const tn = await t.createTenant();
    const created = (await tn.admin.post('/api/v1/schedules', { name: 'per second', jobType: 'audit.checkpoint', cron: '* * * * * *' })).json();
    t.clock.set(new Date(created.nextFireAt));
    await scheduler().tick();
    const ahead = await jobsOf(created.id);
    expect(ahead.length).toBeGreaterThanOrEqual(10);
    expect(new Set(ahead).size).toBe(ahead.length);
    await tn.admin.patch(`/api/v1/schedules/${created.id}`, { enabled: false });
    const { rows } = await t.db.withSystem((tx) =>
      tx.query<{ n: number }>(`select count(*)::int as n from pgboss.job where data->>'scheduleId' = $1 and state = 'created' and start_after > now()`, [created.id]),
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('fires each fire time once when two schedulers tick at the same moment', async () => {
    const tn = await t.createTenant();
    const created = (await tn.admin.post('/api/v1/schedules', { name: 'race', jobType: 'audit.checkpoint', cron: '* * * * *' })).json();
    t.clock.set(new Date(new Date(created.nextFireAt).getTime() + 100));
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
    const other = createScheduler({ db: t.db, jobs: t.summit.modules.jobs, clock: t.clock, log });
    await Promise.all([scheduler().tick(), other.tick(), scheduler().tick(), other.tick()]);
    expect(await jobsOf(created.id)).toEqual([created.nextFireAt]);
  });
});
