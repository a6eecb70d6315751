/**
 * Enrichment through HTTP: the local provider's verdicts from the graph, and a tenant's HTTP provider (a real
 * server on port 0) whose cost per call counts against the cost cap.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp, waitFor, type TestTenant } from './harness.js';

const t = await createTestApp();
t.summit.modules.jobs.startWorkers();
const acme = await t.createTenant('acme');
// The routes exist once createTiModule composes enrichment.module.ts (docs/ti.md, Enrichment and budgets).
const wired = t.summit.modules.policy.registry.entries().some((r) => r.path === '/api/v1/ti/enrich');
const seen: Array<{ url: string; key: unknown }> = [];
const server: Server = createServer((req, res) => {
  seen.push({ url: req.url!, key: req.headers['x-api-key'] });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ verdict: req.url!.includes('203.0.113') ? 'malicious' : 'benign' }));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await t.close();
});

const create = async (tenant: TestTenant, type: string, value: string) => (await tenant.admin.post('/api/v1/entities', { type, value })).json().id as string;
const done = (tenant: TestTenant, id: string, status = 'succeeded') =>
  waitFor(`job ${id}`, async () => {
    const job = (await tenant.admin.get(`/api/v1/ti/enrichments/${id}`)).json();
    return job.status === status ? job : undefined;
  });
const verdictOf = async (tenant: TestTenant, entityId: string) =>
  (await t.db.withTenant(tenant.id, (tx) => tx.query<{ verdict: string; provider: string; details: Record<string, unknown> }>(
    'select verdict, provider, details from ti_enrichment_verdicts where tenant_id = $1 and entity_id = $2 order by created_at desc limit 1',
    [tenant.id, entityId],
  ))).rows[0];

describe.runIf(wired)('the local provider', () => {
  it('calls a domain that resolves to a sighted address suspicious, and the sighted address malicious', async () => {
    const ip = await create(acme, 'ipv4-addr', '192.0.2.10');
    const domain = await create(acme, 'domain-name', 'c2.example.net');
    const quiet = await create(acme, 'domain-name', 'quiet.example.org');
    expect((await acme.admin.post('/api/v1/relationships', { type: 'resolves-to', sourceId: domain, targetId: ip })).statusCode).toBe(201);
    expect((await acme.admin.post('/api/v1/sightings', { entityId: ip, truePositive: true })).statusCode).toBe(201);
    const res = await acme.admin.post('/api/v1/ti/enrich', { provider: 'local', indicatorIds: [ip, domain, quiet] });
    expect(res.statusCode).toBe(202);
    await done(acme, res.json().jobIds[0]);
    expect(await verdictOf(acme, ip)).toMatchObject({ verdict: 'malicious', provider: 'local' });
    expect(await verdictOf(acme, domain)).toMatchObject({ verdict: 'suspicious', details: { flaggedResolutions: ['192.0.2.10'] } });
    expect((await verdictOf(acme, quiet))?.verdict).toBe('unknown');
  });

  it('enriches what a query selects', async () => {
    await create(acme, 'domain-name', 'q1.example.com');
    await create(acme, 'domain-name', 'q2.example.com');
    const res = await acme.admin.post('/api/v1/ti/enrich', { provider: 'local', query: { types: ['domain-name'], search: 'q', limit: 10 } });
    expect(res.statusCode).toBe(202);
    expect(res.json().entities).toBe(3); // q1, q2 and quiet.example.org
    await done(acme, res.json().jobIds[0]);
  });
});

describe.runIf(wired)('an HTTP provider', () => {
  it('is configured with a sealed credential, called per indicator, and charged against the cost cap', async () => {
    const created = await acme.admin.post('/api/v1/ti/providers', { name: 'intel-api', baseUrl, authHeader: 'x-api-key', authValue: 'k-123', costCents: 40, ratePerMinute: 600 });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: 'intel-api', hasAuthValue: true, costCents: 40 });
    expect(JSON.stringify(created.json())).not.toContain('k-123');
    const stored = await t.db.withTenant(acme.id, (tx) => tx.query<{ sealed: string }>('select auth_value_sealed as sealed from ti_providers where tenant_id = $1', [acme.id]));
    expect(stored.rows[0]!.sealed).not.toContain('k-123');
    expect((await acme.admin.post('/api/v1/ti/providers', { name: 'intel-api', baseUrl, costCents: 1, ratePerMinute: 1 })).statusCode).toBe(409);

    await acme.admin.send('PUT', '/api/v1/ti/budgets/intel-api', { maxCalls: 100, maxCostCents: 100 });
    const ids = [await create(acme, 'ipv4-addr', '203.0.113.5'), await create(acme, 'ipv4-addr', '198.51.100.9'), await create(acme, 'ipv4-addr', '198.51.100.10')];
    const { jobIds } = (await acme.admin.post('/api/v1/ti/enrich', { provider: 'intel-api', indicatorIds: ids })).json();
    const job = await done(acme, jobIds[0], 'waiting'); // 2 × 40 cents fit in 100; a third would not
    expect(job.lookedUp).toBe(2);
    expect(seen).toHaveLength(2);
    expect(seen.every((s) => s.key === 'k-123')).toBe(true);
    expect(seen[0]!.url).toBe('/lookup?type=ipv4-addr&value=203.0.113.5');
    expect(await verdictOf(acme, ids[0]!)).toMatchObject({ verdict: 'malicious', provider: 'intel-api' });
    const usage = (await acme.admin.get('/api/v1/ti/usage')).json().providers.find((p: { provider: string }) => p.provider === 'intel-api');
    expect(usage).toMatchObject({ calls: 2, costCents: 80 });
    const blocked = await acme.admin.post('/api/v1/ti/enrich', { provider: 'intel-api', indicatorIds: [ids[2]] });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json()).toMatchObject({ code: 'budget_exhausted', budget: { maxCostCents: 100 }, usage: { costCents: 80 } });
  });
});
