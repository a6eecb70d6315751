/**
 * Scores follow the graph without anyone asking: an ingest run enqueues a ti.rescore of what it asserted, and a
 * sighting or an edited entity is rescored in its own transaction.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bundle, indicator } from './graph-fixtures.js';
import { createTestApp, waitFor, type TestApp, type TestTenant } from './harness.js';

let t: TestApp;
let tenant: TestTenant;

beforeAll(async () => {
  t = await createTestApp();
  t.clock.set(new Date('2026-11-05T00:00:00.000Z'));
  tenant = await t.createTenant();
});
afterAll(async () => {
  await t.summit.modules.jobs.stopWorkers();
  await t.close();
});

async function scoreOf(id: string): Promise<{ score: number; breakdown: Record<string, unknown> } | undefined> {
  const items = (await tenant.admin.get('/api/v1/indicators?limit=200&includeRevoked=true&includeSuppressed=true')).json().items;
  return items.find((i: { id: string }) => i.id === id);
}

it('scores what an ingest run brought in once its rescore job has run', async () => {
  const ind = indicator("[ipv4-addr:value = '198.51.100.77']", { confidence: 80 });
  const run = (await tenant.admin.post('/api/v1/ingest/stix?source=feed-a', bundle([ind]))).json();
  expect(run.status).toBe('succeeded');
  const entity = (await tenant.admin.get('/api/v1/entities?type=indicator')).json().items[0];
  expect(await scoreOf(entity.id)).toBeUndefined();

  t.summit.modules.jobs.startWorkers();
  const scored = await waitFor('the rescore job', () => scoreOf(entity.id), 30_000);
  expect(scored.score).toBeGreaterThan(0);
  await t.summit.modules.jobs.stopWorkers();
});

it('rescores an indicator in the same transaction as a new sighting', async () => {
  const entity = (await tenant.admin.get('/api/v1/entities?type=indicator')).json().items[0];
  const before = (await scoreOf(entity.id))!;
  t.clock.advance(30 * 86_400_000);
  const sighted = await tenant.admin.post('/api/v1/sightings', { entityId: entity.id, count: 1, whereSighted: [], truePositive: true });
  expect(sighted.statusCode).toBe(201);
  const after = (await scoreOf(entity.id))!;
  expect(after.breakdown).not.toEqual(before.breakdown);
});

it('gives every tenant a daily rescoring schedule, which it may move or disable like any other', async () => {
  const fresh = await t.createTenant();
  const items = (await fresh.admin.get('/api/v1/schedules')).json().items;
  const daily = items.find((s: { jobType: string }) => s.jobType === 'ti.rescore');
  expect(daily).toMatchObject({ name: 'Daily threat-intel rescoring', cron: '15 3 * * *', timezone: 'UTC', enabled: true });
  const detail = (await fresh.admin.get(`/api/v1/schedules/${daily.id}`)).json();
  expect(detail.nextFires[0]).toMatch(/T03:15:00\.000Z$/);
  expect((await fresh.admin.patch(`/api/v1/schedules/${daily.id}`, { cron: '0 5 * * *', timezone: 'Europe/Berlin' })).statusCode).toBe(200);
});
