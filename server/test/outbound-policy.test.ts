/**
 * Issue 16, defect 5: with SUMMIT_ENV=prod every outbound client (webhooks, ServiceNow connectors, enrichment
 * providers) refuses private, loopback, link-local and reserved destinations, when the URL is configured and again
 * when a connection opens (a public name that resolves to 127.0.0.1 gets nowhere). Names resolve from a table here.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, problemOf, type TestApp, type TestTenant } from './harness.js';

let t: TestApp;
let tenant: TestTenant;
let receiver: Server;
let port: number;
let contacted = 0;

beforeAll(async () => {
  receiver = createServer((_req, res) => {
    contacted++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"result":[]}');
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  port = (receiver.address() as { port: number }).port;
  t = await createTestApp({
    env: 'prod',
    outbound: { resolve: async (host) => (host.endsWith('.rebind.example') ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '192.0.2.1', family: 4 }]) },
  });
  tenant = await t.createTenant();
});
afterAll(async () => {
  await t.close();
  await new Promise((resolve) => receiver.close(resolve));
});

const AUTH = { type: 'basic', username: 'u', password: 'p' };

describe('configuration time', () => {
  it.each(['https://169.254.169.254', 'https://10.0.0.5', 'https://127.0.0.1', 'https://[::1]', 'https://[::ffff:10.0.0.5]', 'https://localhost', 'http://acme.service-now.com'])(
    'refuses a connector instanceUrl of %s',
    async (instanceUrl) => {
      const res = await tenant.admin.post('/api/v1/connectors', { kind: 'servicenow', name: `c${Math.random()}`, config: { instanceUrl, auth: AUTH } });
      expect(res.statusCode, res.body).toBe(400);
      expect(problemOf(res).errors?.map((e) => e.path)).toContain('body.config.instanceUrl');
    },
  );

  it.each(['https://169.254.169.254/', 'https://10.0.0.5/', 'https://127.0.0.1:8443/', 'http://intel.example.com/'])('refuses a provider baseUrl of %s', async (baseUrl) => {
    const res = await tenant.admin.post('/api/v1/ti/providers', { name: `p${Math.random().toString(36).slice(2, 8)}`, baseUrl, costCents: 1, ratePerMinute: 60 });
    expect(res.statusCode, res.body).toBe(400);
    expect(problemOf(res).errors?.map((e) => e.path)).toEqual(['body.baseUrl']);
  });

  it('refuses a connector instanceUrl changed to a private address', async () => {
    const created = await tenant.admin.post('/api/v1/connectors', { kind: 'servicenow', name: 'patched', config: { instanceUrl: 'https://acme.service-now.com', auth: AUTH } });
    expect(created.statusCode, created.body).toBe(201);
    const res = await tenant.admin.patch(`/api/v1/connectors/${created.json().id}`, { config: { instanceUrl: 'https://169.254.169.254' } });
    expect(res.statusCode, res.body).toBe(400);
    expect(problemOf(res).errors?.map((e) => e.path)).toContain('body.config.instanceUrl');
  });

  it('refuses a webhook to a private address', async () => {
    const res = await tenant.admin.post('/api/v1/notification-channels', { kind: 'webhook', name: 'hook', url: 'https://169.254.169.254/hook' });
    expect(res.statusCode, res.body).toBe(400);
    expect(problemOf(res).errors?.map((e) => e.path)).toEqual(['body.url']);
  });
});

describe('connect time', () => {
  it('refuses a public-looking name that resolves to 127.0.0.1, and the connection test says so', async () => {
    const created = await tenant.admin.post('/api/v1/connectors', {
      kind: 'servicenow',
      name: 'rebinding',
      config: { instanceUrl: `https://acme.rebind.example:${port}`, auth: AUTH },
    });
    expect(created.statusCode, created.body).toBe(201);
    const res = await tenant.admin.post(`/api/v1/connectors/${created.json().id}/test`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ ok: false, kind: 'network', message: expect.stringContaining('resolves to 127.0.0.1') });
    expect(contacted).toBe(0);
  });
});
