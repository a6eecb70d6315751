/**
 * Issue 16: a handler timeout must stop the handler's queries too, not only the waiting. The request's deadline
 * travels with its work (platform/deadline.ts); the store refuses to start a statement after it (both stores) and,
 * on PostgreSQL, the server abandons a running one (test/postgres/request-timeout.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeadlineExceededError } from '../src/platform/deadline.js';
import { createHttpServer } from '../src/platform/http.js';
import { createTestDb, problemOf, waitFor, type TestDb } from './harness.js';

let store: TestDb;
beforeAll(async () => {
  store = await createTestDb();
});
afterAll(() => store.close());

describe('a request that runs past its timeout', () => {
  it('is answered 503 and its chain of statements stops at the deadline', async () => {
    const app = createHttpServer({ logLevel: 'silent', bodyLimit: 1024, logger: false, requestTimeoutMs: 200 });
    let outcome: unknown = 'still running';
    let statements = 0;
    app.get('/slow', async () => {
      try {
        // Without the deadline this would go on for 100,000 statements, long after the client was answered.
        for (let i = 0; i < 100_000; i++) {
          await store.db.withSystem((tx) => tx.query('select 1'));
          statements++;
        }
        outcome = 'ran to the end';
      } catch (error) {
        outcome = error;
      }
      return { statements };
    });
    app.get('/fast', async () => store.db.withSystem(async (tx) => (await tx.query('select 1 as one')).rows[0]));
    const res = await app.inject({ method: 'GET', url: '/slow' });
    expect(res.statusCode).toBe(503);
    expect(problemOf(res)).toMatchObject({ code: 'request_timeout', detail: expect.stringContaining('was stopped') });
    await waitFor('the handler to stop', async () => outcome !== 'still running');
    expect(outcome).toBeInstanceOf(DeadlineExceededError);
    const after = statements;
    // Work started afterwards (a fresh request) is not under the old deadline.
    expect((await app.inject({ method: 'GET', url: '/fast' })).json()).toEqual({ one: 1 });
    expect(statements).toBe(after);
    await app.close();
  });

  it('leaves work that finished in time free of the deadline', async () => {
    const app = createHttpServer({ logLevel: 'silent', bodyLimit: 1024, logger: false, requestTimeoutMs: 200 });
    let later: Promise<unknown> = Promise.resolve();
    app.get('/quick', async () => {
      // Something the request starts and deliberately leaves running (a background loop) inherits its context.
      later = new Promise((resolve) => setTimeout(resolve, 400)).then(() => store.db.withSystem((tx) => tx.query('select 1 as one')));
      return { ok: true };
    });
    expect((await app.inject({ method: 'GET', url: '/quick' })).statusCode).toBe(200);
    await expect(later).resolves.toMatchObject({ rows: [{ one: 1 }] });
    await app.close();
  });
});
