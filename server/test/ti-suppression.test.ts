/**
 * Suppression through HTTP on both stores: rules of every value kind, warninglists per tenant, the ledger, rule
 * removal and expiry un-suppressing only what the rule alone suppressed, the tenant switch, inform rules and bad
 * input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, problemOf, type TestApp, type TestTenant } from './harness.js';
import { bundle, indicator, ipv4, domain } from './graph-fixtures.js';

const NOW = new Date('2026-03-01T00:00:00.000Z');
let t: TestApp;
let tenant: TestTenant;

type Item = { id: string; observable: { type: string; value: string } | null; suppressed: boolean; informed: boolean; matches: { matcher: string; action: string }[]; score: number };

beforeAll(async () => {
  t = await createTestApp();
  t.clock.set(NOW);
  tenant = await t.createTenant();
  const at = NOW.toISOString();
  const objects = [
    indicator("[ipv4-addr:value = '10.1.2.3']", { valid_from: at, confidence: 90 }),
    indicator("[ipv4-addr:value = '8.8.8.8']", { valid_from: at, confidence: 90 }),
    indicator("[ipv4-addr:value = '185.220.101.4']", { valid_from: at, confidence: 90 }),
    indicator("[ipv6-addr:value = '2001:db8::5']", { valid_from: at, confidence: 90 }),
    indicator("[domain-name:value = 'login.microsoftonline.com']", { valid_from: at, confidence: 90 }),
    indicator("[url:value = 'https://cdn.evil-files.example/payload.bin']", { valid_from: at, confidence: 90, labels: ['phishing'] }),
    indicator("[domain-name:value = 'notmicrosoft.com']", { valid_from: at, confidence: 90 }),
    ipv4('172.16.5.5'),
    domain('tracker.evil-files.example'),
  ];
  await t.summit.modules.graph.ingest.ingestNow({ tenantId: tenant.id, actor: { type: 'system', id: 'test' }, requestId: null }, bundle(objects), 'feed');
  await t.db.withTenant(tenant.id, (tx) => t.summit.modules.ti.rescore(tx, tenant.id));
});
afterAll(() => t.close());

async function items(query = '&includeSuppressed=true', who = tenant): Promise<Item[]> {
  const res = await who.admin.get(`/api/v1/indicators?limit=200&includeRevoked=true${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items;
}
const valuesOf = (list: Item[]) => list.map((i) => i.observable?.value).filter(Boolean).sort();
const suppressedValues = async () => valuesOf((await items()).filter((i) => i.suppressed));

describe('warninglists', () => {
  it('lists the built-in lists, none enabled at first', async () => {
    const lists = (await tenant.admin.get('/api/v1/ti/warninglists')).json().items;
    expect(lists.map((l: { name: string }) => l.name)).toEqual(['benign-domains', 'public-dns-resolvers', 'special-purpose-ipv4', 'special-purpose-ipv6']);
    expect(lists.every((l: { enabled: boolean }) => !l.enabled)).toBe(true);
    expect(await suppressedValues()).toEqual([]);
  });

  it('suppresses special-purpose addresses, resolvers and benign domains once enabled, for this tenant only', async () => {
    for (const name of ['special-purpose-ipv4', 'special-purpose-ipv6', 'public-dns-resolvers', 'benign-domains']) {
      const res = await tenant.admin.send('PUT', `/api/v1/ti/warninglists/${name}`, { enabled: true });
      expect(res.statusCode, res.body).toBe(200);
    }
    expect(await suppressedValues()).toEqual(['10.1.2.3', '172.16.5.5', '2001:db8::5', '8.8.8.8', 'login.microsoftonline.com']);
    const hidden = valuesOf(await items(''));
    expect(hidden).not.toContain('10.1.2.3');
    expect(hidden).toContain('185.220.101.4');
    expect(hidden).toContain('notmicrosoft.com');
    const other = await t.createTenant();
    expect((await other.admin.get('/api/v1/ti/warninglists')).json().items.every((l: { enabled: boolean }) => !l.enabled)).toBe(true);
    const ledger = (await tenant.admin.get('/api/v1/ti/suppressions?warninglist=special-purpose-ipv4&active=true')).json().items;
    expect(ledger.length).toBe(2);
    expect(ledger[0].reason).toContain('special-purpose-ipv4');
  });

  it('un-suppresses what a disabled list alone suppressed', async () => {
    await tenant.admin.send('PUT', '/api/v1/ti/warninglists/public-dns-resolvers', { enabled: false });
    expect(await suppressedValues()).not.toContain('8.8.8.8');
    const cleared = (await tenant.admin.get('/api/v1/ti/suppressions?warninglist=public-dns-resolvers&active=false')).json().items;
    expect(cleared.length).toBe(1);
    expect(cleared[0].clearedAt).not.toBeNull();
    expect((await tenant.admin.send('PUT', '/api/v1/ti/warninglists/no-such-list', { enabled: true })).statusCode).toBe(404);
  });
});

describe('rules', () => {
  it('suppresses by CIDR, domain suffix (URL hosts too), exact value, regex and labels', async () => {
    const make = async (name: string, match: Record<string, unknown>, action = 'suppress') => {
      const res = await tenant.admin.post('/api/v1/ti/suppression-rules', { name, action, reason: `test ${name}`, match });
      expect(res.statusCode, res.body).toBe(201);
      return res.json();
    };
    const cidr = await make('tor exits', { value: { kind: 'cidr', pattern: '185.220.100.0/22' } });
    expect(cidr.active.suppressed).toBe(1);
    const suffix = await make('evil files', { value: { kind: 'domain-suffix', pattern: 'evil-files.example' } });
    expect(suffix.active.suppressed).toBe(2); // the URL on cdn.… and the domain tracker.…
    const inform = await make('lookalike', { value: { kind: 'regex', pattern: '^not[a-z]+\\.com$' } }, 'inform');
    expect(inform.active).toEqual({ suppressed: 0, informed: 1 });
    const listed = await items();
    const lookalike = listed.find((i) => i.observable?.value === 'notmicrosoft.com')!;
    expect(lookalike).toMatchObject({ suppressed: false, informed: true });
    expect(valuesOf(await items(''))).toContain('notmicrosoft.com');
    const labels = await make('phishing label', { labels: ['phishing'], types: ['url'] });
    expect(labels.active.suppressed).toBe(1);
    const rules = (await tenant.admin.get('/api/v1/ti/suppression-rules')).json().items;
    expect(rules.map((r: { name: string }) => r.name)).toEqual(['tor exits', 'evil files', 'lookalike', 'phishing label']);
  });

  it('removing a rule un-suppresses only what it alone suppressed', async () => {
    const rules = (await tenant.admin.get('/api/v1/ti/suppression-rules')).json().items as { id: string; name: string }[];
    const suffix = rules.find((r) => r.name === 'evil files')!;
    const del = await tenant.admin.delete(`/api/v1/ti/suppression-rules/${suffix.id}`);
    expect(del.statusCode).toBe(204);
    const now = await suppressedValues();
    // The URL stays suppressed by the label rule; the domain was suppressed by the suffix rule alone.
    expect(now).toContain('https://cdn.evil-files.example/payload.bin');
    expect(now).not.toContain('tracker.evil-files.example');
    const ledger = (await tenant.admin.get(`/api/v1/ti/suppressions?ruleId=${suffix.id}`)).json().items;
    expect(ledger.length).toBe(2);
    expect(ledger.every((e: { active: boolean; clearedAt: string | null }) => !e.active && e.clearedAt)).toBe(true);
    const audit = (await tenant.admin.get('/api/v1/audit?action=ti.suppression-rule.delete')).json().items;
    expect(audit.length).toBe(1);
  });

  it('an expired rule stops suppressing at once, and the next evaluation records the clearing', async () => {
    const rule = (await tenant.admin.post('/api/v1/ti/suppression-rules', {
      name: 'temporary', action: 'suppress', reason: 'maintenance window', match: { value: { kind: 'exact', pattern: '185.220.101.4' } },
      expiresAt: new Date(NOW.getTime() + 3_600_000).toISOString(),
    })).json();
    const tor = (await tenant.admin.get('/api/v1/ti/suppression-rules')).json().items.find((r: { name: string }) => r.name === 'tor exits');
    await tenant.admin.delete(`/api/v1/ti/suppression-rules/${tor.id}`);
    expect(await suppressedValues()).toContain('185.220.101.4');
    t.clock.set(new Date(NOW.getTime() + 2 * 3_600_000));
    try {
      expect(await suppressedValues()).not.toContain('185.220.101.4');
      const got = (await tenant.admin.get(`/api/v1/ti/suppression-rules/${rule.id}`)).json();
      expect(got).toMatchObject({ expired: true, active: { suppressed: 0, informed: 0 } });
      await t.db.withTenant(tenant.id, (tx) => t.summit.modules.ti.rescore(tx, tenant.id));
      const ledger = (await tenant.admin.get(`/api/v1/ti/suppressions?ruleId=${rule.id}`)).json().items;
      expect(ledger[0].clearedAt).toBe(new Date(NOW.getTime() + 3_600_000).toISOString());
    } finally {
      t.clock.set(NOW);
    }
  });

  it('updates a rule and re-evaluates it; disabling it un-suppresses', async () => {
    const rule = (await tenant.admin.post('/api/v1/ti/suppression-rules', { name: 'v6 docs', action: 'inform', reason: 'docs range', match: { value: { kind: 'cidr', pattern: '2001:db8::/32' } } })).json();
    expect(rule.active.informed).toBe(1);
    const patched = await tenant.admin.patch(`/api/v1/ti/suppression-rules/${rule.id}`, { action: 'suppress', match: { value: { kind: 'cidr', pattern: '2001:db8:1::/48' } } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().active).toEqual({ suppressed: 0, informed: 0 });
    const disabled = await tenant.admin.patch(`/api/v1/ti/suppression-rules/${rule.id}`, { enabled: false });
    expect(disabled.json().enabled).toBe(false);
  });

  it.each([
    ['an invalid CIDR', { value: { kind: 'cidr', pattern: '10.0.0.0/33' } }, 'body.match.value.pattern'],
    ['an IPv6 CIDR with a bad prefix', { value: { kind: 'cidr', pattern: '2001:db8::/200' } }, 'body.match.value.pattern'],
    ['a regex with a backreference', { value: { kind: 'regex', pattern: '(a)\\1' } }, 'body.match.value.pattern'],
    ['a score range upside down', { minScore: 80, maxScore: 20 }, 'body.match.minScore'],
    ['a score over 100', { minScore: 101 }, 'minScore'],
    ['no condition at all', {}, 'body.match'],
    ['an unknown value kind', { value: { kind: 'glob', pattern: '*' } }, 'kind'],
  ])('refuses %s with a 400 and creates nothing', async (_name, match, field) => {
    const before = (await tenant.admin.get('/api/v1/ti/suppression-rules')).json().items.length;
    const res = await tenant.admin.post('/api/v1/ti/suppression-rules', { name: `bad ${_name}`, action: 'suppress', reason: 'x', match });
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(problemOf(res).errors ?? problemOf(res).detail)).toContain(field);
    expect((await tenant.admin.get('/api/v1/ti/suppression-rules')).json().items.length).toBe(before);
  });

  it('refuses an expiry in the past, a duplicate name (409), and an unknown rule (404)', async () => {
    const past = await tenant.admin.post('/api/v1/ti/suppression-rules', { name: 'past', action: 'suppress', reason: 'x', match: { minScore: 0 }, expiresAt: '2020-01-01T00:00:00Z' });
    expect(past.statusCode).toBe(400);
    const dup = await tenant.admin.post('/api/v1/ti/suppression-rules', { name: 'PHISHING LABEL', action: 'suppress', reason: 'x', match: { minScore: 0 } });
    expect(dup.statusCode).toBe(409);
    expect((await tenant.admin.patch('/api/v1/ti/suppression-rules/018f0000-0000-7000-8000-000000000000', { enabled: false })).statusCode).toBe(404);
  });

  it('lets viewers read but not write rules', async () => {
    const viewer = await t.createUser(tenant, ['viewer']);
    expect((await viewer.client.get('/api/v1/ti/suppression-rules')).statusCode).toBe(200);
    expect((await viewer.client.post('/api/v1/ti/suppression-rules', { name: 'v', action: 'suppress', reason: 'x', match: { minScore: 0 } })).statusCode).toBe(403);
  });
});

describe('the tenant switch', () => {
  it('shows everything when suppression is off, and hides again when it is on', async () => {
    const hiddenBefore = (await items('')).length;
    const all = (await items()).length;
    expect(hiddenBefore).toBeLessThan(all);
    await tenant.admin.send('PUT', '/api/v1/ti/scoring', { suppressionEnabled: false });
    const off = await items('');
    expect(off.length).toBe(all);
    expect(off.every((i) => !i.suppressed)).toBe(true);
    await tenant.admin.send('PUT', '/api/v1/ti/scoring', { suppressionEnabled: true });
    expect((await items('')).length).toBe(hiddenBefore);
  });

  it('keeps suppressed indicators out of exports unless asked', async () => {
    const csv = (await tenant.admin.get('/api/v1/indicators/export?format=csv&includeRevoked=true')).body;
    expect(csv).not.toContain('10.1.2.3');
    const withSuppressed = (await tenant.admin.get('/api/v1/indicators/export?format=csv&includeRevoked=true&includeSuppressed=true')).body;
    expect(withSuppressed).toContain('10.1.2.3');
  });
});
