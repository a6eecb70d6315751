import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { systemClock } from '../src/platform/clock.js';
import type { Database } from '../src/platform/db.js';
import { ValidationError } from '../src/platform/errors.js';
import { createJobQueue, type JobQueue } from '../src/platform/jobs/job-queue.js';
import { PermanentJobError, type JobContext } from '../src/platform/jobs/job-types.js';
import { createMetrics } from '../src/platform/metrics.js';
import { createTestDb, waitFor, type TestDb } from './harness.js';

let store: TestDb;
let db: Database;
let queue: JobQueue;
const metrics = createMetrics();
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

/** What handlers saw, by job id: the attempts, in order. */
const seen = new Map<string, number[]>();
const order: string[] = [];
/** Per tenant: handlers of test.limited running now, and the most at once. */
const running = new Map<string, { now: number; max: number; done: number }>();
let releaseLimited: () => void = () => undefined;
let limitedGate = new Promise<void>((resolve) => (releaseLimited = resolve));
let failAfterEffect = true;
/** Attempts on which a job of the `flaky` type fails, by its payload's key. */
const failOn = new Map<string, number[]>();

async function createTenant(): Promise<string> {
  const id = randomUUID();
  await db.withSystem((tx) => tx.query('insert into tenants (id, name) values ($1, $2)', [id, `t-${id.slice(0, 8)}`]));
  return id;
}

const scope = (tenantId: string) => ({ tenantId, actor: { type: 'system' as const, id: 'test' }, requestId: null });
function note(ctx: JobContext) {
  seen.set(ctx.jobId, [...(seen.get(ctx.jobId) ?? []), ctx.attempt]);
}

beforeAll(async () => {
  store = await createTestDb();
  db = store.db;
  await db.withSystem(async (tx) => {
    await tx.query('create table test_effects (tenant_id uuid not null, job_id uuid not null)');
    await tx.query('grant select, insert on test_effects to summit_app');
  });
  queue = createJobQueue({ db, log: silent, clock: systemClock, metrics, pollIntervalMs: 20, random: () => 0 });
  queue.register({
    name: 'test.flaky',
    payload: z.object({ key: z.string(), count: z.number().int().min(0) }),
    retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 10 },
    handle: async (ctx, payload) => {
      note(ctx);
      if (failOn.get(payload.key)?.includes(ctx.attempt)) throw new Error(`attempt ${ctx.attempt} of ${payload.key} fails`);
    },
  });
  queue.register({
    name: 'test.permanent',
    payload: z.object({}),
    handle: async (ctx) => {
      note(ctx);
      throw new PermanentJobError('the upstream said no for good');
    },
  });
  queue.register({
    name: 'test.commit-then-throw',
    payload: z.object({}),
    retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 10 },
    handle: async (ctx) => {
      note(ctx);
      await ctx.applyOnce((tx) => tx.query('insert into test_effects (tenant_id, job_id) values ($1, $2)', [ctx.tenantId, ctx.jobId]));
      if (ctx.attempt === 1) throw new Error('failed after committing its effect');
    },
  });
  queue.register({
    name: 'test.fair',
    payload: z.object({ tenant: z.string() }),
    concurrency: 2,
    handle: async (ctx, payload) => {
      order.push(payload.tenant);
    },
  });
  queue.register({
    name: 'test.limited',
    payload: z.object({}),
    concurrency: 8,
    perTenant: { concurrency: 1 },
    handle: async (ctx) => {
      const r = running.get(ctx.tenantId) ?? { now: 0, max: 0, done: 0 };
      running.set(ctx.tenantId, r);
      r.now++;
      r.max = Math.max(r.max, r.now);
      await limitedGate;
      r.now--;
      r.done++;
    },
  });
  queue.register({
    name: 'test.hourly',
    payload: z.object({}),
    perTenant: { startsPerHour: 2 },
    handle: async (ctx) => note(ctx),
  });
  queue.register({
    name: 'test.replayable',
    payload: z.object({}),
    retry: { maxAttempts: 1 },
    handle: async (ctx) => {
      note(ctx);
      await ctx.applyOnce((tx) => tx.query('insert into test_effects (tenant_id, job_id) values ($1, $2)', [ctx.tenantId, ctx.jobId]));
      if (failAfterEffect) throw new Error('failed after committing its effect');
    },
  });
  await queue.start();
  queue.startWorkers();
});

afterAll(async () => {
  await queue.stop();
  await store.close();
});

