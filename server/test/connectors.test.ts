import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../src/platform/clock.js';
import { generateIncidents, loadFixtures } from '../src/modules/connectors/servicenow/fixtures.js';
import { startServiceNowTestServer, type ServiceNowTestServer } from '../src/modules/connectors/servicenow/test-server.js';
import { createTestApp, problemOf, waitFor, type TestApp, type TestTenant } from './harness.js';
import { entityNamesOf } from './graph-fixtures.js';

let t: TestApp;
let acme: TestTenant;
let other: TestTenant;
const servers: ServiceNowTestServer[] = [];

beforeAll(async () => {
  t = await createTestApp();
  t.summit.modules.jobs.startWorkers();
  acme = await t.createTenant('acme-sn');
  other = await t.createTenant('other-sn');
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await t.close();
});

async function server(options: Parameters<typeof startServiceNowTestServer>[0] = {}) {
  const s = await startServiceNowTestServer(options);
  servers.push(s);
  return s;
}

function body(url: string, name: string, extra: Record<string, unknown> = {}) {
  return { kind: 'servicenow', name, config: { instanceUrl: url, auth: { type: 'basic', username: 'admin', password: 'admin' }, pageSize: 2, ...extra } };
}

async function createConnector(tenant: TestTenant, url: string, name: string, extra: Record<string, unknown> = {}) {
  const res = await tenant.admin.post('/api/v1/connectors', body(url, name, extra));
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

async function syncAndWait(tenant: TestTenant, id: string) {
  const res = await tenant.admin.post(`/api/v1/connectors/${id}/sync`, {});
  expect(res.statusCode, res.body).toBe(202);
  const { runId } = res.json();
  return waitFor(`run ${runId}`, async () => {
    const run = (await tenant.admin.get(`/api/v1/connectors/${id}/runs`)).json().items.find((r: { id: string }) => r.id === runId);
    return run && !['queued', 'running'].includes(run.status) ? run : undefined;
  }, 60_000);
}

/** The tenant's graph as comparable text: entities by type and name, and the relationship count of each incident. */
async function graphOf(tenant: TestTenant) {
  return entityNamesOf(tenant.admin);
}

describe('connector configuration', () => {
  it('creates, lists, reads, updates and deletes a connector without ever returning its secrets', async () => {
    const s = await server({ users: [{ username: 'admin', password: 'Sup3r-Secret-pw' }] });
    const res = await acme.admin.post('/api/v1/connectors', body(s.url, 'crud', { auth: { type: 'basic', username: 'admin', password: 'Sup3r-Secret-pw' } }));
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created.config).toMatchObject({ instanceUrl: s.url, table: 'incident', auth: { type: 'basic', username: 'admin', hasSecret: true }, pageSize: 2 });
    expect(res.body).not.toContain('Sup3r-Secret-pw');
    const list = await acme.admin.get('/api/v1/connectors');
    expect(list.json().items.map((c: { id: string }) => c.id)).toContain(created.id);
    expect(list.body).not.toContain('Sup3r-Secret-pw');
    const patched = await acme.admin.patch(`/api/v1/connectors/${created.id}`, { name: 'crud-renamed', config: { pageSize: 50 } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ name: 'crud-renamed', config: { pageSize: 50, auth: { username: 'admin' } } });
    // The stored password still works after a PATCH that left auth out.
    expect((await acme.admin.post(`/api/v1/connectors/${created.id}/test`, {})).json()).toMatchObject({ ok: true });
    const audit = (await acme.admin.get('/api/v1/audit?limit=100')).body;
    expect(audit).not.toContain('Sup3r-Secret-pw');
    expect((await acme.admin.delete(`/api/v1/connectors/${created.id}`)).statusCode).toBe(204);
    expect((await acme.admin.get(`/api/v1/connectors/${created.id}`)).statusCode).toBe(404);
  });

  it('refuses bad configuration with 400 naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ instanceUrl: 'http://example.com' }, 'body.config.instanceUrl'],
      [{ table: 'sys_user' }, 'body.config.table'],
      [{ auth: { type: 'basic', username: 'a' } }, 'body.config.auth'],
      [{ schedule: { cron: 'not a cron', timezone: 'UTC' } }, 'body.config.schedule.cron'],
      [{ pageSize: 0 }, 'body.config.pageSize'],
    ];
    for (const [extra, path] of cases) {
      const res = await acme.admin.post('/api/v1/connectors', body('https://acme.service-now.com', `bad-${path}`, extra));
      expect(res.statusCode, JSON.stringify(extra)).toBe(400);
      expect(problemOf(res).errors?.map((e) => e.path).join(' ')).toContain(path);
    }
    expect((await acme.admin.get('/api/v1/connectors')).json().items.some((c: { name: string }) => c.name.startsWith('bad-'))).toBe(false);
  });

  it('keeps a sync schedule in the jobs module when config.schedule is set', async () => {
    const id = await createConnector(acme, 'https://acme.service-now.com', 'scheduled', { schedule: { cron: '0 * * * *', timezone: 'Europe/Paris' } });
    const connector = (await acme.admin.get(`/api/v1/connectors/${id}`)).json();
    expect(connector.scheduleId).toBeTruthy();
    const schedule = (await acme.admin.get(`/api/v1/schedules/${connector.scheduleId}`)).json();
    expect(schedule).toMatchObject({ jobType: 'connector.sync', cron: '0 * * * *', timezone: 'Europe/Paris' });
    await acme.admin.delete(`/api/v1/connectors/${id}`);
    expect((await acme.admin.get(`/api/v1/schedules/${connector.scheduleId}`)).statusCode).toBe(404);
  });

  it('reports a clear result from the connection test: ok, or refused credentials', async () => {
    const s = await server();
    const good = await createConnector(acme, s.url, 'test-ok');
    expect((await acme.admin.post(`/api/v1/connectors/${good}/test`, {})).json()).toMatchObject({ ok: true, kind: null });
    const bad = await createConnector(acme, s.url, 'test-401', { auth: { type: 'basic', username: 'admin', password: 'wrong' } });
    const res = (await acme.admin.post(`/api/v1/connectors/${bad}/test`, {})).json();
    expect(res).toMatchObject({ ok: false, kind: 'auth' });
    expect(res.message).toContain('401');
  });
});

