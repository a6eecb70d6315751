import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertDeadLetter } from './fixtures.js';
import { createTestApp, problemOf, type TestApp, type TestTenant } from './harness.js';

let t: TestApp;
let tenant: TestTenant;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTenant();
});
afterAll(() => t.close());

async function queuedJobs(jobId: string) {
  const { rows } = await t.db.withSystem((tx) =>
    tx.query<{ idempotency: string; errors: unknown[] }>(
      `select data->>'idempotencyKey' as idempotency, data->'errors' as errors from pgboss.job where data->>'jobId' = $1`,
      [jobId],
    ),
  );
  return rows;
}

describe('dead-letter queue', () => {
  it('lists and shows dead letters with their errors', async () => {
    const { id, jobId } = await insertDeadLetter(t, tenant.id);
    const list = (await tenant.admin.get('/api/v1/dlq?queue=audit.checkpoint&status=dead')).json();
    expect(list.items.map((i: { id: string }) => i.id)).toContain(id);
    const item = (await tenant.admin.get(`/api/v1/dlq/${id}`)).json();
    expect(item).toMatchObject({ id, jobId, status: 'dead', attempts: 5, lastError: { message: 'upstream timed out' }, idempotencyKey: `audit.checkpoint:${jobId}` });
  });

  it('replays an item with its job id, idempotency key and history, once', async () => {
    const { id, jobId } = await insertDeadLetter(t, tenant.id);
    const res = await tenant.admin.post(`/api/v1/dlq/${id}/replay`);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: 'replayed', replayCount: 1 });
    const jobs = await queuedJobs(jobId);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ idempotency: `audit.checkpoint:${jobId}`, errors: [expect.objectContaining({ message: 'upstream timed out' })] });
    const again = await tenant.admin.post(`/api/v1/dlq/${id}/replay`);
    expect(again.statusCode).toBe(409);
    expect(await queuedJobs(jobId)).toHaveLength(1);
    const [event] = (await tenant.admin.get('/api/v1/audit?action=dlq.replay')).json().items;
    expect(event).toMatchObject({ target: { id }, after: { status: 'replayed', trigger: 'manual' } });
  });

  it('discards with a reason, audited, and then refuses to replay it', async () => {
    const { id, jobId } = await insertDeadLetter(t, tenant.id);
    const noReason = await tenant.admin.send('DELETE', `/api/v1/dlq/${id}`, {});
    expect(noReason.statusCode).toBe(400);
    expect(problemOf(noReason).errors![0]!.path).toBe('body.reason');
    expect((await tenant.admin.send('DELETE', `/api/v1/dlq/${id}`, { reason: 'customer retired the feed' })).statusCode).toBe(204);
    const replay = await tenant.admin.post(`/api/v1/dlq/${id}/replay`);
    expect(replay.statusCode).toBe(409);
    expect(problemOf(replay).detail).toContain('discarded');
    expect(await queuedJobs(jobId)).toHaveLength(0);
    const [event] = (await tenant.admin.get('/api/v1/audit?action=dlq.discard')).json().items;
    expect(event.after).toMatchObject({ reason: 'customer retired the feed' });
  });

  it('replays a queue in bulk and says what it skipped', async () => {
    const tn = await t.createTenant();
    const a = await insertDeadLetter(t, tn.id);
    const b = await insertDeadLetter(t, tn.id);
    await tn.admin.send('DELETE', `/api/v1/dlq/${b.id}`, { reason: 'not needed' });
    const stranger = randomUUID();
    const res = await tn.admin.post('/api/v1/dlq/replay', { queue: 'audit.checkpoint', ids: [a.id, b.id, stranger] });
    expect(res.statusCode).toBe(202);
    expect(res.json().replayed).toEqual([a.id]);
    expect(res.json().skipped).toEqual(
      expect.arrayContaining([{ id: b.id, reason: 'was discarded' }, { id: stranger, reason: expect.stringContaining('not a dead-letter item') }]),
    );
    const c = await insertDeadLetter(t, tn.id);
    const all = (await tn.admin.post('/api/v1/dlq/replay', { queue: 'audit.checkpoint' })).json();
    expect(all.replayed).toEqual([c.id]);
  });

  it('keeps replay and discard with admins', async () => {
    const { id } = await insertDeadLetter(t, tenant.id);
    const analyst = await t.createUser(tenant, ['analyst']);
    expect((await analyst.client.get(`/api/v1/dlq/${id}`)).statusCode).toBe(200);
    expect((await analyst.client.post(`/api/v1/dlq/${id}/replay`)).statusCode).toBe(403);
  });
});
