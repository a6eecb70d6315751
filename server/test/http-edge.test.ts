/**
 * Issue 16 at the HTTP edge: unknown query parameters, 405 for a known path with another method, credentials and
 * bind values kept out of every log line, and database errors that never reach a problem body.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../src/platform/http.js';
import { DATABASE_VOCABULARY } from './fuzz-support.js';
import { createTestApp, createTestDb, OPERATOR_TOKEN, problemOf, type TestApp, type TestDb, type TestTenant } from './harness.js';

const lines: string[] = [];
let t: TestApp;
let tenant: TestTenant;

beforeAll(async () => {
  t = await createTestApp({ logStream: { write: (line) => void lines.push(line) } });
  tenant = await t.createTenant();
});
afterAll(() => t.close());


describe('unknown query parameters', () => {
  it('are refused with 400 naming each and the parameters the route takes', async () => {
    const res = await tenant.admin.get('/api/v1/ingest/runs?statuz=running&limit=5');
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors).toEqual([{ path: 'querystring.statuz', message: 'is not a query parameter of this route (this route takes limit, cursor, status, source)' }]);
    const none = await tenant.admin.get('/api/v1/me?verbose=1');
    expect(none.statusCode).toBe(400);
    expect(problemOf(none).errors).toEqual([{ path: 'querystring.verbose', message: 'is not a query parameter of this route (this route takes no query parameters)' }]);
  });

  it('filters ingest runs by status and source, which were ignored before', async () => {
    const bundle = () => ({ type: 'bundle', id: `bundle--${randomUUID()}`, objects: [] });
    expect((await tenant.admin.post('/api/v1/ingest/stix?source=feed-a', bundle())).statusCode).toBe(202);
    expect((await tenant.admin.post('/api/v1/ingest/stix?source=feed-b', bundle())).statusCode).toBe(202);
    const running = (await tenant.admin.get('/api/v1/ingest/runs?status=running')).json();
    expect(running.items).toEqual([]);
    const succeeded = (await tenant.admin.get('/api/v1/ingest/runs?status=succeeded')).json();
    expect(succeeded.items.map((r: { source: string }) => r.source).sort()).toEqual(['feed-a', 'feed-b']);
    const fromA = (await tenant.admin.get('/api/v1/ingest/runs?source=feed-a')).json();
    expect(fromA.items.map((r: { source: string }) => r.source)).toEqual(['feed-a']);
    const bad = await tenant.admin.get('/api/v1/ingest/runs?status=stuck');
    expect(bad.statusCode).toBe(400);
    expect(problemOf(bad).errors?.[0]?.path).toBe('querystring.status');
  });
});

describe('a known path with another method', () => {
  it('answers 405 with an Allow header, with or without a token', async () => {
    for (const who of [tenant.admin, t.anonymous]) {
      const res = await who.send('PUT', '/api/v1/users', { email: 'x@example.com' });
      expect(res.statusCode).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD, POST');
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(problemOf(res)).toMatchObject({ code: 'method_not_allowed', status: 405, title: 'Method Not Allowed', detail: expect.stringContaining('GET, HEAD, POST') });
    }
    const byId = await tenant.admin.send('POST', `/api/v1/users/${randomUUID()}`, {});
    expect([byId.statusCode, byId.headers.allow]).toEqual([405, 'DELETE, GET, HEAD, PATCH']);
  });

  it('still answers 404 for a path no route has', async () => {
    const res = await tenant.admin.send('PUT', '/api/v1/nothing-here', {});
    expect(res.statusCode).toBe(404);
    expect(res.headers.allow).toBeUndefined();
  });
});

describe('log lines', () => {
  it('never carry a share-link token, a bearer token or a secret query value', async () => {
    const playbook = (await tenant.admin.post('/api/v1/playbooks', { name: 'shared', steps: [{ id: 'find', type: 'search', types: ['malware'] }] })).json();
    const link = (await tenant.admin.post(`/api/v1/playbooks/${playbook.id}/links`, { permission: 'view-results' })).json();
    lines.length = 0;
    const visit = await t.anonymous.get(`/api/v1/shared/${link.token}`);
    expect(visit.statusCode, visit.body).toBeLessThan(500);
    await t.anonymous.get(`/api/v1/shared/${link.token}/export?format=markdown&access_token=hunter2-secret`);
    await tenant.admin.get('/api/v1/users?q=ann%40example.com');
    await t.operator.get('/api/v1/tenants');
    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(0);
    expect(log).toContain('/api/v1/shared/[redacted]');
    for (const secret of [link.token, tenant.adminToken, OPERATOR_TOKEN, 'hunter2-secret', 'ann@example.com', 'ann%40example.com']) expect(log).not.toContain(secret);
    // Nor does a problem body repeat the token in its instance.
    expect(visit.body).not.toContain(link.token);
  });
});

describe('database errors', () => {
  let store: TestDb;
  const captured: string[] = [];
  const app = createHttpServer({ logLevel: 'info', bodyLimit: 1024, logStream: { write: (line) => void captured.push(line) } });

  beforeAll(async () => {
    store = await createTestDb();
    await store.db.withSystem((tx) => tx.exec('create table edge_secrets (id int primary key, owner text not null unique)'));
    app.get('/bad-value', async () => store.db.withSystem((tx) => tx.query('select $1::uuid as id', ['secret-bind-value ann@example.com'])));
    app.get('/taken', async () =>
      store.db.withSystem(async (tx) => {
        await tx.query('insert into edge_secrets values (1, $1)', ['bob@example.com']);
        await tx.query('insert into edge_secrets values (2, $1)', ['bob@example.com']);
      }),
    );
    app.get('/broken', async () => store.db.withSystem((tx) => tx.query('select * from no_such_table where owner = $1', ['carol@example.com'])));
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it('answer plain-words problems, never database text, and log the code and statement without values', async () => {
    const bad = await app.inject({ method: 'GET', url: '/bad-value' });
    const taken = await app.inject({ method: 'GET', url: '/taken' });
    const broken = await app.inject({ method: 'GET', url: '/broken' });
    expect([bad.statusCode, taken.statusCode, broken.statusCode]).toEqual([400, 409, 500]);
    for (const res of [bad, taken, broken]) {
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body).not.toMatch(DATABASE_VOCABULARY);
      expect(res.body).not.toMatch(/example\.com|secret-bind-value|edge_secrets|no_such_table/);
    }
    const errors = captured.map((line) => JSON.parse(line)).filter((entry) => entry.err);
    expect(errors.map((e) => [e.err.code, e.err.statement])).toEqual([
      ['22P02', 'select $1::uuid as id'],
      ['23505', 'insert into edge_secrets values'],
      ['42P01', 'select * from no_such_table'],
    ]);
    const log = captured.join('');
    for (const value of ['secret-bind-value', 'ann@example.com', 'bob@example.com', 'carol@example.com']) expect(log).not.toContain(value);
    expect(log).not.toMatch(/"params"|"detail"|"where"/);
  });
});