describe('inbound sync', () => {
  it('writes incidents, CIs, identities and observables with relationships and provenance; a second sync adds nothing; a change updates', async () => {
    const s = await server();
    const id = await createConnector(acme, s.url, 'sync-e2e');
    const first = await syncAndWait(acme, id);
    expect(first.status).toBe('succeeded');
    const incidents = s.records.length;
    expect(first.counts.created).toBe(incidents);
    const graph = await graphOf(acme);
    expect(graph.filter((n) => n.startsWith('incident:'))).toHaveLength(incidents);
    expect(graph).toContain('ipv4-addr:203.0.113.45');
    expect(graph).toContain('email-addr:billing@paypa1-secure.com');
    expect(graph.some((n) => n.startsWith('infrastructure:cmdb_ci '))).toBe(true);
    expect(graph.some((n) => n.startsWith('identity:sys_user '))).toBe(true);

    const incident = (await acme.admin.get('/api/v1/entities?type=incident&q=INC0010001')).json().items[0];
    const detail = (await acme.admin.get(`/api/v1/entities/${incident.id}`)).json();
    expect(detail.properties).toMatchObject({ x_servicenow_sys_id: 'e85f017ff9128009d0f8e5cda78293aa', x_servicenow_priority_label: '2 - High' });
    expect(JSON.stringify(detail.provenance)).toContain('servicenow:sync-e2e');
    const rels = (await acme.admin.get(`/api/v1/entities/${incident.id}/relationships`)).json().items;
    expect(rels.length).toBeGreaterThanOrEqual(5);

    const second = await syncAndWait(acme, id);
    expect(second.status).toBe('succeeded');
    expect(second.counts.created + second.counts.updated).toBe(0);
    expect(await graphOf(acme)).toEqual(graph);

    s.mutate('e85f017ff9128009d0f8e5cda78293aa', { short_description: 'Phishing confirmed', state: '2' });
    const third = await syncAndWait(acme, id);
    expect(third.counts.updated).toBe(1);
    const changed = (await acme.admin.get(`/api/v1/entities/${incident.id}`)).json();
    expect(changed.properties).toMatchObject({ x_servicenow_short_description: 'Phishing confirmed', x_servicenow_state_label: 'In Progress', x_servicenow_mod_count: 1 });
    expect(await graphOf(acme)).toEqual(graph);

    const health = (await acme.admin.get(`/api/v1/connectors/${id}/health`)).json();
    expect(health).toMatchObject({ status: 'healthy', recordsSynced: incidents + 1, throttled: false });
    expect(health.lastHour.requests).toBeGreaterThan(0);
    expect(health.lagSeconds).not.toBeNull();
  });

  it('ends interrupted then resumed with the same graph as a clean sync', async () => {
    const rows = generateIncidents(12, { stepMs: 400, prefix: 'resume' });
    const fixtures = () => ({ ...loadFixtures(), incident: rows.map((r) => ({ ...r })) });
    const tenantA = await t.createTenant('resume-clean');
    const tenantB = await t.createTenant('resume-killed');
    const clean = await server({ fixtures: fixtures() });
    const cleanId = await createConnector(tenantA, clean.url, 'resume');
    expect((await syncAndWait(tenantA, cleanId)).status).toBe('succeeded');

    // The instance stops answering (429 with an hour-long Retry-After) after 4 choice reads and 2 pages.
    const clock = createManualClock(new Date());
    const flaky = await server({ fixtures: fixtures(), rateLimit: { limit: 6 }, clock });
    const killedId = await createConnector(tenantB, flaky.url, 'resume');
    const interrupted = await syncAndWait(tenantB, killedId);
    expect(interrupted.status).toBe('partial');
    expect(interrupted.counts.fetched).toBeGreaterThan(0);
    expect(interrupted.counts.fetched).toBeLessThan(12);
    // Each resume gets another window's worth of requests and is cut off again, until one finishes.
    let resumed = interrupted;
    let attempts = 0;
    while (resumed.status !== 'succeeded' && attempts < 12) {
      clock.advance(3_600_001);
      resumed = await syncAndWait(tenantB, killedId);
      attempts++;
    }
    expect(resumed.status).toBe('succeeded');
    expect(attempts).toBeGreaterThan(1);
    const runs = (await tenantB.admin.get(`/api/v1/connectors/${killedId}/runs`)).json().items as Array<{ counts: { created: number } }>;
    expect(runs.reduce((n, r) => n + r.counts.created, 0)).toBe(12);
    expect(await graphOf(tenantB)).toEqual(await graphOf(tenantA));
  });

  it('gets every record through a storm of 429s and 5xx', async () => {
    const tenant = await t.createTenant('storm');
    const s = await server({ fixtures: { ...loadFixtures(), incident: generateIncidents(9, { prefix: 'storm' }) } });
    const id = await createConnector(tenant, s.url, 'storm');
    s.setFault({ kind: 'rate_limit', count: 3, retryAfterSeconds: 0 });
    s.setFault({ kind: 'error', count: 2, status: 503 });
    const run = await syncAndWait(tenant, id);
    expect(run.status).toBe('succeeded');
    expect(run.counts.created).toBe(9);
    expect(s.log.filter((e) => e.status === 429 || e.status === 503).length).toBeGreaterThanOrEqual(4);
    expect((await graphOf(tenant)).filter((n) => n.startsWith('incident:'))).toHaveLength(9);
  });

  it('stops on refused credentials, fails the run and alerts', async () => {
    const tenant = await t.createTenant('refused');
    const s = await server();
    const id = await createConnector(tenant, s.url, 'refused', { auth: { type: 'basic', username: 'admin', password: 'nope' } });
    const run = await syncAndWait(tenant, id);
    expect(run).toMatchObject({ status: 'failed', error: { kind: 'auth' } });
    const inbox = (await tenant.admin.get('/api/v1/notifications')).json();
    expect(JSON.stringify(inbox)).toContain('refused');
    expect((await tenant.admin.get(`/api/v1/connectors/${id}/health`)).json().status).toBe('failing');
  });
});

