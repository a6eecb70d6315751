import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../src/platform/http.js';
import { AppError } from '../src/platform/errors.js';
import { loadMigrations } from '../src/platform/migrations.js';
import { createTestApp, problemOf, storeKind, type TestApp, type TestTenant } from './harness.js';

let t: TestApp;
let tenant: TestTenant;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTenant();
});
afterAll(() => t.close());

describe('operational endpoints', () => {
  it('reports health and readiness without a token', async () => {
    expect((await t.anonymous.get('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = (await t.anonymous.get("/readyz")).json();
    expect(ready).toMatchObject({ status: 'ready', store: storeKind, migrations: (await loadMigrations()).length });
  });

  it('exposes request and policy latency as Prometheus metrics', async () => {
    await tenant.admin.get('/api/v1/me');
    const res = await t.anonymous.get('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(/http_request_duration_seconds_count\{route="\/api\/v1\/me",method="GET",status_code="200"\} \d+/);
    expect(res.body).toMatch(/policy_decision_duration_seconds_count\{decision="allow",cache="(hit|miss)"\} \d+/);
  });

  it('describes every route in an OpenAPI 3.1 document with unique operation ids', async () => {
    const doc = (await t.anonymous.get('/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    const operations = Object.entries(doc.paths as Record<string, Record<string, { operationId?: string }>>).flatMap(
      ([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, id: op.operationId })),
    );
    const api = operations.filter((o) => o.path.startsWith('/api/'));
    expect(api.length).toBeGreaterThanOrEqual(14);
    expect(api.every((o) => o.id)).toBe(true);
    expect(new Set(api.map((o) => o.id)).size).toBe(api.length);
    expect(doc.paths['/api/v1/users/{id}'].patch.requestBody).toBeDefined();
    expect(doc.paths['/api/v1/users'].post.responses['4XX']).toBeDefined();
  });

  it('serves the interactive API docs', async () => {
    const res = await t.anonymous.get('/docs/');
    expect([200, 302]).toContain(res.statusCode);
    const page = res.statusCode === 302 ? await t.anonymous.get(res.headers.location as string) : res;
    expect(page.body).toContain('swagger');
  });
});

describe('errors', () => {
  it('answers an unknown route with 404 problem+json, without asking for a token', async () => {
    const res = await t.anonymous.get('/api/v1/nope');
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(problemOf(res)).toMatchObject({ code: 'route_not_found', requestId: res.headers['x-request-id'] });
  });

  it('answers a body over the limit with 413', async () => {
    const res = await tenant.admin.post('/api/v1/users', { email: 'a@b.example', roles: ['viewer'], displayName: 'x'.repeat(70_000) });
    expect(res.statusCode).toBe(413);
    expect(problemOf(res).code).toBe('body_too_large');
  });

  it('answers malformed JSON and a wrong media type clearly', async () => {
    const broken = await tenant.admin.post('/api/v1/users', '{"email":', { 'content-type': 'application/json' });
    expect(broken.statusCode).toBe(400);
    expect(problemOf(broken).detail).toContain('not valid JSON');
    const text = await tenant.admin.post('/api/v1/users', 'email=a', { 'content-type': 'text/plain' });
    expect(text.statusCode).toBe(415);
  });

  it('answers a malformed URL escape with problem+json', async () => {
    const res = await tenant.admin.get('/api/v1/users/%zz');
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(problemOf(res)).toMatchObject({ code: 'bad_request', requestId: res.headers['x-request-id'] });
  });

  it('names array items in field errors as body.roles[0]', async () => {
    const res = await tenant.admin.post('/api/v1/users', { email: 'z@z.example', roles: ['boss'] });
    expect(problemOf(res).errors).toEqual([expect.objectContaining({ path: 'body.roles[0]' })]);
  });

  it('answers a malformed id with 400 naming the parameter', async () => {
    const res = await tenant.admin.get('/api/v1/users/123');
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors).toEqual([expect.objectContaining({ path: 'params.id' })]);
  });

  it('hides internals of an unexpected failure behind a 500 with the request id', async () => {
    const app = createHttpServer({ logLevel: 'silent', bodyLimit: 1024, logger: false });
    app.get('/boom', async () => {
      throw new Error('select * from users where password = hunter2');
    });
    app.get('/upstream', async () => {
      throw new AppError('upstream_failed', 'ServiceNow did not answer.');
    });
    const boom = await app.inject({ method: 'GET', url: '/boom' });
    expect(boom.statusCode).toBe(500);
    expect(boom.body).not.toContain('select');
    expect(boom.body).not.toContain('at ');
    expect(problemOf(boom)).toMatchObject({ code: 'internal_error', detail: expect.stringContaining(problemOf(boom).requestId) });
    expect((await app.inject({ method: 'GET', url: '/upstream' })).statusCode).toBe(502);
    await app.close();
  });
});
