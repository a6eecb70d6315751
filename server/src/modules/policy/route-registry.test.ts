import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer } from '../../platform/http.js';
import { createRouteRegistry, toOpenApiPath } from './route-registry.js';

const KNOWN = new Set(['user:read', 'user:create', 'user:delete']);

let app: HttpServer | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** A bare server with the registry attached before any route, as app.ts does. */
function appWithRegistry() {
  app = createHttpServer({ logLevel: 'silent', bodyLimit: 1024 * 1024, logger: false });
  const registry = createRouteRegistry(KNOWN);
  registry.attach(app);
  return { app, registry };
}

const ok = async () => ({ ok: true });

describe('createRouteRegistry', () => {
  it('refuses to start with a route that declares no action, naming its method and path', async () => {
    const { app } = appWithRegistry();
    app.get('/api/v1/users/:id', { config: { action: 'user:read' } }, ok);
    app.post('/api/v1/widgets', ok);
    await expect(app.ready()).rejects.toThrow(
      'POST /api/v1/widgets declares no policy action (config.action) and is not public',
    );
  });

  it('refuses to start with a route naming an action the schema does not declare', async () => {
    const { app } = appWithRegistry();
    app.delete('/api/v1/users/:id', { config: { action: 'user:purge' } }, ok);
    await expect(app.ready()).rejects.toThrow(/DELETE \/api\/v1\/users\/\{id\} names action "user:purge"/);
  });

  it('refuses a route that is public and names an action', async () => {
    const { app } = appWithRegistry();
    app.get('/api/v1/odd', { config: { action: 'user:read', public: true } }, ok);
    await expect(app.ready()).rejects.toThrow(/GET \/api\/v1\/odd is public and also names action user:read/);
  });

  it('starts with public routes and routes naming known actions, and they answer', async () => {
    const { app } = appWithRegistry();
    app.get('/healthz', { config: { public: true } }, ok);
    app.post('/api/v1/users', { config: { action: 'user:create' } }, ok);
    await expect(app.ready()).resolves.toBeDefined();
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ok: true });
  });

  it('lists every problem at once', async () => {
    const { app } = appWithRegistry();
    app.get('/a', ok);
    app.get('/b', { config: { action: 'nope' } }, ok);
    const error = await app.ready().then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/^Refusing to start: routes without a valid policy declaration:/);
    expect(error?.message).toContain('GET /a declares no policy action');
    expect(error?.message).toContain('GET /b names action "nope"');
  });

  it('lists entries with OpenAPI paths, without the HEAD routes Fastify adds for GET', async () => {
    const { app, registry } = appWithRegistry();
    app.get('/healthz', { config: { public: true } }, ok);
    app.get('/api/v1/users/:id', { config: { action: 'user:read' } }, ok);
    // An explicit HEAD in a method list is dropped too: a HEAD route shares its route's config, so the same check applies.
    app.route({ method: ['DELETE', 'HEAD'], url: '/api/v1/archives/:archiveId', config: { action: 'user:delete' }, handler: ok });
    await app.ready();
    // Fastify really did register the HEAD routes: they answer.
    expect((await app.inject({ method: 'HEAD', url: '/healthz' })).statusCode).toBe(200);
    expect(registry.entries()).toEqual([
      { method: 'GET', path: '/healthz', action: null, public: true },
      { method: 'GET', path: '/api/v1/users/{id}', action: 'user:read', public: false },
      { method: 'DELETE', path: '/api/v1/archives/{archiveId}', action: 'user:delete', public: false },
    ]);
  });
});

describe('toOpenApiPath', () => {
  it('rewrites every :param to {param}', () => {
    expect(toOpenApiPath('/api/v1/tenants/:tenantId/users/:user_id/tokens')).toBe('/api/v1/tenants/{tenantId}/users/{user_id}/tokens');
    expect(toOpenApiPath('/healthz')).toBe('/healthz');
  });
});
