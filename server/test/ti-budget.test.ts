/**
 * Enrichment budgets through HTTP: caps, validation, the 80% notification once per month, 429 budget_exhausted
 * with the budget, usage and reset time, an audited override that lets enrichment through, a queued job that
 * waits at exhaustion and wakes on an override, the ledger, and tenant isolation.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp, problemOf, waitFor, type TestTenant } from './harness.js';

const t = await createTestApp();
afterAll(() => t.close());
t.summit.modules.jobs.startWorkers();
const acme = await t.createTenant('acme');
const other = await t.createTenant('other');
// The routes exist once createTiModule composes enrichment.module.ts (docs/ti.md, Enrichment and budgets).
const wired = t.summit.modules.policy.registry.entries().some((r) => r.path === '/api/v1/ti/enrich');

let next = 0;
async function observables(tenant: TestTenant, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    next += 1;
    const res = await tenant.admin.post('/api/v1/entities', { type: 'ipv4-addr', value: `198.51.${Math.floor(next / 250)}.${next % 250}` });
    expect(res.statusCode).toBe(201);
    ids.push(res.json().id);
  }
  return ids;
}
const job = (tenant: TestTenant, id: string) => tenant.admin.get(`/api/v1/ti/enrichments/${id}`).then((r) => r.json());
const settled = (tenant: TestTenant, id: string, status: string) =>
  waitFor(`job ${id} ${status}`, async () => ((await job(tenant, id)).status === status ? job(tenant, id) : undefined));
const budgetAlerts = async (tenant: TestTenant) =>
  (await tenant.admin.get('/api/v1/notifications?limit=200')).json().items.filter((n: { title: string }) => n.title.startsWith('Enrichment budget'));

describe.runIf(wired)('budget validation', () => {
  it('refuses negative caps, unknown providers, overrides without a reason or an amount', async () => {
    const negative = await acme.admin.send('PUT', '/api/v1/ti/budgets/local', { maxCalls: -1, maxCostCents: 0 });
    expect(negative.statusCode).toBe(400);
    expect(problemOf(negative).errors?.[0]?.path).toBe('body.maxCalls');
    expect((await acme.admin.send('PUT', '/api/v1/ti/budgets/nosuch', { maxCalls: 1, maxCostCents: 1 })).statusCode).toBe(404);
    expect((await acme.admin.post('/api/v1/ti/enrich', { provider: 'nosuch', indicatorIds: [crypto.randomUUID()] })).statusCode).toBe(404);
    expect((await acme.admin.post('/api/v1/ti/budgets/local/overrides', { extraCalls: 5 })).statusCode).toBe(400);
    expect((await acme.admin.post('/api/v1/ti/budgets/local/overrides', { reason: 'because' })).statusCode).toBe(400);
    expect((await acme.admin.send('PUT', '/api/v1/ti/budget-settings', { timeZone: 'Mars/Olympus' })).statusCode).toBe(400);
    const analyst = await t.createUser(acme, ['analyst']);
    expect((await analyst.client.post('/api/v1/ti/budgets/local/overrides', { extraCalls: 5, reason: 'more please' })).statusCode).toBe(403);
  });
});

describe.runIf(wired)('monthly budget of the local provider', () => {
  it('notifies once at 80%, answers 429 at 100%, and lets an audited override through', async () => {
    const put = await acme.admin.send('PUT', '/api/v1/ti/budgets/local', { maxCalls: 5, maxCostCents: 0 });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ provider: 'local', budget: { maxCalls: 5, maxCostCents: 0 }, state: 'ok', callsRemaining: 5 });
    const ids = await observables(acme, 7);

    const first = await acme.admin.post('/api/v1/ti/enrich', { provider: 'local', indicatorIds: ids.slice(0, 3) });
    expect(first.statusCode).toBe(202);
    await settled(acme, first.json().jobIds[0], 'succeeded');
    expect(await budgetAlerts(acme)).toHaveLength(0);

    const second = await acme.admin.post('/api/v1/ti/enrich', { provider: 'local', indicatorIds: ids.slice(3, 5) });
    await settled(acme, second.json().jobIds[0], 'succeeded');
    const alerts = await budgetAlerts(acme);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].severity).toBe('warning'); // raised by the 4th call (80% of 5), not again by the 5th

    const blocked = await acme.admin.post('/api/v1/ti/enrich', { provider: 'local', indicatorIds: ids.slice(5) });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.headers['content-type']).toContain('application/problem+json');
    const problem = blocked.json();
    expect(problem).toMatchObject({ code: 'budget_exhausted', status: 429, provider: 'local', budget: { maxCalls: 5, maxCostCents: 0 }, usage: { calls: 5 } });
    const budget = (await acme.admin.get('/api/v1/ti/budgets')).json().items.find((b: { provider: string }) => b.provider === 'local');
    expect(problem.resetAt).toBe(budget.resetAt);
    expect(new Date(problem.resetAt).getTime()).toBeGreaterThan(t.clock.now().getTime());
    expect(budget).toMatchObject({ state: 'exhausted', usage: { calls: 5, reservedCalls: 0 }, percent: { calls: 100 } });

    const override = await acme.admin.post('/api/v1/ti/budgets/local/overrides', { extraCalls: 2, reason: 'incident 42 triage' });
    expect(override.statusCode).toBe(201);
    expect(override.json().budget).toMatchObject({ effective: { maxCalls: 7 }, callsRemaining: 2 });
    const through = await acme.admin.post('/api/v1/ti/enrich', { provider: 'local', indicatorIds: ids.slice(5) });
    expect(through.statusCode).toBe(202);
    await settled(acme, through.json().jobIds[0], 'succeeded');
    expect(await budgetAlerts(acme)).toHaveLength(1); // still one notification this month

    const audit = (await acme.admin.get('/api/v1/audit?limit=200')).json().items;
    const granted = audit.find((e: { action: string }) => e.action === 'ti.budget.override');
    expect(granted).toBeDefined();
    expect(JSON.stringify(granted)).toContain('incident 42 triage');
    expect(audit.filter((e: { action: string }) => e.action === 'ti.enrich')).toHaveLength(3);

    const usage = (await acme.admin.get('/api/v1/ti/usage')).json();
    expect(usage.providers).toEqual([expect.objectContaining({ provider: 'local', calls: 7, costCents: 0, reservedCalls: 0 })]);
    expect(usage.items).toHaveLength(7);
    expect(usage.items.every((e: { status: string; verdict: string }) => e.status === 'committed' && e.verdict === 'unknown')).toBe(true);
    const verdicts = await t.db.withTenant(acme.id, (tx) => tx.query('select entity_id from ti_enrichment_verdicts where tenant_id = $1', [acme.id]));
    expect(verdicts.rows).toHaveLength(7);
  });

  it('starts a new month from zero in the tenant\'s time zone, with a fresh notification allowance', async () => {
    const before = (await acme.admin.get('/api/v1/ti/budgets')).json().items.find((b: { provider: string }) => b.provider === 'local');
    t.clock.set(before.resetAt);
    const after = (await acme.admin.get('/api/v1/ti/budgets')).json().items.find((b: { provider: string }) => b.provider === 'local');
    expect(after.month).not.toBe(before.month);
    expect(after).toMatchObject({ state: 'ok', usage: { calls: 0 }, effective: { maxCalls: 5 }, notifiedAt: null });
    expect((await acme.admin.get(`/api/v1/ti/usage?month=${before.month}`)).json().providers[0].calls).toBe(7);
    expect((await acme.admin.get('/api/v1/ti/usage?month=2026-13')).statusCode).toBe(400);
  });

  it('makes a queued job wait at exhaustion and resume when an override arrives', async () => {
    await acme.admin.send('PUT', '/api/v1/ti/budgets/local', { maxCalls: 2, maxCostCents: 0 });
    const ids = await observables(acme, 4);
    const { jobIds } = (await acme.admin.post('/api/v1/ti/enrich', { provider: 'local', indicatorIds: ids })).json();
    const waiting = await settled(acme, jobIds[0], 'waiting');
    const budget = (await acme.admin.get('/api/v1/ti/budgets')).json().items.find((b: { provider: string }) => b.provider === 'local');
    expect(waiting).toMatchObject({ lookedUp: 2, waitReason: 'budget_exhausted', waitUntil: budget.resetAt });
    const override = (await acme.admin.post('/api/v1/ti/budgets/local/overrides', { extraCalls: 5, reason: 'finish the batch' })).json();
    expect(override.wokenJobIds).toEqual([jobIds[0]]);
    const done = await settled(acme, jobIds[0], 'succeeded');
    expect(done.lookedUp).toBe(4);
  });
});

describe.runIf(wired)('tenant isolation', () => {
  it('keeps budgets, usage, providers and enrichment jobs to their tenant', async () => {
    const ids = await observables(acme, 1);
    const { jobIds } = (await acme.admin.post('/api/v1/ti/enrich', { provider: 'local', indicatorIds: ids })).json();
    expect((await other.admin.get(`/api/v1/ti/enrichments/${jobIds[0]}`)).statusCode).toBe(404);
    expect((await other.admin.post('/api/v1/ti/enrich', { provider: 'local', indicatorIds: ids })).statusCode).toBe(404);
    const theirs = (await other.admin.get('/api/v1/ti/budgets')).json().items;
    expect(theirs).toEqual([expect.objectContaining({ provider: 'local', budget: null, state: 'uncapped', usage: expect.objectContaining({ calls: 0 }) })]);
    expect((await other.admin.get('/api/v1/ti/usage')).json().items).toEqual([]);
  });
});