describe('outbound incidents', () => {
  it('creates one ServiceNow incident per finding, however often it is pushed', async () => {
    const s = await server();
    const id = await createConnector(acme, s.url, 'outbound');
    const before = s.records.length;
    const push = { findingKey: 'finding-42', shortDescription: 'Beaconing to 198.51.100.7', priority: 2 };
    const first = await acme.admin.post(`/api/v1/connectors/${id}/incidents`, push);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ created: true });
    const second = await acme.admin.post(`/api/v1/connectors/${id}/incidents`, { ...push, description: 'now with detail' });
    expect(second.json()).toMatchObject({ created: false, sysId: first.json().sysId, number: first.json().number });
    expect(s.records.length).toBe(before + 1);
    expect(s.records.find((r) => r.sys_id === first.json().sysId)).toMatchObject({ description: 'now with detail' });
  });
});

describe('tenant isolation and permissions', () => {
  it('hides one tenant\'s connectors from another and lets viewers read but not configure', async () => {
    const id = await createConnector(acme, 'https://acme.service-now.com', 'isolated');
    expect((await other.admin.get(`/api/v1/connectors/${id}`)).statusCode).toBe(404);
    expect((await other.admin.post(`/api/v1/connectors/${id}/sync`, {})).statusCode).toBe(404);
    expect((await other.admin.get('/api/v1/connectors')).json().items).toEqual([]);
    const viewer = await t.createUser(acme, ['viewer']);
    expect((await viewer.client.get(`/api/v1/connectors/${id}`)).statusCode).toBe(200);
    expect((await viewer.client.post(`/api/v1/connectors/${id}/sync`, {})).statusCode).toBe(403);
    const analyst = await t.createUser(acme, ['analyst']);
    expect((await analyst.client.patch(`/api/v1/connectors/${id}`, { name: 'x' })).statusCode).toBe(403);
  });
});
