/**
 * On PostgreSQL a timed-out request or job leaves no statement running: its transaction carries the deadline as
 * statement_timeout, so the server cancels the statement itself when the caller has stopped waiting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import pg from 'pg';
import { systemClock } from '../../src/platform/clock.js';
import { createHttpServer } from '../../src/platform/http.js';
import { createJobQueue } from '../../src/platform/jobs/job-queue.js';
import { createMetrics } from '../../src/platform/metrics.js';
import { createTestDb, problemOf, waitFor, type TestDb } from '../harness.js';

let store: TestDb;
let watcher: pg.Client;
beforeAll(async () => {
  store = await createTestDb();
  watcher = new pg.Client({ connectionString: store.url });
  await watcher.connect();
});
afterAll(async () => {
  await watcher.end();
  await store.close();
});

/** Statements of this database still running whose text contains `marker`. */
async function running(marker: string): Promise<number> {
  const { rows } = await watcher.query(
    `select count(*)::int as n from pg_stat_activity where datname = current_database() and state = 'active' and query like '%' || $1 || '%' and pid <> pg_backend_pid()`,
    [marker],
  );
  return rows[0].n as number;
}

describe('timeouts stop their statements on PostgreSQL', () => {
  it('a request answered 503 leaves no query running', async () => {
    const app = createHttpServer({ logLevel: 'silent', bodyLimit: 1024, logger: false, requestTimeoutMs: 300 });
    let failure: { code?: string } | null = null;
    app.get('/sleep', async () => store.db.withSystem((tx) => tx.query('select pg_sleep(60) /* request-timeout-marker */')).catch((error) => {
      failure = error;
      throw error;
    }));
    const res = await app.inject({ method: 'GET', url: '/sleep' });
    expect(res.statusCode).toBe(503);
    expect(problemOf(res).code).toBe('request_timeout');
    await waitFor('the statement to be cancelled', async () => (await running('request-timeout-marker')) === 0, 10_000);
    await waitFor('the handler to see the cancellation', async () => failure !== null, 10_000);
    expect(failure!.code).toBe('57014');
    await app.close();
  });

  it('a job past its timeout leaves no query running', async () => {
    const queue = createJobQueue({ db: store.db, log: { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined }, clock: systemClock, metrics: createMetrics(), pollIntervalMs: 20 });
    let failure: { code?: string } | null = null;
    queue.register({
      name: 'test.sleepy',
      payload: z.object({}),
      timeoutSeconds: 1,
      retry: { maxAttempts: 1 },
      handle: async () => {
        await store.db.withSystem((tx) => tx.query('select pg_sleep(60) /* job-timeout-marker */')).catch((error) => {
          failure = error;
          throw error;
        });
      },
    });
    await queue.start();
    queue.startWorkers();
    const tenantId = '0190a000-0000-7000-8000-00000000abcd';
    await store.db.withSystem((tx) => tx.query('insert into tenants (id, name) values ($1, $2)', [tenantId, 'sleepy']));
    await store.db.withTenant(tenantId, (tx) => queue.enqueue(tx, { tenantId, actor: { type: 'system', id: 'test' }, requestId: null }, 'test.sleepy', {}));
    await waitFor('the job to start its statement', async () => (await running('job-timeout-marker')) === 1 || failure !== null, 15_000);
    await waitFor('the statement to be cancelled', async () => failure !== null && (await running('job-timeout-marker')) === 0, 15_000);
    expect(failure!.code).toBe('57014');
    await queue.stop();
  });
});
