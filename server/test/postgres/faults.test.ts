/**
 * Faults across real processes against one PostgreSQL: a worker killed mid-job, and two workers sharing a
 * per-second schedule. These wait on real time (seconds), because what they test is the system's own timing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/platform/clock.js';
import { createJobQueue } from '../../src/platform/jobs/job-queue.js';
import { createTestApp, createTestDb, waitFor, type TestApp, type TestDb } from '../harness.js';
import { z } from 'zod';

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const children: ChildProcess[] = [];

function start(args: string[], env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: serverDir, env: { ...process.env, ...env } });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d;
      if (/ready|job workers and scheduler started/.test(out)) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d));
    child.once('exit', (code) => reject(new Error(`child exited with ${code}: ${out}`)));
  });
}

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

describe('a worker killed mid-job', () => {
  let store: TestDb;
  beforeAll(async () => {
    store = await createTestDb();
    await store.db.withSystem(async (tx) => {
      await tx.query('create table fault_effects (tenant_id uuid, job_id uuid, pid int)');
      await tx.query('create table fault_attempts (job_id uuid, pid int)');
      await tx.query('grant insert, select on fault_effects to summit_app');
    });
  });
  afterAll(() => store.close());

  it('is retried after its expiry by another worker and its effect is applied exactly once', async () => {
    const tenantId = randomUUID();
    await store.db.withSystem((tx) => tx.query(`insert into tenants (id, name) values ($1, 'fault')`, [tenantId]));
    const worker = await start(['test/postgres/crash-worker.ts'], { DATABASE_URL: store.url!, HANG: '1' });

    const log = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
    const producer = createJobQueue({ db: store.db, log, clock: systemClock });
    producer.register({ name: 'fault.effect', payload: z.object({}), timeoutSeconds: 2, crashRecoverySeconds: 1, handle: async () => undefined });
    await producer.start();
    const jobId = await store.db.withTenant(tenantId, (tx) =>
      producer.enqueue(tx, { tenantId, actor: { type: 'system', id: 'test' }, requestId: null }, 'fault.effect', {}),
    );
    await producer.stop();

    await waitFor('the first attempt', async () => {
      const { rows } = await store.db.withSystem((tx) => tx.query('select 1 from fault_attempts where job_id = $1', [jobId]));
      return rows.length === 1;
    });
    worker.kill('SIGKILL');
    await start(['test/postgres/crash-worker.ts'], { DATABASE_URL: store.url!, HANG: '0' });

    const state = await waitFor('the job to complete', async () => {
      const { rows } = await store.db.withSystem((tx) =>
        tx.query<{ state: string; retry_count: number }>('select state, retry_count from pgboss.job where id = $1', [jobId]),
      );
      return rows[0]?.state === 'completed' && rows[0];
    }, 60_000);
    expect(state.retry_count).toBe(1);
    const effects = await store.db.withSystem((tx) => tx.query<{ pid: number }>('select pid from fault_effects where job_id = $1', [jobId]));
    const attempts = await store.db.withSystem((tx) => tx.query<{ pid: number }>('select pid from fault_attempts where job_id = $1', [jobId]));
    expect(effects.rows).toHaveLength(1);
    expect(new Set(attempts.rows.map((r) => r.pid)).size).toBe(2);
  }, 90_000);
});

describe('two worker processes and a per-second schedule', () => {
  let t: TestApp;
  let dataDir: string;
  beforeAll(async () => {
    t = await createTestApp();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'summit-workers-'));
  });
  afterAll(async () => {
    await t.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs each fire time exactly once across both', async () => {
    const tenant = await t.createTenant();
    const env = {
      DATABASE_URL: t.url!,
      SUMMIT_SECRET: 'fault-test-secret-0123456789-0123456789-01',
      SUMMIT_OPERATOR_TOKEN: 'smo_fault-test-operator-0123456789-0123',
      SUMMIT_DEMO_TENANT: 'false',
      SUMMIT_LOG_LEVEL: 'info',
    };
    await Promise.all([
      start(['src/summit.ts', 'serve', '--role', 'worker'], { ...env, SUMMIT_DATA_DIR: path.join(dataDir, 'a') }),
      start(['src/summit.ts', 'serve', '--role', 'worker'], { ...env, SUMMIT_DATA_DIR: path.join(dataDir, 'b') }),
    ]);
    const created = await tenant.admin.post('/api/v1/schedules', { name: 'every second', jobType: 'audit.checkpoint', cron: '* * * * * *' });
    expect(created.statusCode).toBe(201);
    const scheduleId = created.json().id;
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    await tenant.admin.patch(`/api/v1/schedules/${scheduleId}`, { enabled: false });
    const { rows } = await t.db.withSystem((tx) =>
      tx.query<{ at: string }>(`select data->>'scheduledFor' as at from pgboss.job where data->>'scheduleId' = $1 order by 1`, [scheduleId]),
    );
    const seconds = rows.map((r) => new Date(r.at).getTime() / 1000);
    expect(seconds.length).toBeGreaterThanOrEqual(8);
    expect(new Set(seconds).size).toBe(seconds.length);
    for (let i = 1; i < seconds.length; i++) expect(seconds[i]! - seconds[i - 1]!).toBe(1);
  }, 90_000);
});