const deadItems = (tenantId: string) =>
  db.withTenant(tenantId, (tx) =>
    tx.query<{ job_id: string; attempts: number; errors: { attempt: number; message: string; class: string }[]; payload: unknown; status: string }>(
      'select job_id, attempts, errors, payload, status from dlq_items',
    ),
  );

describe('job queue', () => {
  it('enqueues in the caller\'s transaction: a rolled-back change leaves no job', async () => {
    const tenant = await createTenant();
    let rolledBackId = '';
    await expect(
      db.withTenant(tenant, async (tx) => {
        rolledBackId = await queue.enqueue(tx, scope(tenant), 'test.flaky', { key: 'rollback', count: 1 });
        throw new Error('the change fails');
      }),
    ).rejects.toThrow('the change fails');
    const committed = await db.withTenant(tenant, (tx) => queue.enqueue(tx, scope(tenant), 'test.flaky', { key: 'commit', count: 1 }));
    await waitFor('the committed job', async () => seen.has(committed));
    expect(seen.get(committed)).toEqual([1]);
    expect(seen.has(rolledBackId)).toBe(false);
  });

  it('refuses a payload that fails its schema, naming the field, and enqueues nothing', async () => {
    const tenant = await createTenant();
    const error = await db
      .withTenant(tenant, (tx) => queue.enqueue(tx, scope(tenant), 'test.flaky', { key: 'bad', count: -1 }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).fields).toEqual([expect.objectContaining({ path: 'payload.count' })]);
    const { rows } = await db.withSystem((tx) =>
      tx.query<{ n: number }>(`select count(*)::int as n from pgboss.job where data->>'tenantId' = $1`, [tenant]),
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('retries a failing job with backoff until it succeeds', async () => {
    const tenant = await createTenant();
    failOn.set('twice', [1, 2]);
    const id = await db.withTenant(tenant, (tx) => queue.enqueue(tx, scope(tenant), 'test.flaky', { key: 'twice', count: 1 }));
    await waitFor('the third attempt', async () => seen.get(id)?.length === 3);
    expect(seen.get(id)).toEqual([1, 2, 3]);
    expect((await deadItems(tenant)).rows).toEqual([]);
  });

  it('dead-letters a job whose retries are spent, keeping every error', async () => {
    const tenant = await createTenant();
    failOn.set('always', [1, 2, 3]);
    const id = await db.withTenant(tenant, (tx) => queue.enqueue(tx, scope(tenant), 'test.flaky', { key: 'always', count: 2 }));
    const [item] = await waitFor('the dead letter', async () => (await deadItems(tenant)).rows[0] && (await deadItems(tenant)).rows);
    expect(item).toMatchObject({ job_id: id, attempts: 3, status: 'dead', payload: { key: 'always', count: 2 } });
    expect(item!.errors.map((e) => [e.attempt, e.message])).toEqual([
      [1, 'attempt 1 of always fails'],
      [2, 'attempt 2 of always fails'],
      [3, 'attempt 3 of always fails'],
    ]);
    // Another tenant cannot see it.
    expect((await deadItems(await createTenant())).rows).toEqual([]);
  });

  it('dead-letters a permanent failure at once', async () => {
    const tenant = await createTenant();
    const id = await db.withTenant(tenant, (tx) => queue.enqueue(tx, scope(tenant), 'test.permanent', {}));
    const [item] = await waitFor('the dead letter', async () => (await deadItems(tenant)).rows[0] && (await deadItems(tenant)).rows);
    expect(item).toMatchObject({ job_id: id, attempts: 1 });
    expect(item!.errors[0]).toMatchObject({ class: 'PermanentJobError', message: 'the upstream said no for good' });
    expect(seen.get(id)).toEqual([1]);
  });

  it('applies a committed effect once when its handler throws afterwards and is retried', async () => {
    const tenant = await createTenant();
    const id = await db.withTenant(tenant, (tx) => queue.enqueue(tx, scope(tenant), 'test.commit-then-throw', {}));
    await waitFor('the retry', async () => seen.get(id)?.length === 2);
    
    const { rows } = await db.withTenant(tenant, (tx) => tx.query<{ n: number }>('select count(*)::int as n from test_effects where job_id = $1', [id]));
    expect(rows[0]!.n).toBe(1);
    expect(seen.get(id)).toEqual([1, 2]);
  });

  it('does not let a tenant that floods a queue starve another', async () => {
    const flooder = await createTenant();
    const quiet = await createTenant();
    await queue.stopWorkers();
    await db.withTenant(flooder, async (tx) => {
      for (let i = 0; i < 1000; i++) await queue.enqueue(tx, scope(flooder), 'test.fair', { tenant: 'flooder' });
    });
    await db.withTenant(quiet, (tx) => queue.enqueue(tx, scope(quiet), 'test.fair', { tenant: 'quiet' }));
    order.length = 0;
    queue.startWorkers();
    await waitFor('the quiet tenant\'s job', async () => order.includes('quiet'));
    // Without fair queuing it would run after all 1,000 of the flooder's jobs.
    expect(order.indexOf('quiet')).toBeLessThan(4);
  });

  it('runs at most the per-tenant limit at once across the queue, while other tenants proceed', async () => {
    const [a, b] = [await createTenant(), await createTenant()];
    await db.withTenant(a, async (tx) => {
      for (let i = 0; i < 3; i++) await queue.enqueue(tx, scope(a), 'test.limited', {});
    });
    await db.withTenant(b, (tx) => queue.enqueue(tx, scope(b), 'test.limited', {}));
    await waitFor('both tenants running', async () => running.get(a)?.now === 1 && running.get(b)?.now === 1);
    releaseLimited();
    await waitFor('all four jobs', async () => running.get(a)?.done === 3 && running.get(b)?.done === 1, 30_000);
    expect(running.get(a)!.max).toBe(1);
    limitedGate = new Promise<void>((resolve) => (releaseLimited = resolve));
  });

  it('defers jobs over the hourly per-tenant limit to the next hour', async () => {
    const tenant = await createTenant();
    const ids = await db.withTenant(tenant, async (tx) => {
      const out: string[] = [];
      for (let i = 0; i < 3; i++) out.push(await queue.enqueue(tx, scope(tenant), 'test.hourly', {}));
      return out;
    });
    await waitFor('two runs', async () => ids.filter((id) => seen.has(id)).length === 2);
    const deferred = await waitFor('the deferred job', async () => {
      const { rows } = await db.withSystem((tx) =>
        tx.query<{ start_after: Date }>(
          `select start_after from pgboss.job where name = 'test.hourly' and state = 'created' and data->>'tenantId' = $1`,
          [tenant],
        ),
      );
      return rows[0];
    });
    const nextHour = Math.ceil(Date.now() / 3_600_000) * 3_600_000;
    expect(new Date(deferred.start_after).getTime()).toBe(nextHour);
    expect(ids.filter((id) => seen.has(id))).toHaveLength(2);
  });

  it('replays a dead letter without applying its committed effect again', async () => {
    const { createDlqService } = await import('../src/modules/jobs/dlq.service.js');
    const tenant = await createTenant();
    const id = await db.withTenant(tenant, (tx) => queue.enqueue(tx, scope(tenant), 'test.replayable', {}));
    const [item] = await waitFor('the dead letter', async () => (await deadItems(tenant)).rows[0] && (await deadItems(tenant)).rows);
    expect(item!.job_id).toBe(id);
    failAfterEffect = false;
    const audit = { record: async () => ({}) as never };
    const dlq = createDlqService({ db, audit, jobs: queue });
    const { rows: [row] } = await db.withTenant(tenant, (tx) => tx.query<{ id: string }>('select id from dlq_items'));
    await dlq.replay({ ...scope(tenant), requestId: 'test', principal: { kind: 'system', name: 'test' }, log: silent }, row!.id);
    await waitFor('the replay', async () => seen.get(id)?.length === 2);
    await waitFor('the replay to settle', async () => {
      const { rows } = await db.withSystem((tx) => tx.query<{ n: number }>(`select count(*)::int as n from pgboss.job where data->>'jobId' = $1 and state = 'completed'`, [id]));
      return rows[0]!.n === 2;
    });
    const { rows } = await db.withTenant(tenant, (tx) => tx.query<{ n: number }>('select count(*)::int as n from test_effects where job_id = $1', [id]));
    expect(rows[0]!.n).toBe(1);
    expect((await deadItems(tenant)).rows.map((r) => r.status)).toEqual(['replayed']);
  });

  it('counts runs by outcome', async () => {
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/job_runs_total\{queue="test.flaky",outcome="succeeded"\} [1-9]/);
    expect(text).toMatch(/job_runs_total\{queue="test.flaky",outcome="retried"\} [1-9]/);
    expect(text).toMatch(/job_runs_total\{queue="test.permanent",outcome="dead_lettered"\} 1/);
  });
});
